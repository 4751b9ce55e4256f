// Calibration (docs/simulator.md#calibration): the same small scenario in model mode and in live
// mode (real node processes) for several seeds; the detection-time distributions (pooled per-node
// times from the fork), the delivery ratios and the traffic are compared against a stated
// tolerance, and calibration.md, calibration.json, a CSV and one CDF plot with both modes are
// written. This comparison is what says whether the model can be trusted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './result.js';
import type { Scenario } from './scenario.js';
import { ksTest, mean, quantile, tInterval } from './stats.js';
import { cdfSpec, renderSvg } from './report/charts.js';
import { provenanceLines } from './report/index.js';
import { makeProvenance } from './provenance.js';

/** The tolerance, stated once: what "the model matches" means here. */
export const TOLERANCE = {
  /** |median_model − median_live| ≤ max(50% of the live median, 250 ms). */
  medianRel: 0.5,
  medianAbsMs: 250,
  /** |p90_model − p90_live| ≤ max(50% of the live p90, 500 ms). */
  p90Rel: 0.5,
  p90AbsMs: 500,
  /** |delivery_model − delivery_live| ≤ 0.05. */
  delivery: 0.05,
  /** |fractionDetected_model − fractionDetected_live| ≤ 0.1. */
  fractionDetected: 0.1,
} as const;

export interface Check {
  readonly name: string;
  readonly model: number;
  readonly live: number;
  readonly allowed: number;
  readonly pass: boolean;
  readonly note?: string;
}

export interface CalibrationResult {
  readonly scenario: Scenario;
  readonly scenarioFile: string | null;
  readonly seeds: readonly number[];
  readonly model: readonly RunResult[];
  readonly live: readonly RunResult[];
  readonly ks: { readonly d: number; readonly p: number; readonly nModel: number; readonly nLive: number };
  readonly checks: readonly Check[];
  readonly pass: boolean;
  /** Metrics compared for information (different definitions in the two modes, see the notes). */
  readonly info: readonly { readonly name: string; readonly model: number; readonly live: number; readonly ratio: number }[];
}

const pooled = (runs: readonly RunResult[]) => runs.flatMap((r) => r.detection.perNodeMs.filter((x): x is number => x !== null));

/** Compares model and live runs of one scenario (the numbers only; no files). */
export function compare(scenario: Scenario, scenarioFile: string | null, seeds: readonly number[], model: readonly RunResult[], live: readonly RunResult[]): CalibrationResult {
  const m = pooled(model);
  const l = pooled(live);
  const ks = { ...ksTest(m, l), nModel: m.length, nLive: l.length };
  const checks: Check[] = [];
  const within = (name: string, a: number, b: number, allowed: number, note?: string) =>
    checks.push({ name, model: a, live: b, allowed, pass: Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= allowed, ...(note ? { note } : {}) });
  // A metric live mode does not measure (version 2's delivery ratio) is reported, not checked.
  const measured = (xs: readonly RunResult[], f: (r: RunResult) => number) => xs.every((r) => Number.isFinite(f(r)));
  const mMed = quantile(m, 0.5);
  const lMed = quantile(l, 0.5);
  within('median detection time (ms)', mMed, lMed, Math.max(TOLERANCE.medianRel * lMed, TOLERANCE.medianAbsMs));
  const m90 = quantile(m, 0.9);
  const l90 = quantile(l, 0.9);
  within('p90 detection time (ms)', m90, l90, Math.max(TOLERANCE.p90Rel * l90, TOLERANCE.p90AbsMs));
  within('fraction of honest nodes detecting', mean(model.map((r) => r.detection.fractionDetected)), mean(live.map((r) => r.detection.fractionDetected)), TOLERANCE.fractionDetected);
  if (measured(live, (r) => r.traffic.deliveryRatio)) within('delivery ratio', mean(model.map((r) => r.traffic.deliveryRatio)), mean(live.map((r) => r.traffic.deliveryRatio)), TOLERANCE.delivery);
  const info = (
    [
      ['first detection (ms, mean over seeds)', (r) => r.detection.firstMs],
      ['every node detected (ms, mean over seeds)', (r) => r.detection.allMs],
      ['messages per node per hour', (r) => r.traffic.messagesPerNodePerHour],
      ['bytes per node per hour', (r) => r.traffic.bytesPerNodePerHour],
      ['false-accept rate', (r) => r.clients.falseAcceptRate],
      ['forked accepts (clients)', (r) => r.model?.forkedAccepts ?? r.live?.forkedAccepts ?? null],
    ] as [string, (r: RunResult) => number | null][]
  ).map(([name, f]) => {
    const a = mean(model.map(f).filter((x): x is number => x !== null));
    const b = mean(live.map(f).filter((x): x is number => x !== null));
    return { name, model: a, live: b, ratio: a / b };
  });
  return { scenario, scenarioFile, seeds, model, live, ks, checks, pass: checks.every((c) => c.pass), info };
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? (Math.abs(x) >= 1e5 ? x.toExponential(2) : x.toFixed(d)) : 'n/a');

