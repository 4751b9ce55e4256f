// Serve's resident memory at idle (issue 14: "bring a witness without gossip to <= 64 MiB"):
// `serve` with one log, an Ed25519 key, no `p2p:`, as installed (bin: the bundle in dist/bin) and as
// tsc compiled it (dist), with and without --max-semi-space-size=2, and as the Docker image and the
// systemd unit run it (that flag and GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768). VmRSS from
// /proc/<pid>/status at fixed times after the "witness listening" line; V8's memory reducer runs its
// first full GCs some 10-40 s after start-up, so the 60 s figure is the steady idle state and the
// 5 s figure the start-up peak.
//
//   npm run build && node --import tsx bench/serve-memory.bench.ts [options]
//
//   --runs N          runs per case (default 2)
//   --node PATH       the Node binary that runs serve (default: the one running this script), e.g.
//                     ~/.cache/gossip-witness-ci/node-26.12.1/bin/node (bash .ci/install-node.sh 26.12.1)
//   --cases A,B       only these cases (names below; default all)
//   --after-load N    after the 60 s sample, N sequential add-checkpoints (bench/loadgen.ts, a
//                     separate process), then VmRSS 5 and 60 s after the last answer: idle after traffic
//   --out FILE        also write the table to FILE
//
// Memory depends little on the machine's load (CPU figures are bench/witness-http.bench.ts's), with
// one exception seen: on Node 24 a start-up slowed by other processes can get one of Node's path
// functions optimised by TurboFan, which touches 5.5 MiB more of the node binary (BENCHMARKS.md).
// Every run checks that the tree was not rebuilt meanwhile (the bin launcher would then have run
// dist/src instead of the bundle).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { distIsFresh, killAllChildren, startServe, ROOT, type Runner } from '../test/witness/crash-driver.js';
import { ed25519KeyFromSeed, generateKey } from '../src/note/index.js';
import { writeKeyFile } from '../src/keys/keyfile.js';
import type { LoadResult, LoadSpec } from './loadgen.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const RUNS = Number(opt('runs', '2'));
const OUT = opt('out', '');
const NODE = opt('node', process.execPath);
const AFTER_LOAD = Number(opt('after-load', '0'));
const SAMPLES_S = [5, 30, 60];
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 10) throw new Error('--runs must be 1..10');
if (!Number.isInteger(AFTER_LOAD) || AFTER_LOAD < 0) throw new Error('--after-load must be a count of requests');
if (!distIsFresh()) throw new Error('dist/ or dist/bin is older than src/: run `npm run build` first');
const NODE_VERSION = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!NODE_VERSION) throw new Error(`--node ${NODE}: not a Node binary`);

/** What the Docker image and the systemd unit set (Dockerfile, deploy/systemd/gossip-witness.service). */
const DEPLOYED_ENV = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=32768' };

interface Case {
  name: string;
  runner: Runner;
  flags: string[];
  env?: Record<string, string>;
}
const ALL_CASES: Case[] = [
  { name: 'bin', runner: 'bin', flags: [] },
  { name: 'bin-s2', runner: 'bin', flags: ['--max-semi-space-size=2'] },
  { name: 'bin-deployed', runner: 'bin', flags: ['--max-semi-space-size=2'], env: DEPLOYED_ENV },
  { name: 'dist', runner: 'dist', flags: [] },
  { name: 'dist-s2', runner: 'dist', flags: ['--max-semi-space-size=2'] },
];
const wanted = opt('cases', '');
const cases = wanted ? ALL_CASES.filter((c) => wanted.split(',').includes(c.name)) : ALL_CASES;
if (cases.length === 0) throw new Error(`--cases: none of ${wanted}; cases are ${ALL_CASES.map((c) => c.name).join(', ')}`);

