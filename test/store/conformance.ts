// One WitnessStore conformance suite, run against every implementation (test/store/stores.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { SUSPECT_RING_SIZE } from '../../src/witness/store.js';
import type { LogState, StoredEvidence, SuspectRecord, VerifiedRecord, WitnessStore } from '../../src/witness/store.js';

export interface StoreFixture {
  store: WitnessStore;
  /** Closes the current store (if still open) and opens a new one over the same data. */
  reopen?: () => Promise<WitnessStore>;
  /** Closes whatever is open and removes all data. */
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

// ---- value builders ----

export function root(seed: number, len = 32): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7 + (seed >> 8)) & 0xff;
  return b;
}

export function state(size: bigint | number, tag = '', origin = 'example.com/log'): LogState {
  const n = BigInt(size);
  const text = `${origin}\n${n}\n${Buffer.from(root(Number(n % 100000n))).toString('base64')}\n`;
  const note = `${text}\n— example.com/log ${tag} sig\n`;
  return { size: n, root: root(Number(n % 100000n)), note, cosigned: `${note}— witness cosig\n`, updatedAt: 1_700_000_000_000 + Number(n % 1000n) };
}

export function suspect(origin: string, i: number): SuspectRecord {
  return {
    origin,
    receivedAt: 1_700_000_000_000 + i,
    held: `held ${i}`,
    submitted: `submitted ${i}`,
    oldSize: BigInt(i),
    proof: [root(i), root(i + 1)],
    reason: `reason ${i}`,
  };
}

/** A stand-in record: these tests are about storage, so the bytes are not real evidence (hence the cast). */
export function evidence(id: string, origin: string, receivedAt: number, fill = 1): VerifiedRecord {
  return { id, origin, receivedAt, bytes: new Uint8Array(64).fill(fill) } as VerifiedRecord;
}

/** Plain, comparable form of a LogState (toEqual treats Buffer and Uint8Array differently). */
const plain = (s: LogState | undefined) => s && { ...s, root: Array.from(s.root) };
const plainSuspect = (r: SuspectRecord) => ({ ...r, proof: r.proof.map((p) => Array.from(p)) });
const plainEvidence = (e: StoredEvidence | undefined) => e && { ...e, bytes: Array.from(e.bytes) };

