// The witness node's YAML config file, validated with valibot (src/util/validate.ts). Every problem is reported as
// `config FILE: <field path>: <reason>` before anything starts.
//
//   name: witness.example/w1          # the witness's key name
//   key: w1.key                       # Ed25519 or ML-DSA-44 skey file, or a list (both types; rotation); a missing one is created (Ed25519, 0600)
//   data: w1-data                     # LevelDB directory, or instead:
//   store: postgres://USER@HOST:PORT/DB  # PostgreSQL (docs/operator-guide.md; exactly one of data/store URL)
//   http: { listen: 127.0.0.1:7380, bodyLimit: 524288, maxConnections: 1024, maxConnectionsPerClient: 128 }
//   logs:                             # inline logs
//     - { origin: example.com/log, vkeys: [ "example.com/log+1234abcd+AT..." ], qpd: 86400 }
//   logList: logs.txt                 # a logs/v0 file, or an http(s) URL
//   logListRefresh: 1h
//   store: { unwritableExitAfter: 5m }  # exit 75 after this long unable to write (0s: never); for systemd's Restart=
//   store: { url: postgres://…, passwordFile: FILE, poolSize: 10, timeout: 5s, unwritableExitAfter: 5m }
//   p2p: { identity: FILE, … }        # the libp2p identity key; required with a store URL (default: in data:)
//   signSubtree: { cacheSize: 4096, rate: 2, burst: 20, maxClients: 10000 }  # POST /sign-subtree's answer cache and per-client limit
//
// Per log, `pull: { type: tiles|rekor-v1|sumdb, url, interval, ... }` makes the node pull from the
// log (validated by src/logs/feeders/config.ts; see docs/feeders.md).
//
// Gossip (docs/gossip.md): `p2p: { listen: [multiaddr...], announce: [...], bootstrap:
// [multiaddr/p2p/<peer id>...], allowLoopback: false, maxConnections: 100, meshDegree: 3, startupSync: 5s, version: 2 }` starts
// the libp2p gossip service; `witnesses: [ { name: w2, vkey: "w2+abcd1234+BA..." } ]` lists the
// cosignature vkeys (0x04, or Ed25519 0x01) of the other witnesses this node tracks.
//
// These key names are an interface other tools use. Relative paths are relative to the config
// file's directory. Unknown keys are errors. A config file is at most MAX_CONFIG_BYTES (1 MiB),
// checked before it is parsed, and YAML aliases are limited (an alias bomb is an error).
import { readFileCappedSync, FileTooLargeError } from './util/read-capped.js';
import { dirname, resolve, isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import * as v from 'valibot';
import { formatProblems, mapping, validate } from './util/validate.js';
import { createRequire } from 'node:module';
import { describeKeyInput, isValidKeyName, looksLikePrivateKey, parseVkey, parseCosignatureVkey, type Verifier } from './note/keys.js';
import { keyLabel } from './note/note.js';
import { MAX_QPD } from './logs/loglist.js';
import type { InlineLog, LogListSource } from './logs/registry.js';
import type { SubtreeLimits } from './witness/sign-subtree.js';
import { parsePullConfig } from './logs/feeders/config.js';
import { GossipWitnessError } from './errors.js';

export const DEFAULT_LISTEN = '127.0.0.1:7380';
/** HTTP body limit: a checkpoint with 100 ML-DSA-44 signature lines (about 330 KB) fits (issue 14). */
export const DEFAULT_BODY_LIMIT = 512 * 1024;
/** HTTP connections held at once; more are closed as they arrive. */
export const DEFAULT_HTTP_MAX_CONNECTIONS = 1024;
/** A config file is small; a larger one is refused before it is parsed. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** YAML aliases resolved at most (an alias bomb expands exponentially). */
const MAX_YAML_ALIASES = 100;
export const DEFAULT_LOG_LIST_REFRESH_MS = 60 * 60 * 1000;

export interface ConfiguredLog extends InlineLog {
  readonly vkeys: readonly string[];
  /** The `pull:` block as written (validated here; src/logs/feeders createFeeders parses it). */
  readonly pull?: unknown;
}

export interface WitnessConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  readonly name: string;
  /** Absolute key file paths; every key cosigns. */
  readonly keyFiles: readonly string[];
  /** Absolute LevelDB directory; absent when store.postgres is set (exactly one of the two). */
  readonly data?: string;
  readonly http: { readonly host: string; readonly port: number; readonly bodyLimit: number; readonly maxConnections: number; readonly maxConnectionsPerClient?: number; readonly trustProxy?: readonly string[] };
  readonly logs: readonly ConfiguredLog[];
  readonly logList?: LogListSource;
  readonly logListRefreshMs: number;
  /** The gossip network; absent: no gossip. */
  readonly p2p?: P2pConfig;
  /** Other witnesses this node tracks (their cosignatures are verified and merged). */
  readonly witnesses?: readonly TrackedWitness[];
  /** Store settings (absent: the defaults). */
  readonly store?: StoreConfig;
  /** POST /sign-subtree's answer cache and per-client rate limit (absent: SUBTREE_DEFAULTS in src/witness/sign-subtree.ts). */
  readonly signSubtree?: SubtreeLimits;
}

