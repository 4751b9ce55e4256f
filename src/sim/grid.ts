// Grid sweeps, shards and tidy output (docs/simulator.md#sweeps-grids-and-shards).
//
// A sweep is one or more parameters (`--sweep PATH=VALUES`, repeated for a grid: every combination,
// the first parameter varying slowest) times seeds. Its runs are numbered in that order (run =
// point * seeds + seed index); shard I of N (I from 1) runs the runs with run % N == I - 1 and
// writes them to DIR/shard-I-of-N.json. `merge` reads shard files from any directories, checks that
// they belong to the same sweep and cover every run once, and writes the same tidy files as the
// unsharded sweep: byte for byte, since both go through writeTidy over the same run records in run
// order (only timing.csv, with wall-clock times and the machine's load, differs).
//
// Tidy files (one observation per row, a header line and nothing else; pandas.read_csv and R's
// read.csv read them as they are; the sweep parameters are columns named by their paths):
//   observations.csv  run, point, PARAMS..., seed, metric, value       every scalar metric of every run
//   nodes.csv         run, point, PARAMS..., seed, node, detection_ms   per honest witness
//   clients.csv       run, point, PARAMS..., seed, client, population, branch, trusted_colluders, accept_ms, detect_ms, false_accept, forked_accept, accept_latency_ms, log
//                     one row per client and log it follows (one log unless clients.populations[].logs says more)
//   rates.csv         point, PARAMS..., rate, successes, trials, estimate, wilson_lo, wilson_hi   rates pooled over seeds, Wilson 95%
//   points.csv        point, PARAMS..., metric, mean, ci95_lo, ci95_hi, n    t-interval over seeds
//   provenance.json   version, commit, scenario, scenarioHash, sweep, seeds (no wall-clock fields)
//   timing.csv        run, wall_ms, peak_rss_bytes, load1 (not part of the outcome)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from './result.js';
import { parseScenario, ScenarioError, withParameter as setYamlParameter, type Scenario } from './scenario.js';
import { scenarioToYamlObject, scenarioWith, summarise, SweepError } from './sweep.js';
import { wilson } from './stats.js';
import { flatMetrics } from './report/index.js';
import { projectVersion, scenarioHash } from './provenance.js';

export type SweepValue = number | string | boolean | null | readonly unknown[] | Readonly<Record<string, unknown>>;

export interface SweepParam {
  readonly path: string;
  readonly values: readonly SweepValue[];
}

export interface GridPoint {
  readonly index: number;
  readonly values: readonly SweepValue[];
  readonly scenario: Scenario;
}

export interface RunRecord {
  readonly run: number;
  readonly point: number;
  readonly seed: number;
  readonly result: RunResult;
}

/**
 * Parses `PATH=VALUES`: a JSON array (`PATH=[[0,1],[2,3]]`, `PATH=["a","b"]`), or a comma list whose
 * items are numbers, true/false, or strings (`PATH=random,trusted`).
 */
