// The per-log `pull:` block of the witness config (src/config.ts accepts it as an opaque value;
// this module validates it). Keys:
//
//   pull:
//     type: tiles | rekor-v1 | sumdb     # default tiles (c2sp.org/tlog-tiles)
//     url: https://log.example/          # required, http(s): the tiles prefix, Rekor base URL, or sumdb URL
//     interval: 10s                      # poll interval (default 10s, at least 10ms; use seconds for real logs)
//     timeout: 10s                       # per-request deadline (default 10s)
//     maxBackoff: 5m                     # cap of the exponential backoff on failures (default 5m)
//     treeID: "1193050959916656506"      # rekor-v1 only: the shard (a quoted string); default: the
//                                        # "<host> - <treeID>" suffix of the origin, else the active shard
//     forward: [ https://w2.example/ ]   # other witnesses' submission prefixes (optional)
//     tileCache: 256                     # tiles, sumdb: verified tiles kept in memory (default 256)
import * as v from 'valibot';
import { mapping, validate, type Problem } from '../../util/validate.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_MAX_BACKOFF_MS, DEFAULT_TIMEOUT_MS, DEFAULT_TILE_CACHE_ENTRIES, PULL_TYPES, type PullType } from './source.js';

export interface PullConfig {
  readonly type: PullType;
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxBackoffMs: number;
  readonly treeID?: string;
  readonly forward: readonly string[];
  readonly tileCache: number;
}

/** Path below the `pull` key, e.g. "interval" or "forward[1]" ("" for the block itself). */
export type PullProblem = Problem;

export const MIN_INTERVAL_MS = 10;

const DURATION = /^([0-9]{1,9})(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `5m`, `1h`; null if malformed. (Same syntax as the config file's durations.) */
export function parsePullDuration(s: string): number | null {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

const duration = v.string('must be a duration like 500ms, 10s, 5m or 1h');
const httpUrl = v.pipe(
  v.string('must be an http(s) URL'),
  v.check((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without query or fragment'),
);

const PullSchema = mapping(
  {
    type: v.optional(v.picklist(PULL_TYPES, `must be one of ${PULL_TYPES.join(', ')}`)),
    url: httpUrl,
    interval: v.optional(duration),
    timeout: v.optional(duration),
    maxBackoff: v.optional(duration),
    treeID: v.optional(v.pipe(v.string('must be a decimal string (quote it: YAML numbers lose precision above 2^53)'), v.regex(/^[0-9]{1,20}$/, 'must be a decimal tree ID'))),
    forward: v.optional(v.pipe(v.array(httpUrl, 'must be a list of witness URLs'), v.maxLength(32, 'at most 32 witnesses'))),
    tileCache: v.optional(v.pipe(v.number('must be a number of tiles'), v.integer('must be an integer'), v.minValue(0, 'must be at least 0'), v.maxValue(1_000_000, 'must be at most 1000000'))),
  },
  'must be a mapping with (type and) url',
);

/** Validates a `pull:` block. */
export function parsePullConfig(raw: unknown): { ok: true; value: PullConfig } | { ok: false; problems: PullProblem[] } {
  const parsed = validate(PullSchema, raw);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const c = { ...parsed.value, type: parsed.value.type ?? 'tiles' };
  const problems: PullProblem[] = [];
  const dur = (key: 'interval' | 'timeout' | 'maxBackoff', dflt: number, min: number): number => {
    const v = c[key];
    if (v === undefined) return dflt;
    const ms = parsePullDuration(v);
    if (ms === null) problems.push({ path: key, reason: `must be a duration like 500ms, 10s, 5m or 1h, got ${JSON.stringify(v)}` });
    else if (ms < min) problems.push({ path: key, reason: `must be at least ${min}ms` });
    else return ms;
    return dflt;
  };
  const intervalMs = dur('interval', DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS);
  const timeoutMs = dur('timeout', DEFAULT_TIMEOUT_MS, 10);
  const maxBackoffMs = dur('maxBackoff', DEFAULT_MAX_BACKOFF_MS, MIN_INTERVAL_MS);
  if (c.treeID !== undefined && c.type !== 'rekor-v1') problems.push({ path: 'treeID', reason: 'only for type rekor-v1' });
  if (c.tileCache !== undefined && c.type === 'rekor-v1') problems.push({ path: 'tileCache', reason: 'only for types tiles and sumdb' });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      type: c.type,
      url: c.url,
      intervalMs,
      timeoutMs,
      maxBackoffMs,
      ...(c.treeID !== undefined ? { treeID: c.treeID } : {}),
      forward: c.forward ?? [],
      tileCache: c.tileCache ?? DEFAULT_TILE_CACHE_ENTRIES,
    },
  };
}
