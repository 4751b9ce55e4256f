// A 0x06 (ML-DSA-44) log signature is verified off the event loop (mlDsa44().verifyAsync: the
// libuv pool or the noble worker pool), never with the synchronous verify on the main thread
// (noble: about 2.4 ms per verification on Node 20). Same verdicts as before.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, generateKey, cosigner, signNote } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { mlDsa44, setMlDsa44Backend, type MlDsa44Backend } from '../../src/crypto/mldsa.js';

const enc = (s: string) => new TextEncoder().encode(s);
const ORIGIN = 'example.com/pq-log';

let real: MlDsa44Backend;
const calls = { sync: 0, async: 0 };
beforeEach(() => {
  real = mlDsa44();
  calls.sync = 0;
  calls.async = 0;
  setMlDsa44Backend({
    ...real,
    verify: (p, m, s) => {
      calls.sync++;
      return real.verify(p, m, s);
    },
    verifyAsync: (p, m, s) => {
      calls.async++;
      return real.verifyAsync(p, m, s);
    },
  });
});
afterEach(() => setMlDsa44Backend(real));

function setup() {
  const pq = mlDsa44KeyFromSeed(ORIGIN, new Uint8Array(32).fill(9));
  const tree = new MemoryTree();
  const logs = new Map<string, WitnessLog>([[ORIGIN, { origin: ORIGIN, verifiers: new VerifierSet([pq.verifier]) }]]);
  const witness = new Witness({ store: new MemoryStore(), logs, cosigners: [cosigner(generateKey('witness.example/w1'))] });
  const grow = (n: number) => {
    for (let i = 0; i < n; i++) tree.append(enc(`leaf ${tree.size}`));
    return signNote(formatCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root() }), [pq.logSigner()]);
  };
  const push = (old: bigint, proof: Uint8Array[], note: string) => witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, note)));
  return { tree, grow, push };
}

describe('0x06 log signatures on add-checkpoint', () => {
  it('are verified with verifyAsync only (first checkpoint and an advance with a proof)', async () => {
    const { tree, grow, push } = setup();
    expect((await push(0n, [], grow(3))).kind).toBe('cosigned');
    const note = grow(4);
    expect((await push(3n, tree.consistencyProof(3n, tree.size), note)).kind).toBe('cosigned');
    expect(calls.async).toBe(2);
    expect(calls.sync).toBe(0);
  });

  it('a bad 0x06 log signature is still refused (403), also without a synchronous verify', async () => {
    const { grow, push } = setup();
    const note = grow(2);
    // Flip a byte inside the signature's base64 (after the timestamp): the signature no longer verifies.
    const i = note.lastIndexOf(' ') + 40;
    const bad = note.slice(0, i) + (note[i] === 'A' ? 'B' : 'A') + note.slice(i + 1);
    const r = await push(0n, [], bad);
    expect(r.kind).toBe('rejected');
    if (r.kind === 'rejected') expect(r.code).toBe('bad-signature');
    expect(calls.async).toBe(1);
    expect(calls.sync).toBe(0);
  });
});
