// Tiled logs as a feeder source: c2sp.org/tlog-tiles (`<url>/checkpoint`, `<url>/tile/<L>/<N>[.p/<W>]`)
// and, with another path layout, Go's checksum database (sumdb.ts). Consistency proofs are built
// from the tiles (protocols.md §6.2), fetching only the tiles the proof's nodes live in.
//
// Tile cache: keyed by (level, index, width). A fetched tile enters the cache only once a proof
// built from it verified against a checkpoint (and the witness's stored root): settle(true).
// A proof that failed evicts every tile it touched, cached or fetched: settle(false). A lying log
// can serve different "immutable" tiles to different clients; nothing it served is trusted
// until it was checked against a signed root.
//
// Widths: a proof for a tree of size s needs the partial tiles implied by s. The spec allows a
// full tile where a partial one is asked (its prefix is the partial tile), and a log may delete
// partial tiles once the full one exists, so a 404 on a partial tile falls back to the full one.
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import { EMPTY_ROOT, HASH_SIZE } from '../../merkle/hash.js';
import { consistencyProofAsync } from '../../merkle/proof.js';
import { TILE_HEIGHT, tilePath, tileSubtreeHasher, tileWidthAt, type TileFetcher } from '../../merkle/tiles.js';
import { sameSizeVerdict, verdictFromConsistency, type Evidence, type SignedCheckpointRef } from '../../evidence/split-view.js';
import { FeedAbortedError, FeedError, httpGet, httpRequest, joinUrl, displayUrl, type HttpSettings } from './http.js';
import { DEFAULT_TILE_CACHE_ENTRIES, type LogSource, type ProofAttempt, type ProofOptions, type PullType, type TileAccess, type TileSession } from './source.js';

/**
 * Largest checkpoint answer accepted: a checkpoint with 100 signature lines of the largest type
 * (ML-DSA-44, about 3.3 KB a line: about 330 KB) fits; 100 Ed25519 lines are about 11 KB.
 */
export const MAX_CHECKPOINT_BYTES = 512 * 1024;

// ---------------------------------------------------------------------------------------------
// The cache

const tileKey = (level: number, index: bigint, width: number) => `${level}/${index}/${width}`;

/** An LRU of verified tiles keyed by (level, index, width). */
export class TileCache {
  private readonly map = new Map<string, Uint8Array>();

  constructor(
    readonly maxEntries: number = DEFAULT_TILE_CACHE_ENTRIES,
    readonly fullWidth: number = 2 ** TILE_HEIGHT,
  ) {}

  /** The tile of exactly this width, or the prefix of the cached full tile. */
  lookup(level: number, index: bigint, width: number): { key: string; data: Uint8Array } | undefined {
    for (const w of width === this.fullWidth ? [width] : [width, this.fullWidth]) {
      const key = tileKey(level, index, w);
      const data = this.map.get(key);
      if (data !== undefined) {
        this.map.delete(key); // LRU: most recently used last
        this.map.set(key, data);
        return { key, data: data.subarray(0, width * HASH_SIZE) };
      }
    }
    return undefined;
  }