interface Mem {
  rss: number;
  anon: number;
  file: number;
}
function status(pid: number): Mem {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** True when bin/gossip-witness.js runs the bundle (it runs dist/src when tsc's output is newer). */
const bundleRuns = (): boolean => statSync(join(ROOT, 'dist/bin/main.js')).mtimeMs >= statSync(join(ROOT, 'dist/src/cli/main.js')).mtimeMs;

const until = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** N sequential add-checkpoints from bench/loadgen.ts (its first, untimed request included). */
async function load(url: string, vkeys: string[], dir: string): Promise<LoadResult> {
  const file = join(dir, 'loadgen.json');
  const spec: LoadSpec = {
    url,
    witnessVkeys: vkeys,
    mode: 'sequential',
    count: AFTER_LOAD,
    bodiesPerLog: AFTER_LOAD,
    logs: [{ origin: 'example.com/log', seedHex: '07'.repeat(32), start: (1n << 24n).toString(), rngSeed: 1 }],
  };
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/loadgen.ts', file], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let result: LoadResult | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    if (line === 'ready') child.stdin!.write('go\n');
    else if (line.startsWith('{')) result = JSON.parse(line) as LoadResult;
  }
  const code = await exited;
  if (!result || code !== 0 || result.ok !== result.requests) throw new Error(`loadgen failed (exit ${code}): ${JSON.stringify(result?.statuses)} ${result?.errors.join('; ')}`);
  return result;
}

async function one(c: Case): Promise<{ at: Record<number, Mem>; afterLoad?: { at5: Mem; at60: Mem } }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-mem-'));
  try {
    const key = generateKey('bench.example/witness');
    writeKeyFile(join(dir, 'witness.key'), key);
    const log = ed25519KeyFromSeed('example.com/log', new Uint8Array(32).fill(7));
    writeFileSync(join(dir, 'witness.yaml'), `name: bench.example/witness\nkey: witness.key\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - origin: example.com/log\n    vkeys: ["${log.vkey}"]\n`);
    const bundled = bundleRuns();
    const s = await startServe(c.runner, join(dir, 'witness.yaml'), { nodeArgs: c.flags, node: NODE, ...(c.env ? { env: c.env } : {}) });
    const t0 = performance.now();
    const at: Record<number, Mem> = {};
    for (const t of SAMPLES_S) {
      await until(Math.max(0, t * 1000 - (performance.now() - t0)));
      at[t] = status(s.pid);
    }
    let afterLoad: { at5: Mem; at60: Mem } | undefined;
    if (AFTER_LOAD > 0) {
      await load(s.url, s.vkeys, dir);
      const t1 = performance.now();
      await until(5000);
      const at5 = status(s.pid);
      await until(Math.max(0, 60_000 - (performance.now() - t1)));
      afterLoad = { at5, at60: status(s.pid) };
    }
    s.child.kill('SIGTERM');
    await s.exited;
    if (c.runner === 'bin' && !(bundled && bundleRuns())) throw new Error('dist/src was rebuilt during the run (the launcher ran it, not the bundle): run `npm run build` and again');
    return { at, ...(afterLoad ? { afterLoad } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines: string[] = [];
const say = (l: string) => {
  console.log(l);
  lines.push(l);
};
say(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores; serve on node ${NODE_VERSION}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${RUNS} run(s) per case`);
say('');
const loadCols = AFTER_LOAD > 0 ? ` after ${AFTER_LOAD} add-checkpoints: VmRSS 5 s / 60 s later (median) |` : '';
say(`| serve as | node flags, environment | VmRSS MiB at ${SAMPLES_S.map((t) => `${t} s`).join(' / ')} (median) | at 60 s: anonymous / file-backed MiB | runs at 60 s |${loadCols}`);
say(`|---|---|---|---|---|${AFTER_LOAD > 0 ? '---|' : ''}`);
try {
  for (const c of cases) {
    const rs: Awaited<ReturnType<typeof one>>[] = [];
    for (let i = 0; i < RUNS; i++) rs.push(await one(c));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const m = (t: number, k: keyof Mem) => med(rs.map((r) => r.at[t]![k]));
    const who = c.runner === 'bin' ? 'bin/gossip-witness.js (bundle, as installed)' : 'dist/src/cli/main.js (tsc output)';
    const how = [...c.flags, ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ') || '—';
    const after = AFTER_LOAD > 0 ? ` ${med(rs.map((r) => r.afterLoad!.at5.rss)).toFixed(1)} / ${med(rs.map((r) => r.afterLoad!.at60.rss)).toFixed(1)} |` : '';
    say(`| ${who} | ${how} | ${SAMPLES_S.map((t) => m(t, 'rss').toFixed(1)).join(' / ')} | ${m(60, 'anon').toFixed(1)} / ${m(60, 'file').toFixed(1)} | ${rs.map((r) => r.at[60]!.rss.toFixed(1)).join(', ')} |${after}`);
  }
} finally {
  killAllChildren();
}
if (OUT) writeFileSync(OUT, lines.join('\n') + '\n');
