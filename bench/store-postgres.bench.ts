// PostgreSQL store beside LevelDB (issue 17): `node --import tsx bench/store-postgres.bench.ts`
//   compare-and-set throughput with durability: 1 log sequential and 50 logs concurrent, for
//   LevelStore, one PostgresStore process, and two PostgresStore processes on one database
//   (sequential: both race on the one log, read-then-CAS; 50 logs: 25 each).
// The server: GW_TEST_PG_URL, else a throwaway cluster (test/helpers/postgres.ts; fsync on,
// synchronous_commit on). BENCH_N (default 2000) CAS per sequential run, BENCH_PER (default 100) per log.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelStore } from '../src/store/level.js';
import { PostgresStore } from '../src/store/postgres.js';
import type { LogState, WitnessStore } from '../src/witness/store.js';
import { startTestPostgres } from '../test/helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const N = Number(process.env.BENCH_N ?? 2000);
const PER = Number(process.env.BENCH_PER ?? 100);

function logState(origin: string, size: bigint): LogState {
  const root = new Uint8Array(32).fill(Number(size % 251n));
  const sig = (name: string) => `— ${name} ${Buffer.alloc(68, 7).toString('base64')}\n`;
  const note = `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n\n${sig(origin)}`;
  return { size, root, note, cosigned: note + sig('witness.example/w1'), updatedAt: Date.now() };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

interface Result {
  ok: number;
  conflicts: number;
  secs: number;
  lat: number[];
}

/** Read-then-CAS until `n` of this worker's CAS won (or the log reached `target`). */
async function sequential(store: WitnessStore, origin: string, target: bigint): Promise<Result> {
  const lat: number[] = [];
  let ok = 0;
  let conflicts = 0;
  const t0 = performance.now();
  let cur = (await store.getState(origin))?.size ?? 0n;
  while (cur < target) {
    const t = performance.now();
    const r = await store.compareAndSet(origin, cur, logState(origin, cur + 1n));
    lat.push(performance.now() - t);
    if (r.ok) {
      ok++;
      cur++;
    } else {
      conflicts++;
      cur = r.current?.size ?? 0n;
    }
  }
  return { ok, conflicts, secs: (performance.now() - t0) / 1000, lat };
}

async function concurrent(store: WitnessStore, origins: string[], per: number): Promise<Result> {
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    origins.map(async (o) => {
      for (let i = 0; i < per; i++) {
        const t = performance.now();
        const r = await store.compareAndSet(o, BigInt(i), logState(o, BigInt(i + 1)));
        if (!r.ok) throw new Error('unexpected CAS failure');
        lat.push(performance.now() - t);
      }
    }),
  );
  return { ok: origins.length * per, conflicts: 0, secs: (performance.now() - t0) / 1000, lat };
}

const logs = (from: number, n: number) => Array.from({ length: n }, (_, i) => `bench.example/log${from + i}`);

async function child(url: string, mode: string, arg: string): Promise<void> {
  const store = await PostgresStore.open({ url, poolSize: 10 });
  try {
    const r = mode === 'seq' ? await sequential(store, 'bench.example/seq', BigInt(arg)) : await concurrent(store, logs(Number(arg), 25), PER);
    process.stdout.write(JSON.stringify({ ...r, lat: undefined, p50: pct(r.lat, 50), p99: pct(r.lat, 99), statements: store.stats.casStatements }) + '\n');
  } finally {
    await store.close();
  }
}

function runChild(url: string, mode: string, arg: string): Promise<{ ok: number; conflicts: number; secs: number; p50: number; p99: number; statements: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bench/store-postgres.bench.ts', '--child', url, mode, arg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout!.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`child exited ${code}`))));
  });
}

const fmt = (ops: number, p50: number, p99: number, extra = '') => `${Math.round(ops).toLocaleString('en')} ops/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms${extra}`;

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const load0 = loadavg()[0];
  // LevelDB, the same loads in this run.
  const dir = await mkdtemp(join(tmpdir(), 'gw-pgbench-level-'));
  try {
    const level = await LevelStore.open(dir, { verifyNotes: false });
    const s = await sequential(level, 'bench.example/seq', BigInt(N));
    rows.push(['LevelDB, 1 log sequential', fmt(s.ok / s.secs, pct(s.lat, 50), pct(s.lat, 99))]);
    const c = await concurrent(level, logs(0, 50), PER);
    rows.push(['LevelDB, 50 logs concurrent', fmt(c.ok / c.secs, pct(c.lat, 50), pct(c.lat, 99))]);
    await level.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const pgs = await startTestPostgres();
  try {
    // One instance (this process).
    let url = await pgs.freshDb('gw_bench');
    const one = await PostgresStore.open({ url, poolSize: 10 });
    const s = await sequential(one, 'bench.example/seq', BigInt(N));
    rows.push(['PostgreSQL, 1 instance, 1 log sequential', fmt(s.ok / s.secs, pct(s.lat, 50), pct(s.lat, 99))]);
    const before = one.stats.casStatements;
    const c = await concurrent(one, logs(0, 50), PER);
    rows.push(['PostgreSQL, 1 instance, 50 logs concurrent', fmt(c.ok / c.secs, pct(c.lat, 50), pct(c.lat, 99), `, ${(c.ok / (one.stats.casStatements - before)).toFixed(1)} CAS per statement`)]);
    await one.close();
    // Two instances (two processes) on one database.
    url = await pgs.freshDb('gw_bench');
    const seq2 = await Promise.all([runChild(url, 'seq', String(N)), runChild(url, 'seq', String(N))]);
    const okSeq = seq2[0].ok + seq2[1].ok;
    const secsSeq = Math.max(seq2[0].secs, seq2[1].secs);
    rows.push(['PostgreSQL, 2 instances racing on 1 log', fmt(okSeq / secsSeq, Math.max(seq2[0].p50, seq2[1].p50), Math.max(seq2[0].p99, seq2[1].p99), `, ${seq2[0].conflicts + seq2[1].conflicts} lost CAS (409s) for ${okSeq} won`)]);
    const con2 = await Promise.all([runChild(url, 'con', '0'), runChild(url, 'con', '25')]);
    const okCon = con2[0].ok + con2[1].ok;
    rows.push(['PostgreSQL, 2 instances, 50 logs concurrent (25 each)', fmt(okCon / Math.max(con2[0].secs, con2[1].secs), Math.max(con2[0].p50, con2[1].p50), Math.max(con2[0].p99, con2[1].p99))]);
  } finally {
    await pgs.stop();
  }
  const load1 = loadavg()[0];
  console.log(`| store, load | compare-and-set (durable) |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}`);
  console.log(`\n${N} CAS sequential, ${PER} per log concurrent; load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after (2 shared cores).`);
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else await main();
