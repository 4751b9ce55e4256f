// Simulator benchmark (model mode): `node --import tsx bench/sim.bench.ts`
//
// Runs each case in its own child process (so peak RSS is that run's) and records wall time,
// peak RSS, events and signature checks:
//   - medium.yaml: 1,000 witnesses, 10 logs, 1 h, memoised signatures (the real witness core);
//   - medium.yaml with real signatures, 10 min of network time (every node verifies what it gets);
//   - large.yaml: 10,000 witnesses, 10 logs, 1 h at 1 checkpoint/min, modelled signatures;
//   - large.yaml at 20,000 and 40,000 witnesses, to fit memory per node and extrapolate the
//     largest network that fits in 16 GB;
//   - small.yaml with per-witness messages (the default for small networks).
// GW_SIM_BENCH_CASES=medium,large (names below) selects cases (large-100k, ~20 min, runs only when
// named); earlier measurements of the others are kept (bench/results/sim-cases.json). Writes
// bench/results/sim.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface Case {
  readonly name: string;
  readonly file: string;
  readonly set?: Record<string, number | string>;
  readonly what: string;
  /** Long: run only when named in GW_SIM_BENCH_CASES. */
  readonly optional?: boolean;
}

const CASES: Case[] = [
  { name: 'small', file: 'network-config/scenarios/small.yaml', what: '20 witnesses, 2 logs, 10 min, per-witness messages, memoised' },
  { name: 'medium', file: 'network-config/scenarios/medium.yaml', what: '1,000 witnesses, 10 logs, 1 h, 1/min, memoised (real witness core)' },
  { name: 'medium-real', file: 'network-config/scenarios/medium.yaml', set: { signatures: 'real', duration: '10m', 'adversary.forkAt': '5m' }, what: '1,000 witnesses, 10 logs, 10 min, real signatures' },
  { name: 'large', file: 'network-config/scenarios/large.yaml', what: '10,000 witnesses, 10 logs, 1 h, 1/min, modelled' },
  { name: 'large-20k', file: 'network-config/scenarios/large.yaml', set: { 'network.nodes': 20_000 }, what: '20,000 witnesses, 10 logs, 1 h, 1/min, modelled' },
  { name: 'large-40k', file: 'network-config/scenarios/large.yaml', set: { 'network.nodes': 40_000 }, what: '40,000 witnesses, 10 logs, 1 h, 1/min, modelled' },
  { name: 'large-100k', file: 'network-config/scenarios/large.yaml', set: { 'network.nodes': 100_000 }, what: '100,000 witnesses, 10 logs, 1 h, 1/min, modelled', optional: true },
];

interface Measured {
  readonly wallMs: number;
  readonly peakRssBytes: number;
  readonly events: number;
  readonly signaturesVerified: number;
  readonly nodes: number;
  readonly allMs: number | null;
  readonly falseAccepts: number;
  readonly messagesPerNodePerHour: number;
}

async function child(file: string, set: Record<string, number | string>): Promise<void> {
  await import('../src/platform.js');
  const { loadScenarioObject, parseScenario, withParameter } = await import('../src/sim/scenario.js');
  const { runScenario } = await import('../src/sim/run.js');
  let raw = loadScenarioObject(file) as object;
  for (const [k, v] of Object.entries(set)) raw = withParameter(raw, k, v);
  const r = await runScenario(parseScenario(raw, file));
  const m: Measured = {
    wallMs: r.perf.wallMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    events: r.perf.events,
    signaturesVerified: r.perf.signaturesVerified,
    nodes: r.nodes,
    allMs: r.detection.allMs,
    falseAccepts: r.clients.falseAccepts,
    messagesPerNodePerHour: r.traffic.messagesPerNodePerHour,
  };
  process.stdout.write(JSON.stringify(m) + '\n');
}

