// Witness.restoreFromOwnCosignature (issue 13 §1, the world outside the disk): a log-signed
// checkpoint carrying this witness's own valid cosignature above the stored size moves the state
// forward; nothing else does, and nothing ever moves it backward.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog, type WitnessEvent } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, parseVkey, generateKey, cosigner, parseNote } from '../../src/note/index.js';
import { signatureLines } from '../../src/note/note.js';

const enc = (s: string) => new TextEncoder().encode(s);

function setup() {
  const log = new TestLog('example.com/log');
  const store = new MemoryStore();
  const key = generateKey('witness.example/w1');
  let t = 1_700_000_000n;
  const events: WitnessEvent[] = [];
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  const signer = cosigner(key, () => t++);
  const witness = new Witness({ store, logs, cosigners: [signer], onEvent: (e) => events.push(e) });
  /** The log's checkpoint at size with cosignature lines by the given signers appended. */
  const cosignedBy = (l: TestLog, size: bigint, signers = [signer]) => {
    const n = l.checkpoint(size);
    return n + signatureLines(parseNote(n).textBytes, signers);
  };
  const push = (old: bigint, note: string, proof: Uint8Array[] = []) => witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, note)));
  return { log, store, witness, events, cosignedBy, push, signer };
}

describe('restoreFromOwnCosignature', () => {
  it('moves a lost state forward to a checkpoint we cosigned, and reports it', async () => {
    const { log, store, witness, events, cosignedBy } = setup();
    log.append(30);
    const r = await witness.restoreFromOwnCosignature(cosignedBy(log, 30n), 'test');
    expect(r).toEqual({ kind: 'advanced', from: 0n, to: 30n });
    const st = await store.getState(log.origin);
    expect(st?.size).toBe(30n);
    expect(st?.root).toEqual(log.tree.root(30n));
    expect(st?.cosigned.startsWith(st.note)).toBe(true);
    expect(events).toContainEqual({ type: 'restored', origin: log.origin, from: 0n, to: 30n, source: 'test' });
  });

  it('never moves backward, ignores foreign or forged cosignatures and unknown logs', async () => {
    const { log, store, witness, cosignedBy } = setup();
    log.append(30);
    await witness.restoreFromOwnCosignature(cosignedBy(log, 30n), 'test');
    expect((await witness.restoreFromOwnCosignature(cosignedBy(log, 14n), 'test')).kind).toBe('ignored');
    expect((await witness.restoreFromOwnCosignature(cosignedBy(log, 30n), 'test')).kind).toBe('ignored');
    log.append(5);
    const stranger = cosigner(generateKey('witness.example/w1'));
    expect((await witness.restoreFromOwnCosignature(cosignedBy(log, 35n, [stranger]), 'test')).kind).toBe('ignored');
    expect((await witness.restoreFromOwnCosignature(log.checkpoint(35n), 'test')).kind).toBe('ignored');
    expect((await witness.restoreFromOwnCosignature('garbage', 'test')).kind).toBe('ignored');
    const other = new TestLog('example.com/other').append(3);
    expect((await witness.restoreFromOwnCosignature(cosignedBy(other, 3n), 'test')).kind).toBe('ignored');
    expect((await store.getState(log.origin))?.size).toBe(30n);
  });

  it('a same-size checkpoint with another root that we cosigned is evidence', async () => {
    const { log, store, witness, cosignedBy } = setup();
    log.append(20);
    await witness.restoreFromOwnCosignature(cosignedBy(log, 20n), 'test');
    const fork = log.fork(10n).append(10, 'fork');
    expect(await witness.restoreFromOwnCosignature(cosignedBy(fork, 20n), 'test')).toEqual({ kind: 'evidence' });
    expect(await store.listEvidence(log.origin)).toHaveLength(1);
    expect((await store.getState(log.origin))?.root).toEqual(log.tree.root(20n));
  });

  it('the push path restores first: a pushed checkpoint carrying our cosignature above the stored size', async () => {
    const { log, store, witness, push, cosignedBy } = setup();
    log.append(14);
    expect((await push(0n, log.checkpoint())).kind).toBe('cosigned');
    log.append(16);
    // Our state was lost at 14 (e.g. a restored backup); someone pushes the size-30 checkpoint we signed.
    const r = await push(14n, cosignedBy(log, 30n), log.tree.consistencyProof(14n, 30n));
    expect(r).toMatchObject({ kind: 'stale', size: 30n });
    expect((await store.getState(log.origin))?.size).toBe(30n);
    // A fork of size 30 consistent with 14 is now refused.
    const fork = log.fork(14n).append(16, 'fork');
    const f = await witness.addCheckpoint(enc(formatAddCheckpointBody(30n, [], fork.checkpoint(30n))));
    expect(f).toMatchObject({ kind: 'rejected', code: 'inconsistent' });
  });
});