/** calibration.md: the setup, the tolerance, the verdict per check, and where the model diverges. */
export function calibrationMarkdown(c: CalibrationResult, command: string): string {
  const m = pooled(c.model);
  const l = pooled(c.live);
  const ciFirst = (runs: readonly RunResult[]) => tInterval(runs.map((r) => r.detection.firstMs).filter((x): x is number => x !== null));
  const prov = makeProvenance({ seed: c.seeds[0] ?? 0, mode: 'model', scenarioFile: c.scenarioFile, scenario: c.scenario });
  const s = c.scenario;
  const diverge: string[] = [];
  for (const k of c.checks) if (!k.pass) diverge.push(`- **${k.name}**: model ${f(k.model, 3)} vs live ${f(k.live, 3)} (allowed difference ${f(k.allowed, 3)}).`);
  for (const i of c.info) if (Number.isFinite(i.ratio) && (i.ratio > 2 || i.ratio < 0.5)) diverge.push(`- ${i.name}: model ${f(i.model, 3)} vs live ${f(i.live, 3)} (×${f(i.ratio, 2)}).`);
  const notes = [...new Set(c.live.flatMap((r) => r.notes ?? []))];
  return `# Simulator calibration: model mode vs live mode

Scenario \`${c.scenarioFile ?? s.name}\` (${s.network.nodes} witnesses, ${s.logs.count} logs publishing every ${s.logs.intervalMs} ms,
${Math.round(s.witnesses.push * 100)}% pushed and the rest polling every ${s.witnesses.pollIntervalMs} ms, log ${s.adversary?.log ?? '-'} forking at ${s.adversary?.forkAtMs ?? '-'} ms and showing branch B to ${
    s.adversary ? ('nodes' in s.adversary.branchB ? `nodes ${s.adversary.branchB.nodes.join(', ')}` : `${Math.round(s.adversary.branchB.fraction * 100)}% of the witnesses`) : '-'
  }, ${s.clients.count} clients with ${s.clients.policy.k}-of-${s.clients.policy.n} policies), run for seeds ${c.seeds.join(', ')} in both modes:
model mode (simulated time, the scenario's latency model) and live mode (${s.network.nodes} real node processes, real libp2p and the real local log on 127.0.0.1, wall time).

Rerun: \`${command}\`

Project ${prov.version}, commit ${prov.commit ?? 'unknown'}, ${prov.runtime}, ${new Date().toISOString()}.

## Tolerance

The model is taken to match live mode when, over all seeds pooled:

- the median detection time (fork → verified evidence, per honest node) differs by at most max(${TOLERANCE.medianRel * 100}% of the live median, ${TOLERANCE.medianAbsMs} ms);
- the 90th percentile differs by at most max(${TOLERANCE.p90Rel * 100}% of the live p90, ${TOLERANCE.p90AbsMs} ms);
- the fraction of honest nodes that detect differs by at most ${TOLERANCE.fractionDetected};
- the delivery ratio differs by at most ${TOLERANCE.delivery}.

The two-sample Kolmogorov–Smirnov statistic is reported for the shape of the distributions; it is not
a pass criterion (with a hundred or more samples per side it flags differences of a few ms that do
not matter at the scale of polling intervals).

## Result: ${c.pass ? 'within tolerance' : 'OUTSIDE tolerance'}

| check | model | live | allowed difference | verdict |
|---|---|---|---|---|
${c.checks.map((k) => `| ${k.name} | ${f(k.model, 3)} | ${f(k.live, 3)} | ${f(k.allowed, 3)} | ${k.pass ? 'pass' : '**fail**'} |`).join('\n')}

Kolmogorov–Smirnov: D = ${f(c.ks.d, 3)}, asymptotic p = ${c.ks.p < 1e-4 ? c.ks.p.toExponential(1) : f(c.ks.p, 4)} (${c.ks.nModel} model vs ${c.ks.nLive} live detection times).

Detection-time quantiles (ms): model p10 ${f(quantile(m, 0.1))}, p50 ${f(quantile(m, 0.5))}, p90 ${f(quantile(m, 0.9))}, max ${f(Math.max(...m))};
live p10 ${f(quantile(l, 0.1))}, p50 ${f(quantile(l, 0.5))}, p90 ${f(quantile(l, 0.9))}, max ${f(Math.max(...l))}.
First detection, mean and 95% CI over seeds: model ${f(ciFirst(c.model).mean)} [${f(ciFirst(c.model).lo)}, ${f(ciFirst(c.model).hi)}] ms, live ${f(ciFirst(c.live).mean)} [${f(ciFirst(c.live).lo)}, ${f(ciFirst(c.live).hi)}] ms.

![Detection-time CDF, model and live](calibration-cdf.svg)

### Per seed

| seed | mode | first (ms) | every node (ms) | detected | delivery | msgs/node/h | bytes/node/h | false accepts | forked accepts | fork signed late (ms) | load average |
|---|---|---|---|---|---|---|---|---|---|---|---|
${[...c.model.map((r) => ['model', r] as const), ...c.live.map((r) => ['live', r] as const)]
  .sort((a, b) => a[1].provenance.seed - b[1].provenance.seed || a[0].localeCompare(b[0]))
  .map(
    ([mode, r]) =>
      `| ${r.provenance.seed} | ${mode} | ${f(r.detection.firstMs ?? NaN)} | ${f(r.detection.allMs ?? NaN)} | ${f(r.detection.fractionDetected, 2)} | ${f(r.traffic.deliveryRatio, 3)} | ${f(r.traffic.messagesPerNodePerHour)} | ${f(r.traffic.bytesPerNodePerHour)} | ${r.clients.falseAccepts}/${r.clients.total} | ${r.model?.forkedAccepts ?? r.live?.forkedAccepts ?? '-'} | ${r.live ? f(r.live.forkLateMs ?? NaN) : '-'} | ${r.live ? f(r.live.loadAverage, 1) : '-'} |`,
  )
  .join('\n')}

### Compared for information (definitions differ between the modes)

| metric (mean over seeds) | model | live | model / live |
|---|---|---|---|
${c.info.map((i) => `| ${i.name} | ${f(i.model, 3)} | ${f(i.live, 3)} | ${f(i.ratio, 2)} |`).join('\n')}

## Where the model diverges

${diverge.length > 0 ? diverge.join('\n') : '- Nothing outside the tolerance, and no information metric off by more than a factor of 2.'}

Live mode's approximations (from the runs' notes):

${notes.map((n) => `- ${n}`).join('\n')}
`;
}

