// The network config of the launcher (docs/gossip.md#launcher): one YAML file describing a local
// log (or several) and N witnesses on 127.0.0.1, and which witness sees which branch.
//
//   logs:
//     - name: log1                      # origin defaults to example.local/<name>
//       interval: 200ms                 # checkpoint interval
//       forkAt: 8                       # equivocate from this size on (optional)
//       keyType: ml-dsa-44              # the log's signature type: ed25519 (default) or ml-dsa-44
//   witnesses:
//     - name: w1                        # key name w1.example.local
//       http: 0                         # HTTP port (0: a free one)
//       p2p: 0                          # libp2p TCP port (0: a free one)
//       push: [log1]                    # logs that push to it (default: every log it does not pull)
//       pull: [log2]                    # logs it pulls over tlog-tiles (default none)
//       pullInterval: 200ms
//       sees: { log1: b }               # branch each log shows it (default a)
//       logs: [log1, log2]              # logs it follows (default all)
//       bootstrap: [w0]                 # peers it dials (default: w0 and the previous witness)
//       tracks: [w0, w2]                # witnesses whose cosignatures it tracks (default all others)
//       keyType: ml-dsa-44              # its witness key: ed25519 (default: cosignature/v1, 0x04) or ml-dsa-44 (0x06),
//                                       # or a list for one key of each, [ed25519, ml-dsa-44]: it cosigns with both
//                                       # (one line per key) and every vkey list and client policy carries both
//       gossip: { version: 2 }          # this witness's gossip settings, over the network's
//   gossip: { version: 2, meshDegree: 3 } # p2p.version and p2p.meshDegree of every witness (default: the node's defaults)
//
// Errors are reported as `network FILE: field: reason`.
import { parseDocument } from 'yaml';
import * as v from 'valibot';
import { MAX_TIMER_MS, parseDuration } from '../config.js';
import { parseTreeSize } from '../checkpoint/checkpoint.js';
import { GossipWitnessError } from '../errors.js';
import { formatProblems, int, mapping, num, record, validateDotted } from '../util/validate.js';

export interface NetworkLog {
  readonly name: string;
  readonly origin: string;
  readonly intervalMs: number;
  readonly forkAt?: bigint;
  /** The log's key type; absent means Ed25519. */
  readonly keyType?: 'ed25519' | 'ml-dsa-44';
}

export interface NetworkWitness {
  readonly name: string;
  readonly httpPort: number;
  readonly p2pPort: number;
  readonly push: readonly string[];
  readonly pull: readonly string[];
  readonly pullIntervalMs: number;
  readonly sees: Readonly<Record<string, 'a' | 'b'>>;
  readonly logs: readonly string[];
  readonly bootstrap?: readonly string[];
  readonly tracks?: readonly string[];
  /**
   * The witness key's type; absent means Ed25519 (cosignature/v1 lines). A list (two or more
   * distinct types, as written) gives the witness one key of each type: it cosigns with every one.
   * A one-element list is parsed as that type alone. witnessKeyTypes() gives the list in any case.
   */
  readonly keyType?: WitnessKeyType | readonly WitnessKeyType[];
  /** p2p.version / p2p.meshDegree written into its config (absent: the node's defaults). */
  readonly gossip?: GossipSettings;
}

export type WitnessKeyType = 'ed25519' | 'ml-dsa-44';
export const WITNESS_KEY_TYPES: readonly WitnessKeyType[] = ['ed25519', 'ml-dsa-44'];

/** The key types of a witness, in the network file's order (default: one Ed25519 key). */
export function witnessKeyTypes(w: Pick<NetworkWitness, 'keyType'>): readonly WitnessKeyType[] {
  return w.keyType === undefined ? ['ed25519'] : typeof w.keyType === 'string' ? [w.keyType] : w.keyType;
}

export interface GossipSettings {
  readonly version?: 1 | 2;
  readonly meshDegree?: number;
}

export interface NetworkConfig {
  readonly logs: readonly NetworkLog[];
  readonly witnesses: readonly NetworkWitness[];
}

