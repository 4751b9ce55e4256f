// A 1,000-run grid sweep by shards: `node --import tsx bench/sim-shards.bench.ts [JOBS] [SHARDS]`
//
// The grid: adversary.colluding = 0..4 x adversary.targeting = random,trusted x network.loss =
// 0,0.01 (20 points) x 50 seeds = 1,000 model-mode runs
// (bench/sim-results/shards.yaml: 150 witnesses, 2 logs, 20 simulated minutes). GNU parallel runs SHARDS shards (default 8) JOBS at a time
// (default 2) with the CLI, then `simulate merge` joins them; the unsharded sweep of the same grid
// is run too (one process) and its tidy files compared byte for byte with the merge. Records wall
// times and the machine's load average in bench/sim-results/shards.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const jobs = Number(process.argv[2] ?? 2);
const shards = Number(process.argv[3] ?? 8);
const OUT = join(ROOT, 'bench/sim-results/shards');
const SCENARIO = join(ROOT, 'bench/sim-results/shards.yaml');
const SWEEP = ['--sweep', 'adversary.colluding=0,1,2,3,4', '--sweep', 'adversary.targeting=random,trusted', '--sweep', 'network.loss=0,0.01', '--seeds', '50'];
const TIDY = ['observations.csv', 'nodes.csv', 'clients.csv', 'rates.csv', 'points.csv', 'provenance.json'];

mkdirSync(join(ROOT, 'bench/sim-results'), { recursive: true });
writeFileSync(
  SCENARIO,
  `# The scenario of bench/sim-shards.bench.ts (a 1,000-run grid sweep by shards).
name: shards-bench
duration: 20m
network: { nodes: 150, degree: 8, meshDegree: 6, messages: coalesced, latency: { distribution: lognormal, median: 50ms, p99: 300ms }, partitions: [{ at: 0ms, until: 8m, byBranch: true }] }
logs: { count: 2, interval: 1m }
witnesses: { push: 0.5, pollInterval: 30s }
adversary: { forkAt: 2m, branchB: { fraction: 0.2 }, clientsB: 0.2, colluding: 1, collusion: { trust: random } }
clients: { count: 200, policy: { k: 3, n: 5 } }
signatures: modelled
`,
);
if (spawnSync('parallel', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('GNU parallel is not installed (Debian: apt-get install -y parallel)');
  process.exit(1);
}
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const cli = ['node', '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'simulate'];
const q = (a: string) => (/[^A-Za-z0-9_./{}=,:-]/.test(a) ? `'${a}'` : a);

const load0 = loadavg()[0];
let t = performance.now();
execFileSync('parallel', ['--will-cite', '-j', String(jobs), '--halt', 'now,fail=1', [...cli, SCENARIO, ...SWEEP, '--shard', `{}/${shards}`, '--out', join(OUT, 'shard-{}')].map(q).join(' '), ':::', ...Array.from({ length: shards }, (_, i) => String(i + 1))], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const shardMs = performance.now() - t;
const load1 = loadavg()[0];
t = performance.now();
execFileSync(cli[0], [...cli.slice(1), 'merge', ...Array.from({ length: shards }, (_, i) => join(OUT, `shard-${i + 1}`)), '--out', join(OUT, 'merged')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const mergeMs = performance.now() - t;
const load2 = loadavg()[0];
t = performance.now();
execFileSync(cli[0], [...cli.slice(1), SCENARIO, ...SWEEP, '--out', join(OUT, 'whole')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const wholeMs = performance.now() - t;
const load3 = loadavg()[0];
const same = TIDY.every((f) => readFileSync(join(OUT, 'merged', f), 'utf8') === readFileSync(join(OUT, 'whole', f), 'utf8'));
const runs = readFileSync(join(OUT, 'merged', 'observations.csv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]);
const nRuns = new Set(runs).size;
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
const md = `# A 1,000-run grid sweep by shards (bench/sim-shards.bench.ts)

Measured ${new Date().toISOString()} at commit ${commit}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}.
The machine is shared with other work: the 1-minute load average is given at each step.

Grid: adversary.colluding = 0..4 × adversary.targeting = random, trusted × network.loss = 0, 0.01
(20 points) × 50 seeds = ${nRuns} model-mode runs of bench/sim-results/shards.yaml (150 witnesses,
2 logs, 20 simulated minutes, 200 clients, the branches cut apart for the first 8 minutes).

| step | wall time | load average (1 min) at start → end |
|---|---:|---|
| ${shards} shards with GNU parallel, ${jobs} at a time (\`--shard I/${shards}\`) | ${(shardMs / 1000).toFixed(1)} s | ${load0.toFixed(1)} → ${load1.toFixed(1)} |
| \`simulate merge\` of the ${shards} shard directories | ${(mergeMs / 1000).toFixed(1)} s | ${load1.toFixed(1)} → ${load2.toFixed(1)} |
| the same sweep unsharded, one process | ${(wholeMs / 1000).toFixed(1)} s | ${load2.toFixed(1)} → ${load3.toFixed(1)} |

Tidy files of the merge identical to the unsharded sweep's (${TIDY.join(', ')}): **${same ? 'yes' : 'NO'}**.
`;
writeFileSync(join(ROOT, 'bench/sim-results/shards.md'), md);
process.stdout.write(md);
if (!same) process.exit(1);
