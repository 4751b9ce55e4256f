// The pure parts of the gossip layer, without libp2p: message verdicts, view merging, detection,
// the sync protocol's codec.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { generateKey, cosigner, parseVkey, parseCosignatureVkey, VerifierSet, signatureLines, parseNote, formatSignatureLine } from '../../src/note/index.js';
import { CHECKPOINT_TOPIC, MAX_CHECKPOINT_MESSAGE, parseCheckpointMessage, parseEvidenceMessage, formatCheckpointMessage, VerifiedLines, type Trust } from '../../src/gossip/wire.js';
import { LogView, sameSizeEvidence } from '../../src/gossip/view.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, SyncError, MAX_REQUEST_BYTES } from '../../src/gossip/sync.js';
import { encodeEvidence, makeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { openNote } from '../../src/note/note.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';

const enc = (s: string) => new TextEncoder().encode(s);
const log = new TestLog('example.com/wire').append(10);
const w1 = generateKey('w1.example');
const w2 = generateKey('w2.example');
const unknownWitness = generateKey('w9.example');
const logKeys = new VerifierSet([parseVkey(log.key.vkey)]);
const trust: Trust = {
  logKeys: (o) => (o === log.origin ? logKeys : undefined),
  witnessKeys: new VerifierSet([parseCosignatureVkey(w1.cosignatureVkey), parseCosignatureVkey(w2.vkey)]),
};

function cosigned(note: string, ...keys: ReturnType<typeof generateKey>[]): string {
  const text = parseNote(note).textBytes;
  return note + signatureLines(text, keys.map((k) => cosigner(k)));
}

function parsed(note: string) {
  const r = parseCheckpointMessage(enc(note), trust);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('checkpoint message verdicts', () => {
  it('accepts a log-signed checkpoint with known cosignatures (a 0x01 witness vkey is re-derived as 0x04)', () => {
    const r = parseCheckpointMessage(enc(cosigned(log.checkpoint(), w1, w2)), trust);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.message.cosignatures.map((c) => c.name)).toEqual(['w1.example', 'w2.example']);
      expect(r.message.unknownLines).toBe(0);
      expect(r.message.checkpoint.size).toBe(10n);
    }
  });

  it('ignores an unknown log, and a note with no signature by a trusted log key', () => {
    const other = new TestLog('example.com/other').append(2);
    expect(parseCheckpointMessage(enc(cosigned(other.checkpoint(), w1)), trust)).toMatchObject({ ok: false, verdict: 'ignore', reason: 'unknown log' });
    const impostor = new TestLog(log.origin).append(3); // same origin, a key this node does not trust
    expect(parseCheckpointMessage(enc(cosigned(impostor.checkpoint(), w1)), trust)).toMatchObject({ ok: false, verdict: 'ignore' });
  });

  it('passes lines by unknown cosigners through as unknownLines (the caller ignores, never forwards)', () => {
    const r = parseCheckpointMessage(enc(cosigned(log.checkpoint(), w1, unknownWitness)), trust);
    expect(r).toMatchObject({ ok: true, message: { unknownLines: 1 } });
  });

  it('rejects junk, oversized messages, a malformed checkpoint of a known log, and a bad signature by a known key', () => {
    expect(parseCheckpointMessage(enc('hello\n'), trust)).toMatchObject({ ok: false, verdict: 'reject' });
    expect(parseCheckpointMessage(new Uint8Array(MAX_CHECKPOINT_MESSAGE + 1), trust)).toMatchObject({ ok: false, verdict: 'reject' });
    const bad = parseNote(log.checkpoint());
    const badText = `${log.origin}\nnot-a-size\nAAAA\n\n${formatSignatureLine(bad.signatures[0].name, bad.signatures[0].keyId, bad.signatures[0].sig)}`;
    expect(parseCheckpointMessage(enc(badText), trust)).toMatchObject({ ok: false, verdict: 'reject' });
    const k = parseCosignatureVkey(w1.cosignatureVkey);
    const forged = log.checkpoint() + formatSignatureLine(k.name, k.keyId, new Uint8Array(72));
    expect(parseCheckpointMessage(enc(forged), trust)).toMatchObject({ ok: false, verdict: 'reject', reason: expect.stringContaining('invalid signature') });
    // A repeated line of a known key is verified too.
    const repeated = cosigned(log.checkpoint(), w1) + formatSignatureLine(k.name, k.keyId, new Uint8Array(72));
    expect(parseCheckpointMessage(enc(repeated), trust)).toMatchObject({ ok: false, verdict: 'reject' });
  });

  it('caches verified lines: a merged message re-verifies only new lines', () => {
    const cache = new VerifiedLines();
    const note = cosigned(log.checkpoint(), w1);
    expect(parseCheckpointMessage(enc(note), trust, cache).ok).toBe(true);
    // A line differing from the cached one in its signature is verified (and fails).
    const tampered = note.replace(/(— w1\.example .{40})(.)/, (_m, a, c) => a + (c === 'A' ? 'B' : 'A'));
    expect(parseCheckpointMessage(enc(tampered), trust, cache)).toMatchObject({ ok: false, verdict: 'reject' });
  });

  it('formats messages deterministically (log lines first, cosignatures by key label)', () => {
    const a = parsed(cosigned(log.checkpoint(), w2, w1));
    const b = parsed(cosigned(log.checkpoint(), w1, w2));
    expect(formatCheckpointMessage(a.logNote, a.cosignatures)).toEqual(formatCheckpointMessage(b.logNote, b.cosignatures));
  });
});

