// Tiled logs: c2sp.org/tlog-tiles paths and Go sumdb (golang.org/x/mod/sumdb/tlog) tile paths,
// tile coordinate arithmetic (protocols.md §6), and subtree hashes computed from tiles.
//
// Tile levels and widths are small integers (numbers); tile and leaf indexes are bigint.
import { HASH_SIZE, MAX_TREE_SIZE, checkTreeSize, hashChildren } from './hash.js';
import { asyncSubtreeHasherFromNodes, type AsyncNodeHasher, type AsyncSubtreeHasher } from './proof.js';

/** c2sp tlog-tiles tile height: a full tile holds 2^8 = 256 hashes. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Highest tile level allowed by tlog-tiles. */
export const MAX_TILE_LEVEL = 63;

// ---------------------------------------------------------------------------------------------
// Index encoding

/**
 * The tile index path element: 3-digit groups, every group but the last prefixed with "x".
 * 5 -> "005", 1234067 -> "x001/x234/067".
 */
export function encodeTileIndex(n: bigint): string {
  if (typeof n !== 'bigint' || n < 0n) throw new RangeError(`bad tile index ${n}`);
  const pad3 = (v: bigint) => v.toString().padStart(3, '0');
  let s = pad3(n % 1000n);
  let rest = n / 1000n;
  while (rest > 0n) {
    s = `x${pad3(rest % 1000n)}/${s}`;
    rest /= 1000n;
  }
  return s;
}

/** Strict inverse of encodeTileIndex (only its exact output is accepted); null if invalid. */
export function decodeTileIndex(s: string): bigint | null {
  if (typeof s !== 'string') return null;
  const parts = s.split('/');
  let n = 0n;
  for (let i = 0; i < parts.length; i++) {
    const re = i < parts.length - 1 ? /^x([0-9]{3})$/ : /^([0-9]{3})$/;
    const m = re.exec(parts[i]);
    if (m === null) return null;
    n = n * 1000n + BigInt(m[1]);
  }
  if (n > MAX_TREE_SIZE) return null;
  return encodeTileIndex(n) === s ? n : null;
}

function checkWidth(width: number, full: number): void {
  if (!Number.isInteger(width) || width < 1 || width > full) throw new RangeError(`bad tile width ${width}`);
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) throw new RangeError(`bad tile level ${level}`);
}

function checkTileIndex(index: bigint): void {
  if (typeof index !== 'bigint' || index < 0n || index > MAX_TREE_SIZE) throw new RangeError(`bad tile index ${index}`);
}

// ---------------------------------------------------------------------------------------------
// c2sp.org/tlog-tiles paths

/** `tile/<L>/<N>[.p/<W>]`; width 256 (the default) is a full tile. */
export function tilePath(level: number, index: bigint, width: number = TILE_WIDTH): string {
  checkLevel(level);
  checkTileIndex(index);
  checkWidth(width, TILE_WIDTH);
  return `tile/${level}/${encodeTileIndex(index)}${width === TILE_WIDTH ? '' : `.p/${width}`}`;
}

/** `tile/entries/<N>[.p/<W>]`: entry bundle N (entries N·256 ...). */
export function entriesPath(index: bigint, width: number = TILE_WIDTH): string {
  checkTileIndex(index);
  checkWidth(width, TILE_WIDTH);
  return `tile/entries/${encodeTileIndex(index)}${width === TILE_WIDTH ? '' : `.p/${width}`}`;
}

/** A parsed tlog-tiles path: a hash tile (level 0..63) or an entry bundle. width 256 = full. */
export type TileRef =
  | { kind: 'tile'; level: number; index: bigint; width: number }
  | { kind: 'entries'; index: bigint; width: number };

/**
 * Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no prefix, no leading slash).
 * Strict: only the exact output of tilePath/entriesPath is accepted; null otherwise.
 */
export function parseTilePath(path: string): TileRef | null {
  if (typeof path !== 'string') return null;
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (m === null) return null;
  const index = decodeTileIndex(m[2]);
  if (index === null) return null;
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH) return null;
  if (m[1] === 'entries') return { kind: 'entries', index, width };
  const level = Number(m[1]);
  if (level > MAX_TILE_LEVEL) return null;
  return { kind: 'tile', level, index, width };
}

// ---------------------------------------------------------------------------------------------
// Go sumdb paths: tile/<H>/<L>/<N>[.p/<W>], data tiles tile/<H>/data/<N>[.p/<W>]

/** golang.org/x/mod/sumdb/tlog Tile: level -1 is a data tile. width 2^height = full. */
export interface SumdbTile {
  height: number;
  level: number;
  index: bigint;
  width: number;
}

