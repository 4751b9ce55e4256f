// Simulator scenarios (docs/simulator.md#scenario-format): one YAML file, shared by model mode
// (src/sim/model/) and live mode (src/sim/live/). Every field but `name` has a default; durations
// are strings like "250ms", "30s", "10m", "1h". Errors read `scenario FILE: field.path: reason`.
//
//   name: small                      # label in reports
//   seed: 1                          # PRNG seed (CLI --seed overrides)
//   duration: 10m                    # network (simulated) time
//   network:
//     nodes: 20                      # gossiping witnesses (every node is a witness)
//     topology: random-regular       # random-regular | small-world | full: the peer graph
//     degree: 8                      # peers per node (random-regular, small-world)
//     rewire: 0.1                    # small-world: Watts-Strogatz rewiring probability
//     meshDegree: 6                  # gossipsub D: mesh peers per topic
//     meshLow: 4                     # Dlo (default ceil(2D/3)); below it the heartbeat grafts
//     meshHigh: 12                   # Dhi (default 2D); above it the heartbeat prunes
//     heartbeat: 1s                  # gossipsub heartbeat (mesh maintenance, IHAVE gossip)
//     gossipFactor: 0.25             # fraction of non-mesh peers sent IHAVE each heartbeat (lazy push)
//     gossipLazy: 6                  # Dlazy: at least this many of them
//     latency: { distribution: lognormal, median: 50ms, p99: 300ms }  # or uniform {min,max}, fixed {median}
//     loss: 0.01                     # per-transmission drop probability
//     partitions: [{ at: 5m, until: 8m, fraction: 0.5 }]  # fraction of nodes cut off from the rest,
//                                    # or byBranch: true (branch-B witnesses cut off from the rest)
//     churn: { rate: 0.5, downtime: 2m }   # expected failures per node per hour; how long each lasts
//     messages: per-witness          # per-witness: each witness publishes its own message per checkpoint (as the
//                                    # real node); coalesced: one flood per checkpoint text (scales to 10^4+ nodes)
//   logs:
//     count: 2                       # logs (origins sim.example/log0, ...)
//     interval: 1m                   # checkpoint publish period of each log
//     batch: 16                      # leaves appended per checkpoint
//   witnesses:
//     pollInterval: 30s              # witnesses not pushed to poll the log this often (±50% jitter)
//     push: 0.5                      # fraction of witnesses the log pushes each checkpoint to, or "all"
//     knownWitnesses: all            # how many other witnesses each tracks (cosignatures it verifies and counts), or "all"
//   adversary:                       # omit for an honest run
//     forkAt: 3m                     # the log forks at its first checkpoint at or after this time ...
//     log: 0                         # ... this log (index)
//     branchB: { fraction: 0.5 }     # witnesses shown branch B: a fraction, or { nodes: [0, 3, 7] }
//     clientsB: 0.5                  # fraction of clients shown branch B
//     colluding: 0                   # colluding witnesses: cosign both branches, never report evidence
//     eclipse: { target: 0, attackers: 8 }   # attacker peers that surround node `target` and relay nothing
//     droppers: { fraction: 0.1, dropRate: 1, delay: 0ms }  # nodes that drop (or delay) what they should relay
//   clients:
//     count: 100                     # clients (not gossip nodes)
//     policy: { k: 3, n: 5 }         # k-of-n over n witnesses the client trusts, or { group: "k-of-n policy text" }
//     fetch: { witnesses: 5, interval: 1m }  # how many of its n witnesses a client asks, and how often
//   signatures: memoised             # real | memoised | modelled (docs/simulator.md#signatures)
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../config.js';

export type Topology = 'random-regular' | 'small-world' | 'full';
export type LatencyModel =
  | { readonly distribution: 'lognormal'; readonly medianMs: number; readonly p99Ms: number }
  | { readonly distribution: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly distribution: 'fixed'; readonly medianMs: number };

