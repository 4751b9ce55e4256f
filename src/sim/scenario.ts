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
//     retransmit: 200ms              # version 2: a lost exchange write is not dropped but arrives this much
//                                    # later, and later writes on that link wait for it (TCP: retransmission
//                                    # after Linux's minimum RTO, in-order delivery); absent: dropped
//     partitions: [{ at: 5m, until: 8m, fraction: 0.5 }]  # fraction of nodes cut off from the rest,
//                                    # or byBranch: true (branch-B witnesses cut off from the rest)
//     churn: { rate: 0.5, downtime: 2m }   # expected failures per node per hour; how long each lasts
//     messages: per-witness          # per-witness: each witness publishes its own message per checkpoint (as the
//                                    # real node); coalesced: one flood per checkpoint text (scales to 10^4+ nodes)
//     version: 2                     # gossip wire version (p2p.version): 1 (default here) or 2 (the exchange;
//                                    # version 1's messages setting does not apply; set meshDegree: 3 as the node does)
//     exchangeTick: 100ms            # version 2: how often a node writes to each eager peer (the coalescing interval)
//   logs:
//     count: 2                       # logs (origins sim.example/log0, ...)
//     interval: 1m                   # checkpoint publish period of each log
//     batch: 16                      # leaves appended per checkpoint
//   witnesses:
//     pollInterval: 30s              # witnesses not pushed to poll the log this often (±50% jitter)
//     push: 0.5                      # fraction of witnesses the log pushes each checkpoint to, or "all"
//     knownWitnesses: all            # how many other witnesses each tracks (cosignatures it verifies and counts), or "all"
//     mlDsa44: 0.25                  # fraction of witnesses with ML-DSA-44 keys (0x06 cosignatures; spread evenly by id)
//   adversary:                       # omit for an honest run
//     forkAt: 3m                     # the log forks at its first checkpoint at or after this time ...
//     log: 0                         # ... this log (index)
//     branchB: { fraction: 0.5 }     # witnesses shown branch B: a fraction, or { nodes: [0, 3, 7] }; monitors: F of the monitors
//     forks: [{ log: 1, forkAt: 6m }]  # further logs forking (same branches, schedule shifted by their forkAt;
//                                    # branchB: { fraction | nodes }: that log's own branch-B witnesses;
//                                    # until, batch, lag: that log's own branch-B schedule, until absolute)
//     clientsB: 0.5                  # fraction of clients shown branch B
//     colluding: 0                   # colluding witnesses: cosign both branches, never report evidence
//     eclipse: { target: 0, attackers: 8 }   # attacker peers that surround node `target` and relay nothing
//     droppers: { fraction: 0.1, dropRate: 1, delay: 0ms }  # nodes that drop (or delay) what they should relay
//   clients:
//     count: 100                     # clients (not gossip nodes)
//     policy: { k: 3, n: 5 }         # k-of-n over n witnesses the client trusts, or { group: "k-of-n policy text" }
//     fetch: { witnesses: 5, interval: 1m }  # how many of its n witnesses a client asks, and how often
//                                    # (+ delay: fixed; latency: a latency spec or "network": client-witness one-way latency)
//     logs: [0, 2]                   # logs the clients follow, or "all" (default: adversary.log, else 0)
//     victims: per-log               # same: one branch on every forked log followed (default); per-log: victims chosen per log
//   signatures: memoised             # real | memoised | modelled (docs/simulator.md#signatures)
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import * as v from 'valibot';
import { parseDuration } from '../config.js';
import { EXCHANGE_TICK_MS } from '../gossip/exchange.js';
import { GossipWitnessError } from '../errors.js';
import { formatProblems, int, mapping, num, record, validateDotted } from '../util/validate.js';

export type Topology = 'random-regular' | 'small-world' | 'full';
export type LatencyModel =
  | { readonly distribution: 'lognormal'; readonly medianMs: number; readonly p99Ms: number }
  | { readonly distribution: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly distribution: 'fixed'; readonly medianMs: number };

/** A branch the forked log shows besides A (B is the first; C, D, ... follow). */
export interface Branch {
  /** Witnesses shown this branch: a fraction of the non-colluding witnesses, or node ids. */
  readonly witnesses: { readonly fraction: number } | { readonly nodes: readonly number[] };
  /** Fraction of the clients shown this branch. */
  readonly clients: number;
  /** Fraction of the monitors (network.monitors) shown this branch (0: none; monitor ids may also be listed in nodes). */
  readonly monitors: number;
  /** The branch starts at the log's first publish at or after this time (ms; default: the fork). */
  readonly atMs: number;
  /** A transient branch: after this time the log shows its witnesses and clients branch A again (ms; null: never). */
  readonly untilMs: number | null;
  /** Leaves per checkpoint on this branch (default logs.batch: the same sizes as A). */
  readonly batch: number;
  /** Late serving: its checkpoints reach witnesses this much later (push and poll answers). */
  readonly lagMs: number;
}

export interface Partition {
  readonly atMs: number;
  readonly untilMs: number;
  readonly fraction: number;
  readonly byBranch: boolean;
  /** gossip: links between groups are cut; client-witness: clients cannot reach the nodes (colluding witnesses stay reachable: the attacker does the cutting); log-witness: the log cannot reach them. */
  readonly kind: 'gossip' | 'client-witness' | 'log-witness';
  /** Explicit groups of node ids (nodes in no group form group 0), or null (fraction / byBranch). */
  readonly groups: readonly (readonly number[])[] | null;
}

