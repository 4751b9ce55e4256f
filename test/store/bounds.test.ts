// Evidence and suspect storage stays bounded per origin, and both lists page: run on both stores
// (the same semantics; see test/store/conformance.ts for the rest of the contract).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Level } from 'level';
import { LevelStore } from '../../src/store/level.js';
import { EVIDENCE_PER_ORIGIN, SUSPECT_RING_SIZE, type EvidenceInfo, type Page, type SuspectRecord, type WitnessStore } from '../../src/witness/store.js';
import { evidence, suspect } from './conformance.js';

interface Fixture {
  store: WitnessStore;
  reopen?: () => Promise<WitnessStore>;
  cleanup: () => Promise<void>;
}

const factories: [string, (cap?: number) => Promise<Fixture>][] = [
  [
    'MemoryStore',
    async (cap) => {
      const store = new MemoryStore(cap === undefined ? {} : { maxEvidencePerOrigin: cap });
      return { store, cleanup: () => store.close() };
    },
  ],
  [
    'LevelStore',
    async (cap) => {
      const dir = await mkdtemp(join(tmpdir(), 'gossip-witness-bounds-'));
      const opts = cap === undefined ? {} : { maxEvidencePerOrigin: cap };
      let current: WitnessStore = await LevelStore.open(dir, opts);
      return {
        store: current,
        reopen: async () => {
          await current.close();
          current = await LevelStore.open(dir, opts);
          return current;
        },
        cleanup: async () => {
          await current.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

/** Every page of a paged listing, following `next`; fails on a loop. */
async function allPages<T>(get: (after?: string) => Promise<Page<T>>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let after: string | undefined;
  for (let pages = 1; pages < 10_000; pages++) {
    const p = await get(after);
    items.push(...p.items);
    if (p.next === undefined) return { items, pages };
    after = p.next;
  }
  throw new Error('paging did not end');
}

const ids = (l: EvidenceInfo[]) => l.map((e) => e.id);

for (const [name, make] of factories) {
  describe(`bounded evidence and suspects: ${name}`, () => {
    let fx: Fixture | undefined;
    afterEach(async () => {
      await fx?.cleanup();
      fx = undefined;
    });

    it(`keeps the first ${EVIDENCE_PER_ORIGIN} records of a flooded origin and counts the rest; another origin is unaffected`, async () => {
      fx = await make();
      const { store } = fx;
      const flood = 3 * EVIDENCE_PER_ORIGIN;
      const results: boolean[] = [];
      for (let i = 0; i < flood; i++) results.push(await store.addEvidence(evidence(`bad-${String(i).padStart(4, '0')}`, 'hostile', 1000 + i)));
      expect(results.filter(Boolean)).toHaveLength(EVIDENCE_PER_ORIGIN);
      expect(results.slice(0, EVIDENCE_PER_ORIGIN).every(Boolean)).toBe(true); // the first ones are kept
      // A repeat of a kept record stays idempotent and is not counted as refused.
      expect(await store.addEvidence(evidence('bad-0000', 'hostile', 1))).toBe(false);
      // The honest origin still gets its evidence stored.
      expect(await store.addEvidence(evidence('honest-1', 'honest', 5))).toBe(true);
      expect(ids(await store.listEvidence('honest'))).toEqual(['honest-1']);
      expect(await store.listEvidence('hostile')).toHaveLength(EVIDENCE_PER_ORIGIN);
      expect(await store.getEvidence(`bad-${String(flood - 1).padStart(4, '0')}`)).toBeUndefined();
      expect(await store.evidenceCounts()).toEqual([
        { origin: 'honest', stored: 1, refused: 0 },
        { origin: 'hostile', stored: EVIDENCE_PER_ORIGIN, refused: flood - EVIDENCE_PER_ORIGIN },
      ]);
    });

    it('concurrent adds past the cap never store more than the cap', async () => {
      fx = await make(4);
      const { store } = fx;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.addEvidence(evidence(`c${i}`, 'o', i))));
      expect(results.filter(Boolean)).toHaveLength(4);
      expect(await store.listEvidence('o')).toHaveLength(4);
      expect((await store.evidenceCounts())[0]).toEqual({ origin: 'o', stored: 4, refused: 36 });
    });

    if (name === 'LevelStore') {
      it('keeps the cap, the stored records and the refused count across a restart', async () => {
        fx = await make(3);
        for (let i = 0; i < 10; i++) await fx.store.addEvidence(evidence(`r${i}`, 'o', i));
        // The refused counter is written in the background: wait for it (close waits for it too).
        const store = await fx.reopen!();
        expect(ids(await store.listEvidence('o'))).toEqual(['r0', 'r1', 'r2']);
        expect(await store.evidenceCounts()).toEqual([{ origin: 'o', stored: 3, refused: 7 }]);
        expect(await store.addEvidence(evidence('r99', 'o', 99))).toBe(false);
        expect(await store.addEvidence(evidence('p0', 'p', 1))).toBe(true);
        expect(await store.evidenceCounts()).toEqual([
          { origin: 'o', stored: 3, refused: 8 },
          { origin: 'p', stored: 1, refused: 0 },
        ]);
      });
    }

    if (name === 'LevelStore') {
      it('a record that does not decode is reported when read; the intact ones still page', async () => {
        fx = await make();
        await fx.store.addEvidence(evidence('good', 'o', 1));
        const dir = (fx.store as LevelStore).dir;
        await fx.store.close();
        const db = new Level<string, string>(dir);
        await db.open();
        await db.put(`e!${Buffer.from('bad').toString('hex')}`, '{"id":"bad"');
        await db.close();
        const store = await fx.reopen!();
        expect(ids((await store.pageEvidence({ limit: 10 })).items)).toEqual(['good']);
        await expect(store.getEvidence('bad')).rejects.toThrow(/corrupt/);
        expect(await store.addEvidence(evidence('bad', 'o', 2))).toBe(false); // still known by id
      });
    }

    it('pages evidence in listEvidence order, per origin and overall, without bytes', async () => {
      fx = await make(1000);
      const { store } = fx;
      // Out-of-order inserts, equal receivedAt values (ties broken by id), two origins.
      for (let i = 0; i < 25; i++) await store.addEvidence(evidence(`e${String((i * 7) % 25).padStart(2, '0')}`, i % 3 === 0 ? 'b' : 'a', 100 + (i % 5)));
      const everything = await store.listEvidence();
      for (const limit of [1, 4, 7, 25, 100]) {
        const { items, pages } = await allPages((after) => store.pageEvidence({ limit, after }));
        expect(ids(items)).toEqual(ids(everything));
        expect(pages).toBe(Math.max(1, Math.ceil(25 / limit)));
        expect(items[0]).toEqual({ id: everything[0].id, origin: everything[0].origin, receivedAt: everything[0].receivedAt });
        const a = await allPages((after) => store.pageEvidence({ origin: 'a', limit, after }));
        expect(ids(a.items)).toEqual(ids(await store.listEvidence('a')));
      }
      // A record added after a page was read shows up on a later page when it sorts after the cursor.
      const first = await store.pageEvidence({ limit: 5 });
      await store.addEvidence(evidence('zz-late', 'a', 10_000));
      const rest = await allPages((after) => store.pageEvidence({ limit: 5, after: after ?? first.next }));
      expect(ids(rest.items).at(-1)).toBe('zz-late');
      expect(await store.pageEvidence({ origin: 'none', limit: 3 })).toEqual({ items: [] });
    });

    it('refuses bad page queries with a TypeError', async () => {
      fx = await make();
      const { store } = fx;
      await store.addEvidence(evidence('e1', 'o', 1));
      for (const limit of [0, -1, 1.5, Number.NaN]) await expect(store.pageEvidence({ limit })).rejects.toThrow(TypeError);
      await expect(store.pageEvidence({ limit: 5, after: 'no-such-id' })).rejects.toThrow(/unknown cursor/);
      for (const after of ['', '0', 'x', '-1', '1e3', '99999999999999999999']) await expect(store.pageSuspects({ limit: 5, after })).rejects.toThrow(/unknown cursor/);
    });

    it('pages suspects in listSuspects order, per origin and overall', async () => {
      fx = await make();
      const { store } = fx;
      const N = SUSPECT_RING_SIZE + 10;
      for (let i = 0; i < N; i++) await store.addSuspect(suspect(i % 2 === 0 ? 'a' : 'b', i));
      const reasons = (l: SuspectRecord[]) => l.map((r) => r.reason);
      for (const limit of [1, 5, SUSPECT_RING_SIZE, 1000]) {
        const all = await allPages((after) => store.pageSuspects({ limit, after }));
        expect(reasons(all.items)).toEqual(reasons(await store.listSuspects()));
        const a = await allPages((after) => store.pageSuspects({ origin: 'a', limit, after }));
        expect(reasons(a.items)).toEqual(reasons(await store.listSuspects('a')));
      }
      // A page read while the ring moves on: the cursor still continues with newer records only.
      const p1 = await store.pageSuspects({ origin: 'a', limit: 3 });
      for (let i = N; i < N + 2 * SUSPECT_RING_SIZE; i += 2) await store.addSuspect(suspect('a', i));
      const p2 = await store.pageSuspects({ origin: 'a', limit: 3, after: p1.next });
      expect(p2.items.map((r) => r.oldSize)).toEqual([BigInt(N), BigInt(N + 2), BigInt(N + 4)]);
      expect(await store.pageSuspects({ origin: 'none', limit: 3 })).toEqual({ items: [] });
    });
  });
}
