// Peer bindings (src/gossip/binding.ts): what verifies, and that a binding, a cosignature and a
// note signature by the same key can never stand in for one another.
import { describe, expect, it } from 'vitest';
import { bindingMessage, decodeBinding, encodeBinding, signBinding, verifyBinding, BINDING_CONTEXT } from '../../src/gossip/binding.js';
import { cosigner, generateKey, parseCosignatureVkey, parseVkey } from '../../src/note/keys.js';
import { keyLabel, parseNote } from '../../src/note/note.js';
import { cosignatureMessage } from '../../src/note/sigtypes/cosignature.js';

const peer = '12D3KooWD7CUqpZuzAZLzeLi19Mw4jXDxwbq1sWWYMZ7wpZ5W3eW';
const other = '12D3KooWGzk8Zc5WjwAG8yJj8N4wXrvC5s3h4u5n6mPqRsTuVwXy';

describe('peer bindings', () => {
  const key = generateKey('w1.example');
  const v = parseCosignatureVkey(key.cosignatureVkey);
  const tracked = new Map([[keyLabel(v.name, v.keyId), v]]);
  const now = BigInt(Math.floor(Date.now() / 1000));

  it('verifies for the named peer only, from a tracked key, not dated in the future, and survives the wire', () => {
    const r = signBinding(key, peer, now);
    expect(verifyBinding(r, peer, tracked, now)).toEqual({ ok: true, label: keyLabel(v.name, v.keyId) });
    expect(verifyBinding(decodeBinding(JSON.parse(JSON.stringify(encodeBinding(r))))!, peer, tracked, now).ok).toBe(true);
    expect(verifyBinding(r, other, tracked, now)).toMatchObject({ ok: false, reason: 'names another peer ID' });
    expect(verifyBinding(r, peer, new Map(), now)).toMatchObject({ ok: false, reason: 'not a tracked witness key' });
    expect(verifyBinding(signBinding(key, peer, now + 3600n), peer, tracked, now)).toMatchObject({ ok: false, reason: 'dated in the future' });
    const bad = { ...r, sig: Uint8Array.from(r.sig, (b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(verifyBinding(bad, peer, tracked, now)).toMatchObject({ ok: false, reason: 'bad signature' });
    // Another key claiming the tracked label.
    const imp = generateKey('w1.example');
    expect(verifyBinding({ ...signBinding(imp, peer, now), key: r.key }, peer, tracked, now)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(decodeBinding({ key: r.key, peer, time: '-1', sig: 'x' })).toBeNull();
  });

  it('cannot be confused with a cosignature or a note signature', () => {
    const msg = bindingMessage(peer, now);
    expect(new TextDecoder().decode(msg.subarray(0, BINDING_CONTEXT.length))).toBe(BINDING_CONTEXT);
    expect(msg.includes(0)).toBe(true); // a NUL: never a note text
    // A note signature over the binding bytes is impossible: the text is not a valid note.
    expect(() => parseNote(new TextEncoder().encode(new TextDecoder().decode(msg) + '\n\n\u2014 x AAAA\n'))).toThrow();
    // A cosignature signs "cosignature/v1\ntime T\n" + text: never the binding bytes.
    const cs = cosigner(key, () => now);
    const text = new TextEncoder().encode('example.com/log\n1\n' + 'A'.repeat(43) + '=\n');
    const sig = cs.sign(text);
    const ed = parseVkey(key.vkey);
    expect(ed.verify(msg, sig.subarray(8))).toBe(false);
    const r = signBinding(key, peer, now);
    expect(v.verify(text, Uint8Array.from([...sig.subarray(0, 8), ...r.sig]))).toBe(false);
    expect(new TextDecoder().decode(cosignatureMessage(now, text)).startsWith(BINDING_CONTEXT)).toBe(false);
  });
});