export function parseSweepArg(arg: string): SweepParam {
  const m = /^([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)=(.+)$/s.exec(arg);
  if (!m) throw new SweepError(`--sweep must be param=v1,v2,... or param=[JSON values], got ${JSON.stringify(arg)}`);
  const body = m[2].trim();
  let values: SweepValue[];
  if (body.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new SweepError(`--sweep ${m[1]}: the values are not a JSON array: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0) throw new SweepError(`--sweep ${m[1]}: expected a non-empty JSON array of values`);
    values = parsed as SweepValue[];
  } else {
    values = body.split(',').map((t) => {
      const v = t.trim();
      if (v === '') throw new SweepError(`--sweep ${m[1]}: empty value in ${JSON.stringify(body)}`);
      if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v)) return Number(v);
      if (v === 'true' || v === 'false') return v === 'true';
      return v;
    });
  }
  return { path: m[1], values };
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Is `path` a numeric field of the parsed scenario (the legacy sweep path, durations as fooMs)? */
function parsedNumber(s: Scenario, path: string): boolean {
  let cur: unknown = s;
  for (const k of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(k)) cur = cur[Number(k)];
    else if (isObject(cur) && Object.hasOwn(cur, k)) cur = cur[k];
    else return false;
  }
  return typeof cur === 'number';
}

/**
 * The scenario with several parameters set. A path that names a numeric field of the parsed
 * scenario with a number goes through scenarioWith (so `witnesses.pollIntervalMs=5000` works as
 * before); any other path is set in the scenario's YAML form (`adversary.targeting=trusted`,
 * `adversary.branchB.nodes=[[0,1]]`, `clients.policy={"k":2,"n":3}`, `adversary.branchB.batch=7`)
 * and the whole is validated again, with the scenario's path-qualified messages.
 */
export function scenarioAt(scenario: Scenario, raw: unknown, params: readonly SweepParam[], values: readonly SweepValue[]): Scenario {
  let s = scenario;
  let r = raw;
  params.forEach((p, i) => {
    const v = values[i];
    const label = `${p.path}=${JSON.stringify(v)}`;
    if (typeof v === 'number' && parsedNumber(s, p.path)) {
      s = scenarioWith(s, p.path, v, r);
      r = scenarioToYamlObject(s);
      return;
    }
    try {
      const y = setYamlParameter(r ?? scenarioToYamlObject(s), p.path, v as never);
      s = parseScenario(y, `(sweep ${label})`);
      r = y;
    } catch (e) {
      if (e instanceof ScenarioError) throw new SweepError(`sweep parameter ${label} gives an invalid scenario:\n${e.message}`);
      throw e;
    }
  });
  return s;
}

/** Every combination of the parameters' values, the first parameter varying slowest. */
export function gridPoints(scenario: Scenario, raw: unknown, params: readonly SweepParam[]): GridPoint[] {
  if (params.length === 0) throw new SweepError('sweep: no parameters');
  const paths = new Set<string>();
  for (const p of params) {
    if (paths.has(p.path)) throw new SweepError(`sweep: ${p.path} given twice`);
    paths.add(p.path);
    if (p.values.length === 0) throw new SweepError(`sweep: ${p.path} has no values`);
  }
  const combos: SweepValue[][] = [[]];
  for (const p of params) {
    const next: SweepValue[][] = [];
    for (const c of combos) for (const v of p.values) next.push([...c, v]);
    combos.splice(0, combos.length, ...next);
  }
  // Every point is validated before the first (possibly long) run.
  return combos.map((values, index) => ({ index, values, scenario: scenarioAt(scenario, raw, params, values) }));
}

/** Parses `I/N` (I from 1). */
export function parseShard(arg: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(arg.trim());
  if (!m) throw new SweepError(`--shard must be I/N (I from 1), got ${JSON.stringify(arg)}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new SweepError(`--shard ${arg}: need 1 <= I <= N`);
  return { index, count };
}

/** The runs of shard I/N: run numbers r with r % N == I - 1. */
export function shardRuns(total: number, shard: { index: number; count: number }): number[] {
  const out: number[] = [];
  for (let r = shard.index - 1; r < total; r += shard.count) out.push(r);
  return out;
}

/** What identifies a sweep: shards of different sweeps are never merged. */
export interface SweepSpec {
  readonly scenarioHash: string;
  readonly scenario: unknown;
  readonly scenarioFile: string | null;
  readonly params: readonly SweepParam[];
  readonly seeds: readonly number[];
  readonly mode: 'model' | 'live';
  readonly version: string;
  readonly commit: string | null;
}

export function sweepSpec(scenario: Scenario, scenarioFile: string | null, params: readonly SweepParam[], seeds: readonly number[], mode: 'model' | 'live' = 'model'): SweepSpec {
  const { version, commit } = projectVersion();
  return { scenarioHash: scenarioHash(scenario), scenario, scenarioFile, params, seeds, mode, version, commit };
}

/** Runs the given run numbers of a sweep (all of them without a shard). */
export async function runGrid(
  points: readonly GridPoint[],
  seeds: readonly number[],
  runs: readonly number[],
  run: (s: Scenario, seed: number) => Promise<RunResult>,
  onProgress?: (done: number, total: number) => void,
): Promise<{ records: RunRecord[]; timing: { run: number; wallMs: number; peakRssBytes: number; load1: number }[] }> {
  const records: RunRecord[] = [];
  const timing: { run: number; wallMs: number; peakRssBytes: number; load1: number }[] = [];
  for (const [i, r] of runs.entries()) {
    const point = Math.floor(r / seeds.length);
    const seed = seeds[r % seeds.length];
    const result = await run(points[point].scenario, seed);
    records.push({ run: r, point, seed, result });
    timing.push({ run: r, wallMs: result.perf.wallMs, peakRssBytes: result.perf.peakRssBytes, load1: loadavg()[0] });
    onProgress?.(i + 1, runs.length);
  }
  return { records, timing };
}

// ---- shard files ----

export interface ShardFile {
  readonly format: 'gossip-witness/sim-shard/v1';
  readonly spec: SweepSpec;
  readonly shard: { readonly index: number; readonly count: number };
  readonly totalRuns: number;
  readonly records: readonly RunRecord[];
  readonly timing: readonly { run: number; wallMs: number; peakRssBytes: number; load1: number }[];
}

export function shardFileName(shard: { index: number; count: number }): string {
  return `shard-${shard.index}-of-${shard.count}.json`;
}

export function writeShard(dir: string, f: ShardFile): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, shardFileName(f.shard));
  writeFileSync(file, JSON.stringify(f) + '\n');
  return file;
}

/** Reads every shard file in the directories and checks they make one complete sweep. */
export function readShards(dirs: readonly string[]): { spec: SweepSpec; records: RunRecord[]; timing: ShardFile['timing'][number][] } {
  const files: ShardFile[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch (e) {
      throw new SweepError(`merge: cannot read ${d}: ${(e as Error).message}`);
    }
    for (const n of names.filter((x) => /^shard-\d+-of-\d+\.json$/.test(x)).sort()) {
      const f = JSON.parse(readFileSync(join(d, n), 'utf8')) as ShardFile;
      if (f.format !== 'gossip-witness/sim-shard/v1') throw new SweepError(`merge: ${join(d, n)} is not a shard file`);
      files.push(f);
    }
  }
  if (files.length === 0) throw new SweepError(`merge: no shard-I-of-N.json files in ${dirs.join(', ')}`);
  const spec = files[0].spec;
  const key = (s: SweepSpec) => JSON.stringify({ h: s.scenarioHash, p: s.params, s: s.seeds, m: s.mode, v: s.version, c: s.commit });
  const total = files[0].totalRuns;
  for (const f of files) {
    if (key(f.spec) !== key(spec)) throw new SweepError(`merge: shard ${f.shard.index}/${f.shard.count} belongs to another sweep (scenario hash, parameters, seeds or code version differ)`);
    if (f.totalRuns !== total) throw new SweepError('merge: shards disagree on the number of runs');
  }
  const byRun = new Map<number, RunRecord>();
  const timing: ShardFile['timing'][number][] = [];
  for (const f of files) {
    for (const r of f.records) {
      if (byRun.has(r.run)) throw new SweepError(`merge: run ${r.run} appears in more than one shard`);
      byRun.set(r.run, r);
    }
    timing.push(...f.timing);
  }
  const missing: number[] = [];
  for (let r = 0; r < total; r++) if (!byRun.has(r)) missing.push(r);
  if (missing.length > 0) throw new SweepError(`merge: ${missing.length} of ${total} runs missing (first: ${missing.slice(0, 5).join(', ')}); are all shards there?`);
  return { spec, records: [...byRun.values()].sort((a, b) => a.run - b.run), timing: timing.sort((a, b) => a.run - b.run) };
}

// ---- tidy output ----

function cell(v: unknown): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'NA';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) || s === 'NA' ? `"${s.replace(/"/g, '""')}"` : s;
}