export interface Scenario {
  readonly name: string;
  readonly seed: number;
  readonly durationMs: number;
  readonly network: {
    readonly nodes: number;
    readonly topology: Topology;
    readonly degree: number;
    readonly rewire: number;
    readonly meshDegree: number;
    readonly meshLow: number;
    readonly meshHigh: number;
    readonly heartbeatMs: number;
    readonly gossipFactor: number;
    readonly gossipLazy: number;
    readonly latency: LatencyModel;
    readonly loss: number;
    /** Nodes cut off from the rest: a random fraction, or (byBranch) the witnesses shown branch B. */
    readonly partitions: readonly { readonly atMs: number; readonly untilMs: number; readonly fraction: number; readonly byBranch: boolean }[];
    readonly churn: { readonly rate: number; readonly downtimeMs: number };
    readonly messages: 'per-witness' | 'coalesced';
  };
  readonly logs: { readonly count: number; readonly intervalMs: number; readonly batch: number };
  readonly witnesses: {
    readonly pollIntervalMs: number;
    /** Fraction of witnesses the log pushes to (1 = all). */
    readonly push: number;
    /** Other witnesses each node tracks; nodes-1 means all. */
    readonly knownWitnesses: number;
  };
  readonly adversary: {
    readonly forkAtMs: number;
    readonly log: number;
    /** Exactly one of fraction / nodes. */
    readonly branchB: { readonly fraction: number } | { readonly nodes: readonly number[] };
    readonly clientsB: number;
    readonly colluding: number;
    readonly eclipse: { readonly target: number; readonly attackers: number } | null;
    readonly droppers: { readonly fraction: number; readonly dropRate: number; readonly delayMs: number } | null;
  } | null;
  readonly clients: {
    readonly count: number;
    readonly policy: { readonly k: number; readonly n: number; readonly group: string | null };
    readonly fetch: { readonly witnesses: number; readonly intervalMs: number };
  };
  readonly signatures: 'real' | 'memoised' | 'modelled';
}

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly { path: string; reason: string }[],
  ) {
    super(problems.map((p) => `scenario ${file}: ${p.path ? p.path + ': ' : ''}${p.reason}`).join('\n'));
    this.name = 'ScenarioError';
  }
}

const dur = z.string({ error: 'must be a duration like 500ms, 30s, 10m, 1h' });
const frac = z.number({ error: 'must be a number between 0 and 1' }).min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' });
const count = (min: number) => z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).min(min, { error: `must be at least ${min}` });

const Schema = z.strictObject({
  name: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  seed: count(0).optional(),
  duration: dur.optional(),
  network: z
    .strictObject({
      nodes: count(2).max(1_000_000, { error: 'at most 1000000' }),
      topology: z.enum(['random-regular', 'small-world', 'full'], { error: 'must be random-regular, small-world or full' }).optional(),
      degree: count(1).optional(),
      rewire: frac.optional(),
      meshDegree: count(1).optional(),
      meshLow: count(0).optional(),
      meshHigh: count(1).optional(),
      heartbeat: dur.optional(),
      gossipFactor: frac.optional(),
      gossipLazy: count(0).optional(),
      latency: z
        .strictObject({
          distribution: z.enum(['lognormal', 'uniform', 'fixed'], { error: 'must be lognormal, uniform or fixed' }),
          median: dur.optional(),
          p99: dur.optional(),
          min: dur.optional(),
          max: dur.optional(),
        })
        .optional(),
      loss: frac.optional(),
      partitions: z.array(z.strictObject({ at: dur, until: dur, fraction: frac.optional(), byBranch: z.boolean({ error: 'must be true or false' }).optional() })).optional(),
      messages: z.enum(['per-witness', 'coalesced'], { error: 'must be per-witness or coalesced' }).optional(),
      churn: z.strictObject({ rate: z.number({ error: 'must be a number (failures per node per hour)' }).min(0, { error: 'must not be negative' }), downtime: dur }).optional(),
    })
    .optional(),
  logs: z.strictObject({ count: count(1).max(1000).optional(), interval: dur.optional(), batch: count(1).max(1_000_000).optional() }).optional(),
  witnesses: z
    .strictObject({
      pollInterval: dur.optional(),
      push: z.union([frac, z.literal('all')], { error: 'must be a fraction between 0 and 1 or "all"' }).optional(),
      knownWitnesses: z.union([count(0), z.literal('all')], { error: 'must be a count or "all"' }).optional(),
    })
    .optional(),
  adversary: z
    .strictObject({
      forkAt: dur,
      log: count(0).optional(),
      branchB: z.union([z.strictObject({ fraction: frac }), z.strictObject({ nodes: z.array(count(0)).min(1) })], { error: 'must be { fraction: F } or { nodes: [ids] }' }).optional(),
      clientsB: frac.optional(),
      colluding: count(0).optional(),
      eclipse: z.strictObject({ target: count(0), attackers: count(1) }).optional(),
      droppers: z.strictObject({ fraction: frac, dropRate: frac.optional(), delay: dur.optional() }).optional(),
    })
    .optional(),
  clients: z
    .strictObject({
      count: count(0).optional(),
      policy: z.union([z.strictObject({ k: count(1), n: count(1) }), z.strictObject({ group: z.string().min(1) })], { error: 'must be { k, n } or { group: "k-of-n" }' }).optional(),
      fetch: z.strictObject({ witnesses: count(1).optional(), interval: dur.optional() }).optional(),
    })
    .optional(),
  signatures: z.enum(['real', 'memoised', 'modelled'], { error: 'must be real, memoised or modelled' }).optional(),
});

type Problems = { path: string; reason: string }[];