export interface Behaviour {
  readonly witnesses: { readonly fraction: number } | { readonly nodes: readonly number[] };
  /** What the node drops when it should relay it ('none': relays everything). */
  readonly drop: 'all' | 'evidence' | 'checkpoints' | 'none';
  /** Invalid messages per second it sends to each mesh peer (P4 of peer scoring). */
  readonly invalidRate: number;
  readonly dropRate: number;
  readonly delayMs: number;
  /** The class's own poll interval (±50 % jitter, as witnesses.pollInterval); null: the global one. */
  readonly pollIntervalMs: number | null;
  /** true: the log pushes to every node of the class; false: they all poll; null: witnesses.push decides. */
  readonly push: boolean | null;
}

export interface Population {
  readonly name: string;
  readonly count: number;
  readonly policy: { readonly k: number; readonly n: number; readonly group: string | null };
  /**
   * delayMs: fixed time before the answers; latency: the client-witness one-way latency, each answer
   * taking a round trip (two draws): a model of its own, 'network' (network.latency, or the region
   * matrix with clients spread over the regions like the nodes), or null (answers are instant).
   */
  readonly fetch: { readonly witnesses: number; readonly intervalMs: number; readonly delayMs: number; readonly latency: LatencyModel | 'network' | null };
  /** uniform: n random witnesses each; popular: one of `sets` shared sets, chosen with Zipf weight 1/rank^zipf. */
  readonly witnessSets: { readonly kind: 'uniform' } | { readonly kind: 'popular'; readonly sets: number; readonly zipf: number };
  /** Clients hand what they fetched (and evidence they got) to the witnesses they asked (STH pollination). */
  readonly report: boolean;
  /**
   * The logs the population follows (`logs: [0, 2]` or `logs: all`), resolved to indices; absent: the
   * one log clients always followed (adversary.log, else 0), with that log's old evidence rule (see
   * docs/simulator.md#client-populations-following-several-logs). Absent from files that do not say it,
   * so their parsed form and scenario hash are unchanged.
   */
  readonly logs?: readonly number[];
  /** same: a client is shown the same branch on every forked log it follows; per-log: each forked log picks its own victims (absent: same). */
  readonly victims?: 'same' | 'per-log';
}

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
    readonly partitions: readonly Partition[];
    readonly churn: { readonly rate: number; readonly downtimeMs: number };
    readonly messages: 'per-witness' | 'coalesced';
    /** Gossip wire version (the node's p2p.version): 1 (gossipsub messages) or 2 (the exchange protocol). */
    readonly version: 1 | 2;
    /** Version 2: the exchange's write interval per peer (src/gossip/exchange.ts EXCHANGE_TICK_MS by default). */
    readonly exchangeTickMs: number;
    /** Version 2: a lost exchange write arrives this much later instead of being dropped (null: dropped). */
    readonly retransmitMs: number | null;
    /** Latency by region pair (null: the global latency for every link). */
    readonly regions: { readonly names: readonly string[]; readonly fractions: readonly number[]; readonly latency: Readonly<Record<string, LatencyModel>>; readonly logRegion: string } | null;
    /** Per-node behaviour classes (droppers of everything, of evidence only, ...). */
    readonly behaviours: readonly Behaviour[];
    /** Gossip nodes that are not witnesses: monitors poll the log and gossip what they see, distributors only relay. */
    readonly monitors: { readonly count: number; readonly pollIntervalMs: number | null };
    /**
     * gossipsub v1.1 peer scoring as the node configures it (docs/gossip.md#peer-scoring): P1 time in
     * mesh, P2 first deliveries, P3 mesh delivery deficit (off unless meshDeliveryWeight < 0), P4
     * invalid messages; below 0 a peer is pruned and not grafted, below graylist it is disconnected
     * for graylistFor. Null: no scoring.
     */
    readonly scoring: {
      readonly timeInMeshWeight: number;
      readonly firstDeliveryWeight: number;
      readonly firstDeliveryCap: number;
      readonly firstDeliveryDecay: number;
      readonly meshDeliveryThreshold: number;
      readonly meshDeliveryWeight: number;
      readonly meshDeliveryDecay: number;
      readonly activationMs: number;
      readonly invalidWeight: number;
      readonly invalidDecay: number;
      readonly topicCap: number;
      readonly graylist: number;
      readonly graylistForMs: number;
    } | null;
  };
  readonly logs: { readonly count: number; readonly intervalMs: number; readonly batch: number };
  readonly witnesses: {
    readonly pollIntervalMs: number;
    /** Fraction of witnesses the log pushes to (1 = all). */
    readonly push: number;
    /** Other witnesses each node tracks; nodes-1 means all. */
    readonly knownWitnesses: number;
    /** Fraction of witnesses whose key is ML-DSA-44 (mlDsa44Witnesses says which). */
    readonly mlDsa44: number;
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
    /** Schedules and sizes of branch B (and of later branches, `branches`). */
    readonly branchSchedule: { readonly atMs: number; readonly untilMs: number | null; readonly batch: number; readonly lagMs: number };
    /** Further branches C, D, ... */
    readonly branches: readonly Branch[];
    /** Fraction of the monitors shown branch B (branchB.monitors). */
    readonly branchMonitors: number;
    /** Further logs that fork (adversary.forks), each at its own time, with the same branches: the branch schedules shift by forkAt - adversary.forkAt. */
    readonly forks: readonly { readonly log: number; readonly forkAtMs: number; /** This log's own branch-B witnesses (null: those of adversary.branchB). */ readonly branchB: { readonly fraction: number } | { readonly nodes: readonly number[] } | null; /** This log's own branch-B schedule (null: adversary.branchB's, shifted): until is absolute; the branch starts at the fork. */ readonly schedule: { readonly untilMs: number | null; readonly batch: number; readonly lagMs: number } | null }[];
    /** How the attacker picks the clients shown a forked branch: random, those trusting most witnesses that cosign it, those trusting an eclipsed witness. */
    readonly targeting: 'random' | 'trusted' | 'eclipse';
    /** silent: publish and relay nothing about the forked log; selective: gossip branch A only; leak: relay/publish with probability leakRate. trust first: clients trust every colluder first (worst case), random: colluders are part of the random choice. */
    readonly collusion: { readonly behaviour: 'silent' | 'selective' | 'leak'; readonly leakRate: number; readonly trust: 'first' | 'random' };
    /** The log refuses consistency proofs after the fork (no evidence from checkpoints of different sizes). */
    readonly refuseProofs: boolean;
    /** Windows in which the log is offline: no publishing, pushes, poll answers, proofs or client fetches. */
    readonly offline: readonly { readonly atMs: number; readonly untilMs: number }[];
    /** Eclipses with start and heal times: attackers surround the targets, whose other links are cut in the window. */
    readonly eclipses: readonly { readonly targets: readonly number[]; readonly attackers: number; readonly atMs: number; readonly untilMs: number }[];
  } | null;
  readonly clients: {
    readonly count: number;
    readonly policy: { readonly k: number; readonly n: number; readonly group: string | null };
    readonly fetch: { readonly witnesses: number; readonly intervalMs: number };
    /** Client populations (the fields above describe the first; a file without populations has one). */
    readonly populations: readonly Population[];
  };
  readonly signatures: 'real' | 'memoised' | 'modelled';
}