function table(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const out = [header.map(cell).join(',')];
  for (const r of rows) out.push(r.map(cell).join(','));
  return out.join('\n') + '\n';
}

/** Metrics that are wall-clock or machine facts: kept out of the tidy outcome (timing.csv has them). */
const TIMING = new Set(['perf.wallMs', 'perf.peakRssBytes']);

/** The pooled rates of a run: successes and trials. */
function rateCounts(r: RunResult): Record<string, [number, number]> {
  const honest = r.detection.perNodeMs.length;
  const detected = r.detection.perNodeMs.filter((x) => x !== null).length;
  const out: Record<string, [number, number]> = {
    falseAcceptRate: [r.clients.falseAccepts, r.clients.total],
    fractionDetected: [detected, honest],
  };
  const forked = r.model?.forkedAccepts ?? r.live?.forkedAccepts;
  if (forked !== undefined) out.forkedAcceptRate = [forked, r.clients.total];
  if (r.forkAtMs !== null) out.allDetected = [r.detection.allMs !== null ? 1 : 0, 1];
  const protectedClients = r.clients.perClient?.detectMs.filter((x) => x !== null).length;
  if (protectedClients !== undefined) out.clientsProtected = [protectedClients, r.clients.total];
  if (r.monitors) out.monitorsDetected = [r.monitors.perNodeMs.filter((x) => x !== null).length, r.monitors.count];
  // Populations following several logs: the rates above are over any log; per log, its followers are the trials.
  for (const x of r.clients.perLog ?? []) {
    out[`falseAcceptRate.log.${x.log}`] = [x.falseAccepts, x.clients];
    out[`forkedAcceptRate.log.${x.log}`] = [x.forkedAccepts, x.clients];
    out[`clientsProtected.log.${x.log}`] = [x.protected, x.clients];
  }
  return out;
}

