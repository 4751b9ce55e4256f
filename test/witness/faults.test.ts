// Issue 13 in the witness core: store failures are 'unavailable' (never thrown), a clock behind the
// newest signed timestamp refuses to cosign (derived from the stored cosignatures after a
// restart), and an identical suspect pair is stored once and counted after that.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessLog, type WitnessEvent } from '../../src/witness/witness.js';
import { StoreUnavailableError, type CasResult, type LogState } from '../../src/witness/store.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, parseVkey, generateKey, cosigner } from '../../src/note/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

class FailingCas extends MemoryStore {
  failing = false;
  override async compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult> {
    if (this.failing) throw new StoreUnavailableError('ENOSPC: no space left on device');
    return super.compareAndSet(origin, expectedSize, next);
  }
}

function witnessFor(log: TestLog, store: MemoryStore, key: ReturnType<typeof generateKey>, clock: { t: number }) {
  const events: WitnessEvent[] = [];
  const logs = new Map<string, WitnessLog>([[log.origin, { origin: log.origin, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);
  const witness = new Witness({
    store,
    logs,
    cosigners: [cosigner(key, () => BigInt(Math.floor(clock.t / 1000)))],
    onEvent: (e) => events.push(e),
    now: () => clock.t,
  });
  const push = (old: bigint, l: TestLog = log, proof: Uint8Array[] = old === 0n ? [] : l.tree.consistencyProof(old, l.tree.size)) =>
    witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, l.checkpoint())));
  return { witness, events, push };
}

