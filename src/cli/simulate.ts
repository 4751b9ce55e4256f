// `gossip-witness simulate SCENARIO --out DIR`: the split-view attack simulator (docs/simulator.md).
// Model mode by default (src/sim/model/), live mode with --live (src/sim/live/); one run, or a sweep
// over one parameter with several seeds. Writes DIR/result.json and the report (src/sim/report/).
// Progress with an ETA on stderr: a bar on a TTY, a line every few seconds otherwise.
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError } from './errors.js';

interface Opts {
  out: string;
  seed?: string;
  sweep?: string[];
  shard?: string;
  trace?: boolean;
  seeds?: string;
  live?: boolean;
  calibrate?: boolean;
}

/** Progress on stderr: cli-progress on a TTY, else a plain line at most every 5 s. */
class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly start = Date.now();
  private lastLine = 0;

  constructor(private readonly label: string) {
    this.bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | {detail}`, stream: process.stderr, etaBuffer: 50, fps: 5, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
    this.bar?.start(1000, 0, { detail: '' });
  }

  update(fraction: number, detail: string): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (this.bar) {
      this.bar.update(Math.round(f * 1000), { detail });
      return;
    }
    const now = Date.now();
    if (now - this.lastLine < 5000 && f < 1) return;
    this.lastLine = now;
    const elapsed = (now - this.start) / 1000;
    const eta = f > 0 ? Math.round((elapsed * (1 - f)) / f) : NaN;
    process.stderr.write(`${this.label}: ${(f * 100).toFixed(1)}% ${detail} elapsed ${elapsed.toFixed(0)}s ETA ${Number.isFinite(eta) ? eta + 's' : '?'}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}

function simTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `t=${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

function parseIntArg(name: string, v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Every combination of the values, the first list varying slowest (as gridPoints). */
function combos<T>(lists: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const l of lists) out = out.flatMap((c) => l.map((v) => [...c, v]));
  return out;
}

/**
 * The outputs of a complete sweep (unsharded, or merged from shards: the same function over the
 * same records in run order, hence the same bytes): the tidy files (src/sim/grid.ts), result.json,
 * and for a sweep of one numeric parameter the report of earlier versions (runs.csv, summary.csv,
 * plots, index.html).
 */
async function writeSweepOutputs(
  dir: string,
  spec: import('../sim/grid.js').SweepSpec,
  points: readonly { index: number; values: readonly import('../sim/grid.js').SweepValue[] }[],
  records: readonly import('../sim/grid.js').RunRecord[],
  timing: readonly { run: number; wallMs: number; peakRssBytes: number; load1: number }[],
): Promise<string[]> {
  const { writeTidy } = await import('../sim/grid.js');
  const { summarise } = await import('../sim/sweep.js');
  mkdirSync(dir, { recursive: true });
  const files = writeTidy(dir, spec, points, records, timing);
  const first = records[0].result.provenance;
  const { seed: _s, ...prov } = first;
  void _s;
  const provenance = { ...prov, scenario: spec.scenario, scenarioHash: spec.scenarioHash, seeds: [...spec.seeds] };
  const legacy = spec.params.length === 1 && spec.params[0].values.every((v) => typeof v === 'number');
  if (legacy) {
    const result = {
      provenance,
      parameter: spec.params[0].path,
      points: points.map((p) => {
        const runs = records.filter((r) => r.point === p.index).map((r) => r.result);
        return { value: p.values[0] as number, runs, summary: summarise(runs) };
      }),
    };
    writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
    const { writeReport } = await import('../sim/report/index.js');
    files.push(join(dir, 'result.json'), ...(await writeReport(dir, result)));
  } else {
    const result = {
      provenance,
      parameters: spec.params,
      points: points.map((p) => ({ index: p.index, values: p.values, summary: summarise(records.filter((r) => r.point === p.index).map((r) => r.result)) })),
    };
    writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
    files.push(join(dir, 'result.json'));
  }
  return files;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a split-view attack on a witness network from a scenario (docs/simulator.md); writes DIR/result.json and a report')
    .argument('<scenario>', 'scenario file (YAML), e.g. network-config/scenarios/small.yaml; or "merge" followed by shard directories')
    .argument('[dirs...]', 'with merge: directories holding shard-I-of-N.json files')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'PRNG seed (default: the scenario seed)')
    .option(
      '--sweep <path=values>',
      'sweep a scenario path over values: v1,v2,... (numbers, true/false, strings) or a JSON array; repeat for a grid of every combination (e.g. --sweep adversary.colluding=0,1,2 --sweep adversary.targeting=random,trusted)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--shard <I/N>', 'with --sweep: run only shard I of N (I from 1) and write DIR/shard-I-of-N.json')
    .option('--trace', 'record an event trace (fork, evidence, client decisions) in result.json and DIR/trace.txt')
    .option('--seeds <n>', 'seeds per sweep point (seed, seed+1, ...)', '5')
    .option('--live', 'live mode: real node processes and libp2p on 127.0.0.1 (tens of nodes)')
    .option('--calibrate', 'run the scenario in model and live mode for --seeds seeds and compare them (DIR/calibration.md)')
    .action(async (file: string, dirs: string[], opts: Opts) => {
      if (file === 'merge') {
        if (dirs.length === 0) throw new UsageError('simulate merge DIR... --out DIR: give the directories holding the shard files');
        const grid = await import('../sim/grid.js');
        const { SweepError } = await import('../sim/sweep.js');
        try {
          const { spec, records, timing } = grid.readShards(dirs);
          const points = combos(spec.params.map((p) => p.values)).map((values, index) => ({ index, values }));
          const files = await writeSweepOutputs(opts.out, spec, points, records, timing);
          process.stdout.write(`merged ${records.length} runs from ${dirs.length} director${dirs.length === 1 ? 'y' : 'ies'}; wrote ${files.length} files to ${opts.out}\n`);
        } catch (e) {
          if (e instanceof SweepError) throw new UsageError(e.message);
          throw e;
        }
        return;
      }
      if (dirs.length > 0) throw new UsageError(`unexpected arguments after the scenario: ${dirs.join(' ')}`);
      const sweeps = opts.sweep ?? [];
      if (opts.shard !== undefined && sweeps.length === 0) throw new UsageError('--shard splits a sweep: give --sweep too');
      const { loadScenario, loadScenarioObject, ScenarioError } = await import('../sim/scenario.js');
      let scenario;
      let raw: unknown;
      try {
        scenario = loadScenario(file);
        raw = loadScenarioObject(file);
      } catch (e) {
        if (e instanceof ScenarioError) throw new UsageError(e.message);
        throw e;
      }
      const seed = opts.seed !== undefined ? parseIntArg('--seed', opts.seed) : scenario.seed;
      const command = ['gossip-witness', ...process.argv.slice(2)].join(' ');
      const { runScenario } = await import('../sim/run.js');
      const runOne = async (s: typeof scenario, sd: number, progress: Progress, prefix: string, base = 0, span = 1) => {
        if (opts.live) {
          const { runLive } = await import('../sim/live/index.js');
          return runLive(s, { seed: sd, scenarioFile: file, command, onProgress: (f, phase) => progress.update(base + f * span, `${prefix}${phase}`) });
        }
        return runScenario(s, { seed: sd, scenarioFile: file, command, trace: opts.trace === true, onProgress: (f, t) => progress.update(base + f * span, `${prefix}${simTime(t)}`) });
      };
      try {
        mkdirSync(opts.out, { recursive: true });
      } catch (e) {
        throw new UsageError(`--out ${opts.out}: cannot create the output directory: ${(e as Error).message}`);
      }
      if (opts.calibrate) {
        if (sweeps.length > 0 || opts.live) throw new UsageError('--calibrate runs both modes itself: not with --sweep or --live');
        const nSeeds = parseIntArg('--seeds', opts.seeds ?? '5');
        if (nSeeds < 1) throw new UsageError('--seeds must be at least 1');
        const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
        const { calibrate } = await import('../sim/calibrate.js');
        const { runLive } = await import('../sim/live/index.js');
        const progress = new Progress(`calibrate ${scenario.name}`);
        const total = 2 * seeds.length;
        let done = 0;
        const step = <T>(p: Promise<T>) => p.finally(() => done++);
        let c;
        try {
          c = await calibrate(
            scenario,
            seeds,
            opts.out,
            {
              model: (s, sd) => step(runScenario(s, { seed: sd, scenarioFile: file, command, onProgress: (f) => progress.update((done + f) / total, `model seed ${sd}`) })),
              live: (s, sd) => step(runLive(s, { seed: sd, scenarioFile: file, command, onProgress: (f, phase) => progress.update((done + f) / total, `live seed ${sd}: ${phase}`) })),
            },
            { scenarioFile: file, command },
          );
        } finally {
          progress.stop();
        }
        for (const k of c.checks) process.stdout.write(`${k.pass ? 'pass' : 'FAIL'}  ${k.name}: model ${k.model.toFixed(3)}, live ${k.live.toFixed(3)}, allowed difference ${k.allowed.toFixed(3)}\n`);
        process.stdout.write(`Kolmogorov-Smirnov D = ${c.ks.d.toFixed(3)}; wrote ${join(opts.out, 'calibration.md')}\n`);
        return;
      }
      let result;
      if (sweeps.length > 0) {
        const grid = await import('../sim/grid.js');
        const { SweepError } = await import('../sim/sweep.js');
        const nSeeds = parseIntArg('--seeds', opts.seeds ?? '5');
        if (nSeeds < 1) throw new UsageError('--seeds must be at least 1');
        const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
        try {
          const params = sweeps.map(grid.parseSweepArg);
          const points = grid.gridPoints(scenario, raw, params);
          const total = points.length * seeds.length;
          const shard = opts.shard !== undefined ? grid.parseShard(opts.shard) : { index: 1, count: 1 };
          const runs = grid.shardRuns(total, shard);
          const spec = grid.sweepSpec(scenario, file, params, seeds, opts.live ? 'live' : 'model');
          const label = opts.shard !== undefined ? `shard ${shard.index}/${shard.count}` : `sweep ${params.map((x) => x.path).join(' x ')}`;
          const progress = new Progress(label);
          let done = 0;
          let out;
          try {
            out = await grid.runGrid(points, seeds, runs, (s, sd) => runOne(s, sd, progress, `run ${done + 1}/${runs.length} `, done / runs.length, 1 / runs.length), (d) => (done = d));
          } finally {
            progress.stop();
          }
          if (opts.shard !== undefined) {
            const f = grid.writeShard(opts.out, { format: 'gossip-witness/sim-shard/v1', spec, shard, totalRuns: total, records: out.records, timing: out.timing });
            process.stdout.write(`wrote ${f}: ${out.records.length} of ${total} runs; merge the shards with: gossip-witness simulate merge DIR... --out DIR\n`);
            return;
          }
          const files = await writeSweepOutputs(opts.out, spec, points, out.records, out.timing);
          process.stdout.write(`wrote ${files.length} files to ${opts.out} (${total} runs: ${points.length} points x ${seeds.length} seeds)\n`);
          return;
        } catch (e) {
          if (e instanceof SweepError) throw new UsageError(e.message);
          throw e;
        }
      } else {
        const progress = new Progress(scenario.name);
        try {
          result = await runOne(scenario, seed, progress, '');
        } finally {
          progress.stop();
        }
      }
      writeFileSync(join(opts.out, 'result.json'), JSON.stringify(result, null, 2) + '\n');
      if (!('points' in result) && result.trace) writeFileSync(join(opts.out, 'trace.txt'), result.trace.join('\n') + '\n');
      const { writeReport } = await import('../sim/report/index.js');
      const files = await writeReport(opts.out, result);
      process.stdout.write(`wrote ${join(opts.out, 'result.json')}${files.length > 0 ? ` and ${files.length} report files` : ''}\n`);
      if (!('points' in result)) {
        const d = result.detection;
        const f = (x: number | null) => (x === null ? 'never' : `${(x / 1000).toFixed(2)}s`);
        process.stdout.write(
          `detection: first ${f(d.firstMs)}, all ${f(d.allMs)} after the fork (${(d.fractionDetected * 100).toFixed(1)}% of honest nodes); false accepts ${result.clients.falseAccepts}/${result.clients.total}; ${Math.round(result.traffic.messagesPerNodePerHour)} msgs/node/h; wall ${(result.perf.wallMs / 1000).toFixed(1)}s\n`,
        );
        const { metricsText } = await import('../sim/report/metrics.js');
        const { flatMetrics } = await import('../sim/report/index.js');
        process.stdout.write(`\n${metricsText(flatMetrics(result))}`);
      }
    });
}