/** Go's Tile.Path(). */
export function sumdbTilePath(t: SumdbTile): string {
  if (!Number.isInteger(t.height) || t.height < 1 || t.height > 30) throw new RangeError(`bad tile height ${t.height}`);
  if (!Number.isInteger(t.level) || t.level < -1) throw new RangeError(`bad tile level ${t.level}`);
  checkTileIndex(t.index);
  const full = 2 ** t.height;
  checkWidth(t.width, full);
  const L = t.level === -1 ? 'data' : String(t.level);
  return `tile/${t.height}/${L}/${encodeTileIndex(t.index)}${t.width === full ? '' : `.p/${t.width}`}`;
}

/**
 * Go's ParseTilePath: height 1..30, level >= 0 or "data", width 1..2^height-1 after ".p/", index
 * groups of 3 digits; finally the path must equal the re-encoded tile (so "123/456/078",
 * leading zeros, signs and the like are rejected). null if invalid.
 */
export function parseSumdbTilePath(path: string): SumdbTile | null {
  if (typeof path !== 'string') return null;
  const f = path.split('/');
  if (f.length < 4 || f[0] !== 'tile') return null;
  const dec = /^[0-9]{1,10}$/;
  if (!dec.test(f[1])) return null;
  const height = Number(f[1]);
  const isData = f[2] === 'data';
  if (!isData && !dec.test(f[2])) return null;
  const level = isData ? -1 : Number(f[2]);
  if (height < 1 || height > 30 || !Number.isSafeInteger(level)) return null;
  let width = 2 ** height;
  let idx = f.slice(3);
  const dotP = idx.length >= 2 ? idx[idx.length - 2] : '';
  if (dotP.endsWith('.p')) {
    const w = idx[idx.length - 1];
    if (!dec.test(w)) return null;
    const ww = Number(w);
    if (ww <= 0 || ww >= width) return null;
    width = ww;
    idx = [...idx.slice(0, -2), dotP.slice(0, -2)];
  }
  let index = 0n;
  for (const s of idx) {
    const g = /^x?([0-9]{1,3})$/.exec(s);
    if (g === null) return null;
    index = index * 1000n + BigInt(g[1]);
  }
  if (index > MAX_TREE_SIZE) return null;
  const t: SumdbTile = { height, level, index, width };
  return sumdbTilePath(t) === path ? t : null;
}

// ---------------------------------------------------------------------------------------------
// Coordinate arithmetic

export interface LevelTiles {
  level: number;
  /** Number of full tiles at this level. */
  fullTiles: bigint;
  /** Width of the partial tile after the full ones (0: there is none). */
  partialWidth: number;
}

/**
 * The tiles that exist for a tree of `size` leaves: for each level L with at least one hash
 * (floor(size / 256^L) >= 1), the number of full tiles floor(size / 256^(L+1)) and the partial
 * tile width floor(size / 256^L) mod 256. Size 0 has no tiles.
 */
export function tilesForSize(size: bigint, height: number = TILE_HEIGHT): LevelTiles[] {
  checkTreeSize(size);
  checkHeight(height);
  const h = BigInt(height);
  const mask = (1n << h) - 1n;
  const out: LevelTiles[] = [];
  for (let level = 0; ; level++) {
    const hashes = size >> (h * BigInt(level)); // hashes stored at this tile level
    if (hashes === 0n) break;
    out.push({ level, fullTiles: hashes >> h, partialWidth: Number(hashes & mask) });
  }
  return out;
}

/**
 * Width of tile (level, index) in a tree of `size` leaves: 2^height if full, the partial width
 * if it is the last (partial) tile, 0 if the tile does not exist at this size.
 */
export function tileWidthAt(level: number, index: bigint, size: bigint, height: number = TILE_HEIGHT): number {
  checkLevel(level);
  checkTileIndex(index);
  checkTreeSize(size);
  checkHeight(height);
  const h = BigInt(height);
  const hashes = size >> (h * BigInt(level));
  const full = hashes >> h;
  if (index < full) return 2 ** height;
  if (index === full) return Number(hashes & ((1n << h) - 1n));
  return 0;
}

function checkHeight(height: number): void {
  if (!Number.isInteger(height) || height < 1 || height > 30) throw new RangeError(`bad tile height ${height}`);
}

/** Where a perfect tree node lives in the tiles (protocols.md §6.2). */
export interface NodeTileCoords {
  /** Tile level L = floor(h / height). */
  tileLevel: number;
  /** Tile index N = floor(k·2^r / 2^height). */
  tileIndex: bigint;
  /** Offset of the first hash within the tile: (k·2^r) mod 2^height. */
  offset: number;
  /** Number of consecutive tile hashes whose MTH is the node: 2^r. */
  count: number;
  /** r = h - L·height: how many times the `count` hashes are hashed pairwise. */
  foldLevels: number;
}

/**
 * Maps the perfect node at tree level h with index k (leaves [k·2^h, (k+1)·2^h)) to tile
 * coordinates. The node is the MTH of hashes k·2^r ... (k+1)·2^r - 1 of tile level L, which never
 * straddle a tile boundary.
 */
