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
import { z } from 'zod';
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

export interface PullProblem {
  /** Path below the `pull` key, e.g. "interval" or "forward[1]" ("" for the block itself). */
  readonly path: string;
  readonly reason: string;
}

export const MIN_INTERVAL_MS = 10;

const DURATION = /^([0-9]{1,9})(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `10s`, `5m`, `1h`; null if malformed. (Same syntax as the config file's durations.) */
export function parsePullDuration(s: string): number | null {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

const duration = z.string({ error: 'must be a duration like 500ms, 10s, 5m or 1h' });
const httpUrl = z.string({ error: 'must be an http(s) URL' }).refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.search === '' && u.hash === '';
    } catch {
      return false;
    }
  },
  { error: 'must be an http(s) URL without query or fragment' },
);

const PullSchema = z.strictObject(
  {
    type: z.enum(PULL_TYPES as [PullType, ...PullType[]], { error: `must be one of ${PULL_TYPES.join(', ')}` }).optional(),
    url: httpUrl,
    interval: duration.optional(),
    timeout: duration.optional(),
    maxBackoff: duration.optional(),
    treeID: z.string({ error: 'must be a decimal string (quote it: YAML numbers lose precision above 2^53)' }).regex(/^[0-9]{1,20}$/, { error: 'must be a decimal tree ID' }).optional(),
    forward: z.array(httpUrl, { error: 'must be a list of witness URLs' }).max(32, { error: 'at most 32 witnesses' }).optional(),
    tileCache: z.number({ error: 'must be a number of tiles' }).int({ error: 'must be an integer' }).min(0, { error: 'must be at least 0' }).max(1_000_000, { error: 'must be at most 1000000' }).optional(),
  },
  { error: 'must be a mapping with (type and) url' },
);

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : (out === '' ? '' : '.') + String(seg);
  return out;
}

/** Validates a `pull:` block. */
export function parsePullConfig(raw: unknown): { ok: true; value: PullConfig } | { ok: false; problems: PullProblem[] } {
  const parsed = PullSchema.safeParse(raw);
  if (!parsed.success) {
    const problems: PullProblem[] = [];
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push({ path: formatPath([...issue.path, k]), reason: 'unknown key' });
        continue;
      }
      const missing = issue.path.length > 0 && typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>)[String(issue.path[0])] === undefined;
      problems.push({ path: formatPath(issue.path), reason: missing ? 'required' : issue.message });
    }
    return { ok: false, problems };
  }
  const c = { ...parsed.data, type: parsed.data.type ?? 'tiles' };
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