export class ScenarioError extends GossipWitnessError {
  constructor(
    readonly file: string,
    readonly problems: readonly { path: string; reason: string }[],
  ) {
    super({ code: 'BAD_INPUT', message: formatProblems('scenario', file, problems) });
    this.name = 'ScenarioError';
  }
}

/** A non-empty list. */
const list = <const S extends v.GenericSchema>(item: S, message: string) => v.pipe(v.array(item, message), v.minLength(1, 'must not be empty'));

const dur = v.string('must be a duration like 500ms, 30s, 10m, 1h');
const frac = v.pipe(num('must be a number between 0 and 1'), v.minValue(0, 'must be between 0 and 1'), v.maxValue(1, 'must be between 0 and 1'));
const count = (min: number) => v.pipe(int('must be an integer'), v.minValue(min, `must be at least ${min}`));
const countTo = (min: number, max: number, message = `must be at most ${max}`) => v.pipe(count(min), v.maxValue(max, message));
const nonNegative = v.pipe(num('must be a number'), v.minValue(0, 'must not be negative'));
const penalty = (message: string) => v.pipe(num('must be a number'), v.maxValue(0, message));
const bool = v.boolean('must be true or false');
const nodeIds = list(count(0), 'must be a list of node ids');
const nonEmpty = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'));

const nodeSel = v.union([mapping({ fraction: frac }, 'must be { fraction: F }'), mapping({ nodes: nodeIds }, 'must be { nodes: [ids] }')], 'must be { fraction: F } or { nodes: [ids] }');
const latencySchema = mapping(
  {
    distribution: v.picklist(['lognormal', 'uniform', 'fixed'], 'must be lognormal, uniform or fixed'),
    median: v.optional(dur),
    p99: v.optional(dur),
    min: v.optional(dur),
    max: v.optional(dur),
  },
  'must be a latency model like { distribution: lognormal, median: 50ms, p99: 300ms }',
);
const policySchema = v.union([mapping({ k: count(1), n: count(1) }, 'must be { k, n }'), mapping({ group: nonEmpty }, 'must be { group: "k-of-n" }')], 'must be { k, n } or { group: "k-of-n" }');
const branchSchema = mapping(
  {
    fraction: v.optional(frac),
    nodes: v.optional(nodeIds),
    clients: v.optional(frac),
    monitors: v.optional(frac),
    at: v.optional(dur),
    until: v.optional(dur),
    batch: v.optional(countTo(1, 1_000_000)),
    lag: v.optional(dur),
  },
  'must be a mapping (fraction or nodes, clients, monitors, at, until, batch, lag)',
);
const fetchSchema = mapping(
  { witnesses: v.optional(count(1)), interval: v.optional(dur), delay: v.optional(dur), latency: v.optional(v.union([v.literal('network'), latencySchema], 'must be "network" or a latency model')) },
  'must be a mapping (witnesses, interval, delay, latency)',
);
const witnessSetsSchema = v.union([v.literal('uniform'), mapping({ popular: count(1), zipf: v.optional(nonNegative) }, 'must be { popular: SETS, zipf: S }')], 'must be uniform or { popular: SETS, zipf: S }');
const clientLogs = v.union([v.literal('all'), list(count(0), 'must be a list of log indices')], 'must be "all" or a list of log indices');
const victims = v.picklist(['same', 'per-log'], 'must be same or per-log');

