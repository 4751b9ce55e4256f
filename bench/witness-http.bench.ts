// Witness HTTP benchmark: the real server (`gossip-witness serve`, built JS, LevelDB with synced
// writes) under load from a SEPARATE process (bench/loadgen.ts) over keep-alive connections,
// bodies precomputed before timing, every response checked, no qpd limits.
//
//   npm run build && node --import tsx bench/witness-http.bench.ts [options]
//
//   --seq-count N        sequential requests per run (default 10000)
//   --repeat N           sequential runs per witness, alternating ours / sigsum-witness (default 3)
//   --logs N             logs in the concurrent workload (default 50)
//   --duration S         concurrent workload duration in seconds (default 20)
//   --bodies-per-log N   precomputed bodies per log in the concurrent workload (default 2500)
//   --rate R             also run the concurrent workload paced at R requests/s offered over all logs
//                        (latency from each request's due time, as wrk2): p99 at a given rate, beside
//                        p99 at saturation (where latency is only concurrency / throughput)
//   --many N             logs for the open-time measurement (default 40000)
//   --skip-sigsum / --skip-concurrent / --skip-many / --skip-sequential
//   --runner bin|dist|tsx  how serve runs: bin = bin/gossip-witness.js, the bundled CLI as installed
//                        (default); dist = tsc's output; tsx = the sources (bin and dist are rebuilt if older than src/)
//   --log-level L        serve's --log-level: info (default, as operators run it), debug or trace
//                        (the start-up line that carries the URL is logged at info)
//   --cpu-prof DIR       run serve with --cpu-prof (profiles written to DIR at exit)
//   --serve-node-args A  extra node flags for serve, space-separated (e.g. "--max-semi-space-size=2")
//   --out FILE           also write the markdown report to FILE
//   --floor              also run bench/floor-witness.ts in the sequential workload (a bare node:http
//                        add-checkpoint server: the least Node.js costs per request, for issue 14)
//   --floor-store        the floor stores as serve does (a synced LevelDB batch, then an O_DSYNC append)
//   --ml-dsa             give the witness an ML-DSA-44 key beside its Ed25519 one (issue 14): every
//                        answer then carries two lines, both verified by the load generator
//
// Workloads:
//   (1) one log (a sigsum-style origin, no extension lines, so sigsum-witness can follow it),
//       sequential requests, each advancing the tree by 1-1,000 entries from about 2^24 with a
//       real consistency proof (bench/loadgen.ts SyntheticTree); first the starting checkpoint
//       with old 0. The same bodies go to sigsum-witness (GODEBUG=httpmuxgo121=0) in the same run.
//   (2) N logs, one client (one connection) each, advancing concurrently for S seconds.
//   (3) open time (spawn to the "witness listening" line) and RSS of serve with N logs' states
//       stored (LevelDB written with the store API) and a logs/v0 list of N logs.
// Server CPU per request = (utime + stime) of the server process over the timed phase, from
// /proc/<pid>/stat, divided by the requests. RSS from /proc/<pid>/status after the phase.
// Data goes under $BENCH_DIR or the OS temp dir (a real disk: fsync must cost what it costs).
import '../src/platform.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { distIsFresh, killAllChildren, startServe, ROOT, type Runner, type ServeChild } from '../test/witness/crash-driver.js';
import type { LoadLog, LoadResult, LoadSpec } from './loadgen.js';
import { ed25519KeyFromSeed, generateKey, signNote, signatureLines, cosigner } from '../src/note/index.js';
import { formatCheckpoint } from '../src/checkpoint/checkpoint.js';
import { LevelStore } from '../src/store/level.js';
import { writeKeyFile } from '../src/keys/keyfile.js';
import { generateMlDsa44Key } from '../src/note/mldsa-keys.js';
import { existsSync } from 'node:fs';
import { freePort } from '../src/util/ports.js';