/** Writes the tidy files of a sweep (see the header of this file); returns their paths. */
export function writeTidy(dir: string, spec: SweepSpec, points: readonly { index: number; values: readonly SweepValue[] }[], records: readonly RunRecord[], timing?: readonly { run: number; wallMs: number; peakRssBytes: number; load1: number }[]): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  const pcols = spec.params.map((p) => p.path);
  const pv = (point: number) => points[point].values;
  put(
    'observations.csv',
    table(
      ['run', 'point', ...pcols, 'seed', 'metric', 'value'],
      records.flatMap((r) =>
        Object.entries(flatMetrics(r.result))
          .filter(([m]) => !TIMING.has(m))
          .map(([m, v]) => [r.run, r.point, ...pv(r.point), r.seed, m, v]),
      ),
    ),
  );
  put('nodes.csv', table(['run', 'point', ...pcols, 'seed', 'node', 'detection_ms'], records.flatMap((r) => r.result.detection.perNodeMs.map((t, i) => [r.run, r.point, ...pv(r.point), r.seed, i, t]))));
  put(
    'clients.csv',
    table(
      ['run', 'point', ...pcols, 'seed', 'client', 'population', 'branch', 'trusted_colluders', 'accept_ms', 'detect_ms', 'false_accept', 'forked_accept', 'accept_latency_ms', 'log'],
      records.flatMap((r) => {
        const pc = r.result.clients.perClient;
        if (!pc) return [];
        const pl = r.result.clients.perClientLog;
        // Populations following several logs: a row per (client, log), times from that log's fork.
        if (pl) return pl.client.map((c, j) => [r.run, r.point, ...pv(r.point), r.seed, c, pc.population[c], pl.branch[j], pc.trustedColluders[c], pl.acceptMs[j], pl.detectMs[j], pl.falseAccept[j], pl.forkedAccept[j], pl.acceptLatencyMs[j], pl.log[j]]);
        const log = (r.result.provenance.scenario as Partial<Scenario> | null)?.adversary?.log ?? 0;
        return pc.branch.map((b, c) => [r.run, r.point, ...pv(r.point), r.seed, c, pc.population[c], b, pc.trustedColluders[c], pc.acceptMs[c], pc.detectMs[c], pc.falseAccept[c], pc.forkedAccept[c], pc.acceptLatencyMs?.[c] ?? null, log]);
      }),
    ),
  );
  const rateRows: unknown[][] = [];
  const pointRows: unknown[][] = [];
  for (const p of points) {
    const rs = records.filter((r) => r.point === p.index);
    const pooled = new Map<string, [number, number]>();
    for (const r of rs)
      for (const [k, [x, n]] of Object.entries(rateCounts(r.result))) {
        const a = pooled.get(k) ?? [0, 0];
        pooled.set(k, [a[0] + x, a[1] + n]);
      }
    for (const [k, [x, n]] of pooled) {
      const [lo, hi] = wilson(x, n);
      rateRows.push([p.index, ...p.values, k, x, n, n === 0 ? null : x / n, lo, hi]);
    }
    for (const [m, s] of Object.entries(summarise(rs.map((r) => r.result)))) pointRows.push([p.index, ...p.values, m, s.mean, s.lo, s.hi, s.n]);
  }
  put('rates.csv', table(['point', ...pcols, 'rate', 'successes', 'trials', 'estimate', 'wilson_lo', 'wilson_hi'], rateRows));
  put('points.csv', table(['point', ...pcols, 'metric', 'mean', 'ci95_lo', 'ci95_hi', 'n'], pointRows));
  put(
    'provenance.json',
    JSON.stringify(
      {
        tool: 'gossip-witness simulate',
        version: spec.version,
        commit: spec.commit,
        mode: spec.mode,
        scenarioFile: spec.scenarioFile,
        scenarioHash: spec.scenarioHash,
        sweep: spec.params,
        seeds: spec.seeds,
        runs: records.length,
        points: points.map((p) => ({ point: p.index, values: p.values })),
        scenario: spec.scenario,
      },
      null,
      2,
    ) + '\n',
  );
  if (timing) put('timing.csv', table(['run', 'wall_ms', 'peak_rss_bytes', 'load1'], timing.map((t) => [t.run, t.wallMs, t.peakRssBytes, t.load1])));
  return written;
}