describe('evidence message verdicts', () => {
  const fork = log.fork(6n).append(4, 'evil');
  const a = openNote(log.checkpoint(), logKeys);
  const b = openNote(fork.checkpoint(), logKeys);
  const good = encodeEvidence(makeEvidence({ note: a, checkpoint: parseCheckpoint(a.text) }, { note: b, checkpoint: parseCheckpoint(b.text) }));

  it('accepts verified evidence; ignores evidence about a log this node does not follow', () => {
    expect(parseEvidenceMessage(good, trust)).toMatchObject({ ok: true, origin: log.origin });
    expect(parseEvidenceMessage(good, { logKeys: () => undefined })).toMatchObject({ ok: false, verdict: 'ignore' });
  });

  it('ignores evidence signed only by a log key this node does not trust (a rotation it has not seen)', () => {
    const rotated = new TestLog(log.origin).append(10);
    const rf = rotated.fork(6n).append(4, 'x');
    const ra = openNote(rotated.checkpoint(), [parseVkey(rotated.key.vkey)]);
    const rb = openNote(rf.checkpoint(), [parseVkey(rotated.key.vkey)]);
    const ev = encodeEvidence(makeEvidence({ note: ra, checkpoint: parseCheckpoint(ra.text) }, { note: rb, checkpoint: parseCheckpoint(rb.text) }));
    expect(parseEvidenceMessage(ev, trust)).toMatchObject({ ok: false, verdict: 'ignore' });
  });

  it('rejects forged evidence: consistent checkpoints, a bad log signature, non-canonical bytes', () => {
    const c5 = openNote(log.checkpoint(10n), logKeys);
    const notEvidence = new TextEncoder().encode(`{"type":"gossip-witness/evidence/v1","origin":${JSON.stringify(log.origin)},"a":${JSON.stringify(c5.text + '\n' + c5.signatures.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join(''))},"b":${JSON.stringify(log.checkpoint(10n))}}`);
    expect(parseEvidenceMessage(notEvidence, trust)).toMatchObject({ ok: false, verdict: 'reject' });
    const text = new TextDecoder().decode(good);
    expect(parseEvidenceMessage(enc(text.replace('{"type"', '{ "type"')), trust)).toMatchObject({ ok: false, verdict: 'reject' });
    // Flip a character well inside the signature (past the 4-byte key ID).
    const tamperedSig = text.replace(/(— [^ ]+ .{40})(.)/, (_m, p, c) => p + (c === 'A' ? 'B' : 'A'));
    expect(parseEvidenceMessage(enc(tamperedSig), trust)).toMatchObject({ ok: false, verdict: 'reject' });
  });
});

