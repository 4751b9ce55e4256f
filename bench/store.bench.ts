// Store benchmarks: `node --import tsx bench/store.bench.ts`
//   1. CAS throughput with durability (every CAS resolves after a sync:true batch):
//      one origin sequential, and 50 origins concurrent (group commit).
//   2. Open time and RSS with 40,000 logs' states stored (measured in a fresh process).
// Data goes under $BENCH_DIR or os.tmpdir(); it must be on a real disk for fsync to mean
// anything (tmpfs makes sync writes free).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { LevelStore } from '../src/store/level.js';
import type { LogState } from '../src/witness/store.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function logState(origin: string, size: bigint): LogState {
  const root = new Uint8Array(32).fill(Number(size % 251n));
  const rootB64 = Buffer.from(root).toString('base64');
  // Realistic sizes: a checkpoint note with one Ed25519 log signature, plus two cosignatures.
  const sig = (name: string) => `— ${name} ${Buffer.alloc(68, 7).toString('base64')}\n`;
  const note = `${origin}\n${size}\n${rootB64}\n\n${sig(origin)}`;
  return { size, root, note, cosigned: note + sig('witness.example/w1') + sig('witness.example/w2'), updatedAt: Date.now() };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function withStore<T>(base: string, fn: (s: LevelStore, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(base, 'gw-store-bench-'));
  const store = await LevelStore.open(dir);
  try {
    return await fn(store, dir);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function rawSyncPut(base: string, n: number): Promise<number> {
  const dir = await mkdtemp(join(base, 'gw-store-bench-'));
  const db = new Level<string, string>(dir);
  try {
    await db.open();
    const v = logState('raw', 1n).cosigned;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await db.put(`k${i}`, v, { sync: true });
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function sequential(base: string, n: number) {
  return withStore(base, async (store) => {
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await store.compareAndSet('bench.example/seq', BigInt(i), logState('bench.example/seq', BigInt(i + 1)));
      if (!r.ok) throw new Error('unexpected CAS failure');
      lat.push(performance.now() - t);
    }
    const secs = (performance.now() - t0) / 1000;
    return { opsPerSec: n / secs, p50: pct(lat, 50), p99: pct(lat, 99), batches: store.stats.batches };
  });
}

async function concurrent(base: string, origins: number, perOrigin: number) {
  return withStore(base, async (store) => {
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: origins }, async (_, o) => {
        const origin = `bench.example/log${o}`;
        for (let i = 0; i < perOrigin; i++) {
          const t = performance.now();
          const r = await store.compareAndSet(origin, BigInt(i), logState(origin, BigInt(i + 1)));
          if (!r.ok) throw new Error('unexpected CAS failure');
          lat.push(performance.now() - t);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const { batches, writes } = store.stats;
    return { opsPerSec: writes / secs, p50: pct(lat, 50), p99: pct(lat, 99), batches, perBatch: writes / batches };
  });
}

/** In a fresh process: open a store and report open time and memory. */
async function openChild(dir: string): Promise<void> {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const store = await LevelStore.open(dir);
  const openMs = performance.now() - t0;
  const origins = (await store.origins()).length;
  globalThis.gc?.();
  const after = process.memoryUsage();
  await store.close();
  process.stdout.write(
    JSON.stringify({ openMs, origins, rssBefore: before.rss, rssAfter: after.rss, heapBefore: before.heapUsed, heapAfter: after.heapUsed }) + '\n',
  );
}

async function manyLogs(base: string, n: number) {
  const dir = await mkdtemp(join(base, 'gw-store-bench-'));
  try {
    const store = await LevelStore.open(dir);
    const t0 = performance.now();
    const CHUNK = 2000;
    for (let i = 0; i < n; i += CHUNK) {
      await Promise.all(
        Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => {
          const origin = `log${i + j}.example.com/transparency/v1`;
          return store.compareAndSet(origin, 0n, logState(origin, BigInt(1000 + i + j)));
        }),
      );
    }
    const fillSecs = (performance.now() - t0) / 1000;
    const { batches } = store.stats;
    await store.close();
    const runs = [];
    for (let k = 0; k < 3; k++) {
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/store.bench.ts', '--open', dir], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`open child failed: ${r.stderr}`);
      runs.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    }
    runs.sort((a, b) => a.openMs - b.openMs);
    return { fillSecs, batches, median: runs[1], all: runs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  if (process.argv[2] === '--open') return openChild(process.argv[3]);
  const base = process.env.BENCH_DIR ?? tmpdir();
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  console.log(`store benchmarks (node ${process.version}, data under ${base})\n`);

  const raw = await rawSyncPut(base, 300);
  console.log(`reference: raw level put {sync:true}, sequential     ${raw.toFixed(0)} ops/s`);

  const seq = await sequential(base, 500);
  console.log(
    `CAS durable, 1 origin sequential (500)              ${seq.opsPerSec.toFixed(0)} ops/s  p50 ${ms(seq.p50)}  p99 ${ms(seq.p99)}  (${seq.batches} batches)`,
  );

  const conc = await concurrent(base, 50, 100);
  console.log(
    `CAS durable, 50 origins concurrent (50 x 100)       ${conc.opsPerSec.toFixed(0)} ops/s  p50 ${ms(conc.p50)}  p99 ${ms(conc.p99)}  (${conc.batches} batches, ${conc.perBatch.toFixed(1)} writes/batch)`,
  );

  const big = await manyLogs(base, 40_000);
  const m = big.median;
  console.log(`\n40,000 logs: filled in ${big.fillSecs.toFixed(2)} s (${big.batches} batches)`);
  console.log(
    `open (median of 3 fresh processes): ${ms(m.openMs)}  origins ${m.origins}  RSS ${mb(m.rssBefore)} -> ${mb(m.rssAfter)} (+${mb(m.rssAfter - m.rssBefore)})  heap +${mb(m.heapAfter - m.heapBefore)}`,
  );
  console.log(`  all opens: ${big.all.map((r: { openMs: number }) => ms(r.openMs)).join(', ')}`);
}

await main();