const Schema = mapping(
  {
    name: nonEmpty,
    seed: v.optional(count(0)),
    duration: v.optional(dur),
    network: v.optional(
      mapping(
        {
          nodes: countTo(2, 1_000_000, 'at most 1000000'),
          topology: v.optional(v.picklist(['random-regular', 'small-world', 'full'], 'must be random-regular, small-world or full')),
          degree: v.optional(count(1)),
          rewire: v.optional(frac),
          meshDegree: v.optional(count(1)),
          meshLow: v.optional(count(0)),
          meshHigh: v.optional(count(1)),
          heartbeat: v.optional(dur),
          gossipFactor: v.optional(frac),
          gossipLazy: v.optional(count(0)),
          latency: v.optional(latencySchema),
          loss: v.optional(frac),
          partitions: v.optional(
            v.array(
              mapping(
                {
                  at: dur,
                  until: dur,
                  fraction: v.optional(frac),
                  byBranch: v.optional(bool),
                  groups: v.optional(list(nodeIds, 'must be a list of lists of node ids')),
                  nodes: v.optional(nodeIds),
                  kind: v.optional(v.picklist(['gossip', 'client-witness', 'log-witness'], 'must be gossip, client-witness or log-witness')),
                },
                'must be a mapping (at, until, fraction, byBranch, groups, nodes, kind)',
              ),
              'must be a list of partitions',
            ),
          ),
          regions: v.optional(
            mapping(
              {
                names: list(nonEmpty, 'must be a list of region names'),
                fractions: v.optional(list(frac, 'must be a list of fractions')),
                latency: record(latencySchema, 'must be a mapping of region pairs to latency models'),
                logRegion: v.optional(v.string('must be a string')),
              },
              'must be a mapping (names, fractions, latency, logRegion)',
            ),
          ),
          behaviours: v.optional(
            v.array(
              mapping(
                {
                  fraction: v.optional(frac),
                  nodes: v.optional(nodeIds),
                  drop: v.optional(v.picklist(['all', 'evidence', 'checkpoints', 'none'], 'must be all, evidence, checkpoints or none')),
                  dropRate: v.optional(frac),
                  delay: v.optional(dur),
                  invalidRate: v.optional(nonNegative),
                  pollInterval: v.optional(dur),
                  push: v.optional(bool),
                },
                'must be a mapping (fraction or nodes, drop, dropRate, delay, invalidRate, pollInterval, push)',
              ),
              'must be a list of behaviours',
            ),
          ),
          monitors: v.optional(mapping({ count: count(0), pollInterval: v.optional(dur) }, 'must be a mapping (count, pollInterval)')),
          scoring: v.optional(
            mapping(
              {
                timeInMeshWeight: v.optional(nonNegative),
                firstDeliveryWeight: v.optional(nonNegative),
                firstDeliveryCap: v.optional(nonNegative),
                firstDeliveryDecay: v.optional(frac),
                meshDeliveryThreshold: v.optional(nonNegative),
                meshDeliveryWeight: v.optional(penalty('must be negative or 0 (a penalty)')),
                meshDeliveryDecay: v.optional(frac),
                activation: v.optional(dur),
                invalidWeight: v.optional(penalty('must be negative or 0 (a penalty)')),
                invalidDecay: v.optional(frac),
                topicCap: v.optional(nonNegative),
                graylist: v.optional(penalty('must be negative or 0')),
                graylistFor: v.optional(dur),
              },
              'must be a mapping of peer-scoring parameters',
            ),
          ),
          messages: v.optional(v.picklist(['per-witness', 'coalesced'], 'must be per-witness or coalesced')),
          version: v.optional(v.picklist([1, 2], 'must be 1 or 2')),
          exchangeTick: v.optional(dur),
          retransmit: v.optional(dur),
          churn: v.optional(mapping({ rate: v.pipe(num('must be a number (failures per node per hour)'), v.minValue(0, 'must not be negative')), downtime: dur }, 'must be { rate, downtime }')),
        },
        'must be a mapping (nodes, topology, latency, ...)',
      ),
    ),
    logs: v.optional(mapping({ count: v.optional(countTo(1, 1000)), interval: v.optional(dur), batch: v.optional(countTo(1, 1_000_000)) }, 'must be a mapping (count, interval, batch)')),
    witnesses: v.optional(
      mapping(
        {
          pollInterval: v.optional(dur),
          push: v.optional(v.union([frac, v.literal('all')], 'must be a fraction between 0 and 1 or "all"')),
          knownWitnesses: v.optional(v.union([count(0), v.literal('all')], 'must be a count or "all"')),
          mlDsa44: v.optional(v.pipe(num('must be a fraction'), v.minValue(0, 'must be between 0 and 1'), v.maxValue(1, 'must be between 0 and 1'))),
        },
        'must be a mapping (pollInterval, push, knownWitnesses, mlDsa44)',
      ),
    ),
    adversary: v.optional(
      mapping(
        {
          forkAt: dur,
          log: v.optional(count(0)),
          branchB: v.optional(
            mapping(
              { fraction: v.optional(frac), nodes: v.optional(nodeIds), monitors: v.optional(frac), at: v.optional(dur), until: v.optional(dur), batch: v.optional(countTo(1, 1_000_000)), lag: v.optional(dur) },
              'must be a mapping (fraction or nodes, monitors, at, until, batch, lag)',
            ),
          ),
          clientsB: v.optional(frac),
          colluding: v.optional(count(0)),
          eclipse: v.optional(mapping({ target: count(0), attackers: count(1) }, 'must be { target, attackers }')),
          droppers: v.optional(mapping({ fraction: frac, dropRate: v.optional(frac), delay: v.optional(dur) }, 'must be a mapping (fraction, dropRate, delay)')),
          branches: v.optional(v.array(branchSchema, 'must be a list of branches')),
          forks: v.optional(
            v.array(
              mapping(
                { log: count(0), forkAt: v.optional(dur), branchB: v.optional(nodeSel), until: v.optional(dur), batch: v.optional(countTo(1, 1_000_000)), lag: v.optional(dur) },
                'must be a mapping (log, forkAt, branchB, until, batch, lag)',
              ),
              'must be a list of forks',
            ),
          ),
          targeting: v.optional(v.picklist(['random', 'trusted', 'eclipse'], 'must be random, trusted or eclipse')),
          collusion: v.optional(
            mapping(
              {
                behaviour: v.optional(v.picklist(['silent', 'selective', 'leak'], 'must be silent, selective or leak')),
                leakRate: v.optional(frac),
                trust: v.optional(v.picklist(['first', 'random'], 'must be first or random')),
              },
              'must be a mapping (behaviour, leakRate, trust)',
            ),
          ),
          refuseProofs: v.optional(bool),
          offline: v.optional(v.array(mapping({ at: dur, until: dur }, 'must be { at, until }'), 'must be a list of { at, until }')),
          eclipses: v.optional(
            v.array(
              mapping(
                { target: v.optional(count(0)), targets: v.optional(nodeIds), attackers: count(1), at: v.optional(dur), until: v.optional(dur) },
                'must be a mapping (target or targets, attackers, at, until)',
              ),
              'must be a list of eclipses',
            ),
          ),
        },
        'must be a mapping (forkAt, log, branchB, ...)',
      ),
    ),
    clients: v.optional(
      mapping(
        {
          count: v.optional(count(0)),
          policy: v.optional(policySchema),
          fetch: v.optional(fetchSchema),
          witnessSets: v.optional(witnessSetsSchema),
          report: v.optional(bool),
          logs: v.optional(clientLogs),
          victims: v.optional(victims),
          populations: v.optional(
            list(
              mapping(
                {
                  name: v.optional(nonEmpty),
                  count: count(0),
                  policy: v.optional(policySchema),
                  fetch: v.optional(fetchSchema),
                  witnessSets: v.optional(witnessSetsSchema),
                  report: v.optional(bool),
                  logs: v.optional(clientLogs),
                  victims: v.optional(victims),
                },
                'must be a mapping (name, count, policy, fetch, witnessSets, report, logs, victims)',
              ),
              'must be a list of populations',
            ),
          ),
        },
        'must be a mapping (count, policy, fetch, ...)',
      ),
    ),
    signatures: v.optional(v.picklist(['real', 'memoised', 'modelled'], 'must be real, memoised or modelled')),
  },
  'must be a mapping with at least a name',
);

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