function shuffle<T>(a: T[], seed = 1): T[] {
  let x = seed;
  for (let i = a.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---- the suite ----

export function runStoreConformance(name: string, factory: StoreFactory): void {
  describe(`WitnessStore conformance: ${name}`, () => {
    let fx: StoreFixture | undefined;
    const open = async () => (fx = await factory());
    afterEach(async () => {
      await fx?.cleanup();
      fx = undefined;
    });

    describe('health', () => {
      it('a store that can write says so, before and after writes and across a reopen', async () => {
        const f = await open();
        expect(f.store.health()).toEqual({ writable: true });
        expect((await f.store.compareAndSet('o', 0n, state(1))).ok).toBe(true);
        expect(f.store.health()).toEqual({ writable: true });
        if (f.reopen) expect((await f.reopen()).health()).toEqual({ writable: true });
      });
    });

    describe('state and compare-and-set', () => {
      it('has no state or origins when empty', async () => {
        const { store } = await open();
        expect(await store.getState('example.com/log')).toBeUndefined();
        expect(await store.origins()).toEqual([]);
      });

      it('requires expectedSize 0 for the first write', async () => {
        const { store } = await open();
        expect(await store.compareAndSet('o', 5n, state(6))).toEqual({ ok: false, current: undefined });
        expect(await store.getState('o')).toBeUndefined();
        expect(await store.compareAndSet('o', 0n, state(5))).toEqual({ ok: true });
        expect(plain(await store.getState('o'))).toEqual(plain(state(5)));
        expect(await store.origins()).toEqual(['o']);
      });

      it('returns the current state on a wrong expected size, and moves on the right one', async () => {
        const { store } = await open();
        expect((await store.compareAndSet('o', 0n, state(5))).ok).toBe(true);
        for (const wrong of [0n, 4n, 6n, 100n]) {
          const r = await store.compareAndSet('o', wrong, state(7));
          expect(r.ok).toBe(false);
          if (!r.ok) expect(plain(r.current)).toEqual(plain(state(5)));
        }
        expect(await store.compareAndSet('o', 5n, state(7))).toEqual({ ok: true });
        expect((await store.getState('o'))?.size).toBe(7n);
        // The store does not judge content: a same-size (or smaller) next is the caller's call.
        expect(await store.compareAndSet('o', 7n, state(7, 'again'))).toEqual({ ok: true });
        expect((await store.getState('o'))?.note).toContain('again');
      });

      it('keeps origins independent and lists them sorted', async () => {
        const { store } = await open();
        for (const o of ['b', 'a', 'c/log', 'a!b']) expect((await store.compareAndSet(o, 0n, state(1, o))).ok).toBe(true);
        expect(await store.origins()).toEqual(['a', 'a!b', 'b', 'c/log']);
        expect((await store.getState('a!b'))?.note).toContain('a!b');
        expect(await store.getState('a!')).toBeUndefined();
      });

      it('copies values in and out', async () => {
        const { store } = await open();
        const s = { ...state(3), root: root(3) };
        const pending = store.compareAndSet('o', 0n, s);
        s.root[0] ^= 0xff; // mutated while the write may still be queued
        expect((await pending).ok).toBe(true);
        expect(Array.from((await store.getState('o'))!.root)).toEqual(Array.from(root(3)));
        const got = await store.getState('o');
        got!.root[1] ^= 0xff;
        expect(Array.from((await store.getState('o'))!.root)).toEqual(Array.from(root(3)));
        const failed = await store.compareAndSet('o', 0n, state(9));
        if (!failed.ok) failed.current!.root.fill(0);
        expect(Array.from((await store.getState('o'))!.root)).toEqual(Array.from(root(3)));
      });

      it('rejects invalid input', async () => {
        const { store } = await open();
        await expect(store.compareAndSet('o', -1n, state(1))).rejects.toThrow(TypeError);
        await expect(store.compareAndSet('o', 0n, { ...state(1), size: -1n })).rejects.toThrow(TypeError);
        await expect(store.compareAndSet('o', 0n, { ...state(1), size: 1 as unknown as bigint })).rejects.toThrow(TypeError);
        await expect(store.compareAndSet('o', 0n, { ...state(1), updatedAt: NaN })).rejects.toThrow(TypeError);
        await expect(store.compareAndSet('bad\uD800origin', 0n, state(1))).rejects.toThrow(TypeError);
        await expect(store.addEvidence(evidence('', 'o', 1))).rejects.toThrow(TypeError);
        expect(await store.origins()).toEqual([]);
      });
    });

    describe('concurrency', () => {
      it('200 racing CAS on one log: exactly one winner per expected size, final state is the max chain', async () => {
        const { store } = await open();
        const PER = 4;
        const SIZES = 50;
        const calls: { expected: number; racer: number }[] = [];
        for (let k = 0; k < SIZES; k++) for (const racer of shuffle([0, 1, 2, 3], k + 1)) calls.push({ expected: k, racer });
        expect(calls).toHaveLength(PER * SIZES);
        const results = await Promise.all(
          calls.map(async (c) => ({ ...c, r: await store.compareAndSet('o', BigInt(c.expected), state(c.expected + 1, `racer${c.racer}`)) })),
        );
        const winners = new Map<number, number>();
        for (const { expected, racer, r } of results) {
          if (r.ok) {
            expect(winners.has(expected)).toBe(false);
            winners.set(expected, racer);
          } else {
            expect(r.current!.size).toBeGreaterThan(BigInt(expected));
          }
        }
        expect([...winners.keys()].sort((a, b) => a - b)).toEqual([...Array(SIZES).keys()]);
        const final = await store.getState('o');
        expect(final?.size).toBe(BigInt(SIZES));
        expect(final?.note).toContain(`racer${winners.get(SIZES - 1)}`);
      });

      it('racing read-modify-write workers on one log build a single chain', async () => {
        const { store } = await open();
        const TARGET = 120;
        const WORKERS = 10;
        const wins: { from: bigint; worker: number }[] = [];
        let attempts = 0;
        await Promise.all(
          Array.from({ length: WORKERS }, async (_, w) => {
            for (;;) {
              const cur = (await store.getState('o'))?.size ?? 0n;
              if (cur >= BigInt(TARGET)) return;
              attempts++;
              const r = await store.compareAndSet('o', cur, state(cur + 1n, `w${w}`));
              if (r.ok) wins.push({ from: cur, worker: w });
              else expect(r.current!.size).not.toBe(cur);
            }
          }),
        );
        expect(wins.map((x) => x.from).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
          Array.from({ length: TARGET }, (_, i) => BigInt(i)),
        );
        expect(attempts).toBeGreaterThan(TARGET); // there really were lost races
        const final = await store.getState('o');
        expect(final?.size).toBe(BigInt(TARGET));
        expect(final?.note).toContain(`w${wins.find((x) => x.from === BigInt(TARGET - 1))!.worker} `);
      });

      it('concurrent CAS across 100 origins', async () => {
        const { store } = await open();
        const origins = Array.from({ length: 100 }, (_, i) => `log-${String(i).padStart(3, '0')}.example`);
        await Promise.all(
          origins.map(async (o) => {
            for (let n = 0; n < 5; n++) expect(await store.compareAndSet(o, BigInt(n), state(n + 1, o, o))).toEqual({ ok: true });
          }),
        );
        expect(await store.origins()).toEqual(origins);
        for (const o of origins) {
          const s = await store.getState(o);
          expect(s?.size).toBe(5n);
          expect(s?.note).toContain(o);
        }
      });
    });

    describe('evidence', () => {
      it('is idempotent by id and keeps the first record', async () => {
        const { store } = await open();
        expect(await store.getEvidence('e1')).toBeUndefined();
        expect(await store.addEvidence(evidence('e1', 'a', 10, 1))).toBe(true);
        expect(await store.addEvidence(evidence('e1', 'b', 20, 2))).toBe(false);
        expect(plainEvidence(await store.getEvidence('e1'))).toEqual(plainEvidence(evidence('e1', 'a', 10, 1)));
        expect(await store.listEvidence()).toHaveLength(1);
      });

      it('exactly one of many concurrent adds of one id is new', async () => {
        const { store } = await open();
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.addEvidence(evidence('same', 'a', i, i))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(results[0]).toBe(true); // calls are taken in order
        expect((await store.getEvidence('same'))?.receivedAt).toBe(0);
      });

      it('lists by origin, ordered by receivedAt then id, and copies out', async () => {
        const { store } = await open();
        await store.addEvidence(evidence('z', 'a', 30));
        await store.addEvidence(evidence('y', 'b', 20));
        await store.addEvidence(evidence('x', 'a', 30));
        await store.addEvidence(evidence('w', 'a', 5));
        expect((await store.listEvidence()).map((e) => e.id)).toEqual(['w', 'y', 'x', 'z']);
        expect((await store.listEvidence('a')).map((e) => e.id)).toEqual(['w', 'x', 'z']);
        expect((await store.listEvidence('b')).map((e) => e.id)).toEqual(['y']);
        expect(await store.listEvidence('c')).toEqual([]);
        const got = await store.getEvidence('w');
        got!.bytes.fill(9);
        expect((await store.getEvidence('w'))!.bytes[0]).toBe(1);
        const listed = await store.listEvidence();
        listed[0].bytes.fill(9);
        expect((await store.getEvidence('w'))!.bytes[0]).toBe(1);
      });
    });

    describe('suspects', () => {
      it(`keeps the newest ${SUSPECT_RING_SIZE} per origin, oldest first`, async () => {
        const { store } = await open();
        const N = SUSPECT_RING_SIZE + 9;
        for (let i = 0; i < N; i++) {
          await store.addSuspect(suspect('a', i));
          if (i % 10 === 0) await store.addSuspect(suspect('b', 1000 + i));
        }
        const a = await store.listSuspects('a');
        expect(a).toHaveLength(SUSPECT_RING_SIZE);
        expect(a.map((r) => r.reason)).toEqual(Array.from({ length: SUSPECT_RING_SIZE }, (_, j) => `reason ${N - SUSPECT_RING_SIZE + j}`));
        expect(a.map(plainSuspect)).toEqual(Array.from({ length: SUSPECT_RING_SIZE }, (_, j) => plainSuspect(suspect('a', N - SUSPECT_RING_SIZE + j))));
        const b = await store.listSuspects('b');
        expect(b.map((r) => r.reason)).toEqual(['reason 1000', 'reason 1010', 'reason 1020', 'reason 1030', 'reason 1040']);
        // All origins: insertion order.
        const all = await store.listSuspects();
        expect(all).toHaveLength(SUSPECT_RING_SIZE + 5);
        const order = all.map((r) => r.receivedAt - 1_700_000_000_000);
        expect(order.filter((x) => x < 1000)).toEqual(a.map((r) => r.receivedAt - 1_700_000_000_000));
        expect(order.indexOf(1030)).toBeGreaterThan(order.indexOf(30)); // b's 1030 was added right after a's 30
        expect(order.indexOf(1030)).toBeLessThan(order.indexOf(31));
        expect(order.at(-1)).toBe(1040);
        expect(await store.listSuspects('c')).toEqual([]);
      });

      it('stays bounded and ordered under concurrent adds', async () => {
        const { store } = await open();
        const N = SUSPECT_RING_SIZE * 2 + 3;
        await Promise.all(Array.from({ length: N }, (_, i) => store.addSuspect(suspect('a', i))));
        const a = await store.listSuspects('a');
        expect(a.map((r) => r.oldSize)).toEqual(Array.from({ length: SUSPECT_RING_SIZE }, (_, j) => BigInt(N - SUSPECT_RING_SIZE + j)));
        const got = await store.listSuspects('a');
        got[0].proof[0].fill(0);
        expect(Array.from((await store.listSuspects('a'))[0].proof[0])).toEqual(Array.from(a[0].proof[0]));
      });
    });

    describe('values round-trip exactly', () => {
      const origin = 'ex!ample.com/lög/🙂\u0000\t"\\x!y';
      const big = (1n << 64n) - 1n;
      const s: LogState = {
        size: big,
        root: Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 255) & 0xff),
        note: `${origin}\n${big}\nroot\n\n— ключ 日本語 \u{1F600} \uD800 lone\n`,
        cosigned: 'cosigned — ✓\r\n',
        updatedAt: 1_712_345_678_901.5,
      };
      const r: SuspectRecord = {
        origin,
        receivedAt: 0,
        held: 'held — ü',
        submitted: 'submitted 🙂',
        oldSize: (1n << 53n) + 1n,
        proof: [new Uint8Array(0), Uint8Array.from([0, 255, 128]), root(7)],
        reason: 'inconsistent: 日本',
      };
      const e = { id: 'id/🙂!x', origin, receivedAt: 42, bytes: Uint8Array.from({ length: 1000 }, (_, i) => (i * 13) & 0xff) } as VerifiedRecord;

      const check = async (store: WitnessStore) => {
        expect(plain(await store.getState(origin))).toEqual(plain(s));
        expect((await store.getState(origin))!.root).toBeInstanceOf(Uint8Array);
        expect(await store.origins()).toEqual([origin, 'zero']);
        expect(plain(await store.getState('zero'))).toEqual(plain({ ...s, size: 0n, root: new Uint8Array(0), note: '', cosigned: '' }));
        expect((await store.listSuspects(origin)).map(plainSuspect)).toEqual([plainSuspect(r)]);
        expect(plainEvidence(await store.getEvidence(e.id))).toEqual(plainEvidence(e));
        expect((await store.listEvidence(origin)).map(plainEvidence)).toEqual([plainEvidence(e)]);
      };

      it('bigints above 2^53, roots, non-ASCII notes and origins', async () => {
        const { store } = await open();
        expect(await store.compareAndSet(origin, 0n, s)).toEqual({ ok: true });
        expect(await store.compareAndSet('zero', 0n, { ...s, size: 0n, root: new Uint8Array(0), note: '', cosigned: '' })).toEqual({ ok: true });
        await store.addSuspect(r);
        expect(await store.addEvidence(e)).toBe(true);
        await check(store);
        expect(await store.compareAndSet(origin, big - 1n, state(1))).toMatchObject({ ok: false });
        expect(await store.compareAndSet(origin, big, { ...s, note: 'next' })).toEqual({ ok: true });
      });

      it('survives a reopen (durable stores)', async (ctx) => {
        const f = await open();
        if (!f.reopen) return ctx.skip();
        await f.store.compareAndSet(origin, 0n, s);
        await f.store.compareAndSet('zero', 0n, { ...s, size: 0n, root: new Uint8Array(0), note: '', cosigned: '' });
        await f.store.addSuspect(r);
        await f.store.addEvidence(e);
        await check(await f.reopen());
      });
    });

    describe('reopen', () => {
      it('persists states, evidence and suspect rings, and continues from them', async (ctx) => {
        const f = await open();
        if (!f.reopen) return ctx.skip();
        let store = f.store;
        for (let i = 0; i < 20; i++) await store.compareAndSet(`log${i}`, 0n, state(i + 1, `log${i}`));
        await store.compareAndSet('log0', 1n, state(77, 'log0 again'));
        for (let i = 0; i < SUSPECT_RING_SIZE + 4; i++) await store.addSuspect(suspect('a', i));
        await store.addSuspect(suspect('b', 500));
        await store.addEvidence(evidence('e1', 'a', 1));
        await store.addEvidence(evidence('e2', 'b', 2));

        store = await f.reopen();
        expect(await store.origins()).toEqual(Array.from({ length: 20 }, (_, i) => `log${i}`).sort());
        expect(plain(await store.getState('log0'))).toEqual(plain(state(77, 'log0 again')));
        expect(plain(await store.getState('log7'))).toEqual(plain(state(8, 'log7')));
        expect((await store.listSuspects('a')).map((x) => x.oldSize)).toEqual(
          Array.from({ length: SUSPECT_RING_SIZE }, (_, j) => BigInt(j + 4)),
        );
        expect((await store.listEvidence()).map((x) => x.id)).toEqual(['e1', 'e2']);

        // It continues from the persisted data: CAS sizes, evidence ids, ring order and bound.
        expect(await store.compareAndSet('log0', 0n, state(1))).toMatchObject({ ok: false });
        expect(await store.compareAndSet('log0', 77n, state(78))).toEqual({ ok: true });
        expect(await store.addEvidence(evidence('e1', 'a', 9))).toBe(false);
        await store.addSuspect(suspect('a', 999));
        await store.addSuspect(suspect('b', 501));
        const a = await store.listSuspects('a');
        expect(a).toHaveLength(SUSPECT_RING_SIZE);
        expect(a[0].oldSize).toBe(5n);
        expect(a[SUSPECT_RING_SIZE - 1].oldSize).toBe(999n);
        const all = await store.listSuspects();
        expect(all.slice(-2).map((x) => x.oldSize)).toEqual([999n, 501n]);

        store = await f.reopen();
        expect((await store.getState('log0'))?.size).toBe(78n);
        expect((await store.listSuspects('a')).map((x) => x.oldSize).slice(-2)).toEqual([BigInt(SUSPECT_RING_SIZE + 3), 999n]);
      });
    });

    it('rejects every call after close', async () => {
      const f = await open();
      await f.store.compareAndSet('o', 0n, state(1));
      await f.store.close();
      await expect(f.store.getState('o')).rejects.toThrow(/closed/);
      await expect(f.store.compareAndSet('o', 1n, state(2))).rejects.toThrow(/closed/);
      await expect(f.store.addEvidence(evidence('e', 'o', 1))).rejects.toThrow(/closed/);
      await expect(f.store.addSuspect(suspect('o', 1))).rejects.toThrow(/closed/);
      await expect(f.store.listSuspects()).rejects.toThrow(/closed/);
      await expect(f.store.listEvidence()).rejects.toThrow(/closed/);
      await expect(f.store.getEvidence('e')).rejects.toThrow(/closed/);
      await expect(f.store.origins()).rejects.toThrow(/closed/);
      await f.store.close(); // idempotent
    });
  });
}
