// Sweeps: run one scenario over several values of one parameter (a dotted path into the scenario,
// e.g. "network.nodes" or "adversary.fraction"), several seeds each, and summarise every metric
// as a mean with a 95% Student-t confidence interval over the seeds.
import type { RunResult, SweepPoint, SweepResult } from './result.js';
import { parseScenario, ScenarioError, withParameter as setYamlParameter, type LatencyModel, type Population, type Scenario } from './scenario.js';
import { tInterval } from './stats.js';
import { EXCHANGE_TICK_MS } from '../gossip/exchange.js';
import { GossipWitnessError } from '../errors.js';

export class SweepError extends GossipWitnessError {
  constructor(message: string) {
    super({ code: 'USAGE', message });
    this.name = 'SweepError';
  }
}

/** The summary metrics of a sweep point, by name, read from one run. */
export const SUMMARY_METRICS: Readonly<Record<string, (r: RunResult) => number | null>> = {
  'detection.firstMs': (r) => r.detection.firstMs,
  'detection.allMs': (r) => r.detection.allMs,
  fractionDetected: (r) => r.detection.fractionDetected,
  falseAcceptRate: (r) => r.clients.falseAcceptRate,
  // Accepted a branch-B checkpoint at all (a split view only if branch A also had a quorum).
  forkedAcceptRate: (r) => {
    const n = r.model?.forkedAccepts ?? r.live?.forkedAccepts;
    return n === undefined || r.clients.total === 0 ? null : n / r.clients.total;
  },
  bytesPerNodePerHour: (r) => r.traffic.bytesPerNodePerHour,
  messagesPerNodePerHour: (r) => r.traffic.messagesPerNodePerHour,
  deliveryRatio: (r) => r.traffic.deliveryRatio,
  propagationP50Ms: (r) => r.traffic.propagationP50Ms,
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Checks that `path` names an existing numeric field of the parsed scenario (every segment an
 * existing key; list elements by index): a typo fails here, with the fields that do exist, instead
 * of sweeping a field nobody reads.
 */
export function checkParameter(scenario: Scenario, path: string): void {
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(path)) throw new SweepError(`sweep parameter ${JSON.stringify(path)}: expected a dotted path such as network.nodes`);
  const parts = path.split('.');
  let cur: unknown = scenario;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i];
    const here = parts.slice(0, i).join('.') || 'the scenario';
    const has = Array.isArray(cur) ? /^\d+$/.test(key) && Number(key) < cur.length : isObject(cur) && Object.hasOwn(cur, key);
    if (!has) {
      const keys = Array.isArray(cur) ? [`0..${cur.length - 1}`] : isObject(cur) ? Object.keys(cur) : [];
      const why = cur === null ? `${here} is not set in this scenario` : keys.length > 0 ? `fields there: ${keys.join(', ')}` : `${here} is not an object`;
      throw new SweepError(`sweep parameter ${path}: unknown field ${JSON.stringify(key)} in ${here} (${why})`);
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur !== 'number') throw new SweepError(`sweep parameter ${path}: the field is ${Array.isArray(cur) ? 'a list' : typeof cur}, not a number`);
}

/** The YAML path and value of a parsed-scenario path: durations are fooMs in the parsed form, foo: "Nms" in YAML. */
function yamlPath(path: string, value: number): { path: string; value: number | string } {
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  if (/Ms$/.test(last)) {
    const base = last.slice(0, -2);
    parts[parts.length - 1] = base === 'duration' ? 'duration' : base;
    return { path: parts.join('.'), value: `${value}ms` };
  }
  return { path, value };
}

const ms = (x: number) => `${x}ms`;

/**
 * The YAML object form of a parsed scenario (the inverse of parseScenario, up to equivalent
 * spellings), so that a swept copy is validated and its derived defaults recomputed by
 * parseScenario. Fields that were derived from the node count are left out when they still equal
 * their derivation, so sweeping network.nodes re-derives them ("all" stays all).
 */