  put(key: string, data: Uint8Array): void {
    if (this.maxEntries <= 0) return;
    this.map.delete(key);
    this.map.set(key, data);
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  has(level: number, index: bigint, width: number): boolean {
    return this.map.has(tileKey(level, index, width));
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// The source

export interface TiledSourceOptions {
  readonly type: PullType;
  readonly url: string;
  /** Path of the checkpoint relative to url: `checkpoint` (tlog-tiles) or `latest` (sumdb). */
  readonly checkpointPath: string;
  /** Path of hash tile (level, index, width) relative to url. */
  readonly tilePath: (level: number, index: bigint, width: number) => string;
  readonly height?: number;
  readonly http: HttpSettings;
  readonly cacheEntries?: number;
  /** Observes every tile request made (tests, benchmarks). */
  readonly onTileFetch?: (path: string) => void;
}

export class TiledLogSource implements LogSource, TileAccess {
  readonly type: PullType;
  readonly url: string;
  readonly height: number;
  readonly cache: TileCache;
  readonly tiles: TileAccess = this;
  private readonly opts: TiledSourceOptions;

  constructor(opts: TiledSourceOptions) {
    this.opts = opts;
    this.type = opts.type;
    this.url = opts.url;
    this.height = opts.height ?? TILE_HEIGHT;
    this.cache = new TileCache(opts.cacheEntries ?? DEFAULT_TILE_CACHE_ENTRIES, 2 ** this.height);
  }

  async latest(signal?: AbortSignal): Promise<Uint8Array> {
    const res = await httpGet(this.opts.http, joinUrl(this.url, this.opts.checkpointPath), MAX_CHECKPOINT_BYTES, signal);
    return res.body;
  }

  async proof(oldSize: bigint, cp: Checkpoint, opts: ProofOptions = {}): Promise<ProofAttempt> {
    const session = this.session(cp.size, cp.size, opts);
    let proof: Uint8Array[];
    try {
      proof = await consistencyProofAsync(oldSize, cp.size, tileSubtreeHasher(cp.size, session.fetchTile, this.height));
    } catch (e) {
      throw asFeedError(e);
    }
    return { proof, fromCache: session.fromCache, settle: (ok) => session.settle(ok) };
  }

  session(size: bigint, servedSize: bigint, opts: ProofOptions = {}): TileSession {
    if (servedSize < size) throw new RangeError(`served size ${servedSize} is below the tree size ${size}`);
    const touched = new Map<string, { data: Uint8Array; fetched: boolean; source?: string }>();
    let fromCache = false;
    let settled = false;
    const fetchTile: TileFetcher = async (level, index, width) => {
      const key = tileKey(level, index, width);
      if (!opts.fresh) {
        const hit = this.cache.lookup(level, index, width);
        if (hit) {
          fromCache = true;
          touched.set(key, { data: hit.data, fetched: false, source: hit.key });
          return hit.data;
        }
      }
      // The tile as the log serves it at its current size: a superset of the one needed.
      const want = servedSize > size ? tileWidthAt(level, index, servedSize, this.height) : width;
      const body = await this.fetchTileBody(level, index, want, opts.signal);
      if (body.length % HASH_SIZE !== 0 || body.length < width * HASH_SIZE) {
        throw new FeedError('malformed', `tile ${this.opts.tilePath(level, index, want)}: ${body.length} bytes, want ${want * HASH_SIZE}`);
      }
      const data = body.slice(0, width * HASH_SIZE);
      touched.set(key, { data, fetched: true });
      return data;
    };
    return {
      fetchTile,
      get fromCache() {
        return fromCache;
      },
      settle: (verified: boolean) => {
        if (settled) return;
        settled = true;
        for (const [key, t] of touched) {
          if (verified) {
            if (t.fetched) this.cache.put(key, t.data);
          } else {
            this.cache.delete(key);
            if (t.source) this.cache.delete(t.source);
          }
        }
      },
    };
  }

  private async fetchTileBody(level: number, index: bigint, width: number, signal?: AbortSignal): Promise<Uint8Array> {
    const full = 2 ** this.height;
    const maxBytes = full * HASH_SIZE;
    const get = async (w: number) => {
      const path = this.opts.tilePath(level, index, w);
      this.opts.onTileFetch?.(path);
      return { path, res: await httpRequest(this.opts.http, { url: joinUrl(this.url, path), maxBytes, signal }) };
    };
    let { path, res } = await get(width);
    // Partial tiles may be deleted once the full tile exists.
    if ((res.status === 404 || res.status === 410) && width < full) ({ path, res } = await get(full));
    if (res.status !== 200) throw new FeedError('http', `GET ${displayUrl(joinUrl(this.url, path))}: HTTP ${res.status}`);
    return res.body;
  }
}

function asFeedError(e: unknown): unknown {
  if (e instanceof FeedError || e instanceof FeedAbortedError) return e;
  // tileNodeHasher's own checks on what a fetcher returned.
  if (e instanceof Error && !(e instanceof RangeError) && !(e instanceof TypeError)) return new FeedError('malformed', e.message);
  return e;
}

export interface TilesSourceOptions {
  readonly url: string;
  readonly http: HttpSettings;
  readonly cacheEntries?: number;
  readonly onTileFetch?: (path: string) => void;
}

/** A c2sp.org/tlog-tiles log: `<url>/checkpoint`, `<url>/tile/<L>/<N>[.p/<W>]`. */
export function createTilesSource(opts: TilesSourceOptions): TiledLogSource {
  return new TiledLogSource({
    type: 'tiles',
    url: opts.url,
    checkpointPath: 'checkpoint',
    tilePath: (level, index, width) => tilePath(level, index, width),
    http: opts.http,
    ...(opts.cacheEntries !== undefined ? { cacheEntries: opts.cacheEntries } : {}),
    ...(opts.onTileFetch ? { onTileFetch: opts.onTileFetch } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Proven evidence from tiles

export type { SignedCheckpointRef };

export type ProveResult =
  | { kind: 'evidence'; evidence: Evidence }
  /** The smaller checkpoint is a prefix of the larger one's tree: no split view. */
  | { kind: 'consistent' }
  /** The tiles do not hash to the larger checkpoint's root: they are not its tree's tiles. */
  | { kind: 'tiles-mismatch'; reason: string };

/** MTH of the first `size` leaves of the tree whose tiles fetchTile serves (size <= treeSize). */
export async function rootFromTiles(size: bigint, treeSize: bigint, fetchTile: TileFetcher, height: number = TILE_HEIGHT): Promise<Uint8Array> {
  if (size === 0n) return EMPTY_ROOT.slice();
  return tileSubtreeHasher(treeSize, fetchTile, height)(0n, size);
}

/**
 * Tries to prove that two log-signed checkpoints are inconsistent, using tiles of the LARGER
 * checkpoint's tree: h = the root of its first m leaves (m = the smaller size), and the RFC 6962
 * consistency proof from (m, h) to the larger root, both read from the tiles. The proof is
 * checked against the larger checkpoint's signed root, which authenticates the tiles' hashes; if
 * h differs from the smaller checkpoint's root, the result is canonical evidence
 * (src/witness/evidence.ts). When m is a power of two the proof omits h (the verifier prepends
 * it), which is why h is carried in the evidence; the tiles give it directly either way.
 * Same sizes need no tiles. The caller still runs verifyEvidence with the keys it trusts.
 * Reusable by the gossip layer: fetchTile may be any TileFetcher for the larger tree.
 */
export async function proveFromTiles(
  small: SignedCheckpointRef,
  large: SignedCheckpointRef,
  fetchTile: TileFetcher,
  height: number = TILE_HEIGHT,
): Promise<ProveResult> {
  if (small.checkpoint.size > large.checkpoint.size) [small, large] = [large, small];
  const m = small.checkpoint.size;
  const n = large.checkpoint.size;
  if (small.checkpoint.origin !== large.checkpoint.origin) throw new RangeError('checkpoints of different origins');
  if (m === 0n) return { kind: 'consistent' }; // every tree extends the empty tree
  const same = sameSizeVerdict(small, large);
  if (same) return same;
  const hasher = tileSubtreeHasher(n, fetchTile, height);
  const [h, proof] = await Promise.all([hasher(0n, m), consistencyProofAsync(m, n, hasher)]);
  return verdictFromConsistency(small, large, h, proof) ?? { kind: 'tiles-mismatch', reason: `tiles do not hash to the root of the checkpoint of size ${n}` };
}