function parseLatency(p: Problems, path: string, l: v.InferOutput<typeof latencySchema>): LatencyModel {
  if (l.distribution === 'uniform') {
    if (l.min === undefined || l.max === undefined) p.push({ path, reason: 'uniform needs min and max' });
    const minMs = ms(p, `${path}.min`, l.min, 10);
    const maxMs = ms(p, `${path}.max`, l.max, 100);
    if (maxMs < minMs) p.push({ path: `${path}.max`, reason: 'must be at least min' });
    return { distribution: 'uniform', minMs, maxMs };
  }
  if (l.distribution === 'fixed') {
    if (l.median === undefined) p.push({ path: `${path}.median`, reason: 'fixed needs median (the latency)' });
    return { distribution: 'fixed', medianMs: ms(p, `${path}.median`, l.median, 50) };
  }
  const medianMs = ms(p, `${path}.median`, l.median, 50, 1);
  const p99Ms = ms(p, `${path}.p99`, l.p99, Math.max(300, medianMs), 1);
  if (p99Ms < medianMs) p.push({ path: `${path}.p99`, reason: 'must be at least median' });
  return { distribution: 'lognormal', medianMs, p99Ms };
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
  const r = validateDotted(Schema, typeof input === 'string' ? readScenarioObject(input, file) : input);
  if (!r.ok) throw new ScenarioError(file, r.problems);
  const d = r.value;
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
  const latency: LatencyModel = net.latency ? parseLatency(p, 'network.latency', net.latency) : { distribution: 'lognormal', medianMs: 50, p99Ms: 300 };
  const monitorCount = net.monitors?.count ?? 0;
  const gossipNodes = nodes + monitorCount;
  const checkNodes = (path: string, ids: readonly number[] | undefined, limit = gossipNodes) =>
    ids?.forEach((n, i) => n >= limit && p.push({ path: `${path}.${i}`, reason: `node ${n} does not exist (nodes: ${limit})` }));
  const partitions = (net.partitions ?? []).map((x, i): Partition => {
    const atMs = ms(p, `network.partitions.${i}.at`, x.at, 0);
    const untilMs = ms(p, `network.partitions.${i}.until`, x.until, 0);
    if (untilMs <= atMs) p.push({ path: `network.partitions.${i}.until`, reason: 'must be after at' });
    const ways = [x.fraction !== undefined, !!x.byBranch, x.groups !== undefined, x.nodes !== undefined].filter(Boolean).length;
    if (ways === 0) p.push({ path: `network.partitions.${i}`, reason: 'needs fraction, byBranch: true, groups or nodes' });
    if (ways > 1) p.push({ path: `network.partitions.${i}`, reason: 'give one of fraction, byBranch, groups, nodes' });
    x.groups?.forEach((g, j) => checkNodes(`network.partitions.${i}.groups.${j}`, g));
    checkNodes(`network.partitions.${i}.nodes`, x.nodes);
    const kind = x.kind ?? 'gossip';
    if (kind !== 'gossip' && x.groups) p.push({ path: `network.partitions.${i}.groups`, reason: `${kind} cuts take nodes, fraction or byBranch (the nodes cut off from the ${kind === 'log-witness' ? 'log' : 'clients'})` });
    return { atMs, untilMs, fraction: x.fraction ?? 0, byBranch: x.byBranch ?? false, kind, groups: x.groups ?? (x.nodes ? [x.nodes] : null) };
  });
  let regions: Scenario['network']['regions'] = null;
  if (net.regions) {
    const r = net.regions;
    const names = r.names;
    const fractions = r.fractions ?? names.map(() => 1 / names.length);
    if (fractions.length !== names.length) p.push({ path: 'network.regions.fractions', reason: `must have one fraction per name (${names.length})` });
    else if (Math.abs(fractions.reduce((a, b) => a + b, 0) - 1) > 1e-9) p.push({ path: 'network.regions.fractions', reason: 'must sum to 1' });
    const lat: Record<string, LatencyModel> = {};
    for (const [key, l] of Object.entries(r.latency)) {
      const parts = key.split('-');
      if (parts.length !== 2 || !names.includes(parts[0]) || !names.includes(parts[1])) {
        p.push({ path: `network.regions.latency.${key}`, reason: `must be a pair REGION-REGION of ${names.join(', ')}` });
        continue;
      }
      lat[key] = parseLatency(p, `network.regions.latency.${key}`, l);
    }
    for (const a of names) for (const b of names) if (!lat[`${a}-${b}`] && !lat[`${b}-${a}`]) p.push({ path: 'network.regions.latency', reason: `missing the pair ${a}-${b}` });
    const logRegion = r.logRegion ?? names[0];
    if (!names.includes(logRegion)) p.push({ path: 'network.regions.logRegion', reason: `must be one of ${names.join(', ')}` });
    regions = { names, fractions, latency: lat, logRegion };
  }
  const behaviours = (net.behaviours ?? []).map((b, i): Behaviour => {
    if ((b.fraction === undefined) === (b.nodes === undefined)) p.push({ path: `network.behaviours.${i}`, reason: 'needs one of fraction or nodes' });
    checkNodes(`network.behaviours.${i}.nodes`, b.nodes, nodes);
    return {
      witnesses: b.nodes ? { nodes: b.nodes } : { fraction: b.fraction ?? 0 },
      drop: b.drop ?? 'all',
      dropRate: b.dropRate ?? 1,
      delayMs: ms(p, `network.behaviours.${i}.delay`, b.delay, 0),
      invalidRate: b.invalidRate ?? 0,
      pollIntervalMs: b.pollInterval === undefined ? null : ms(p, `network.behaviours.${i}.pollInterval`, b.pollInterval, 30_000, 100),
      push: b.push ?? null,
    };
  });
  const scoring = net.scoring
    ? {
        timeInMeshWeight: net.scoring.timeInMeshWeight ?? 0.01,
        firstDeliveryWeight: net.scoring.firstDeliveryWeight ?? 0.5,
        firstDeliveryCap: net.scoring.firstDeliveryCap ?? 20,
        firstDeliveryDecay: net.scoring.firstDeliveryDecay ?? 0.9,
        meshDeliveryThreshold: net.scoring.meshDeliveryThreshold ?? 1,
        meshDeliveryWeight: net.scoring.meshDeliveryWeight ?? 0,
        meshDeliveryDecay: net.scoring.meshDeliveryDecay ?? 0.9,
        activationMs: ms(p, 'network.scoring.activation', net.scoring.activation, 5000),
        invalidWeight: net.scoring.invalidWeight ?? -10,
        invalidDecay: net.scoring.invalidDecay ?? 0.98,
        topicCap: net.scoring.topicCap ?? 10,
        graylist: net.scoring.graylist ?? -100,
        graylistForMs: ms(p, 'network.scoring.graylistFor', net.scoring.graylistFor, 600_000),
      }
    : null;
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
    const bb = a.branchB ?? {};
    if (bb.fraction !== undefined && bb.nodes !== undefined) p.push({ path: 'adversary.branchB', reason: 'give one of fraction or nodes' });
    const branchB: { fraction: number } | { nodes: readonly number[] } = bb.nodes ? { nodes: bb.nodes } : { fraction: bb.fraction ?? 0.5 };
    checkNodes('adversary.branchB.nodes', bb.nodes);
    const colluding = a.colluding ?? 0;
    if (colluding > nodes) p.push({ path: 'adversary.colluding', reason: `more than the ${nodes} nodes` });
    if (a.eclipse && a.eclipse.target >= nodes) p.push({ path: 'adversary.eclipse.target', reason: `node ${a.eclipse.target} does not exist (nodes: ${nodes})` });
    const forkAtMs = ms(p, 'adversary.forkAt', a.forkAt, 0);
    if (forkAtMs >= durationMs) p.push({ path: 'adversary.forkAt', reason: 'must be before the end of the run (duration)' });
    const schedule = (path: string, x: { at?: string; until?: string; batch?: number; lag?: string }) => {
      const atMs = Math.max(forkAtMs, ms(p, `${path}.at`, x.at, forkAtMs));
      const untilMs = x.until === undefined ? null : ms(p, `${path}.until`, x.until, 0);
      if (untilMs !== null && untilMs <= atMs) p.push({ path: `${path}.until`, reason: 'must be after the branch starts (forkAt, at)' });
      return { atMs, untilMs, batch: x.batch ?? logs.batch, lagMs: ms(p, `${path}.lag`, x.lag, 0) };
    };
    const branches = (a.branches ?? []).map((x, i): Branch => {
      const path = `adversary.branches.${i}`;
      if ((x.fraction === undefined) === (x.nodes === undefined)) p.push({ path, reason: 'needs one of fraction or nodes' });
      checkNodes(`${path}.nodes`, x.nodes);
      return { witnesses: x.nodes ? { nodes: x.nodes } : { fraction: x.fraction ?? 0 }, clients: x.clients ?? 0, monitors: x.monitors ?? 0, ...schedule(path, x) };
    });
    if (branches.length > 5) p.push({ path: 'adversary.branches', reason: 'at most 5 further branches' });
    const clientsB = a.clientsB ?? 0.5;
    if (clientsB + branches.reduce((t, b) => t + b.clients, 0) > 1 + 1e-9) p.push({ path: 'adversary.branches', reason: 'clientsB and the branches\' clients add up to more than 1' });
    const eclipses = (a.eclipses ?? []).map((e, i) => {
      const path = `adversary.eclipses.${i}`;
      const targets = e.targets ?? (e.target !== undefined ? [e.target] : []);
      if (targets.length === 0) p.push({ path, reason: 'needs target or targets' });
      checkNodes(`${path}.targets`, targets, nodes);
      const atMs = ms(p, `${path}.at`, e.at, 0);
      const untilMs = ms(p, `${path}.until`, e.until, durationMs);
      if (untilMs <= atMs) p.push({ path: `${path}.until`, reason: 'must be after at' });
      return { targets, attackers: e.attackers, atMs, untilMs };
    });
    const forks = (a.forks ?? []).map((f, i) => {
      const path = `adversary.forks.${i}`;
      if (f.log >= logs.count) p.push({ path: `${path}.log`, reason: `must be a log index below logs.count (${logs.count})` });
      if (f.log === log) p.push({ path: `${path}.log`, reason: `log ${log} is adversary.log (it forks at adversary.forkAt)` });
      const forkAt = ms(p, `${path}.forkAt`, f.forkAt, forkAtMs);
      if (forkAt >= durationMs) p.push({ path: `${path}.forkAt`, reason: 'must be before the end of the run (duration)' });
      checkNodes(`${path}.branchB.nodes`, f.branchB && 'nodes' in f.branchB ? f.branchB.nodes : undefined, nodes);
      let sched: { untilMs: number | null; batch: number; lagMs: number } | null = null;
      if (f.until !== undefined || f.batch !== undefined || f.lag !== undefined) {
        const untilMs = f.until === undefined ? null : ms(p, `${path}.until`, f.until, 0);
        if (untilMs !== null && untilMs <= forkAt) p.push({ path: `${path}.until`, reason: 'must be after this log\'s forkAt' });
        sched = { untilMs, batch: f.batch ?? logs.batch, lagMs: ms(p, `${path}.lag`, f.lag, 0) };
      }
      return { log: f.log, forkAtMs: forkAt, branchB: f.branchB ?? null, schedule: sched };
    });
    forks.forEach((f, i) => forks.slice(0, i).some((g) => g.log === f.log) && p.push({ path: `adversary.forks.${i}.log`, reason: `log ${f.log} is listed twice` }));
    const monFrac = (bb.monitors ?? 0) + branches.reduce((t, b) => t + b.monitors, 0);
    if (monFrac > 1 + 1e-9) p.push({ path: 'adversary.branches', reason: 'branchB.monitors and the branches\' monitors add up to more than 1' });
    if (monFrac > 0 && monitorCount === 0) p.push({ path: 'adversary.branchB.monitors', reason: 'there are no monitors (network.monitors.count)' });
    const targeting = a.targeting ?? 'random';
    if (targeting === 'eclipse' && !a.eclipse && eclipses.length === 0) p.push({ path: 'adversary.targeting', reason: 'eclipse targeting needs adversary.eclipse or adversary.eclipses' });
    const offline = (a.offline ?? []).map((o, i) => {
      const atMs = ms(p, `adversary.offline.${i}.at`, o.at, 0);
      const untilMs = ms(p, `adversary.offline.${i}.until`, o.until, 0);
      if (untilMs <= atMs) p.push({ path: `adversary.offline.${i}.until`, reason: 'must be after at' });
      return { atMs, untilMs };
    });
    adversary = {
      forkAtMs,
      log,
      branchB,
      clientsB,
      colluding,
      eclipse: a.eclipse ?? null,
      droppers: a.droppers ? { fraction: a.droppers.fraction, dropRate: a.droppers.dropRate ?? 1, delayMs: ms(p, 'adversary.droppers.delay', a.droppers.delay, 0) } : null,
      branchSchedule: schedule('adversary.branchB', bb),
      branches,
      branchMonitors: bb.monitors ?? 0,
      forks,
      targeting,
      collusion: { behaviour: a.collusion?.behaviour ?? 'silent', leakRate: a.collusion?.leakRate ?? 0, trust: a.collusion?.trust ?? 'first' },
      refuseProofs: a.refuseProofs ?? false,
      offline,
      eclipses,
    };
  }
  const c = d.clients ?? {};
  type RawPop = { name?: string; count: number; policy?: v.InferOutput<typeof policySchema>; fetch?: { witnesses?: number; interval?: string; delay?: string; latency?: 'network' | v.InferOutput<typeof latencySchema> }; witnessSets?: 'uniform' | { popular: number; zipf?: number }; report?: boolean; logs?: 'all' | number[]; victims?: 'same' | 'per-log' };
  const rawPops: RawPop[] = c.populations ?? [{ count: c.count ?? 0 }];
  if (c.populations && c.count !== undefined) p.push({ path: 'clients.count', reason: 'give the counts in populations (not both)' });
  const populations = rawPops.map((r, i): Population => {
    const path = c.populations ? `clients.populations.${i}` : 'clients';
    const pol = r.policy ?? c.policy;
    let policy = { k: 1, n: Math.min(3, nodes), group: null as string | null };
    if (pol) {
      if ('group' in pol) {
        const g = parseGroup(pol.group);
        if (!g) p.push({ path: `${path}.policy.group`, reason: 'must be "K-of-N", e.g. "3-of-5"' });
        else policy = { ...g, group: pol.group };
      } else policy = { k: pol.k, n: pol.n, group: null };
    }
    if (policy.k > policy.n) p.push({ path: `${path}.policy.k`, reason: `must not exceed n (${policy.n})` });
    if (policy.n > nodes) p.push({ path: `${path}.policy.n`, reason: `must not exceed network.nodes (${nodes})` });
    const f = { ...c.fetch, ...r.fetch };
    const fetchW = f.witnesses ?? policy.n;
    if (fetchW > policy.n) p.push({ path: `${path}.fetch.witnesses`, reason: `must not exceed policy n (${policy.n})` });
    const ws = r.witnessSets ?? c.witnessSets ?? 'uniform';
    // Which logs the population follows (absent: the one log, as before) and how its victims are chosen.
    const rawLogs = r.logs ?? c.logs;
    let followed: number[] | undefined;
    if (rawLogs !== undefined) {
      followed = rawLogs === 'all' ? Array.from({ length: logs.count }, (_, l) => l) : [...rawLogs];
      followed.forEach((l, j) => {
        if (l >= logs.count) p.push({ path: `${path}.logs.${j}`, reason: `must be a log index below logs.count (${logs.count})` });
        if (followed!.indexOf(l) !== j) p.push({ path: `${path}.logs.${j}`, reason: `log ${l} is listed twice` });
      });
    }
    const victims = r.victims ?? c.victims;
    return {
      name: r.name ?? (c.populations ? `p${i}` : 'clients'),
      count: r.count,
      policy,
      fetch: { witnesses: fetchW, intervalMs: ms(p, `${path}.fetch.interval`, f.interval, 60_000, 100), delayMs: ms(p, `${path}.fetch.delay`, f.delay, 0), latency: f.latency === undefined ? null : f.latency === 'network' ? 'network' : parseLatency(p, `${path}.fetch.latency`, f.latency) },
      witnessSets: ws === 'uniform' ? { kind: 'uniform' } : { kind: 'popular', sets: ws.popular, zipf: ws.zipf ?? 1 },
      report: r.report ?? c.report ?? false,
      ...(followed ? { logs: followed } : {}),
      ...(victims ? { victims } : {}),
    };
  });
  const policy = populations[0].policy;
  const fetchW = populations[0].fetch.witnesses;
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
      version: net.version ?? 1,
      exchangeTickMs: ms(p, 'network.exchangeTick', net.exchangeTick, EXCHANGE_TICK_MS, 1),
      retransmitMs: net.retransmit === undefined ? null : ms(p, 'network.retransmit', net.retransmit, 200, 1),
      regions,
      behaviours,
      monitors: { count: monitorCount, pollIntervalMs: net.monitors?.pollInterval === undefined ? null : ms(p, 'network.monitors.pollInterval', net.monitors.pollInterval, 30_000, 100) },
      scoring,
      churn: net.churn ? { rate: net.churn.rate, downtimeMs: ms(p, 'network.churn.downtime', net.churn.downtime, 120_000) } : { rate: 0, downtimeMs: 0 },
    },
    logs,
    witnesses: { pollIntervalMs: ms(p, 'witnesses.pollInterval', w.pollInterval, 30_000, 100), push, knownWitnesses, mlDsa44: w.mlDsa44 ?? 0 },
    adversary,
    clients: { count: populations.reduce((t, x) => t + x.count, 0), policy, fetch: { witnesses: fetchW, intervalMs: populations[0].fetch.intervalMs }, populations },
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

/**
 * The witnesses with ML-DSA-44 keys (witnesses.mlDsa44 = f): witness i when ⌊(i+1)·f⌋ > ⌊i·f⌋,
 * i.e. ⌊N·f⌋ of them spread evenly by id; the same set in model and live mode.
 */
export function mlDsa44Witnesses(s: Scenario): Set<number> {
  const f = s.witnesses.mlDsa44;
  const out = new Set<number>();
  for (let i = 0; i < s.network.nodes; i++) if (Math.floor((i + 1) * f + 1e-9) > Math.floor(i * f + 1e-9)) out.add(i);
  return out;
}
