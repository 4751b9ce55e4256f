import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { LevelStore, STORE_VERSION, StoreCorruptError, StoreLockedError, StoreVersionError, type LevelStoreOptions } from '../../src/store/level.js';
import { StoreUnavailableError } from '../../src/witness/store.js';
import type { WitnessStore } from '../../src/witness/store.js';

/** The conformance values are not real checkpoint notes: the generic semantics are tested without the note check (test/store/integrity.test.ts covers it). */
const LAX: LevelStoreOptions = { verifyNotes: false };
import { evidence, runStoreConformance, state, suspect } from './conformance.js';
import { holdsFor, waitFor } from '../helpers/wait.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gossip-witness-store-'));
}

runStoreConformance('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

runStoreConformance('LevelStore', async () => {
  const dir = await tempDir();
  let current: WitnessStore = await LevelStore.open(dir, LAX);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await LevelStore.open(dir, LAX);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

// ---- LevelStore only ----

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

type BatchOp = { type: 'put' | 'del'; key: string; value?: string };
interface BatchRecord {
  ops: BatchOp[];
  sync: boolean;
  done: boolean;
}

/**
 * Replaces store.database.batch with a recording wrapper. gate(), if given, is awaited before
 * the real batch starts (so tests can hold a batch "in flight").
 */
function spyBatches(store: LevelStore, gate?: () => Promise<void>): BatchRecord[] {
  const db = store.database as unknown as { batch: (ops: BatchOp[], opts?: { sync?: boolean }) => Promise<void> };
  const real = db.batch.bind(db);
  const records: BatchRecord[] = [];
  db.batch = async (ops, opts) => {
    // m!hwseq (the group number for the high-water journal) rides along in state batches.
    const rec: BatchRecord = { ops: ops.filter((o) => o.key !== 'm!hwseq'), sync: opts?.sync === true, done: false };
    records.push(rec);
    if (gate) await gate();
    await real(ops, opts);
    rec.done = true;
  };
  return records;
}

/** A gate that holds batches until opened; `held` counts batches waiting on it. */
function makeGate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const g = {
    held: 0,
    wait: async () => {
      g.held++;
      await opened;
      g.held--;
    },
    open: () => open(),
  };
  return g;
}

const until = (cond: () => boolean, what: string, ms = 5000) => waitFor(cond, { what, timeoutMs: ms, intervalMs: 2 });

describe('LevelStore', () => {
  const dirs: string[] = [];
  const stores: LevelStore[] = [];
  const newDir = async () => {
    const d = await tempDir();
    dirs.push(d);
    return d;
  };
  const openStore = async (dir: string) => {
    const s = await LevelStore.open(dir, LAX);
    stores.push(s);
    return s;
  };
  const rawPut = async (dir: string, entries: [string, string][]) => {
    const db = new Level<string, string>(dir);
    await db.open();
    for (const [k, v] of entries) await db.put(k, v);
    await db.close();
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  describe('format version marker', () => {
    it('writes the marker into a new directory', async () => {
      const dir = await newDir();
      await (await openStore(dir)).close();
      const db = new Level<string, string>(dir);
      await db.open();
      expect(await db.get('m!version')).toBe(STORE_VERSION);
      expect(STORE_VERSION).toBe('gossip-witness/store/v2');
      await db.close();
    });

    it('refuses a different marker, naming the directory and both versions', async () => {
      const dir = await newDir();
      await rawPut(dir, [['m!version', 'gossip-witness/store/v0']]);
      const err = await LevelStore.open(dir, LAX).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreVersionError);
      expect((err as Error).message).toContain(dir);
      expect((err as Error).message).toContain('gossip-witness/store/v0');
      expect((err as Error).message).toContain(STORE_VERSION);
      // The refused open released the directory.
      await rawPut(dir, []);
    });

    it('refuses data without a marker', async () => {
      const dir = await newDir();
      await rawPut(dir, [[`s!${hex('o')}`, '{}']]);
      const err = await LevelStore.open(dir, LAX).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreVersionError);
      expect((err as Error).message).toMatch(/no format version marker/);
      expect((err as Error).message).toContain(dir);
      expect((err as Error).message).toContain(STORE_VERSION);
    });
  });

  describe('corrupt stored state refuses the open', () => {
    const good = async (dir: string) => {
      const s = await LevelStore.open(dir, LAX);
      expect((await s.compareAndSet('good', 0n, state(3))).ok).toBe(true);
      await s.close();
    };
    const cases: [string, string, RegExp][] = [
      ['invalid JSON', '{"size":"3",', /invalid JSON/],
      ['bad base64 root', JSON.stringify({ size: '3', root: 'not base64!', note: '', cosigned: '', updatedAt: 1 }), /root is not base64/],
      ['non-decimal size', JSON.stringify({ size: '0x3', root: '', note: '', cosigned: '', updatedAt: 1 }), /size is not a decimal/],
      ['missing note', JSON.stringify({ size: '3', root: '', cosigned: '', updatedAt: 1 }), /note is not a string/],
      ['non-object', '[]', /not a JSON object/],
    ];
    for (const [name, value, re] of cases) {
      it(name, async () => {
        const dir = await newDir();
        await good(dir);
        await rawPut(dir, [[`s!${hex('bad log')}`, value]]);
        const err = await LevelStore.open(dir, LAX).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreCorruptError);
        expect((err as Error).message).toMatch(re);
        expect((err as Error).message).toContain(dir);
        expect((err as Error).message).toContain(`s!${hex('bad log')}`);
      });
    }

    it('a key that is not hex', async () => {
      const dir = await newDir();
      await good(dir);
      await rawPut(dir, [['s!zz', JSON.stringify({ size: '3', root: '', note: '', cosigned: '', updatedAt: 1 })]]);
      await expect(LevelStore.open(dir, LAX)).rejects.toThrow(/origin in the key is not hex/);
    });

    it('corrupt evidence and suspects are reported when read, not dropped', async () => {
      const dir = await newDir();
      await good(dir);
      await rawPut(dir, [
        [`e!${hex('e1')}`, '{"id":"e1"'],
        [`x!${hex('o')}!0000000000000001`, JSON.stringify({ origin: 'o', proof: ['@@'] })],
      ]);
      const s = await openStore(dir);
      await expect(s.getEvidence('e1')).rejects.toThrow(StoreCorruptError);
      await expect(s.listEvidence()).rejects.toThrow(StoreCorruptError);
      await expect(s.listSuspects('o')).rejects.toThrow(StoreCorruptError);
      expect(await s.addEvidence(evidence('e1', 'o', 1))).toBe(false); // still known by id
    });
  });

  it('reports a locked directory clearly', async () => {
    const dir = await newDir();
    await openStore(dir);
    const err = await LevelStore.open(dir, LAX).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as Error).message).toBe(`data directory ${dir} is in use by another process (its LevelDB LOCK is held)`);
  });

  describe('durability', () => {
    it('resolves each write only after a sync:true batch containing it completed', async () => {
      const store = await openStore(await newDir());
      const batches = spyBatches(store);
      const origins = Array.from({ length: 30 }, (_, i) => `log${i}`);
      const seen: string[] = [];
      const assertDurable = (key: string, value?: (v: string) => boolean) => {
        const b = batches.find((r) => r.done && r.ops.some((op) => op.key === key && op.type === 'put' && (!value || value(op.value!))));
        expect(b, `a completed batch holding ${key}`).toBeDefined();
        expect(b!.sync).toBe(true);
      };
      await Promise.all([
        ...origins.map(async (o) => {
          for (let n = 0; n < 3; n++) {
            const note = state(n + 1, `${o}#${n}`).note;
            const r = await store.compareAndSet(o, BigInt(n), state(n + 1, `${o}#${n}`));
            expect(r.ok).toBe(true);
            // Checked synchronously at resolution time.
            assertDurable(`s!${hex(o)}`, (v) => JSON.parse(v).note === note);
            seen.push(o);
          }
        }),
        (async () => {
          expect(await store.addEvidence(evidence('ev', 'log1', 1))).toBe(true);
          assertDurable(`e!${hex('ev')}`);
        })(),
        (async () => {
          await store.addSuspect(suspect('log2', 1));
          expect(batches.some((b) => b.done && b.sync && b.ops.some((op) => op.key.startsWith(`x!${hex('log2')}!`)))).toBe(true);
        })(),
      ]);
      expect(seen).toHaveLength(90);
      expect(batches.every((b) => b.sync)).toBe(true);
    });

    it('does not resolve a CAS while its batch is held in flight', async () => {
      const store = await openStore(await newDir());
      const gate = makeGate();
      const batches = spyBatches(store, gate.wait);
      let resolved = false;
      const p = store.compareAndSet('o', 0n, state(1)).then((r) => ((resolved = true), r));
      await until(() => gate.held === 1, 'the batch to start');
      // The batch never completes while held, so no event can show the CAS "not resolving": a window.
      await holdsFor(() => !resolved, { what: 'the CAS unresolved while its batch is held', windowMs: 50, why: 'an early resolve would come within a few event-loop turns' });
      expect(await store.getState('o')).toBeUndefined(); // not visible before it is durable
      gate.open();
      expect(await p).toEqual({ ok: true });
      expect(batches).toHaveLength(1);
      expect(batches[0]).toMatchObject({ sync: true, done: true });
      expect((await store.getState('o'))?.size).toBe(1n);
    });

    it('a failed batch makes the store unwritable with a reason, then it reopens and recovers by itself', async () => {
      const warnings: string[] = [];
      const dir = await newDir();
      const store = await LevelStore.open(dir, { ...LAX, retryMs: { min: 20, max: 100 }, onWarning: (m) => warnings.push(m) });
      stores.push(store);
      await store.compareAndSet('o', 0n, state(1));
      const db = store.database as unknown as { batch: (...a: unknown[]) => Promise<void> };
      db.batch = async () => {
        throw new Error('simulated EIO');
      };
      const results = await Promise.allSettled([store.compareAndSet('o', 1n, state(2)), store.compareAndSet('p', 0n, state(1))]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
        expect(String((r as PromiseRejectedResult).reason.message)).toMatch(/simulated EIO/);
      }
      expect((await store.getState('o'))?.size).toBe(1n);
      expect(await store.getState('p')).toBeUndefined();
      // The reopen replaces the database object (and with it the failing batch).
      await until(() => store.health().writable, 'the store to recover');
      expect(warnings.some((w) => /reopened and verified/.test(w))).toBe(true);
      expect(await store.compareAndSet('o', 1n, state(2))).toEqual({ ok: true });
      await store.close();
      const again = await openStore(dir);
      expect((await again.getState('o'))?.size).toBe(2n);
    });
  });

  describe('group commit', () => {
    it('N concurrent CAS on N origins take far fewer than N batches', async () => {
      const store = await openStore(await newDir());
      const batches = spyBatches(store);
      const N = 200;
      const results = await Promise.all(Array.from({ length: N }, (_, i) => store.compareAndSet(`log${i}`, 0n, state(1))));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(batches.length).toBeGreaterThanOrEqual(1);
      expect(batches.length).toBeLessThanOrEqual(N / 20);
      expect(batches.reduce((n, b) => n + b.ops.length, 0)).toBe(N);
      expect(store.stats).toEqual({ batches: batches.length, writes: N });
    });

    it('writes arriving while a batch is in flight go together into the next single batch', async () => {
      const store = await openStore(await newDir());
      const gate = makeGate();
      const batches = spyBatches(store, gate.wait);
      const first = store.compareAndSet('first', 0n, state(1));
      await until(() => gate.held === 1, 'the first batch to start');
      const rest = Array.from({ length: 50 }, (_, i) => store.compareAndSet(`log${i}`, 0n, state(1)));
      const evid = store.addEvidence(evidence('ev', 'log0', 1));
      // The queue waits for the in-flight batch: no second batch starts while the first is held.
      await holdsFor(() => batches.length === 1, { what: 'one batch while the first is held', windowMs: 20, why: 'an eager flush would start within a few event-loop turns' });
      gate.open();
      expect(await first).toEqual({ ok: true });
      expect((await Promise.all(rest)).every((r) => r.ok)).toBe(true);
      expect(await evid).toBe(true);
      expect(batches).toHaveLength(2);
      expect(batches[1].ops).toHaveLength(51);
      expect(batches.every((b) => b.sync && b.done)).toBe(true);
    });

    it('sequential writes to one origin never share a batch with their predecessor', async () => {
      const store = await openStore(await newDir());
      const batches = spyBatches(store);
      await Promise.all(Array.from({ length: 10 }, (_, n) => store.compareAndSet('o', BigInt(n), state(n + 1))));
      expect(batches).toHaveLength(10);
      for (const b of batches) expect(b.ops).toHaveLength(1);
      expect((await store.getState('o'))?.size).toBe(10n);
    });
  });

  it('close() waits for in-flight batches', async () => {
    const dir = await newDir();
    const store = await LevelStore.open(dir, LAX);
    const gate = makeGate();
    spyBatches(store, gate.wait);
    const cas = store.compareAndSet('o', 0n, state(1));
    const sus = store.addSuspect(suspect('o', 1));
    await until(() => gate.held === 1, 'the batch to start');
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    await expect(store.compareAndSet('o', 1n, state(2))).rejects.toThrow(/closed/);
    await holdsFor(() => !closed, { what: 'close() pending while a batch is in flight', windowMs: 30, why: 'a close that did not wait would resolve within a few event-loop turns' });
    gate.open();
    expect(await cas).toEqual({ ok: true });
    await sus;
    await closing;
    const again = await openStore(dir);
    expect((await again.getState('o'))?.size).toBe(1n);
    expect(await again.listSuspects('o')).toHaveLength(1);
  });

  it('commits while a test has fake timers installed', async () => {
    const store = await openStore(await newDir());
    vi.useFakeTimers();
    try {
      const r = await Promise.all(Array.from({ length: 5 }, (_, i) => store.compareAndSet(`o${i}`, 0n, state(1))));
      expect(r.every((x) => x.ok)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('loads many states at open', async () => {
    const dir = await newDir();
    const store = await LevelStore.open(dir, LAX);
    const N = 5000;
    await Promise.all(Array.from({ length: N }, (_, i) => store.compareAndSet(`log${i}.example/${'x'.repeat(i % 50)}`, 0n, state(i + 1))));
    await store.close();
    // Open time is a benchmark (bench/store.bench.ts), not asserted here.
    const again = await openStore(dir);
    expect((await again.origins()).length).toBe(N);
    expect((await again.getState('log4999.example/' + 'x'.repeat(4999 % 50)))?.size).toBe(5000n);
  });
});
