import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { openNote, parseVkey, generateKey } from '../../src/note/index.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import {
  makeEvidence,
  encodeEvidence,
  decodeEvidence,
  verifyEvidence,
  evidenceId,
  type Evidence,
} from '../../src/witness/evidence.js';

function side(log: TestLog, size: bigint) {
  const note = openNote(log.checkpoint(size), [parseVkey(log.key.vkey)]);
  return { note, checkpoint: parseCheckpoint(note.text) };
}

/** Evidence that log signed size m on branch a and size n on branch b (which forked before m). */
function forkEvidence(m: bigint, n: bigint, forkAt: bigint) {
  const a = new TestLog('example.com/fork').append(Number(m));
  const b = a.fork(forkAt).append(Number(n - forkAt), 'evil');
  const ev = makeEvidence(side(a, m), side(b, n), { h: b.tree.root(m), proof: b.tree.consistencyProof(m, n) });
  return { a, b, ev, keys: () => [parseVkey(a.key.vkey)] };
}

describe('proven split-view evidence', () => {
  it('same size, different roots: proven without a proof', () => {
    const a = new TestLog('example.com/log').append(10);
    const b = a.fork(4n).append(6, 'evil');
    const ev = makeEvidence(side(a, 10n), side(b, 10n));
    expect(ev.h).toBeUndefined();
    const v = verifyEvidence(encodeEvidence(ev), () => [parseVkey(a.key.vkey)]);
    expect(v.ok).toBe(true);
    // Canonical: the same pair in the other order encodes to the same bytes.
    expect(encodeEvidence(makeEvidence(side(b, 10n), side(a, 10n)))).toEqual(encodeEvidence(ev));
  });

  it.each([
    ['m a power of two (h is placed in front of the proof)', 8n, 13n, 5n],
    ['m not a power of two', 13n, 21n, 7n],
    ['m a full left subtree of n', 16n, 20n, 9n],
    ['m one leaf before n', 6n, 7n, 2n],
    ['fork at leaf 0', 3n, 300n, 0n],
    ['large sizes', 1000n, 1500n, 999n],
  ])('different sizes, %s', (_name, m, n, forkAt) => {
    const { ev, keys } = forkEvidence(m, n, forkAt);
    const bytes = encodeEvidence(ev);
    const v = verifyEvidence(bytes, keys);
    expect(v).toMatchObject({ ok: true, origin: 'example.com/fork' });
    if (v.ok) {
      expect(v.a.size).toBe(m);
      expect(v.b.size).toBe(n);
    }
    expect(decodeEvidence(bytes)).toEqual(ev);
    expect(evidenceId(bytes)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('whichever branch is larger, evidence puts the smaller first', () => {
    const a = new TestLog('example.com/o').append(20);
    const b = a.fork(3n).append(2, 'evil'); // b is smaller: size 5
    const ev = makeEvidence(side(a, 20n), side(b, 5n), { h: a.tree.root(5n), proof: a.tree.consistencyProof(5n, 20n) });
    expect(verifyEvidence(ev, () => [parseVkey(a.key.vkey)]).ok).toBe(true);
    expect(parseCheckpoint(ev.a.slice(0, ev.a.indexOf('\n\n') + 1)).size).toBe(5n);
  });

  it('forged evidence from honest consistent checkpoints is refused', () => {
    const log = new TestLog('example.com/honest').append(40);
    const keys = () => [parseVkey(log.key.vkey)];
    const junk = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(32).fill(i + 1));
    for (const [m, n] of [[8n, 40n], [13n, 40n], [16n, 32n]] as const) {
      // Junk h and proof.
      const forged = makeEvidence(side(log, m), side(log, n), { h: new Uint8Array(32).fill(9), proof: junk(6) });
      expect(verifyEvidence(forged, keys)).toMatchObject({ ok: false, code: 'not-evidence' });
      // A real proof with the real h: consistent, so not evidence.
      const honest = makeEvidence(side(log, m), side(log, n), { h: log.tree.root(m), proof: log.tree.consistencyProof(m, n) });
      expect(verifyEvidence(honest, keys)).toMatchObject({ ok: false, code: 'not-evidence' });
      // A real proof with a different h: the proof no longer verifies.
      const swapped = makeEvidence(side(log, m), side(log, n), { h: log.tree.root(m - 1n), proof: log.tree.consistencyProof(m, n) });
      expect(verifyEvidence(swapped, keys)).toMatchObject({ ok: false, code: 'not-evidence' });
    }
    // Same size, same root.
    expect(verifyEvidence(makeEvidence(side(log, 7n), side(log, 7n)), keys)).toMatchObject({ ok: false, code: 'not-evidence' });
  });

  it('verifies only with keys the verifier trusts, never keys carried in the evidence', () => {
    const { ev } = forkEvidence(8n, 13n, 5n);
    const other = generateKey('example.com/fork');
    expect(verifyEvidence(ev, () => [parseVkey(other.vkey)])).toMatchObject({ ok: false, code: 'bad-signature' });
    expect(verifyEvidence(ev, () => undefined)).toMatchObject({ ok: false, code: 'unknown-origin' });
  });

  it('size 0 is never evidence', () => {
    const a = new TestLog('example.com/z');
    const b = a.fork(0n);
    const ev: Evidence = { origin: 'example.com/z', a: a.checkpoint(0n), b: b.checkpoint(0n) };
    expect(verifyEvidence(ev, () => [parseVkey(a.key.vkey)])).toMatchObject({ ok: false });
  });

  it('refuses mismatched origins, wrong order and non-canonical encodings', () => {
    const { ev, keys } = forkEvidence(8n, 13n, 5n);
    expect(verifyEvidence({ ...ev, origin: 'other' }, keys)).toMatchObject({ ok: false, code: 'malformed' });
    expect(verifyEvidence({ ...ev, a: ev.b, b: ev.a }, keys)).toMatchObject({ ok: false, code: 'malformed' });
    const pretty = new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(encodeEvidence(ev))), null, 1));
    expect(verifyEvidence(pretty, keys)).toMatchObject({ ok: false, code: 'malformed' });
    for (const junk of ['', 'null', '[]', '{"type":"x"}', '{', '\u00ff']) {
      expect(verifyEvidence(new TextEncoder().encode(junk), keys)).toMatchObject({ ok: false, code: 'malformed' });
    }
  });
});