// ---------------------------------------------------------------------------------------------
// options

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const SEQ_COUNT = Number(opt('seq-count', '10000'));
const REPEAT = Number(opt('repeat', '3'));
const LOGS = Number(opt('logs', '50'));
const DURATION_S = Number(opt('duration', '20'));
const BODIES_PER_LOG = Number(opt('bodies-per-log', '2500'));
const RATE = Number(opt('rate', '0'));
if (!(RATE >= 0)) throw new Error('--rate must be a number of requests per second');
const MANY = Number(opt('many', '40000'));
const RUNNER = opt('runner', 'bin') as Runner;
const ML_DSA = flag('ml-dsa');
const LOG_LEVEL = opt('log-level', 'info');
const CPU_PROF = process.argv.includes('--cpu-prof') ? opt('cpu-prof', '') : '';
const OUT = opt('out', '');
const SERVE_NODE_ARGS = opt('serve-node-args', '').split(' ').filter((a) => a !== '');
const BASE = process.env.BENCH_DIR ?? tmpdir();
const START = 1n << 24n;

process.on('exit', killAllChildren);
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(130));

// ---------------------------------------------------------------------------------------------
// /proc

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function cpuSeconds(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are at 11 and 12 after the state field (field 3).
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** CPU seconds per thread name (main thread, libuv-worker, V8 workers, ...), and the kernel part ("<name> (sys)"), from /proc/<pid>/task. */
function cpuByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = tid === String(pid) ? 'main' : s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(comm, (out.get(comm) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
      out.set(`${comm} (sys)`, (out.get(`${comm} (sys)`) ?? 0) + Number(f[12]) / CLK_TCK);
    } catch {
      // the thread ended
    }
  }
  return out;
}

function memory(pid: number): { rssMiB: number; hwmMiB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

function machine(): { cpu: string; cores: number; node: string; sigsum: string; load: string } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? cpus()[0]?.model ?? '?';
  const sigsum = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'sigsum-go'], { encoding: 'utf8' }).stdout?.trim() || '?';
  return { cpu, cores: cpus().length, node: process.version, sigsum, load: loadavg().map((x) => x.toFixed(2)).join(' ') };
}

// ---------------------------------------------------------------------------------------------
// servers


interface Server {
  name: string;
  pid: number;
  url: string;
  vkeys: string[];
  stop(): Promise<void>;
}