function latYaml(l: LatencyModel): Record<string, unknown> {
  return l.distribution === 'uniform'
    ? { distribution: 'uniform', min: ms(l.minMs), max: ms(l.maxMs) }
    : l.distribution === 'fixed'
      ? { distribution: 'fixed', median: ms(l.medianMs) }
      : { distribution: 'lognormal', median: ms(l.medianMs), p99: ms(l.p99Ms) };
}

const sel = (w: { fraction: number } | { nodes: readonly number[] }) => ('nodes' in w ? { nodes: [...w.nodes] } : { fraction: w.fraction });

export function scenarioToYamlObject(s: Scenario): Record<string, unknown> {
  const n = s.network;
  const lat = latYaml(n.latency);
  const a = s.adversary;
  const sched = (x: { atMs: number; untilMs: number | null; batch: number; lagMs: number }) => ({
    ...(a && x.atMs !== a.forkAtMs ? { at: ms(x.atMs) } : {}),
    ...(x.untilMs !== null ? { until: ms(x.untilMs) } : {}),
    ...(x.batch !== s.logs.batch ? { batch: x.batch } : {}),
    ...(x.lagMs > 0 ? { lag: ms(x.lagMs) } : {}),
  });
  const pops = s.clients.populations;
  const popYaml = (p: Population) => ({
    name: p.name,
    count: p.count,
    policy: { k: p.policy.k, n: p.policy.n },
    fetch: { witnesses: p.fetch.witnesses, interval: ms(p.fetch.intervalMs), ...(p.fetch.delayMs > 0 ? { delay: ms(p.fetch.delayMs) } : {}) },
    ...(p.witnessSets.kind === 'popular' ? { witnessSets: { popular: p.witnessSets.sets, zipf: p.witnessSets.zipf } } : {}),
    ...(p.report ? { report: true } : {}),
    ...(p.logs ? { logs: [...p.logs] } : {}),
    ...(p.victims ? { victims: p.victims } : {}),
  });
  return {
    name: s.name,
    seed: s.seed,
    duration: ms(s.durationMs),
    network: {
      nodes: n.nodes,
      topology: n.topology,
      ...(n.degree < n.nodes - 1 ? { degree: n.degree } : {}),
      rewire: n.rewire,
      ...(n.meshDegree < n.nodes - 1 ? { meshDegree: n.meshDegree } : {}),
      ...(n.meshLow !== Math.ceil((2 * n.meshDegree) / 3) ? { meshLow: n.meshLow } : {}),
      ...(n.meshHigh !== 2 * n.meshDegree ? { meshHigh: n.meshHigh } : {}),
      heartbeat: ms(n.heartbeatMs),
      gossipFactor: n.gossipFactor,
      gossipLazy: n.gossipLazy,
      latency: lat,
      loss: n.loss,
      partitions: n.partitions.map((p) => ({
        at: ms(p.atMs),
        until: ms(p.untilMs),
        ...(p.byBranch ? { byBranch: true } : p.groups ? (p.kind === 'gossip' ? { groups: p.groups.map((g) => [...g]) } : { nodes: [...p.groups[0]] }) : { fraction: p.fraction }),
        ...(p.kind !== 'gossip' ? { kind: p.kind } : {}),
      })),
      messages: n.messages,
      ...(n.version !== 1 ? { version: n.version } : {}),
      ...(n.version !== 1 || n.exchangeTickMs !== EXCHANGE_TICK_MS ? { exchangeTick: ms(n.exchangeTickMs) } : {}),
      ...(n.retransmitMs !== null ? { retransmit: ms(n.retransmitMs) } : {}),
      ...(n.regions
        ? { regions: { names: [...n.regions.names], fractions: [...n.regions.fractions], latency: Object.fromEntries(Object.entries(n.regions.latency).map(([k, v]) => [k, latYaml(v)])), logRegion: n.regions.logRegion } }
        : {}),
      ...(n.behaviours.length > 0 ? { behaviours: n.behaviours.map((b) => ({ ...sel(b.witnesses), drop: b.drop, dropRate: b.dropRate, delay: ms(b.delayMs), ...(b.invalidRate > 0 ? { invalidRate: b.invalidRate } : {}), ...(b.pollIntervalMs !== null ? { pollInterval: ms(b.pollIntervalMs) } : {}), ...(b.push !== null ? { push: b.push } : {}) })) } : {}),
      ...(n.monitors.count > 0 ? { monitors: { count: n.monitors.count, ...(n.monitors.pollIntervalMs !== null ? { pollInterval: ms(n.monitors.pollIntervalMs) } : {}) } } : {}),
      ...(n.scoring
        ? (({ activationMs, graylistForMs, ...rest }) => ({ scoring: { ...rest, activation: ms(activationMs), graylistFor: ms(graylistForMs) } }))(n.scoring)
        : {}),
      ...(n.churn.rate > 0 ? { churn: { rate: n.churn.rate, downtime: ms(n.churn.downtimeMs) } } : {}),
    },
    logs: { count: s.logs.count, interval: ms(s.logs.intervalMs), batch: s.logs.batch },
    witnesses: { pollInterval: ms(s.witnesses.pollIntervalMs), push: s.witnesses.push, knownWitnesses: s.witnesses.knownWitnesses >= n.nodes - 1 ? 'all' : s.witnesses.knownWitnesses, ...(s.witnesses.mlDsa44 > 0 ? { mlDsa44: s.witnesses.mlDsa44 } : {}) },
    ...(a
      ? {
          adversary: {
            forkAt: ms(a.forkAtMs),
            log: a.log,
            branchB: { ...sel(a.branchB), ...sched(a.branchSchedule) },
            ...(a.branches.length > 0 ? { branches: a.branches.map((b) => ({ ...sel(b.witnesses), clients: b.clients, ...sched(b) })) } : {}),
            ...(a.forks.length > 0
              ? {
                  forks: a.forks.map((f) => ({
                    log: f.log,
                    forkAt: ms(f.forkAtMs),
                    ...(f.branchB ? { branchB: sel(f.branchB) } : {}),
                    ...(f.schedule ? { ...(f.schedule.untilMs !== null ? { until: ms(f.schedule.untilMs) } : {}), batch: f.schedule.batch, lag: ms(f.schedule.lagMs) } : {}),
                  })),
                }
              : {}),
            ...(a.targeting !== 'random' ? { targeting: a.targeting } : {}),
            ...(a.collusion.behaviour !== 'silent' || a.collusion.trust !== 'first' ? { collusion: { ...a.collusion } } : {}),
            ...(a.refuseProofs ? { refuseProofs: true } : {}),
            ...(a.offline.length > 0 ? { offline: a.offline.map((o) => ({ at: ms(o.atMs), until: ms(o.untilMs) })) } : {}),
            ...(a.eclipses.length > 0 ? { eclipses: a.eclipses.map((e) => ({ targets: [...e.targets], attackers: e.attackers, at: ms(e.atMs), until: ms(e.untilMs) })) } : {}),
            clientsB: a.clientsB,
            colluding: a.colluding,
            ...(a.eclipse ? { eclipse: { ...a.eclipse } } : {}),
            ...(a.droppers ? { droppers: { fraction: a.droppers.fraction, dropRate: a.droppers.dropRate, delay: ms(a.droppers.delayMs) } } : {}),
          },
        }
      : {}),
    clients:
      pops.length === 1 && pops[0].name === 'clients'
        ? (({ name: _n, ...rest }) => rest)(popYaml(pops[0]))
        : { populations: pops.map(popYaml) },
    signatures: s.signatures,
  };
}