export class NetworkConfigError extends GossipWitnessError {
  constructor(file: string, problems: { path: string; reason: string }[]) {
    super({ code: 'CONFIG', message: formatProblems('network', file, problems) });
    this.name = 'NetworkConfigError';
  }
}

const name = v.pipe(v.string('must be a string'), v.regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'must be lowercase letters, digits and dashes'));
const port = v.pipe(num('must be a port number'), v.check((x) => Number.isInteger(x) && x >= 0 && x <= 65535, 'must be a port number'));
const keyType = v.picklist(['ed25519', 'ml-dsa-44'], 'must be ed25519 or ml-dsa-44');
const names = v.array(name, 'must be a list of names');
const gossip = mapping(
  {
    version: v.optional(v.picklist([1, 2], 'must be 1 or 2')),
    meshDegree: v.optional(v.pipe(num('must be a number'), int('must be an integer'), v.minValue(2, 'must be at least 2'), v.maxValue(32, 'must be at most 32'))),
  },
  'must be a mapping like { version: 2, meshDegree: 3 }',
);
const Schema = mapping(
  {
    gossip: v.optional(gossip),
    logs: v.pipe(
      v.array(
        mapping(
          {
            name,
            origin: v.optional(v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))),
            interval: v.optional(v.string('must be a duration of at least 10ms')),
            forkAt: v.optional(v.union([v.pipe(int('must be a tree size'), v.minValue(0, 'must be a tree size')), v.string()], 'must be a tree size')),
            keyType: v.optional(keyType),
          },
          'must be a mapping (name, origin, interval, forkAt, keyType)',
        ),
        'must be a list of logs',
      ),
      v.minLength(1, 'at least one log'),
    ),
    witnesses: v.pipe(
      v.array(
        mapping(
          {
            name,
            http: v.optional(port),
            p2p: v.optional(port),
            push: v.optional(names),
            pull: v.optional(names),
            pullInterval: v.optional(v.string('must be a duration of at least 10ms')),
            sees: v.optional(record(v.picklist(['a', 'b'], 'must be a or b'), 'must be a mapping of log names to branches (a or b)')),
            logs: v.optional(names),
            bootstrap: v.optional(names),
            tracks: v.optional(names),
            // One type or a list of them: checked below, with the list's paths.
            keyType: v.optional(v.unknown()),
            gossip: v.optional(gossip),
          },
          'must be a mapping (name, http, p2p, push, pull, ...)',
        ),
        'must be a list of witnesses',
      ),
      v.minLength(1, 'at least one witness'),
    ),
  },
  'must be a mapping with logs and witnesses',
);

const KEY_TYPE_REASON = `must be ${WITNESS_KEY_TYPES.join(' or ')}`;
const isKeyType = (x: unknown): x is WitnessKeyType => typeof x === 'string' && (WITNESS_KEY_TYPES as readonly string[]).includes(x);

/** A witness's keyType: absent, one known type, or a non-empty list of distinct known types. */
function witnessKeyType(raw: unknown, path: string, problems: { path: string; reason: string }[]): { keyType?: WitnessKeyType | readonly WitnessKeyType[] } {
  if (raw === undefined) return {};
  if (isKeyType(raw)) return { keyType: raw };
  if (!Array.isArray(raw)) {
    problems.push({ path, reason: `${KEY_TYPE_REASON}, or a list of them (one key of each type, e.g. [ed25519, ml-dsa-44])` });
    return {};
  }
  if (raw.length === 0) {
    problems.push({ path, reason: `an empty list: list at least one key type (${WITNESS_KEY_TYPES.join(', ')})` });
    return {};
  }
  const types: WitnessKeyType[] = [];
  const before = problems.length;
  raw.forEach((t: unknown, j) => {
    if (!isKeyType(t)) problems.push({ path: `${path}.${j}`, reason: KEY_TYPE_REASON });
    else if (types.includes(t)) problems.push({ path: `${path}.${j}`, reason: `duplicate key type ${t} (a witness holds at most one key of each type)` });
    else types.push(t);
  });
  if (problems.length > before) return {};
  return { keyType: types.length === 1 ? types[0] : types };
}