async function startOurs(dir: string, logsYaml: string, extra = ''): Promise<Server> {
  const config = join(dir, 'witness.yaml');
  if (ML_DSA && !existsSync(join(dir, 'witness-pq.key'))) writeKeyFile(join(dir, 'witness-pq.key'), generateMlDsa44Key('bench.example/witness'));
  writeFileSync(config, `name: bench.example/witness\nkey: ${ML_DSA ? '[witness.key, witness-pq.key]' : 'witness.key'}\ndata: data\nhttp: { listen: "127.0.0.1:0" }\n${logsYaml}${extra}`);
  const nodeArgs = [...SERVE_NODE_ARGS, ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', CPU_PROF] : [])];
  const s: ServeChild = await startServe(RUNNER, config, { logLevel: LOG_LEVEL, nodeArgs });
  return {
    name: 'gossip-witness',
    pid: s.pid,
    url: s.url,
    vkeys: s.vkeys,
    async stop() {
      s.child.kill('SIGTERM');
      await s.exited;
    },
  };
}

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

async function startSigsum(dir: string, logVkey: string): Promise<Server> {
  sh('sigsum-key', ['gen', '-o', join(dir, 'witness.key')]);
  const hash = sh('sigsum-key', ['to-hash', '-k', join(dir, 'witness.key.pub')]).trim();
  const vkey = sh('sigsum-key', ['to-vkey', '-k', join(dir, 'witness.key.pub'), '-n', `sigsum.org/v1/witness/${hash}`, '-t', 'cosignature/v1']).trim();
  writeFileSync(join(dir, 'log.pub'), sh('sigsum-key', ['from-vkey'], logVkey + '\n'));
  const port = await freePort();
  const child: ChildProcess = spawn('sigsum-witness', ['-k', join(dir, 'witness.key'), '--log-key', join(dir, 'log.pub'), '--state-file', join(dir, 'state.txt'), `127.0.0.1:${port}`], {
    env: { ...process.env, GODEBUG: 'httpmuxgo121=0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(`${url}/add-checkpoint`);
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('sigsum-witness did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    name: 'sigsum-witness',
    pid: child.pid!,
    url,
    vkeys: [vkey],
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startFloor(dir: string, logVkey: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [...SERVE_NODE_ARGS, '--import', 'tsx', 'bench/floor-witness.ts', dir, logVkey, ...(flag('floor-store') ? ['--store'] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const rl = createInterface({ input: child.stdout! });
  let first: string | undefined;
  for await (const line of rl) {
    first = line;
    break;
  }
  const m = /^listening (\S+) (\S+)$/.exec(first ?? '');
  if (!m) throw new Error(`floor-witness did not start: ${first}`);
  return {
    name: flag('floor-store') ? 'floor (bare node:http, LevelDB + journal)' : 'floor (bare node:http)',
    pid: child.pid!,
    url: m[1],
    vkeys: [m[2]],
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// one load run

interface Measured {
  server: string;
  load: LoadResult;
  cpuMsPerRequest: number;
  /** Server CPU ms per request by thread name. */
  threads: Record<string, number>;
  rssMiB: number;
  hwmMiB: number;
  /** RSS when the load generator is ready (serve idle after its first request), before the timed phase. */
  idleRssMiB: number;
}

async function runLoad(server: Server, spec: Omit<LoadSpec, 'url' | 'witnessVkeys'>): Promise<Measured> {
  const file = join(BASE, `gw-loadgen-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ ...spec, url: server.url, witnessVkeys: server.vkeys }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/loadgen.ts', file], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let cpu0 = 0;
  let cpu1 = 0;
  let th0 = new Map<string, number>();
  let th1 = new Map<string, number>();
  let result: LoadResult | undefined;
  let idleRssMiB = NaN;
  const rl = createInterface({ input: child.stdout! });
  for await (const line of rl) {
    if (line === 'ready') {
      idleRssMiB = memory(server.pid).rssMiB;
      th0 = cpuByThread(server.pid);
      cpu0 = cpuSeconds(server.pid);
      child.stdin!.write('go\n');
    } else if (line.startsWith('{')) {
      cpu1 = cpuSeconds(server.pid);
      th1 = cpuByThread(server.pid);
      result = JSON.parse(line) as LoadResult;
    }
  }
  const code = await exited;
  rmSync(file, { force: true });
  if (!result || code !== 0) throw new Error(`loadgen failed (exit ${code})`);
  const mem = memory(server.pid);
  const threads: Record<string, number> = {};
  for (const [k, v] of th1) {
    const d = ((v - (th0.get(k) ?? 0)) * 1000) / result.requests;
    if (d > 0) threads[k] = Number(d.toFixed(3));
  }
  return { server: server.name, load: result, cpuMsPerRequest: ((cpu1 - cpu0) * 1000) / result.requests, threads, ...mem, idleRssMiB };
}

// ---------------------------------------------------------------------------------------------
// workloads

function sigsumStyleLog(): { log: LoadLog; vkey: string } {
  const seed = randomBytes(32);
  const pub = ed25519KeyFromSeed('x', seed).publicKey;
  const origin = `sigsum.org/v1/tree/${createHash('sha256').update(pub).digest('hex')}`;
  const key = ed25519KeyFromSeed(origin, seed);
  return { log: { origin, seedHex: seed.toString('hex'), start: START.toString(), rngSeed: randomBytes(4).readUInt32BE(0) }, vkey: key.vkey };
}

const logsYaml = (logs: { origin: string; vkey: string }[]) => `logs:\n${logs.map((l) => `  - { origin: "${l.origin}", vkeys: [ "${l.vkey}" ] }`).join('\n')}\n`;

async function sequential(): Promise<{ ours: Measured[]; sigsum: Measured[]; floor: Measured[] }> {
  const { log, vkey } = sigsumStyleLog();
  const ours: Measured[] = [];
  const sigsum: Measured[] = [];
  const floor: Measured[] = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const which of ['ours', ...(flag('skip-sigsum') ? [] : ['sigsum']), ...(flag('floor') || flag('floor-store') ? ['floor'] : [])]) {
      const dir = mkdtempSync(join(BASE, `gw-bench-${which}-`));
      const server =
        which === 'ours' ? await startOurs(dir, logsYaml([{ origin: log.origin, vkey }])) : which === 'sigsum' ? await startSigsum(dir, vkey) : await startFloor(dir, vkey);
      try {
        const m = await runLoad(server, { mode: 'sequential', count: SEQ_COUNT, bodiesPerLog: SEQ_COUNT, logs: [log] });
        (which === 'ours' ? ours : which === 'sigsum' ? sigsum : floor).push(m);
        console.log(`sequential ${server.name} run ${r + 1}: ${m.load.perSecond.toFixed(0)} req/s, p50 ${m.load.p50Ms.toFixed(2)} ms, p99 ${m.load.p99Ms.toFixed(2)} ms, CPU ${m.cpuMsPerRequest.toFixed(3)} ms/req ${JSON.stringify(m.threads)}, RSS idle ${m.idleRssMiB.toFixed(0)} MiB, after ${m.rssMiB.toFixed(0)} MiB (peak ${m.hwmMiB.toFixed(0)}); ${JSON.stringify(m.load.statuses)}, verified ${m.load.verified}`);
        if (m.load.errors.length) console.log('  errors: ' + m.load.errors.join('\n  '));
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return { ours, sigsum, floor };
}

async function concurrent(rate?: number): Promise<Measured> {
  const logs: LoadLog[] = [];
  const vkeys: string[] = [];
  for (let i = 0; i < LOGS; i++) {
    const seed = randomBytes(32);
    const origin = `bench.example/log-${String(i).padStart(2, '0')}`;
    vkeys.push(ed25519KeyFromSeed(origin, seed).vkey);
    logs.push({ origin, seedHex: seed.toString('hex'), start: (START + BigInt(randomBytes(2).readUInt16BE(0))).toString(), rngSeed: randomBytes(4).readUInt32BE(0) });
  }
  const dir = mkdtempSync(join(BASE, 'gw-bench-conc-'));
  const server = await startOurs(dir, logsYaml(logs.map((l, i) => ({ origin: l.origin, vkey: vkeys[i] }))));
  try {
    const m = await runLoad(server, { mode: 'concurrent', durationMs: DURATION_S * 1000, bodiesPerLog: BODIES_PER_LOG, logs, ...(rate ? { ratePerSecond: rate } : {}) });
    console.log(`concurrent ${LOGS} logs${rate ? `, paced at ${rate}/s offered` : ''}: ${m.load.okPerSecond.toFixed(0)} accepted/s, p50 ${m.load.p50Ms.toFixed(2)} ms, p99 ${m.load.p99Ms.toFixed(2)} ms, CPU ${m.cpuMsPerRequest.toFixed(3)} ms/req ${JSON.stringify(m.threads)}, RSS idle ${m.idleRssMiB.toFixed(0)} MiB, after ${m.rssMiB.toFixed(0)} MiB (peak ${m.hwmMiB.toFixed(0)}); ${JSON.stringify(m.load.statuses)}, verified ${m.load.verified}, exhausted ${m.load.exhausted}`);
    if (m.load.errors.length) console.log('  errors: ' + m.load.errors.join('\n  '));
    return m;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface OpenRun {
  logs: number;
  startupMs: number;
  rssMiB: number;
}

async function manyLogs(): Promise<{ fillS: number; runs: OpenRun[]; baseline: OpenRun[] }> {
  const dir = mkdtempSync(join(BASE, 'gw-bench-many-'));
  try {
    const witnessKey = generateKey('bench.example/witness');
    writeKeyFile(join(dir, 'witness.key'), witnessKey);
    const w = cosigner(witnessKey);
    const t0 = performance.now();
    const store = await LevelStore.open(join(dir, 'data'));
    const list: string[] = ['logs/v0'];
    const CHUNK = 2000;
    for (let i = 0; i < MANY; i += CHUNK) {
      const ops: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(MANY, i + CHUNK); j++) {
        const origin = `log${j}.example.com/transparency/v1`;
        const key = generateKey(origin);
        list.push(`vkey ${key.vkey}`, `origin ${origin}`);
        const size = BigInt(1_000_000 + j);
        const root = createHash('sha256').update(origin).digest();
        const text = formatCheckpoint({ origin, size, root });
        const note = signNote(text, [key]);
        const cosigned = note + signatureLines(new TextEncoder().encode(text), [w]);
        ops.push(store.compareAndSet(origin, 0n, { size, root, note, cosigned, updatedAt: Date.now() }));
      }
      await Promise.all(ops);
    }
    await store.close();
    writeFileSync(join(dir, 'logs.txt'), list.join('\n') + '\n');
    const fillS = (performance.now() - t0) / 1000;

    const measure = async (configBody: string, n: number): Promise<OpenRun[]> => {
      const runs: OpenRun[] = [];
      const config = join(dir, `open-${n}.yaml`);
      writeFileSync(config, `name: bench.example/witness\nkey: witness.key\ndata: ${n === 1 ? 'data-1' : 'data'}\nhttp: { listen: "127.0.0.1:0" }\n${configBody}`);
      for (let k = 0; k < 4; k++) {
        const s = await startServe(RUNNER, config, { logLevel: LOG_LEVEL });
        const { rssMiB } = memory(s.pid);
        runs.push({ logs: n, startupMs: s.startupMs, rssMiB });
        s.child.kill('SIGTERM');
        await s.exited;
      }
      return runs;
    };
    const baseline = await measure(`logs:\n  - { origin: "log0.example.com/transparency/v1", vkeys: [ "${list[1].slice(5)}" ] }\n`, 1);
    const runs = await measure('logList: logs.txt\n', MANY);
    return { fillS, runs, baseline };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f2 = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  if (RUNNER !== 'tsx' && !distIsFresh()) {
    console.log('dist/ is older than src/: building (npm run build)');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) console.log('warning: npm run build reported errors (the emitted JS is used anyway)');
  }
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const m = machine();
  const loadBefore = m.load;
  console.log(`machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, sigsum-go ${m.sigsum}; load average ${m.load}; serve runner ${RUNNER}, --log-level ${LOG_LEVEL}${SERVE_NODE_ARGS.length ? `, node ${SERVE_NODE_ARGS.join(' ')}` : ''}; data under ${BASE}`);

  const seq = flag('skip-sequential') ? undefined : await sequential();
  const conc = flag('skip-concurrent') ? undefined : await concurrent();
  const paced = flag('skip-concurrent') || RATE === 0 ? undefined : await concurrent(RATE);
  const many = flag('skip-many') ? undefined : await manyLogs();
  const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');

  const out: string[] = [];
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, sigsum-go ${m.sigsum} (Debian). Load average before: ${loadBefore}; after: ${loadAfter}.`);
  out.push(`Witness keys: ${ML_DSA ? 'Ed25519 + ML-DSA-44 (two lines per answer, both verified)' : 'Ed25519'}.`);
  out.push(`serve: \`${RUNNER === 'bin' ? 'node bin/gossip-witness.js serve (the bundle in dist/bin)' : RUNNER === 'dist' ? 'node dist/src/cli/main.js serve' : 'node --import tsx src/cli/main.ts serve'}\`${SERVE_NODE_ARGS.length ? ` (node flags ${SERVE_NODE_ARGS.join(' ')})` : ''}, --log-level ${LOG_LEVEL}, LevelDB with synced writes, data under ${BASE}.`);
  out.push('');
  if (seq) {
    const row = (name: string, ms: Measured[]) => {
      const rps = median(ms.map((x) => x.load.perSecond));
      return `| ${name} | ${ms.length} x ${f0(SEQ_COUNT)} | ${f0(rps)} (${ms.map((x) => f0(x.load.perSecond)).join(', ')}) | ${f2(median(ms.map((x) => x.load.p50Ms)))} | ${f2(median(ms.map((x) => x.load.p99Ms)))} | ${median(ms.map((x) => x.cpuMsPerRequest)).toFixed(3)} | ${f0(median(ms.map((x) => x.idleRssMiB)))} / ${f0(median(ms.map((x) => x.rssMiB)))} (${f0(median(ms.map((x) => x.hwmMiB)))}) | ${ms.reduce((n, x) => n + x.load.verified, 0)} / ${ms.reduce((n, x) => n + x.load.requests, 0)} |`;
    };
    out.push('### (1) One log, sequential, +1..1,000 entries per request from 2^24, real consistency proofs');
    out.push('');
    out.push('| witness | requests | req/s median (runs) | p50 ms | p99 ms | server CPU ms/req | server RSS MiB idle / after (peak) | 200 + cosignature verified / sent |');
    out.push('|---|---|---|---|---|---|---|---|');
    out.push(row('gossip-witness', seq.ours));
    if (seq.sigsum.length) out.push(row('sigsum-witness 0.11.1', seq.sigsum));
    if (seq.floor.length) out.push(row(`floor: bench/floor-witness.ts (bare node:http, ${flag('floor-store') ? 'a synced LevelDB batch + an O_DSYNC append' : 'one fdatasync'})`, seq.floor));
    if (seq.sigsum.length) {
      const ratio = median(seq.ours.map((x) => x.load.perSecond)) / median(seq.sigsum.map((x) => x.load.perSecond));
      out.push('');
      out.push(`Ratio gossip-witness / sigsum-witness (median req/s, same run, same bodies): **${ratio.toFixed(2)}x**.`);
    }
    out.push('');
  }
  if (conc) {
    out.push(`### (2) ${LOGS} logs, one client (one keep-alive connection) each, concurrently for ${DURATION_S} s`);
    out.push('');
    out.push('| offered | requests | accepted/s | p50 ms | p90 ms | p99 ms | max ms | server CPU ms/req | server RSS MiB idle / after (peak) | 200 + verified / sent | clients out of bodies |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [offered, r] of [['as fast as answered', conc], [`paced, ${RATE}/s (latency from due time)`, paced]] as const) {
      if (!r) continue;
      const l = r.load;
      out.push(`| ${offered} | ${f0(l.requests)} | ${f0(l.okPerSecond)} | ${f2(l.p50Ms)} | ${f2(l.p90Ms)} | ${f2(l.p99Ms)} | ${f2(l.maxMs)} | ${r.cpuMsPerRequest.toFixed(3)} | ${f0(r.idleRssMiB)} / ${f0(r.rssMiB)} (${f0(r.hwmMiB)}) | ${l.verified} / ${l.requests} | ${l.exhausted} |`);
    }
    out.push('');
  }
  if (many) {
    out.push(`### (3) Start-up with ${f0(MANY)} logs' states stored (logs/v0 list of ${f0(MANY)} logs)`);
    out.push('');
    out.push('| logs | spawn to "witness listening", ms (median; runs) | RSS at listening, MiB (median) |');
    out.push('|---|---|---|');
    for (const runs of [many.baseline, many.runs]) {
      out.push(`| ${f0(runs[0].logs)} | ${f0(median(runs.map((r) => r.startupMs)))} (${runs.map((r) => f0(r.startupMs)).join(', ')}) | ${f0(median(runs.map((r) => r.rssMiB)))} |`);
    }
    out.push('');
    out.push(`(LevelDB filled with the store API in ${many.fillS.toFixed(1)} s; the first start also writes the list cache \`<data>.loglist\`.)`);
  }
  const report = out.join('\n');
  console.log('\n' + report);
  if (OUT) writeFileSync(OUT, report + '\n');
}

await main();