function ms(problems: Problems, path: string, s: string | undefined, dflt: number, min = 0): number {
  if (s === undefined) return dflt;
  const v = parseDuration(s);
  if (v === null) {
    problems.push({ path, reason: `must be a duration like 500ms, 30s, 10m, 1h (got ${JSON.stringify(s)})` });
    return dflt;
  }
  if (v < min) problems.push({ path, reason: `must be at least ${min}ms` });
  return v;
}

/** Parses a k-of-n group string ("3-of-5" or "3 of 5"). */
function parseGroup(s: string): { k: number; n: number } | null {
  const m = /^\s*(\d+)\s*(?:-of-|of|\/)\s*(\d+)\s*$/.exec(s);
  return m ? { k: Number(m[1]), n: Number(m[2]) } : null;
}

/** The YAML document as a plain object (for sweeps: set a parameter, then parseScenario it). */
export function readScenarioObject(text: string, file = 'scenario.yaml'): unknown {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new ScenarioError(file, doc.errors.map((e) => ({ path: '', reason: `YAML: ${e.message.split('\n')[0]}` })));
  return doc.toJS();
}

/** Parses scenario YAML text (or its object form); throws ScenarioError listing every problem. */
export function parseScenario(input: string | object, file = 'scenario.yaml'): Scenario {
  const r = Schema.safeParse(typeof input === 'string' ? readScenarioObject(input, file) : input);
  if (!r.success) throw new ScenarioError(file, r.error.issues.map((i) => ({ path: i.path.join('.'), reason: i.message })));
  const d = r.data;
  const p: Problems = [];
  const net = d.network ?? { nodes: 20 };
  const nodes = net.nodes;
  const degree = Math.min(net.degree ?? 8, nodes - 1);
  const meshDegree = Math.min(net.meshDegree ?? 6, nodes - 1);
  const meshLow = net.meshLow ?? Math.ceil((2 * meshDegree) / 3);
  const meshHigh = net.meshHigh ?? 2 * meshDegree;
  if (meshLow > meshDegree) p.push({ path: 'network.meshLow', reason: `must not exceed meshDegree (${meshDegree})` });
  if (meshHigh > 255) p.push({ path: 'network.meshHigh', reason: 'must be at most 255' });
  if (meshHigh < meshDegree) p.push({ path: 'network.meshHigh', reason: `must be at least meshDegree (${meshDegree})` });
  let latency: LatencyModel = { distribution: 'lognormal', medianMs: 50, p99Ms: 300 };
  if (net.latency) {
    const l = net.latency;
    if (l.distribution === 'uniform') {
      if (l.min === undefined || l.max === undefined) p.push({ path: 'network.latency', reason: 'uniform needs min and max' });
      const minMs = ms(p, 'network.latency.min', l.min, 10);
      const maxMs = ms(p, 'network.latency.max', l.max, 100);
      if (maxMs < minMs) p.push({ path: 'network.latency.max', reason: 'must be at least min' });
      latency = { distribution: 'uniform', minMs, maxMs };
    } else if (l.distribution === 'fixed') {
      if (l.median === undefined) p.push({ path: 'network.latency.median', reason: 'fixed needs median (the latency)' });
      latency = { distribution: 'fixed', medianMs: ms(p, 'network.latency.median', l.median, 50) };
    } else {
      const medianMs = ms(p, 'network.latency.median', l.median, 50, 1);
      const p99Ms = ms(p, 'network.latency.p99', l.p99, Math.max(300, medianMs), 1);
      if (p99Ms < medianMs) p.push({ path: 'network.latency.p99', reason: 'must be at least median' });
      latency = { distribution: 'lognormal', medianMs, p99Ms };
    }
  }
  const partitions = (net.partitions ?? []).map((x, i) => {
    const atMs = ms(p, `network.partitions.${i}.at`, x.at, 0);
    const untilMs = ms(p, `network.partitions.${i}.until`, x.until, 0);
    if (untilMs <= atMs) p.push({ path: `network.partitions.${i}.until`, reason: 'must be after at' });
    if (x.fraction === undefined && !x.byBranch) p.push({ path: `network.partitions.${i}`, reason: 'needs fraction, or byBranch: true' });
    return { atMs, untilMs, fraction: x.fraction ?? 0, byBranch: x.byBranch ?? false };
  });
  const durationMs = ms(p, 'duration', d.duration, 600_000, 1000);
  const logs = { count: d.logs?.count ?? 1, intervalMs: ms(p, 'logs.interval', d.logs?.interval, 60_000, 100), batch: d.logs?.batch ?? 16 };
  const w = d.witnesses ?? {};
  const push = w.push === undefined || w.push === 'all' ? (w.push === 'all' ? 1 : 0.5) : w.push;
  const knownWitnesses = w.knownWitnesses === undefined || w.knownWitnesses === 'all' ? nodes - 1 : Math.min(w.knownWitnesses, nodes - 1);
  let adversary: Scenario['adversary'] = null;
  if (d.adversary) {
    const a = d.adversary;
    const log = a.log ?? 0;
    if (log >= logs.count) p.push({ path: 'adversary.log', reason: `must be a log index below logs.count (${logs.count})` });
    const branchB = a.branchB ?? { fraction: 0.5 };
    if ('nodes' in branchB) branchB.nodes.forEach((n, i) => n >= nodes && p.push({ path: `adversary.branchB.nodes.${i}`, reason: `node ${n} does not exist (nodes: ${nodes})` }));
    const colluding = a.colluding ?? 0;
    if (colluding > nodes) p.push({ path: 'adversary.colluding', reason: `more than the ${nodes} nodes` });
    if (a.eclipse && a.eclipse.target >= nodes) p.push({ path: 'adversary.eclipse.target', reason: `node ${a.eclipse.target} does not exist (nodes: ${nodes})` });
    const forkAtMs = ms(p, 'adversary.forkAt', a.forkAt, 0);
    if (forkAtMs >= durationMs) p.push({ path: 'adversary.forkAt', reason: 'must be before the end of the run (duration)' });
    adversary = {
      forkAtMs,
      log,
      branchB,
      clientsB: a.clientsB ?? 0.5,
      colluding,
      eclipse: a.eclipse ?? null,
      droppers: a.droppers ? { fraction: a.droppers.fraction, dropRate: a.droppers.dropRate ?? 1, delayMs: ms(p, 'adversary.droppers.delay', a.droppers.delay, 0) } : null,
    };
  }
  const c = d.clients ?? {};
  let policy = { k: 1, n: Math.min(3, nodes), group: null as string | null };
  if (c.policy) {
    if ('group' in c.policy) {
      const g = parseGroup(c.policy.group);
      if (!g) p.push({ path: 'clients.policy.group', reason: 'must be "K-of-N", e.g. "3-of-5"' });
      else policy = { ...g, group: c.policy.group };
    } else policy = { k: c.policy.k, n: c.policy.n, group: null };
  }
  if (policy.k > policy.n) p.push({ path: 'clients.policy.k', reason: `must not exceed n (${policy.n})` });
  if (policy.n > nodes) p.push({ path: 'clients.policy.n', reason: `must not exceed network.nodes (${nodes})` });
  const fetchW = c.fetch?.witnesses ?? policy.n;
  if (fetchW > policy.n) p.push({ path: 'clients.fetch.witnesses', reason: `must not exceed policy n (${policy.n})` });
  const scenario: Scenario = {
    name: d.name,
    seed: d.seed ?? 1,
    durationMs,
    network: {
      nodes,
      topology: net.topology ?? 'random-regular',
      degree,
      rewire: net.rewire ?? 0.1,
      meshDegree,
      meshLow,
      meshHigh,
      heartbeatMs: ms(p, 'network.heartbeat', net.heartbeat, 1000, 10),
      gossipFactor: net.gossipFactor ?? 0.25,
      gossipLazy: net.gossipLazy ?? 6,
      latency,
      loss: net.loss ?? 0,
      partitions,
      messages: net.messages ?? 'per-witness',
      churn: net.churn ? { rate: net.churn.rate, downtimeMs: ms(p, 'network.churn.downtime', net.churn.downtime, 120_000) } : { rate: 0, downtimeMs: 0 },
    },
    logs,
    witnesses: { pollIntervalMs: ms(p, 'witnesses.pollInterval', w.pollInterval, 30_000, 100), push, knownWitnesses },
    adversary,
    clients: { count: c.count ?? 0, policy, fetch: { witnesses: fetchW, intervalMs: ms(p, 'clients.fetch.interval', c.fetch?.interval, 60_000, 100) } },
    signatures: d.signatures ?? 'memoised',
  };
  if (p.length > 0) throw new ScenarioError(file, p);
  return scenario;
}

/** Reads and parses a scenario file (CLI entry point). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', reason: `cannot read: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}

/** Reads a scenario file as its YAML object (sweeps: withParameter, then parseScenario). */
export function loadScenarioObject(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', reason: `cannot read: ${(e as Error).message}` }]);
  }
  return readScenarioObject(text, file);
}

/**
 * A copy of a scenario's YAML object with one dotted parameter set, for sweeps (e.g. "network.nodes",
 * "adversary.colluding", "adversary.branchB.fraction"); parse the result with parseScenario so that
 * defaults derived from it (meshLow, knownWitnesses: all, ...) follow.
 */
export function withParameter(raw: unknown, path: string, value: number | string): object {
  const copy = structuredClone(raw ?? {}) as Record<string, unknown>;
  const keys = path.split('.');
  let o = copy;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === undefined) o[k] = {};
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) throw new ScenarioError('(sweep)', [{ path, reason: `${k} is not an object` }]);
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
  return copy;
}