export function parseNetworkConfig(text: string, file = 'network.yaml'): NetworkConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new NetworkConfigError(file, doc.errors.map((e) => ({ path: '', reason: `YAML: ${e.message.split('\n')[0]}` })));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // yaml throws a ReferenceError for an alias bomb: report it like any other problem.
    throw new NetworkConfigError(file, [{ path: '', reason: `YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const r = validateDotted(Schema, raw);
  if (!r.ok) throw new NetworkConfigError(file, r.problems);
  const problems: { path: string; reason: string }[] = [];
  const logNames = new Set<string>();
  const logs: NetworkLog[] = r.value.logs.map((l, i) => {
    if (logNames.has(l.name)) problems.push({ path: `logs.${i}.name`, reason: `duplicate log ${l.name}` });
    logNames.add(l.name);
    const intervalMs = l.interval === undefined ? 200 : parseDuration(l.interval);
    if (intervalMs === null || intervalMs < 10 || intervalMs > MAX_TIMER_MS) problems.push({ path: `logs.${i}.interval`, reason: 'must be a duration from 10ms to 24d' });
    let forkAt: bigint | undefined;
    if (l.forkAt !== undefined) {
      const f = parseTreeSize(String(l.forkAt));
      if (f === null) problems.push({ path: `logs.${i}.forkAt`, reason: 'must be a tree size' });
      else forkAt = f;
    }
    return { name: l.name, origin: l.origin ?? `example.local/${l.name}`, intervalMs: intervalMs ?? 200, ...(forkAt !== undefined ? { forkAt } : {}), ...(l.keyType !== undefined ? { keyType: l.keyType } : {}) };
  });
  const witnessNames = new Set(r.value.witnesses.map((w) => w.name));
  if (witnessNames.size !== r.value.witnesses.length) problems.push({ path: 'witnesses', reason: 'duplicate witness names' });
  const witnesses: NetworkWitness[] = r.value.witnesses.map((w, i) => {
    const follows = w.logs ?? [...logNames];
    const pull = w.pull ?? [];
    const push = w.push ?? follows.filter((l) => !pull.includes(l));
    for (const [k, list] of [['logs', follows], ['push', push], ['pull', pull], ['sees', Object.keys(w.sees ?? {})]] as const) {
      for (const l of list) if (!logNames.has(l)) problems.push({ path: `witnesses.${i}.${k}`, reason: `unknown log ${l}` });
    }
    for (const [k, list] of [['bootstrap', w.bootstrap ?? []], ['tracks', w.tracks ?? []]] as const) {
      for (const x of list) if (!witnessNames.has(x)) problems.push({ path: `witnesses.${i}.${k}`, reason: `unknown witness ${x}` });
    }
    const pullIntervalMs = w.pullInterval === undefined ? 200 : parseDuration(w.pullInterval);
    if (pullIntervalMs === null || pullIntervalMs < 10 || pullIntervalMs > MAX_TIMER_MS) problems.push({ path: `witnesses.${i}.pullInterval`, reason: 'must be a duration from 10ms to 24d' });
    return {
      name: w.name,
      httpPort: w.http ?? 0,
      p2pPort: w.p2p ?? 0,
      push,
      pull,
      pullIntervalMs: pullIntervalMs ?? 200,
      sees: w.sees ?? {},
      logs: follows,
      ...(w.bootstrap ? { bootstrap: w.bootstrap } : {}),
      ...(w.tracks ? { tracks: w.tracks } : {}),
      ...witnessKeyType(w.keyType, `witnesses.${i}.keyType`, problems),
      ...(r.value.gossip || w.gossip ? { gossip: { ...r.value.gossip, ...w.gossip } } : {}),
    };
  });
  if (problems.length > 0) throw new NetworkConfigError(file, problems);
  return { logs, witnesses };
}