export interface CalibrateOptions {
  readonly scenarioFile?: string | null;
  readonly command?: string;
  readonly onProgress?: (message: string) => void;
}

/**
 * Runs the scenario in both modes for every seed (model first: it takes seconds), compares, and
 * writes calibration.md, calibration.json, calibration.csv and calibration-cdf.svg into outDir.
 */
export async function calibrate(
  scenario: Scenario,
  seeds: readonly number[],
  outDir: string,
  run: { model: (s: Scenario, seed: number) => Promise<RunResult>; live: (s: Scenario, seed: number) => Promise<RunResult> },
  opts: CalibrateOptions = {},
): Promise<CalibrationResult> {
  const say = opts.onProgress ?? (() => {});
  const model: RunResult[] = [];
  const live: RunResult[] = [];
  for (const seed of seeds) {
    say(`model, seed ${seed}`);
    model.push(await run.model(scenario, seed));
  }
  for (const seed of seeds) {
    say(`live, seed ${seed}`);
    live.push(await run.live(scenario, seed));
  }
  const c = compare(scenario, opts.scenarioFile ?? null, seeds, model, live);
  const command = opts.command ?? `gossip-witness simulate ${opts.scenarioFile ?? 'SCENARIO.yaml'} --calibrate --seed ${seeds[0]} --seeds ${seeds.length} --out ${outDir}`;
  await writeCalibration(outDir, c, command);
  return c;
}

export async function writeCalibration(outDir: string, c: CalibrationResult, command: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(outDir, name), text);
    files.push(join(outDir, name));
  };
  const prov = provenanceLines({ ...c.model[0], provenance: { ...c.model[0].provenance, command } });
  const desc = prov
    .filter(([k]) => k !== 'mode' && k !== 'seed' && k !== 'started')
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  const title = 'Detection-time CDF: model vs live';
  put(
    'calibration-cdf.svg',
    await renderSvg(
      cdfSpec(
        [
          { name: `model (${c.seeds.length} seeds)`, times: c.model.flatMap((r) => r.detection.perNodeMs) },
          { name: `live (${c.seeds.length} seeds)`, times: c.live.flatMap((r) => r.detection.perNodeMs) },
        ],
        `${title} (${c.scenario.name}, seeds ${c.seeds.join(',')})`,
      ),
      { title, desc: `${title}; seeds: ${c.seeds.join(',')}; ${desc}` },
    ),
  );
  const rows = [...c.model, ...c.live].flatMap((r) => r.detection.perNodeMs.map((t, i) => [r.provenance.mode, r.provenance.seed, i, t ?? ''].join(',')));
  put('calibration.csv', [...prov.map(([k, v]) => `# ${k}: ${k === 'seed' ? c.seeds.join(',') : k === 'mode' ? 'model and live' : v}`), 'mode,seed,node,detection_ms', ...rows].join('\n') + '\n');
  put('calibration.json', JSON.stringify({ command, ...c }, null, 2) + '\n');
  put('calibration.md', calibrationMarkdown(c, command));
  return files;
}
