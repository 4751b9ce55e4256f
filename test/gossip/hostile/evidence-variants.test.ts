// evidence is deduplicated (evidenceSeen, gossipsub's seen cache) by the SHA-256 of its
// bytes, but its notes may carry any number of lines by unknown keys (openNote ignores them), and
// same-size evidence may list a and b in either order. From one split view anyone can mint
// unlimited distinct, valid evidence messages: each is verified, stored (up to the per-log cap),
// accepted and so forwarded by gossipsub to the whole mesh, and evidenceSeen grows without bound.
import { afterEach, expect, it } from 'vitest';
import { TestLog } from '../../helpers/fork.js';
import { Net } from '../helpers.js';
import { encodeEvidence, makeEvidence } from '../../../src/witness/evidence.js';
import { openNote, formatSignatureLine } from '../../../src/note/note.js';
import { parseVkey } from '../../../src/note/keys.js';
import { parseCheckpoint } from '../../../src/checkpoint/checkpoint.js';

let net: Net | undefined;
afterEach(async () => { await net?.stop(); net = undefined; });

it('one split view is accepted (and forwarded) once, not once per padding of its notes', async () => {
  const log = new TestLog('example.com/audit-ev').append(8);
  const fork = log.fork(4n).append(4, 'evil');
  const keys = [parseVkey(log.key.vkey)];
  const a = openNote(log.checkpoint(), keys);
  const b = openNote(fork.checkpoint(), keys);
  const ev = makeEvidence({ note: a, checkpoint: parseCheckpoint(a.text) }, { note: b, checkpoint: parseCheckpoint(b.text) });
  net = await Net.start(1, { logs: [{ origin: log.origin, vkey: log.key.vkey }], version: () => 2 });
  const g = net.nodes[0].node.gossip!;
  expect(await g.validateEvidence(encodeEvidence(ev))).toBe('accept');
  const verdicts: string[] = [];
  for (let i = 0; i < 20; i++) {
    const pad = formatSignatureLine('junk.example', 0x01020304 + i, new Uint8Array(64).fill(i));
    verdicts.push(await g.validateEvidence(encodeEvidence({ ...ev, a: ev.a + pad })));
  }
  verdicts.push(await g.validateEvidence(encodeEvidence({ ...ev, a: ev.b, b: ev.a }))); // swapped
  expect(verdicts.filter((v) => v === 'accept')).toEqual([]);
});
