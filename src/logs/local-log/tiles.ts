// Building c2sp.org/tlog-tiles resources (hash tiles, entry bundles) from a tree, and writing them
// to a directory in exactly the tlog-tiles layout. Paths and tile arithmetic come from
// src/merkle/tiles.ts; node hashes from whatever holds the tree (MemoryTree, or a synthetic one).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HASH_SIZE } from '../../merkle/hash.js';
import { TILE_HEIGHT, TILE_WIDTH, encodeTileIndex, entriesPath, tilePath, tilesForSize, tileWidthAt } from '../../merkle/tiles.js';

/** A tree as tiles see it: its size and the hash of any complete node of it. */
export interface TileSource {
  /** The tree size tiles are served for (a published checkpoint's size). */
  readonly size: bigint;
  /** Hash of the complete node covering leaves [index·2^level, (index+1)·2^level) (< size). */
  node(level: number, index: bigint): Uint8Array;
  /** Entry `index` (< size), or undefined when this source has no entries (hash tiles only). */
  entry?(index: bigint): Uint8Array;
}

/** Largest entry an entry bundle can carry (u16be length prefix). */
export const MAX_BUNDLE_ENTRY = 0xffff;

/**
 * The body of hash tile (level, index) of width `width` (1..256), or null when the tile does not
 * have `width` hashes at the source's size. A partial width is served for any prefix of the tile
 * that exists at this size (it is, byte for byte, the partial tile of an older size).
 */
export function hashTile(src: TileSource, level: number, index: bigint, width: number): Uint8Array | null {
  const have = tileWidthAt(level, index, src.size);
  if (have === 0 || width > have) return null;
  const out = new Uint8Array(width * HASH_SIZE);
  const first = index * BigInt(TILE_WIDTH);
  const nodeLevel = level * TILE_HEIGHT;
  for (let i = 0; i < width; i++) out.set(src.node(nodeLevel, first + BigInt(i)), i * HASH_SIZE);
  return out;
}

/** `u16be length || entry` records concatenated (the entry-bundle and entries-file format). */
export function encodeEntryRecords(entries: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_BUNDLE_ENTRY) throw new RangeError(`entry of ${e.length} bytes does not fit a u16 length`);
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/**
 * Decodes concatenated `u16be length || entry` records. Returns the entries and the number of
 * bytes consumed by complete records (a truncated final record is left unconsumed).
 */
export function decodeEntryRecords(buf: Uint8Array): { entries: Uint8Array[]; consumed: number } {
  const entries: Uint8Array[] = [];
  let o = 0;
  while (o + 2 <= buf.length) {
    const len = (buf[o] << 8) | buf[o + 1];
    if (o + 2 + len > buf.length) break;
    entries.push(buf.slice(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return { entries, consumed: o };
}

/** Entry bundle `index` of width `width`, or null when it does not exist at the source's size. */
export function entryBundle(src: TileSource, index: bigint, width: number): Uint8Array | null {
  if (src.entry === undefined) return null;
  const have = tileWidthAt(0, index, src.size);
  if (have === 0 || width > have) return null;
  const first = index * BigInt(TILE_WIDTH);
  const entries: Uint8Array[] = [];
  for (let i = 0; i < width; i++) entries.push(src.entry(first + BigInt(i)));
  return encodeEntryRecords(entries);
}

function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Writes a tree's tiles, entry bundles and checkpoint into a directory in the tlog-tiles layout:
 *   <dir>/checkpoint, <dir>/tile/<L>/<N>[.p/<W>], <dir>/tile/entries/<N>[.p/<W>]
 * Full tiles are written once and never rewritten (they are immutable); when a tile becomes full
 * its partial versions are deleted. Partial tiles of the tile that is still partial are kept, so
 * clients holding a slightly older checkpoint can still fetch theirs. The checkpoint is written
 * last, atomically, after every tile it refers to.
 */
export class TileDirWriter {
  /** Size whose tiles are known to be on disk (0 after a restart: existing full tiles are skipped). */
  #written = 0n;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  write(src: TileSource, checkpointNote: string): void {
    const from = this.#written;
    const size = src.size;
    if (size < from) throw new RangeError(`tile directory ${this.dir} already holds size ${from} > ${size}`);
    const fromLevels = tilesForSize(from);
    for (const lt of tilesForSize(size)) {
      const firstNew = fromLevels[lt.level]?.fullTiles ?? 0n;
      for (let n = firstNew; n < lt.fullTiles; n++) {
        this.#writeFull(tilePath(lt.level, n), () => hashTile(src, lt.level, n, TILE_WIDTH)!, from === 0n);
        if (lt.level === 0 && src.entry) this.#writeFull(entriesPath(n), () => entryBundle(src, n, TILE_WIDTH)!, from === 0n);
        // The tile is full now: its partial versions are superseded.
        rmSync(join(this.dir, 'tile', String(lt.level), `${encodeTileIndex(n)}.p`), { recursive: true, force: true });
        if (lt.level === 0) rmSync(join(this.dir, 'tile', 'entries', `${encodeTileIndex(n)}.p`), { recursive: true, force: true });
      }
      if (lt.partialWidth > 0) {
        const n = lt.fullTiles;
        writeFileAtomic(join(this.dir, tilePath(lt.level, n, lt.partialWidth)), hashTile(src, lt.level, n, lt.partialWidth)!);
        if (lt.level === 0 && src.entry) writeFileAtomic(join(this.dir, entriesPath(n, lt.partialWidth)), entryBundle(src, n, lt.partialWidth)!);
      }
    }
    this.writeCheckpoint(checkpointNote);
    this.#written = size;
  }

  /** Replaces <dir>/checkpoint (e.g. when cosignatures were added to the same checkpoint). */
  writeCheckpoint(note: string): void {
    writeFileAtomic(join(this.dir, 'checkpoint'), note);
  }

  #writeFull(rel: string, body: () => Uint8Array, skipExisting: boolean): void {
    const path = join(this.dir, rel);
    if (skipExisting && existsSync(path)) return;
    writeFileAtomic(path, body());
  }
}
