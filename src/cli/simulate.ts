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
  sweep?: string;
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

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a split-view attack on a witness network from a scenario (docs/simulator.md); writes DIR/result.json and a report')
    .argument('<scenario>', 'scenario file (YAML), e.g. network-config/scenarios/small.yaml')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'PRNG seed (default: the scenario seed)')
    .option('--sweep <param=v1,v2,...>', 'sweep one numeric scenario parameter (dotted path of the parsed scenario, e.g. network.nodes=100,1000)')
    .option('--seeds <n>', 'seeds per sweep point (seed, seed+1, ...)', '5')
    .option('--live', 'live mode: real node processes and libp2p on 127.0.0.1 (tens of nodes)')
    .option('--calibrate', 'run the scenario in model and live mode for --seeds seeds and compare them (DIR/calibration.md)')
    .action(async (file: string, opts: Opts) => {
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
        return runScenario(s, { seed: sd, scenarioFile: file, command, onProgress: (f, t) => progress.update(base + f * span, `${prefix}${simTime(t)}`) });
      };
      mkdirSync(opts.out, { recursive: true });
      if (opts.calibrate) {
        if (opts.sweep !== undefined || opts.live) throw new UsageError('--calibrate runs both modes itself: not with --sweep or --live');
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
      if (opts.sweep !== undefined) {
        const m = /^([A-Za-z0-9_.]+)=(.+)$/.exec(opts.sweep);
        if (!m) throw new UsageError('--sweep must be param=v1,v2,... e.g. adversary.colluding=0,1,2');
        const values = m[2].split(',').map((v) => {
          const x = Number(v.trim());
          if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--sweep value ${JSON.stringify(v)} is not a number`);
          return x;
        });
        const nSeeds = parseIntArg('--seeds', opts.seeds ?? '5');
        if (nSeeds < 1) throw new UsageError('--seeds must be at least 1');
        const seeds = Array.from({ length: nSeeds }, (_, i) => seed + i);
        const { runSweep, SweepError } = await import('../sim/sweep.js');
        const total = values.length * seeds.length;
        const progress = new Progress(`sweep ${m[1]}`);
        let done = 0;
        try {
          result = await runSweep(scenario, m[1], values, seeds, (s, sd) => runOne(s, sd, progress, `run ${done + 1}/${total} `, done / total, 1 / total), {
            raw,
            onProgress: (d) => {
              done = d;
            },
          });
        } catch (e) {
          if (e instanceof SweepError) throw new UsageError(e.message);
          throw e;
        } finally {
          progress.stop();
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
      const { writeReport } = await import('../sim/report/index.js');
      const files = await writeReport(opts.out, result);
      process.stdout.write(`wrote ${join(opts.out, 'result.json')}${files.length > 0 ? ` and ${files.length} report files` : ''}\n`);
      if (!('points' in result)) {
        const d = result.detection;
        const f = (x: number | null) => (x === null ? 'never' : `${(x / 1000).toFixed(2)}s`);
        process.stdout.write(
          `detection: first ${f(d.firstMs)}, all ${f(d.allMs)} after the fork (${(d.fractionDetected * 100).toFixed(1)}% of honest nodes); false accepts ${result.clients.falseAccepts}/${result.clients.total}; ${Math.round(result.traffic.messagesPerNodePerHour)} msgs/node/h; wall ${(result.perf.wallMs / 1000).toFixed(1)}s\n`,
        );
      }
    });
}