/** How long the node runs with a store that cannot write before it exits non-zero (default 5 min). */
export const DEFAULT_UNWRITABLE_EXIT_AFTER_MS = 5 * 60 * 1000;

export interface StoreConfig {
  /** Exit (status 75) after this long unable to write, so a process manager restarts the node; 0: never. */
  readonly unwritableExitAfterMs: number;
  /** PostgreSQL instead of LevelDB (src/store/postgres.ts). The URL may hold a password: never log it. */
  readonly postgres?: { readonly url: string; readonly passwordFile?: string; readonly poolSize?: number; readonly timeoutMs?: number };
}

export const DEFAULT_P2P_LISTEN = '/ip4/127.0.0.1/tcp/7381';
export const DEFAULT_MAX_CONNECTIONS = 100;
export const DEFAULT_STARTUP_SYNC_MS = 5000;
export const DEFAULT_MESH_DEGREE = 3;
/** Version 1 floods every message over the mesh; its measured default stays 6. */
export const DEFAULT_MESH_DEGREE_V1 = 6;
export const DEFAULT_GOSSIP_VERSION = 2;
export const DEFAULT_MAX_INBOUND_STREAMS = 256;
export const DEFAULT_MAX_INBOUND_STREAM_BYTES = 32 * 1024 * 1024;

export interface P2pConfig {
  readonly listen: readonly string[];
  readonly announce: readonly string[];
  /** Multiaddrs ending in /p2p/<peer id>. */
  readonly bootstrap: readonly string[];
  readonly allowLoopback: boolean;
  readonly maxConnections: number;
  /** gossipsub's target mesh degree D (default 3; 6 with version 1). */
  readonly meshDegree: number;
  /** Node-wide cap on inbound sync streams open at once (default 256). */
  readonly maxInboundStreams: number;
  /** Node-wide cap on the bytes inbound sync streams may hold at once (default 32 MiB). */
  readonly maxInboundStreamBytes: number;
  /** Connection slots kept for bootstrap peers and bound tracked witnesses (default: their number, at most half of maxConnections). */
  readonly reservedSlots?: number;
  /** How long startup waits for bootstrap peers' copies of this node's cosignatures (0: not at all). */
  readonly startupSyncMs: number;
  /** The libp2p identity key file (absolute); absent: p2p-identity.key in data:. */
  readonly identity?: string;
  /** Gossip wire version, 1 or 2 (default; docs/gossip.md, "Version 2"); peers of the other version are refused. */
  readonly version?: 1 | 2;
}

export interface TrackedWitness {
  readonly name?: string;
  readonly vkey: string;
  /** The cosignature/v1 verifier (a 0x01 vkey is re-derived as 0x04). */
  readonly verifier: Verifier;
}

export class ConfigError extends GossipWitnessError {
  constructor(
    readonly file: string,
    readonly problems: readonly { path: string; reason: string }[],
  ) {
    super({ code: 'CONFIG', message: formatProblems('config', file, problems) });
    this.name = 'ConfigError';
  }
}