describe('witness core faults', () => {
  it('a store write failure is a rejection with the origin and the reason, and the state does not move', async () => {
    const log = new TestLog('example.com/log').append(2);
    const store = new FailingCas();
    const { push, events } = witnessFor(log, store, generateKey('w.example/w1'), { t: Date.UTC(2026, 0, 1) });
    expect((await push(0n)).kind).toBe('cosigned');
    store.failing = true;
    log.append(1);
    const r = await push(2n);
    expect(r).toMatchObject({ kind: 'rejected', code: 'unavailable', origin: log.origin });
    expect(r.kind === 'rejected' && r.reason).toContain('ENOSPC');
    expect(events).toContainEqual({ type: 'store-error', origin: log.origin, op: 'write', reason: 'ENOSPC: no space left on device' });
    expect((await store.getState(log.origin))!.size).toBe(2n);
    store.failing = false;
    expect(await push(2n)).toMatchObject({ kind: 'cosigned', advanced: true });
  });

  it('after a restart with the clock set back, the newest stored cosignature time blocks cosigning until the clock passes it', async () => {
    const log = new TestLog('example.com/log').append(2);
    const store = new MemoryStore();
    const key = generateKey('w.example/w1');
    const t0 = Date.UTC(2026, 0, 1, 12);
    const first = witnessFor(log, store, key, { t: t0 });
    expect((await first.push(0n)).kind).toBe('cosigned');

    // A new process on the same store (a restored VM snapshot: the clock is 100 s behind).
    const clock = { t: t0 - 100_000 };
    const second = witnessFor(log, store, key, clock);
    expect(await second.witness.prepare()).toBe(true);
    expect(second.witness.clockBehindSeconds()).toBe(100);
    log.append(3);
    const r = await second.push(2n);
    expect(r).toMatchObject({ kind: 'rejected', code: 'clock-behind', origin: log.origin, retryAfter: 100 });
    // Replays of the stored size are refused too: every cosignature carries a timestamp.
    const replay = await second.witness.addCheckpoint(enc(formatAddCheckpointBody(2n, [], log.checkpoint(2n))));
    expect(replay).toMatchObject({ kind: 'rejected', code: 'clock-behind' });
    expect(second.events.filter((e) => e.type === 'clock')).toEqual([{ type: 'clock', behind: true, nowSeconds: t0 / 1000 - 100, newestSeconds: t0 / 1000 }]);
    expect((await store.getState(log.origin))!.size).toBe(2n);

    clock.t = t0 + 1000;
    expect(second.witness.clockBehindSeconds()).toBe(0);
    expect(await second.push(2n)).toMatchObject({ kind: 'cosigned', advanced: true });
    expect(second.events.filter((e) => e.type === 'clock').at(-1)).toMatchObject({ type: 'clock', behind: false });
  });

  it('a running witness notices a newer own cosignature that another instance stored meanwhile (a shared store)', async () => {
    const log = new TestLog('example.com/log').append(2);
    const store = new MemoryStore();
    const key = generateKey('w.example/w1');
    const t0 = Date.UTC(2026, 0, 1, 12);
    const slow = { t: t0 };
    const a = witnessFor(log, store, key, slow);
    expect((await a.push(0n)).kind).toBe('cosigned');
    log.append(1);
    expect(await a.push(2n)).toMatchObject({ kind: 'cosigned', advanced: true }); // a has read (and noted) its own state
    // Another instance with a clock 100 s ahead cosigns the next checkpoint into the same store.
    const b = witnessFor(log, store, key, { t: t0 + 100_000 });
    log.append(1);
    expect(await b.push(3n)).toMatchObject({ kind: 'cosigned', advanced: true });
    // a's clock is now behind the newest cosignature in the state it reads: it must not sign.
    slow.t = t0 + 10_000;
    log.append(1);
    expect(await a.push(4n)).toMatchObject({ kind: 'rejected', code: 'clock-behind', retryAfter: 90 });
    expect((await store.getState(log.origin))!.size).toBe(4n);
  });

  it('an identical suspect pair is stored once; repeats are counted, also across a restart', async () => {
    const log = new TestLog('example.com/log').append(3);
    const store = new MemoryStore();
    const key = generateKey('w.example/w1');
    const clock = { t: Date.UTC(2026, 0, 1) };
    const w = witnessFor(log, store, key, clock);
    expect((await w.push(0n)).kind).toBe('cosigned');
    const evil = log.fork(1n).append(9, 'evil');
    // The same forked checkpoint again and again (a feeder polling a forked log), with junk proofs.
    for (let i = 0; i < 20; i++) expect(await w.push(3n, evil, [new Uint8Array(32).fill(i)])).toMatchObject({ code: 'inconsistent' });
    expect(await store.listSuspects(log.origin)).toHaveLength(1);
    expect(w.witness.suspectRepeats(log.origin)).toBe(19);
    expect(w.events.filter((e) => e.type === 'suspect' && e.repeat)).toHaveLength(19);
    // Another pair is a new record.
    const evil2 = log.fork(2n).append(4, 'evil2');
    expect(await w.push(3n, evil2, [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    expect(await store.listSuspects(log.origin)).toHaveLength(2);

    const again = witnessFor(log, store, key, clock);
    expect(await again.push(3n, evil, [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    expect(await store.listSuspects(log.origin)).toHaveLength(2);
    expect(again.witness.suspectRepeats(log.origin)).toBe(1);
  });

  it('once a split view is proven, a growing forked branch is recorded once per held state, not at every poll', async () => {
    const log = new TestLog('example.com/log').append(3);
    const store = new MemoryStore();
    const w = witnessFor(log, store, generateKey('w.example/w1'), { t: Date.UTC(2026, 0, 1) });
    expect((await w.push(0n)).kind).toBe('cosigned');
    // Before proof: each new forked checkpoint is a new suspect pair.
    const evil = log.fork(1n).append(2, 'evil'); // size 3, another root
    evil.append(3);
    expect(await w.push(3n, evil, [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    evil.append(1);
    expect(await w.push(3n, evil, [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    expect(await store.listSuspects(log.origin)).toHaveLength(2);
    // The same size, another root: proven evidence.
    const sameSize = log.fork(1n).append(2, 'evil');
    expect(await w.witness.addCheckpoint(enc(formatAddCheckpointBody(3n, [], sameSize.checkpoint())))).toMatchObject({ code: 'inconsistent' });
    expect(await store.listEvidence(log.origin)).toHaveLength(1);
    // The forked branch keeps growing: no new record, only repeats.
    for (let i = 0; i < 5; i++) {
      evil.append(1);
      expect(await w.push(3n, evil, [new Uint8Array(32)])).toMatchObject({ code: 'inconsistent' });
    }
    expect(await store.listSuspects(log.origin)).toHaveLength(2);
    expect(w.witness.suspectRepeats(log.origin)).toBeGreaterThanOrEqual(5);
  });

  it('the newest signed time counts across logs: a cosignature of one log blocks a set-back clock for another', async () => {
    const a = new TestLog('example.com/a').append(1);
    const b = new TestLog('example.com/b').append(1);
    const store = new MemoryStore();
    const key = generateKey('w.example/w1');
    const t0 = Date.UTC(2026, 0, 1, 12);
    const both = (clock: { t: number }) =>
      new Witness({
        store,
        logs: new Map<string, WitnessLog>([a, b].map((l) => [l.origin, { origin: l.origin, verifiers: new VerifierSet([parseVkey(l.key.vkey)]) }])),
        cosigners: [cosigner(key, () => BigInt(Math.floor(clock.t / 1000)))],
        now: () => clock.t,
      });
    expect(await both({ t: t0 }).addCheckpoint(enc(formatAddCheckpointBody(0n, [], b.checkpoint())))).toMatchObject({ kind: 'cosigned' });
    const later = both({ t: t0 - 60_000 });
    expect(await later.addCheckpoint(enc(formatAddCheckpointBody(0n, [], a.checkpoint())))).toMatchObject({ kind: 'rejected', code: 'clock-behind' });
    expect(await store.getState(a.origin)).toBeUndefined();
  });
});