function parent(): void {
  const only = process.env.GW_SIM_BENCH_CASES?.split(',');
  // Measurements are kept per case in bench/results/sim-cases.json, so a case can be rerun alone.
  const cacheFile = `${ROOT}bench/results/sim-cases.json`;
  let cache: Record<string, Measured> = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Measured>;
  } catch {
    cache = {};
  }
  const rows: { c: Case; m: Measured | null; err?: string }[] = [];
  for (const c of CASES) {
    if (only ? !only.includes(c.name) : c.optional) {
      if (cache[c.name]) rows.push({ c, m: cache[c.name] });
      continue;
    }
    process.stderr.write(`sim bench: ${c.name} (${c.what}) ...\n`);
    const p = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=15000', fileURLToPath(import.meta.url), '--child', c.file, JSON.stringify(c.set ?? {})], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = p.stdout.trim().split('\n').pop() ?? '';
    try {
      const m = JSON.parse(line) as Measured;
      rows.push({ c, m });
      cache[c.name] = m;
      mkdirSync(`${ROOT}bench/results`, { recursive: true });
      writeFileSync(cacheFile, JSON.stringify(cache, null, 2) + '\n');
      process.stderr.write(`  wall ${(m.wallMs / 1000).toFixed(1)} s, peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${m.events} events\n`);
    } catch {
      rows.push({ c, m: null, err: (p.stderr || `exit ${p.status}`).split('\n').slice(-5).join(' ') });
      process.stderr.write(`  failed: ${p.stderr.slice(-500)}\n`);
    }
  }
  // Memory per node from the modelled large runs (least squares on RSS vs nodes).
  const pts = rows.filter((r) => r.m && r.c.name.startsWith('large')).map((r) => [r.m!.nodes, r.m!.peakRssBytes] as const);
  let fit = '';
  if (pts.length >= 2) {
    const n = pts.length;
    const mx = pts.reduce((a, p) => a + p[0], 0) / n;
    const my = pts.reduce((a, p) => a + p[1], 0) / n;
    const slope = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    const icpt = my - slope * mx;
    const max = Math.floor((16 * 2 ** 30 - icpt) / slope);
    const perRun = rows.filter((r) => r.m && r.c.name.startsWith('large')).map((r) => r.m!.wallMs / r.m!.nodes);
    const msPerNode = perRun.reduce((a, b) => a + b, 0) / perRun.length;
    fit =
      `Peak RSS fits ${(icpt / 2 ** 20).toFixed(0)} MiB + ${(slope / 1024).toFixed(1)} KiB per witness (least squares over the ${n} large runs), ` +
      `so **about ${max.toLocaleString('en-US')} witnesses fit in 16 GB** for this scenario (10 logs, 1 h, 1 checkpoint/min, modelled signatures, coalesced messages). ` +
      `That is an extrapolation, not a run: at the measured ~${msPerNode.toFixed(1)} ms of wall time per witness it would take about ${((max * msPerNode) / 60_000).toFixed(0)} minutes on this machine.`;
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const md = [
    '# Simulator benchmark (model mode)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node --import tsx bench/sim.bench.ts\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'} (${(totalmem() / 2 ** 30).toFixed(0)} GB RAM), Node ${process.version}, each case in its own process (peak RSS includes the Node/tsx baseline of ~100 MiB). The machine was shared with other jobs, so wall times are upper bounds.`,
    '',
    '| case | scenario | wall time | peak RSS | events | Ed25519 verifications | all honest detected after | false accepts | messages/node/h |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ c, m, err }) =>
      m
        ? `| ${c.name} | ${c.what} | ${(m.wallMs / 1000).toFixed(1)} s | ${mib(m.peakRssBytes)} MiB | ${m.events.toLocaleString('en-US')} | ${m.signaturesVerified.toLocaleString('en-US')} | ${m.allMs === null ? 'never' : (m.allMs / 1000).toFixed(2) + ' s'} | ${m.falseAccepts} | ${Math.round(m.messagesPerNodePerHour).toLocaleString('en-US')} |`
        : `| ${c.name} | ${c.what} | failed: ${err} | | | | | | |`,
    ),
    '',
    fit,
    '',
    'Signatures: `memoised` runs the real witness core (Witness.add) for every witness and checkpoint, with real Ed25519 cosigning, and verifies each distinct log signature once per run; `real` verifies at every node; `modelled` applies the same witness rule without computing cosignatures (at 10,000 witnesses × 600 checkpoints there are 6 million distinct cosignatures: ~3 CPU-minutes to sign and ~10 to verify once each on this machine). See docs/simulator.md#signatures.',
    '',
  ].join('\n');
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(`${ROOT}bench/results/sim.md`, md);
  process.stdout.write(md);
}

if (process.argv[2] === '--child') await child(process.argv[3], JSON.parse(process.argv[4] ?? '{}') as Record<string, number | string>);
else parent();