const DURATION = /^([0-9]{1,9})(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `10s`, `5m`, `1h`, `2d`, `500ms`; null if malformed. */
export function parseDuration(s: string): number | null {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** The longest delay a Node.js timer takes (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** parseDuration for a value that becomes a timer delay: null if malformed or longer than MAX_TIMER_MS. */
export function parseTimerDuration(s: string): number | null {
  const d = parseDuration(s);
  return d !== null && d <= MAX_TIMER_MS ? d : null;
}

/** Parses `host:port` or `[v6]:port` (port 0 = any free port). */
export function parseListen(s: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):([0-9]{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  // An IP literal must be one (999.1.1.1 would go to DNS and fail as if transiently).
  if (m[1] !== undefined && isIP(m[1]) !== 6) return null;
  if (m[2] !== undefined && /^[0-9.]+$/.test(m[2]) && isIP(m[2]) !== 4) return null;
  return { host: m[1] ?? m[2], port };
}

const nonEmpty = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'));
/** A file or directory name: no NUL byte (the file system refuses it with a TypeError). */
const pathName = v.pipe(nonEmpty, v.check((s: string) => !s.includes('\0'), 'must not contain a NUL byte'));
/** An integer in [min, max], with the config's wording. */
const int = (typeMsg: string, min: number, max: number, minMsg = `must be at least ${min}`, maxMsg = `must be at most ${max}`) =>
  v.pipe(v.number(typeMsg), v.integer('must be an integer'), v.minValue(min, minMsg), v.maxValue(max, maxMsg));

const LogSchema = mapping(
  {
    origin: nonEmpty,
    vkeys: v.pipe(v.array(v.string('must be a vkey string'), 'must be a list of vkeys'), v.minLength(1, 'at least one vkey is required')),
    qpd: v.optional(int('must be a number', 1, MAX_QPD, 'must be at least 1', 'must be below 2^31')),
    disabled: v.optional(v.boolean('must be true or false')),
    contact: v.optional(v.string('must be a string')),
    // Pull feeders: validated below with src/logs/feeders/config.ts.
    pull: v.optional(v.unknown()),
  },
  'must be a mapping',
);

const ConfigSchema = mapping(
  {
    name: nonEmpty,
    key: v.union([pathName, v.pipe(v.array(pathName), v.minLength(1, 'at least one key file is required'))], 'must be a file name or a list of file names'),
    data: v.optional(pathName),
    http: v.optional(
      mapping(
        {
          listen: v.optional(v.string('must be a string like 127.0.0.1:7380')),
          bodyLimit: v.optional(int('must be a number of bytes', 1024, 16 * 1024 * 1024, undefined, 'must be at most 16 MiB')),
          maxConnections: v.optional(int('must be a number', 1, 1_000_000)),
          // Default: maxConnections / 8 (src/http/server.ts, defaultMaxConnectionsPerClient).
          maxConnectionsPerClient: v.optional(int('must be a number', 1, 1_000_000)),
          // Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client: the
          // sign-subtree rate limit is per client address (issue 14).
          trustProxy: v.optional(v.array(v.pipe(v.string('must be an IP address or CIDR'), v.regex(/^[0-9a-fA-F.:]+(\/[0-9]{1,3})?$/, 'must be an IP address or CIDR')), 'must be a list of IP addresses or CIDRs')),
        },
        'must be a mapping',
      ),
    ),
    logs: v.optional(v.array(LogSchema, 'must be a list of logs')),
    logList: v.optional(pathName),
    logListRefresh: v.optional(v.string('must be a duration like 10s, 5m or 1h')),
    p2p: v.optional(
      mapping(
        {
          listen: v.optional(v.pipe(v.array(nonEmpty, 'must be a list of multiaddrs'), v.minLength(1, 'at least one address is required'))),
          announce: v.optional(v.array(nonEmpty, 'must be a list of multiaddrs')),
          bootstrap: v.optional(v.array(nonEmpty, 'must be a list of multiaddrs ending in /p2p/<peer id>')),
          allowLoopback: v.optional(v.boolean('must be true or false')),
          maxConnections: v.optional(int('must be a number', 1, 100_000)),
          meshDegree: v.optional(int('must be a number', 2, 32)),
          maxInboundStreams: v.optional(int('must be a number', 1, 100_000)),
          maxInboundStreamBytes: v.optional(int('must be a number of bytes', 1024 * 1024, 1024 * 1024 * 1024, 'must be at least 1 MiB (one response)', 'must be at most 1 GiB')),
          reservedSlots: v.optional(int('must be a number', 0, Number.MAX_SAFE_INTEGER)),
          startupSync: v.optional(v.string('must be a duration like 5s')),
          identity: v.optional(pathName),
          version: v.optional(v.picklist([1, 2], 'must be 1 or 2')),
        },
        'must be a mapping',
      ),
    ),
    store: v.optional(
      v.union(
        [
          nonEmpty,
          mapping(
            {
              url: v.optional(nonEmpty),
              passwordFile: v.optional(pathName),
              poolSize: v.optional(int('must be a number', 1, 1000)),
              timeout: v.optional(v.string('must be a duration like 5s')),
              unwritableExitAfter: v.optional(v.string('must be a duration like 5m (0s: never exit)')),
            },
            'must be a postgres:// URL or a mapping',
          ),
        ],
        'must be a postgres:// URL or a mapping',
      ),
    ),
    signSubtree: v.optional(
      mapping(
        {
          cacheSize: v.optional(int('must be a number of answers', 0, 1_000_000, 'must be at least 0 (0: no cache)')),
          rate: v.optional(v.pipe(v.number('must be a number of requests per second'), v.gtValue(0, 'must be above 0'), v.maxValue(100_000, 'must be at most 100000'))),
          burst: v.optional(int('must be a number of requests', 1, 1_000_000)),
          maxClients: v.optional(int('must be a number of clients', 1, 10_000_000)),
        },
        'must be a mapping (cacheSize, rate, burst, maxClients)',
      ),
    ),
    witnesses: v.optional(v.array(mapping({ name: v.optional(nonEmpty), vkey: nonEmpty }, 'must be a mapping with vkey (and optionally name)'), 'must be a list of witnesses')),
  },
  'the config must be a YAML mapping',
);

// libp2p's address parsers pull in about 100 modules: load them only for a config with a p2p:
// block, so a witness without gossip does not pay for them (issue 14). loadConfigAsync imports
// them first when the text has a p2p: block; otherwise parseConfig require()s them (both packages
// ship a "module-sync" build, which require() loads synchronously on Node >= 20.19).
interface P2pParsers {
  multiaddr: typeof import('@multiformats/multiaddr').multiaddr;
  peerIdFromString: typeof import('@libp2p/peer-id').peerIdFromString;
}
let p2pParsers: P2pParsers | undefined;
function loadP2pParsers(): P2pParsers {
  if (!p2pParsers) {
    const require = createRequire(import.meta.url);
    const { multiaddr } = require('@multiformats/multiaddr') as typeof import('@multiformats/multiaddr');
    const { peerIdFromString } = require('@libp2p/peer-id') as typeof import('@libp2p/peer-id');
    p2pParsers = { multiaddr, peerIdFromString };
  }
  return p2pParsers;
}
async function importP2pParsers(): Promise<void> {
  if (p2pParsers) return;
  const [{ multiaddr }, { peerIdFromString }] = await Promise.all([import('@multiformats/multiaddr'), import('@libp2p/peer-id')]);
  p2pParsers = { multiaddr, peerIdFromString };
}

function checkMultiaddr(s: string, needPeer: boolean): string | undefined {
  const { multiaddr, peerIdFromString } = loadP2pParsers();
  let ma;
  try {
    ma = multiaddr(s);
  } catch (e) {
    return `not a multiaddr (${(e as Error).message}): ${JSON.stringify(s)}`;
  }
  const peer = ma.getComponents().find((c) => c.name === 'p2p')?.value;
  if (needPeer) {
    if (!peer) return `must end in /p2p/<peer id>: ${JSON.stringify(s)}`;
    try {
      peerIdFromString(peer);
    } catch {
      return `bad peer id ${JSON.stringify(peer)}`;
    }
  }
  return undefined;
}

/** Parses config text; file is used for messages and to resolve relative paths. Throws ConfigError. */
export function parseConfig(text: string, file: string): WitnessConfig {
  const absFile = resolve(file);
  const base = dirname(absFile);
  const problems: { path: string; reason: string }[] = [];
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, [{ path: '', reason: `larger than ${MAX_CONFIG_BYTES} bytes: not a config file` }]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0];
      const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ path: pos ? `line ${pos.line}` : '', reason: `YAML: ${msg}` });
    }
    throw new ConfigError(file, problems);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    // yaml throws a ReferenceError for an alias bomb.
    throw new ConfigError(file, [{ path: '', reason: `YAML: ${(e as Error).message.split('\n')[0]} (at most ${MAX_YAML_ALIASES} aliases are resolved)` }]);
  }
  const parsed = validate(ConfigSchema, raw ?? {});
  if (!parsed.ok) throw new ConfigError(file, parsed.problems);
  const c = parsed.value;

  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));

  if (!isValidKeyName(c.name)) problems.push({ path: 'name', reason: `invalid key name ${looksLikePrivateKey(c.name) ? `(${describeKeyInput(c.name)})` : JSON.stringify(c.name.slice(0, 100))} (no "+", no spaces)` });

  const keyFiles = (typeof c.key === 'string' ? [c.key] : c.key).map(abs);
  const seenKeys = new Set<string>();
  keyFiles.forEach((k, i) => {
    if (seenKeys.has(k)) problems.push({ path: typeof c.key === 'string' ? 'key' : `key[${i}]`, reason: `duplicate key file ${k}` });
    seenKeys.add(k);
  });

  let listen = parseListen(DEFAULT_LISTEN)!;
  if (c.http?.listen !== undefined) {
    const l = parseListen(c.http.listen);
    if (!l) problems.push({ path: 'http.listen', reason: `must be HOST:PORT (e.g. 127.0.0.1:7380, [::1]:7380, 0.0.0.0:0), got ${JSON.stringify(c.http.listen)}` });
    else listen = l;
  }

  const logs: ConfiguredLog[] = [];
  const origins = new Map<string, number>();
  (c.logs ?? []).forEach((l, i) => {
    const where = `logs[${i}]`;
    if (l.origin.includes('\n')) problems.push({ path: `${where}.origin`, reason: 'must be a single line' });
    const prev = origins.get(l.origin);
    if (prev !== undefined) problems.push({ path: `${where}.origin`, reason: `duplicate origin ${JSON.stringify(l.origin)} (also logs[${prev}])` });
    else origins.set(l.origin, i);
    const verifiers: Verifier[] = [];
    const seen = new Map<string, string>();
    l.vkeys.forEach((vk, j) => {
      let v: Verifier;
      try {
        v = parseVkey(vk.trim());
      } catch (e) {
        // Never the input itself: it may be a private key pasted by mistake.
        problems.push({ path: `${where}.vkeys[${j}]`, reason: `log ${JSON.stringify(l.origin)}: ${(e as Error).message}${looksLikePrivateKey(vk) ? '' : `: ${describeKeyInput(vk)}`}` });
        return;
      }
      if (seen.get(keyLabel(v.name, v.keyId)) === v.vkey) return; // the same key twice: one verifier
      if (seen.has(keyLabel(v.name, v.keyId))) {
        problems.push({ path: `${where}.vkeys[${j}]`, reason: `log ${JSON.stringify(l.origin)}: another vkey has the same name and key ID ${keyLabel(v.name, v.keyId)}` });
        return;
      }
      seen.set(keyLabel(v.name, v.keyId), v.vkey);
      verifiers.push(v);
    });
    if (l.pull !== undefined) {
      const pull = parsePullConfig(l.pull);
      if (!pull.ok) for (const p of pull.problems) problems.push({ path: `${where}.pull${p.path ? '.' + p.path : ''}`, reason: p.reason });
    }
    logs.push({
      origin: l.origin,
      vkeys: l.vkeys,
      verifiers,
      ...(l.qpd !== undefined ? { qpd: l.qpd } : {}),
      ...(l.disabled !== undefined ? { disabled: l.disabled } : {}),
      ...(l.contact !== undefined ? { contact: l.contact } : {}),
      ...(l.pull !== undefined ? { pull: l.pull } : {}),
    });
  });

  let logList: LogListSource | undefined;
  if (c.logList !== undefined) {
    if (/^https?:\/\//i.test(c.logList)) {
      try {
        new URL(c.logList);
        logList = { kind: 'url', url: c.logList };
      } catch {
        problems.push({ path: 'logList', reason: `not a valid URL: ${JSON.stringify(c.logList)}` });
      }
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c.logList)) {
      problems.push({ path: 'logList', reason: 'must be a file path or an http(s) URL' });
    } else {
      logList = { kind: 'file', path: abs(c.logList) };
    }
  }

  let logListRefreshMs = DEFAULT_LOG_LIST_REFRESH_MS;
  if (c.logListRefresh !== undefined) {
    const d = parseDuration(c.logListRefresh);
    if (d === null) problems.push({ path: 'logListRefresh', reason: `must be a duration like 10s, 5m or 1h, got ${JSON.stringify(c.logListRefresh)}` });
    else if (d > MAX_TIMER_MS) problems.push({ path: 'logListRefresh', reason: 'must be at most 24d' });
    else if (d < 1000) problems.push({ path: 'logListRefresh', reason: 'must be at least 1s' });
    else logListRefreshMs = d;
  }

  let p2p: P2pConfig | undefined;
  if (c.p2p !== undefined) {
    const listenAddrs = c.p2p.listen ?? [DEFAULT_P2P_LISTEN];
    listenAddrs.forEach((a, i) => {
      const err = checkMultiaddr(a, false);
      if (err) problems.push({ path: `p2p.listen[${i}]`, reason: err });
    });
    (c.p2p.announce ?? []).forEach((a, i) => {
      const err = checkMultiaddr(a, false);
      if (err) problems.push({ path: `p2p.announce[${i}]`, reason: err });
    });
    (c.p2p.bootstrap ?? []).forEach((a, i) => {
      const err = checkMultiaddr(a, true);
      if (err) problems.push({ path: `p2p.bootstrap[${i}]`, reason: err });
    });
    let startupSyncMs = DEFAULT_STARTUP_SYNC_MS;
    if (c.p2p.startupSync !== undefined) {
      const d = parseDuration(c.p2p.startupSync);
      if (d !== null && d > MAX_TIMER_MS) problems.push({ path: 'p2p.startupSync', reason: 'must be at most 24d' });
      else if (d === null) problems.push({ path: 'p2p.startupSync', reason: `must be a duration like 5s (0s: do not wait), got ${JSON.stringify(c.p2p.startupSync)}` });
      else startupSyncMs = d;
    }
    p2p = {
      listen: listenAddrs,
      announce: c.p2p.announce ?? [],
      bootstrap: c.p2p.bootstrap ?? [],
      allowLoopback: c.p2p.allowLoopback ?? false,
      maxConnections: c.p2p.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      meshDegree: c.p2p.meshDegree ?? ((c.p2p.version ?? DEFAULT_GOSSIP_VERSION) === 1 ? DEFAULT_MESH_DEGREE_V1 : DEFAULT_MESH_DEGREE),
      maxInboundStreams: c.p2p.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      maxInboundStreamBytes: c.p2p.maxInboundStreamBytes ?? DEFAULT_MAX_INBOUND_STREAM_BYTES,
      ...(c.p2p.reservedSlots !== undefined ? { reservedSlots: c.p2p.reservedSlots } : {}),
      startupSyncMs,
      ...(c.p2p.identity !== undefined ? { identity: abs(c.p2p.identity) } : {}),
      version: c.p2p.version ?? DEFAULT_GOSSIP_VERSION,
    };
  }

  const witnesses: TrackedWitness[] = [];
  const witnessLabels = new Map<string, number>();
  (c.witnesses ?? []).forEach((w, i) => {
    let verifier: Verifier;
    try {
      verifier = parseCosignatureVkey(w.vkey.trim());
    } catch (e) {
      problems.push({ path: `witnesses[${i}].vkey`, reason: `${(e as Error).message}${looksLikePrivateKey(w.vkey) ? '' : `: ${describeKeyInput(w.vkey)}`}` });
      return;
    }
    const label = keyLabel(verifier.name, verifier.keyId);
    const prev = witnessLabels.get(label);
    if (prev !== undefined) {
      problems.push({ path: `witnesses[${i}].vkey`, reason: `duplicate witness key ${label} (also witnesses[${prev}])` });
      return;
    }
    witnessLabels.set(label, i);
    witnesses.push({ ...(w.name !== undefined ? { name: w.name } : {}), vkey: w.vkey.trim(), verifier });
  });

  let store: StoreConfig | undefined;
  if (c.store !== undefined) {
    const sc = typeof c.store === 'string' ? { url: c.store } : c.store;
    const urlPath = typeof c.store === 'string' ? 'store' : 'store.url';
    let unwritableExitAfterMs = DEFAULT_UNWRITABLE_EXIT_AFTER_MS;
    if (sc.unwritableExitAfter !== undefined) {
      const d = parseDuration(sc.unwritableExitAfter);
      if (d === null) problems.push({ path: 'store.unwritableExitAfter', reason: `must be a duration like 5m (0s: never exit), got ${JSON.stringify(sc.unwritableExitAfter)}` });
      else unwritableExitAfterMs = d;
    }
    let timeoutMs: number | undefined;
    if (sc.timeout !== undefined) {
      const d = parseTimerDuration(sc.timeout);
      if (d === null || d < 100) problems.push({ path: 'store.timeout', reason: `must be a duration from 100ms to 24d like 5s, got ${JSON.stringify(sc.timeout)}` });
      else timeoutMs = d;
    }
    // Never echo the URL: it may carry a password.
    if (sc.url !== undefined && !/^postgres(ql)?:\/\//i.test(sc.url)) problems.push({ path: urlPath, reason: 'must be a postgres://USER@HOST:PORT/DB URL (or a mapping)' });
    if (sc.url === undefined && (sc.passwordFile !== undefined || sc.poolSize !== undefined || sc.timeout !== undefined)) problems.push({ path: 'store', reason: 'passwordFile, poolSize and timeout need store.url' });
    store = {
      unwritableExitAfterMs,
      ...(sc.url !== undefined ? { postgres: { url: sc.url, ...(sc.passwordFile !== undefined ? { passwordFile: abs(sc.passwordFile) } : {}), ...(sc.poolSize !== undefined ? { poolSize: sc.poolSize } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) } } : {}),
    };
  }
  if (store?.postgres && c.data !== undefined) problems.push({ path: 'data', reason: 'set either data (a LevelDB directory) or a store URL (PostgreSQL), not both' });
  if (!store?.postgres && c.data === undefined) problems.push({ path: 'data', reason: 'required: a LevelDB directory (or set store: postgres://USER@HOST:PORT/DB)' });
  if (store?.postgres && p2p && p2p.identity === undefined) problems.push({ path: 'p2p.identity', reason: 'required with a store URL: each instance needs its own libp2p identity key file' });

  if ((c.logs ?? []).length === 0 && c.logList === undefined) problems.push({ path: 'logs', reason: 'no logs configured: set logs, logList, or both' });

  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    file: absFile,
    name: c.name,
    keyFiles,
    ...(c.data !== undefined ? { data: abs(c.data) } : {}),
    http: { host: listen.host, port: listen.port, bodyLimit: c.http?.bodyLimit ?? DEFAULT_BODY_LIMIT, maxConnections: c.http?.maxConnections ?? DEFAULT_HTTP_MAX_CONNECTIONS, ...(c.http?.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: c.http.maxConnectionsPerClient } : {}), ...(c.http?.trustProxy ? { trustProxy: c.http.trustProxy } : {}) },
    logs,
    ...(logList ? { logList } : {}),
    logListRefreshMs,
    ...(p2p ? { p2p } : {}),
    ...(c.witnesses !== undefined ? { witnesses } : {}),
    ...(store ? { store } : {}),
    ...(c.signSubtree !== undefined ? { signSubtree: subtreeLimits(c.signSubtree) } : {}),
  };
}

