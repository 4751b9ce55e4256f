// What a feeder needs from a log, whatever its API: the latest checkpoint and consistency proofs.
// Implementations: tiles.ts (c2sp.org/tlog-tiles and Go's sumdb), rekor-v1.ts.
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import type { TileFetcher } from '../../merkle/tiles.js';

export type PullType = 'tiles' | 'rekor-v1' | 'sumdb';
export const PULL_TYPES: readonly PullType[] = ['tiles', 'rekor-v1', 'sumdb'];

// Defaults (here, in a dependency-free module, so that config validation loads nothing else).
export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000;
export const DEFAULT_JITTER = 0.1;
/** Default number of verified tiles cached per log (at most 8 KiB each). */
export const DEFAULT_TILE_CACHE_ENTRIES = 256;

/** A consistency proof fetched or built from the log. Unverified until the caller checks it. */
export interface ProofAttempt {
  readonly proof: Uint8Array[];
  /** True when some of the data came from a cache (a failure may be retried with fresh data). */
  readonly fromCache: boolean;
  /**
   * Tells the source whether the proof verified against the checkpoint (and the witness's
   * stored root): true caches the tiles it was built from, false evicts every tile it touched.
   * Optional to call: an unsettled attempt caches nothing.
   */
  settle(verified: boolean): void;
}

export interface ProofOptions {
  readonly signal?: AbortSignal;
  /** Bypass caches (a retry after a proof built partly from cached data failed). */
  readonly fresh?: boolean;
}

/** Tiles of the tree a log currently serves (tiles and sumdb sources). */
export interface TileAccess {
  /**
   * A tile fetcher for the tree of `size` leaves, reading the tiles the log serves for its
   * current tree of `servedSize` >= size leaves (same branch: the prefix of a tile at a larger
   * size is the tile at the smaller one). Tiles touched are cached only when settle(true).
   */
  session(size: bigint, servedSize: bigint, opts?: ProofOptions): TileSession;
  readonly height: number;
}

export interface TileSession {
  readonly fetchTile: TileFetcher;
  readonly fromCache: boolean;
  settle(verified: boolean): void;
}

export interface LogSource {
  readonly type: PullType;
  /** The base URL (for messages). */
  readonly url: string;
  /** The latest checkpoint note exactly as served (unverified). */
  latest(signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * A consistency proof from oldSize to the checkpoint cp (0 < oldSize < cp.size). cp must have
   * been verified with the log's keys first (its size decides which tiles are fetched).
   */
  proof(oldSize: bigint, cp: Checkpoint, opts?: ProofOptions): Promise<ProofAttempt>;
  /** Present when the log serves tiles: used to turn suspect records into proven evidence. */
  readonly tiles?: TileAccess;
}
