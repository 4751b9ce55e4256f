// Serve's resident memory at idle (issue 14: "bring a witness without gossip to <= 64 MiB"):
// `serve` with one log, an Ed25519 key, no `p2p:`, as installed (bin: the bundle in dist/bin) and as
// tsc compiled it (dist), with and without --max-semi-space-size=2 (what the Docker image and the
// systemd unit set). VmRSS from /proc/<pid>/status at fixed times after the "witness listening" line;
// V8's memory reducer runs its first full GCs some 20-40 s after start-up, so the 60 s figure is the
// steady idle state and the 5 s figure the start-up peak.
//
//   npm run build && node --import tsx bench/serve-memory.bench.ts [--out FILE] [--runs N]
//
// Memory does not depend on the machine's load (CPU figures are bench/witness-http.bench.ts's).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { distIsFresh, killAllChildren, startServe, type Runner } from '../test/witness/crash-driver.js';
import { ed25519KeyFromSeed, generateKey } from '../src/note/index.js';
import { writeKeyFile } from '../src/keys/keyfile.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const RUNS = Number(opt('runs', '2'));
const OUT = opt('out', '');
const SAMPLES_S = [5, 30, 60];
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 10) throw new Error('--runs must be 1..10');
if (!distIsFresh()) throw new Error('dist/ or dist/bin is older than src/: run `npm run build` first');

function status(pid: number): { rss: number; anon: number; file: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

const until = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function one(runner: Runner, nodeArgs: string[]): Promise<{ at: Record<number, { rss: number; anon: number; file: number }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-mem-'));
  try {
    const key = generateKey('bench.example/witness');
    writeKeyFile(join(dir, 'witness.key'), key);
    const log = ed25519KeyFromSeed('example.com/log', new Uint8Array(32).fill(7));
    writeFileSync(join(dir, 'witness.yaml'), `name: bench.example/witness\nkey: witness.key\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - origin: example.com/log\n    vkeys: ["${log.vkey}"]\n`);
    const s = await startServe(runner, join(dir, 'witness.yaml'), { nodeArgs });
    const t0 = performance.now();
    const at: Record<number, { rss: number; anon: number; file: number }> = {};
    for (const t of SAMPLES_S) {
      await until(Math.max(0, t * 1000 - (performance.now() - t0)));
      at[t] = status(s.pid);
    }
    s.child.kill('SIGTERM');
    await s.exited;
    return { at };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases: { runner: Runner; flags: string[] }[] = [
  { runner: 'bin', flags: [] },
  { runner: 'bin', flags: ['--max-semi-space-size=2'] },
  { runner: 'dist', flags: [] },
  { runner: 'dist', flags: ['--max-semi-space-size=2'] },
];

const lines: string[] = [];
const say = (l: string) => {
  console.log(l);
  lines.push(l);
};
say(`machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${RUNS} run(s) per case`);
say('');
say(`| serve as | node flags | VmRSS MiB at ${SAMPLES_S.map((t) => `${t} s`).join(' / ')} (median) | at 60 s: anonymous / file-backed MiB | runs at 60 s |`);
say('|---|---|---|---|---|');
try {
  for (const c of cases) {
    const rs: Awaited<ReturnType<typeof one>>[] = [];
    for (let i = 0; i < RUNS; i++) rs.push(await one(c.runner, c.flags));
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const m = (t: number, k: 'rss' | 'anon' | 'file') => med(rs.map((r) => r.at[t]![k]));
    const who = c.runner === 'bin' ? 'bin/gossip-witness.js (bundle, as installed)' : 'dist/src/cli/main.js (tsc output)';
    say(`| ${who} | ${c.flags.join(' ') || '—'} | ${SAMPLES_S.map((t) => m(t, 'rss').toFixed(1)).join(' / ')} | ${m(60, 'anon').toFixed(1)} / ${m(60, 'file').toFixed(1)} | ${rs.map((r) => r.at[60]!.rss.toFixed(1)).join(', ')} |`);
  }
} finally {
  killAllChildren();
}
if (OUT) writeFileSync(OUT, lines.join('\n') + '\n');