/** The config's signSubtree block in SubtreeSigner's terms. */
function subtreeLimits(s: { cacheSize?: number; rate?: number; burst?: number; maxClients?: number }): SubtreeLimits {
  return {
    ...(s.cacheSize !== undefined ? { cacheEntries: s.cacheSize } : {}),
    ...(s.rate !== undefined ? { perClientPerSecond: s.rate } : {}),
    ...(s.burst !== undefined ? { perClientBurst: s.burst } : {}),
    ...(s.maxClients !== undefined ? { maxClients: s.maxClients } : {}),
  };
}

/** Reads and parses a config file. Throws ConfigError (an unreadable file included). */
export function loadConfig(file: string): WitnessConfig {
  return parseConfig(readConfigText(file), file);
}

/** As loadConfig; imports the libp2p address parsers first when the config has a p2p: block. */
export async function loadConfigAsync(file: string): Promise<WitnessConfig> {
  const text = readConfigText(file);
  if (/^p2p\s*:/m.test(text)) await importP2pParsers();
  return parseConfig(text, file);
}

function readConfigText(file: string): string {
  let text: string;
  try {
    text = readFileCappedSync(file, MAX_CONFIG_BYTES).toString('utf8');
  } catch (e) {
    if (e instanceof FileTooLargeError) throw new ConfigError(file, [{ path: '', reason: `larger than ${MAX_CONFIG_BYTES} bytes: not a config file` }]);
    throw new ConfigError(file, [{ path: '', reason: `cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}` }]);
  }
  return text;
}
