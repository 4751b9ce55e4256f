// A witness must not put its cosignature/v1 (which signs the whole text) on extension lines that
// no trusted log signature covers: ML-DSA-44 subtree/v1 log signatures (0x06) sign a struct of
// origin, size and root only, so anyone could rewrite those lines without breaking them.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, generateKey, cosigner, parseVkey, signNote, openNote } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';

const enc = (s: string) => new TextEncoder().encode(s);
const ORIGIN = 'example.com/pq-log';

function setup() {
  const pq = mlDsa44KeyFromSeed(ORIGIN, new Uint8Array(32).fill(7));
  const ed = generateKey(ORIGIN);
  const tree = new MemoryTree();
  for (let i = 0; i < 5; i++) tree.append(enc(`leaf ${i}`));
  const logs = new Map<string, WitnessLog>([[ORIGIN, { origin: ORIGIN, verifiers: new VerifierSet([pq.verifier, parseVkey(ed.vkey)]) }]]);
  const witness = new Witness({ store: new MemoryStore(), logs, cosigners: [cosigner(generateKey('witness.example/w1'))] });
  const text = (extensions: string[]) => formatCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root(), extensions });
  const push = (note: string) => witness.addCheckpoint(enc(formatAddCheckpointBody(0n, [], note)));
  return { pq, ed, push, text };
}

describe('extension lines and log signatures that do not cover them', () => {
  it('refuses (403) a checkpoint with extension lines signed only by an ML-DSA-44 log key', async () => {
    const { pq, push, text } = setup();
    const note = signNote(text(['extension: rewritable']), [pq.logSigner()]);
    expect(openNote(note, [pq.verifier]).verified).toHaveLength(1); // the log signature itself is valid
    const r = await push(note);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') {
      expect(r.code).toBe('bad-signature');
      expect(r.reason).toMatch(/extension lines/);
    }
  });

  it('cosigns the same checkpoint without extension lines', async () => {
    const { pq, push, text } = setup();
    expect((await push(signNote(text([]), [pq.logSigner()]))).kind).toBe('cosigned');
  });

  it('cosigns extension lines when a trusted signature that covers the text is also present', async () => {
    const { pq, ed, push, text } = setup();
    const note = signNote(text(['extension: covered']), [pq.logSigner(), ed]);
    expect((await push(note)).kind).toBe('cosigned');
  });

  // SPEC (tlog-witness): "If all the checks above pass, the witness MUST ... respond with a 200".
  // An ML-DSA-44 subtree/v1 cosignature signs origin, size and root only: it vouches for nothing
  // the log did not sign, so a witness with such a key answers with it alone.
  it('with an ML-DSA-44 key of its own: 200 with the subtree/v1 line only, no cosignature/v1 line', async () => {
    const { pq, text } = setup();
    const wpq = mlDsa44KeyFromSeed('witness.example/w1', new Uint8Array(32).fill(9));
    const wed = generateKey('witness.example/w1');
    const logs = new Map<string, WitnessLog>([[ORIGIN, { origin: ORIGIN, verifiers: new VerifierSet([pq.verifier]) }]]);
    const witness = new Witness({ store: new MemoryStore(), logs, cosigners: [cosigner(wed), wpq.cosigner()] });
    const note = signNote(text(['extension: rewritable']), [pq.logSigner()]);
    const r = await witness.addCheckpoint(enc(formatAddCheckpointBody(0n, [], note)));
    expect(r.kind).toBe('cosigned');
    if (r.kind !== 'cosigned') return;
    const lines = r.lines.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(openNote(text(['extension: rewritable']) + '\n' + r.lines, [wpq.verifier]).verified).toHaveLength(1);
    // Without extension lines both keys cosign.
    const plain = await witness.addCheckpoint(enc(formatAddCheckpointBody(5n, [], signNote(text([]), [pq.logSigner()]))));
    expect(plain.kind === 'cosigned' ? plain.lines.trim().split('\n') : []).toHaveLength(2);
  });
});