export function nodeTileCoords(level: number, index: bigint, height: number = TILE_HEIGHT): NodeTileCoords {
  checkHeight(height);
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new RangeError(`bad node level ${level}`);
  if (typeof index !== 'bigint' || index < 0n || (index + 1n) << BigInt(level) > MAX_TREE_SIZE + 1n) {
    throw new RangeError(`bad node index ${index} at level ${level}`);
  }
  const tileLevel = Math.floor(level / height);
  const r = level - tileLevel * height;
  const first = index << BigInt(r);
  const h = BigInt(height);
  return {
    tileLevel,
    tileIndex: first >> h,
    offset: Number(first & ((1n << h) - 1n)),
    count: 2 ** r,
    foldLevels: r,
  };
}

/**
 * The MTH of `count` (a power of two) consecutive hashes of a tile, starting at `offset`:
 * hashed pairwise with node() (no leaf prefix) log2(count) times. `tile` is the tile body
 * (concatenated 32-byte hashes).
 */
export function subtreeHashFromTileHashes(tile: Uint8Array, offset: number, count: number): Uint8Array {
  if (!(tile instanceof Uint8Array) || tile.length % HASH_SIZE !== 0) throw new TypeError('tile must be a multiple of 32 bytes');
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(Math.log2(count))) {
    throw new RangeError(`count ${count} is not a power of two`);
  }
  if (!Number.isInteger(offset) || offset < 0 || (offset + count) * HASH_SIZE > tile.length) {
    throw new RangeError(`hashes [${offset}, ${offset + count}) not in a tile of ${tile.length / HASH_SIZE}`);
  }
  let level: Uint8Array[] = [];
  for (let i = 0; i < count; i++) level.push(tile.subarray((offset + i) * HASH_SIZE, (offset + i + 1) * HASH_SIZE));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i], level[i + 1]));
    level = next;
  }
  return level[0].slice();
}

/** Splits a tile body into its 32-byte hashes (copies). */
export function tileHashes(tile: Uint8Array): Uint8Array[] {
  if (!(tile instanceof Uint8Array) || tile.length % HASH_SIZE !== 0) throw new TypeError('tile must be a multiple of 32 bytes');
  const out: Uint8Array[] = [];
  for (let off = 0; off < tile.length; off += HASH_SIZE) out.push(tile.slice(off, off + HASH_SIZE));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Subtree hashes from fetched tiles

/**
 * Fetches hash tile (level, index) with the given width (2^height = full; smaller = the partial
 * tile implied by the tree size). May return the full tile instead of a partial one (its prefix
 * is the partial tile). Returns the tile body: concatenated 32-byte hashes.
 */
export type TileFetcher = (level: number, index: bigint, width: number) => Promise<Uint8Array>;

/**
 * Node hashes for a tree of `size` leaves, read from tiles. Each tile is fetched at most once per
 * returned hasher (failed fetches are retried on the next request). Throws RangeError for nodes
 * that are not complete in a tree of `size`.
 */
export function tileNodeHasher(size: bigint, fetchTile: TileFetcher, height: number = TILE_HEIGHT): AsyncNodeHasher {
  checkTreeSize(size);
  checkHeight(height);
  const cache = new Map<string, Promise<Uint8Array>>();
  return async (level, index) => {
    const c = nodeTileCoords(level, index, height);
    if ((index + 1n) << BigInt(level) > size) {
      throw new RangeError(`node (${level}, ${index}) is not complete in a tree of ${size}`);
    }
    const width = tileWidthAt(c.tileLevel, c.tileIndex, size, height);
    if (c.offset + c.count > width) throw new RangeError(`node (${level}, ${index}) not covered by tile width ${width}`);
    const key = `${c.tileLevel}/${c.tileIndex}`;
    let p = cache.get(key);
    if (p === undefined) {
      p = fetchTile(c.tileLevel, c.tileIndex, width).then((tile) => {
        if (!(tile instanceof Uint8Array) || tile.length % HASH_SIZE !== 0 || tile.length < width * HASH_SIZE || tile.length > HASH_SIZE * 2 ** height) {
          throw new Error(`tile ${key}: got ${tile?.length} bytes, want ${width * HASH_SIZE}`);
        }
        return tile;
      });
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    const tile = await p;
    return subtreeHashFromTileHashes(tile, c.offset, c.count);
  };
}

/** An AsyncSubtreeHasher (for inclusionProofAsync / consistencyProofAsync) reading tiles. */
export function tileSubtreeHasher(size: bigint, fetchTile: TileFetcher, height: number = TILE_HEIGHT): AsyncSubtreeHasher {
  const nodes = tileNodeHasher(size, fetchTile, height);
  const hasher = asyncSubtreeHasherFromNodes(nodes);
  return (start, end) => {
    if (end > size) return Promise.reject(new RangeError(`range end ${end} beyond tree size ${size}`));
    return hasher(start, end);
  };
}
