// Crash-safety benchmark: the scenario of test/witness/crash.test.ts with 1,000 SIGKILL restarts.
//
//   node --import tsx bench/crash.bench.ts [--restarts N] [--seed S] [--runner dist|tsx]
//
// The serve child runs from dist/ (`node dist/src/cli/main.js serve`) when dist/ is at least as
// new as every src/ file (run `npm run build` first), else with tsx (slower start-up). Data goes
// under $BENCH_DIR or the OS temp dir: it must be a real disk for the fsyncs to mean anything.
// Exit status 1 on any violation. Prints the counts and timing, and a markdown summary.
import '../src/platform.js';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { distIsFresh, runCrashScenario, summarize, killAllChildren, type Runner } from '../test/witness/crash-driver.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const restarts = Number(arg('restarts') ?? 1000);
const seed = arg('seed') !== undefined ? Number(arg('seed')) >>> 0 : undefined;
let runner = arg('runner') as Runner | undefined;
if (runner === undefined) {
  runner = distIsFresh() ? 'dist' : 'tsx';
  if (runner === 'tsx') console.log('dist/ is missing or older than src/: running serve with tsx (run `npm run build` for the faster dist runner)');
}
const base = process.env.BENCH_DIR ?? tmpdir();
const dir = mkdtempSync(join(base, 'gw-crash-bench-'));
process.on('exit', killAllChildren);
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(130));

console.log(`crash bench: ${restarts} restarts, runner ${runner}, data under ${dir}`);
const report = await runCrashScenario({ restarts, seed, runner, dir, log: (l) => console.log(l) });
rmSync(dir, { recursive: true, force: true });
console.log('\n' + summarize(report));

const st = [...report.startupMs].sort((a, b) => a - b);
const q = (p: number) => st[Math.min(st.length - 1, Math.floor(p * st.length))].toFixed(0);
const n = (x: number) => x.toLocaleString('en-US');
console.log(`
| restarts (SIGKILL) | requests | 200 (cosignatures verified) | 409 | 422 | in flight at a kill | stored ahead of answers | fork races won / lost | diverging checkpoints refused | violations | total | serve start-up p50 / p90 |
|---|---|---|---|---|---|---|---|---|---|---|---|
| ${n(report.restarts)} | ${n(report.requests)} | ${n(report.cosignaturesVerified)} | ${n(report.statuses['409'] ?? 0)} | ${n(report.statuses['422'] ?? 0)} | ${n(report.inFlightAtKill)} | ${n(report.storedAheadOfAnswers)} | ${n(report.forkRacesWon)} / ${n(report.forkRaceLosses)} | ${n(report.conflictsRefused)} | ${report.violations.length} | ${(report.totalMs / 1000).toFixed(1)} s | ${q(0.5)} / ${q(0.9)} ms |

machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, node ${process.version}, runner ${runner}, seed ${report.seed}`);
process.exitCode = report.violations.length === 0 && report.restarts === restarts ? 0 : 1;