/**
 * A copy of the scenario with the number at `path` (a path into the parsed Scenario, e.g.
 * network.nodes, adversary.colluding, adversary.branchB.fraction, witnesses.pollIntervalMs) set to
 * `value`, validated by parseScenario. `raw` is the scenario file's YAML object when at hand: it
 * keeps the file's own defaults (e.g. knownWitnesses: all) deriving from the swept value.
 */
export function scenarioWith(scenario: Scenario, path: string, value: number, raw?: unknown): Scenario {
  checkParameter(scenario, path);
  if (!Number.isFinite(value)) throw new SweepError(`sweep parameter ${path}: value ${value} is not a finite number`);
  const y = yamlPath(path, value);
  try {
    return parseScenario(setYamlParameter(raw ?? scenarioToYamlObject(scenario), y.path, y.value), `(sweep ${path}=${value})`);
  } catch (e) {
    if (e instanceof ScenarioError) throw new SweepError(`sweep parameter ${path} = ${value} gives an invalid scenario:\n${e.message}`);
    throw e;
  }
}

/** Mean and 95% CI of every summary metric over runs (runs where a metric is null are left out of it). */
export function summarise(runs: readonly RunResult[]): SweepPoint['summary'] {
  const out: Record<string, { mean: number; lo: number; hi: number; n: number }> = {};
  for (const [name, get] of Object.entries(SUMMARY_METRICS)) {
    const xs = runs.map(get).filter((x): x is number => x !== null && Number.isFinite(x));
    out[name] = tInterval(xs);
  }
  // P(every honest node detected within T): the mean over seeds of 0/1 outcomes.
  const ts = new Set(runs.flatMap((r) => Object.keys(r.detection.withinMs)));
  for (const t of ts) out[`detection.within.${t}`] = tInterval(runs.map((r) => r.detection.withinMs[t]).filter((x): x is number => typeof x === 'number'));
  // Populations following several logs: each per-log client metric (clients.log.L.*), over seeds.
  const perLog = new Set(runs.flatMap((r) => (r.clients.perLog ?? []).map((x) => x.log)));
  for (const l of [...perLog].sort((a, b) => a - b))
    for (const m of ['falseAcceptRate', 'protectedFraction', 'timeToAcceptP50Ms', 'timeToDetectP50Ms'] as const)
      out[`clients.log.${l}.${m}`] = tInterval(runs.map((r) => r.clients.perLog?.find((x) => x.log === l)?.[m]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
  return out;
}

export interface SweepOptions {
  /** The scenario file's YAML object (see scenarioWith). */
  readonly raw?: unknown;
  /** Called after each run: done and total runs. */
  readonly onProgress?: (done: number, total: number, last: RunResult) => void;
}

export async function runSweep(
  scenario: Scenario,
  parameter: string,
  values: readonly number[],
  seeds: readonly number[],
  run: (s: Scenario, seed: number) => Promise<RunResult>,
  opts: SweepOptions = {},
): Promise<SweepResult> {
  if (values.length === 0) throw new SweepError('sweep: no values');
  if (seeds.length === 0) throw new SweepError('sweep: no seeds');
  // Every value is checked before the first (possibly long) run.
  const scenarios = values.map((v) => scenarioWith(scenario, parameter, v, opts.raw));
  const points: SweepPoint[] = [];
  const total = values.length * seeds.length;
  let done = 0;
  let first: RunResult | undefined;
  for (const [i, value] of values.entries()) {
    const runs: RunResult[] = [];
    for (const seed of seeds) {
      const r = await run(scenarios[i], seed);
      first ??= r;
      runs.push(r);
      opts.onProgress?.(++done, total, r);
    }
    points.push({ value, runs, summary: summarise(runs) });
  }
  const { seed: _seed, ...rest } = first!.provenance;
  void _seed;
  return { provenance: { ...rest, scenario, seeds: [...seeds] }, parameter, points };
}