describe('the view of a log', () => {
  it('merges cosignatures only onto byte-identical text; other extension lines are another entry, not a conflict', () => {
    const v = new LogView(log.origin);
    const r1 = v.observe(parsed(cosigned(log.checkpoint(), w1)), 1, true);
    expect(r1).toMatchObject({ isNewText: true, conflicts: [] });
    const r2 = v.observe(parsed(cosigned(log.checkpoint(), w2)), 2);
    expect(r2.isNewText).toBe(false);
    expect(r2.added.map((l) => l.name)).toEqual(['w2.example']);
    expect(v.head()!.cosignatures.size).toBe(2);
    const r3 = v.observe(parsed(cosigned(log.checkpoint(), w2)), 3);
    expect(r3.added).toHaveLength(0);
    const ext = v.observe(parsed(cosigned(log.checkpoint(10n, ['ext line']), w2)), 4);
    expect(ext).toMatchObject({ isNewText: true, conflicts: [] });
    expect(v.knownConsistent(r1.entry, ext.entry)).toBe(true);
  });

  it('same size, different root: a conflict that yields verifying evidence', () => {
    const v = new LogView(log.origin);
    const fork = log.fork(7n).append(3, 'evil');
    const own = v.observe(parsed(cosigned(log.checkpoint(), w1)), 1, true);
    const other = v.observe(parsed(cosigned(fork.checkpoint(), w2)), 2);
    expect(other.conflicts).toEqual([own.entry]);
    const ev = sameSizeEvidence(other.entry, own.entry);
    expect(verifyEvidence(ev, () => logKeys).ok).toBe(true);
  });

  it('an older checkpoint from a peer is compared with the view: known consistent only when one witness cosigned both', () => {
    const v = new LogView(log.origin);
    const own = v.observe(parsed(cosigned(log.checkpoint(10n), w1)), 1, true).entry;
    const olderSameWitness = v.observe(parsed(cosigned(log.checkpoint(6n), w1, w2)), 2).entry;
    expect(v.reference(olderSameWitness)).toBe(own);
    expect(v.knownConsistent(own, olderSameWitness)).toBe(true);
    const olderOther = v.observe(parsed(cosigned(log.checkpoint(4n), w2)), 3).entry;
    expect(v.knownConsistent(own, olderOther)).toBe(false); // needs a proof
  });

  it('remembers the latest checkpoint each witness cosigned, past eviction', () => {
    const v = new LogView(log.origin, 4);
    const big = new TestLog('example.com/wire').append(0);
    void big;
    for (let n = 1n; n <= 10n; n++) v.observe(parsed(cosigned(log.checkpoint(n), w1)), Number(n));
    expect(v.size).toBe(4);
    expect(v.latestCosignedBy(`w1.example+${w1.cosignatureVkey.split('+')[1]}`)?.size).toBe(10n);
  });
});

describe('sync protocol codec', () => {
  it('round-trips requests and responses; sizes as decimal strings', () => {
    for (const r of [{ type: 'views', origins: ['a', 'b'] }, { type: 'cosigned-by', key: 'w1+01020304' }, { type: 'prove', origin: 'o', size: 2n ** 62n, note: 'x' }] as const) {
      expect(decodeRequest(encodeRequest(r as never))).toEqual(r);
    }
    const h = new Uint8Array(32).fill(7);
    expect(decodeResponse(encodeResponse({ type: 'prove', h, proof: [h, h] }))).toEqual({ type: 'prove', h, proof: [h, h] });
    expect(decodeResponse(encodeResponse({ type: 'error', code: 'unavailable', reason: 'no tiles' }))).toEqual({ type: 'error', code: 'unavailable', reason: 'no tiles' });
  });

  it('refuses oversized, malformed and unknown messages', () => {
    expect(() => decodeRequest(new Uint8Array(MAX_REQUEST_BYTES + 1))).toThrow(SyncError);
    expect(() => decodeRequest(enc('{"type":"prove","origin":"o","size":"01","note":"x"}'))).toThrow(/bad size/);
    expect(() => decodeRequest(enc('{"type":"nope"}'))).toThrow(/unknown request type/);
    expect(() => decodeResponse(enc('{"type":"prove","h":"AAAA","proof":[]}'))).toThrow(SyncError);
  });

  it('the topic names are versioned', () => {
    expect(CHECKPOINT_TOPIC).toMatch(/\/1$/);
  });
});
