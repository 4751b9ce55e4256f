import { describe, expect, it } from 'vitest';
import {
  MemoryTree,
  consistencyProofAsync,
  decodeTileIndex,
  encodeTileIndex,
  entriesPath,
  hashChildren,
  hashLeaf,
  inclusionProofAsync,
  nodeTileCoords,
  parseSumdbTilePath,
  parseTilePath,
  subtreeHashFromTileHashes,
  sumdbTilePath,
  tileHashes,
  tileNodeHasher,
  tilePath,
  tileSubtreeHasher,
  tileWidthAt,
  tilesForSize,
  verifyConsistency,
  verifyInclusion,
  type TileFetcher,
} from '../../src/merkle/index.js';
import { fixture, toHex } from './helpers.js';

const vectors = fixture('tile-paths.json');

describe('tlog-tiles index encoding (3-digit groups, all but the last prefixed with x)', () => {
  it.each((vectors.index_encoding_derived as any[]).map((v) => [v.n, v.path_element]))('%i -> %s', (n, el) => {
    expect(encodeTileIndex(BigInt(n))).toBe(el);
    expect(decodeTileIndex(el as string)).toBe(BigInt(n));
  });

  it('encodes indexes beyond 2^53 exactly', () => {
    expect(encodeTileIndex((1n << 63n) - 1n)).toBe('x009/x223/x372/x036/x854/x775/807');
    expect(decodeTileIndex('x009/x223/x372/x036/x854/x775/807')).toBe((1n << 63n) - 1n);
    expect(decodeTileIndex('x009/x223/x372/x036/x854/x775/808')).toBeNull(); // 2^63
  });

  it('decoding is strict: only the canonical encoding is accepted', () => {
    for (const bad of ['5', '05', '0005', 'x000/005', '001/234', 'x001/x234', 'x1/234', 'x001/23a', '', 'x001//234', '-01', '+01']) {
      expect(decodeTileIndex(bad)).toBeNull();
    }
  });
});

describe('tlog-tiles paths', () => {
  it('tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>]', () => {
    expect(tilePath(0, 1234067n)).toBe('tile/0/x001/x234/067');
    expect(tilePath(2, 5n, 17)).toBe('tile/2/005.p/17');
    expect(tilePath(1, 0n, 256)).toBe('tile/1/000');
    expect(entriesPath(1234n)).toBe('tile/entries/x001/234');
    expect(entriesPath(273n, 112)).toBe('tile/entries/273.p/112');
    expect(() => tilePath(0, 0n, 0)).toThrow(RangeError);
    expect(() => tilePath(0, 0n, 257)).toThrow(RangeError);
    expect(() => tilePath(64, 0n)).toThrow(RangeError);
    expect(() => tilePath(0, -1n)).toThrow(RangeError);
  });

  it('parseTilePath accepts exactly what tilePath/entriesPath produce', () => {
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ kind: 'tile', level: 0, index: 1234067n, width: 256 });
    expect(parseTilePath('tile/63/000.p/1')).toEqual({ kind: 'tile', level: 63, index: 0n, width: 1 });
    expect(parseTilePath('tile/entries/273.p/112')).toEqual({ kind: 'entries', index: 273n, width: 112 });
    expect(parseTilePath('tile/entries/x001/234')).toEqual({ kind: 'entries', index: 1234n, width: 256 });
    for (const bad of [
      'tile/0/001.p/256',
      'tile/0/001.p/0',
      'tile/0/001.p/012',
      'tile/0/001.p/',
      'tile/64/000',
      'tile/00/000',
      'tile/-1/000',
      'tile/0/1234',
      'tile/0/x000/005',
      'tile/0/123/456',
      'tile/data/000',
      '/tile/0/000',
      'tile/0/000/',
      'tile/0',
      'tiles/0/000',
      'tile/8/0/000',
    ]) {
      expect(parseTilePath(bad), bad).toBeNull();
    }
  });
});

describe('Go sumdb tile paths (golang/mod sumdb/tlog ParseTilePath vectors)', () => {
  for (const v of vectors.go_sumdb_tile_paths.vectors as any[]) {
    if (v.expect !== undefined) {
      it(`${v.path} is rejected (${v.expect})`, () => expect(parseSumdbTilePath(v.path)).toBeNull());
    } else {
      it(`${v.path} parses to H=${v.H} L=${v.L} N=${v.N} W=${v.W} and round-trips`, () => {
        const t = parseSumdbTilePath(v.path);
        expect(t).toEqual({ height: v.H, level: v.L, index: BigInt(v.N), width: v.W });
        expect(sumdbTilePath(t!)).toBe(v.path);
      });
    }
  }

  it('rejects other non-canonical forms like Go (round-trip check)', () => {
    for (const bad of ['tile/04/0/001', 'tile/4/00/001', 'tile/4/0/001.p/16', 'tile/4/0/001.p/0', 'tile/0/0/001', 'tile/31/0/001', 'tile/4/0/1', 'tile/4/0', 'tile/+4/0/001', 'tile/4/0/x000/001', 'file/4/0/001']) {
      expect(parseSumdbTilePath(bad), bad).toBeNull();
    }
    expect(sumdbTilePath({ height: 8, level: -1, index: 1234067n, width: 256 })).toBe('tile/8/data/x001/x234/067');
    expect(sumdbTilePath({ height: 8, level: 2, index: 5n, width: 3 })).toBe('tile/8/2/005.p/3');
  });
});

describe('tiles that exist for a tree size', () => {
  it.each((vectors.tiles_needed_for_tree_size_derived as any[]).map((v) => [v.size, v]))('size %i', (size, v: any) => {
    const got = tilesForSize(BigInt(size as number)).map((l) => ({ level: l.level, full_tiles: Number(l.fullTiles), partial_width: l.partialWidth }));
    expect(got).toEqual(v.per_level);
  });

  it('the tlog-tiles spec example: 70,000 leaves', () => {
    const ex = vectors.tlog_tiles_spec_example;
    expect(ex.size).toBe(70000);
    expect(tilesForSize(70000n)).toEqual([
      { level: 0, fullTiles: 273n, partialWidth: 112 },
      { level: 1, fullTiles: 1n, partialWidth: 17 },
      { level: 2, fullTiles: 0n, partialWidth: 1 },
    ]);
    expect(tileWidthAt(0, 272n, 70000n)).toBe(256);
    expect(tileWidthAt(0, 273n, 70000n)).toBe(112);
    expect(tileWidthAt(0, 274n, 70000n)).toBe(0);
    expect(tileWidthAt(2, 0n, 70000n)).toBe(1);
    expect(tileWidthAt(3, 0n, 70000n)).toBe(0);
    expect(tilesForSize(0n)).toEqual([]);
  });

  it('sizes beyond 2^53 are exact', () => {
    const size = (1n << 63n) - 1n;
    const levels = tilesForSize(size);
    expect(levels.length).toBe(8); // 2^63 - 1 = 256^7 · 127 + ...
    expect(levels[0]).toEqual({ level: 0, fullTiles: (1n << 55n) - 1n, partialWidth: 255 });
    expect(levels[7]).toEqual({ level: 7, fullTiles: 0n, partialWidth: 127 });
  });
});

describe('perfect node -> tile coordinates (protocols.md §6.2)', () => {
  it('maps level h, index k to tile level floor(h/8), the tile holding hash k·2^r, offset and 2^r hashes', () => {
    expect(nodeTileCoords(0, 300n)).toEqual({ tileLevel: 0, tileIndex: 1n, offset: 44, count: 1, foldLevels: 0 });
    expect(nodeTileCoords(3, 33n)).toEqual({ tileLevel: 0, tileIndex: 1n, offset: 8, count: 8, foldLevels: 3 });
    expect(nodeTileCoords(8, 5n)).toEqual({ tileLevel: 1, tileIndex: 0n, offset: 5, count: 1, foldLevels: 0 });
    expect(nodeTileCoords(10, 3n)).toEqual({ tileLevel: 1, tileIndex: 0n, offset: 12, count: 4, foldLevels: 2 });
    expect(nodeTileCoords(7, 1n)).toEqual({ tileLevel: 0, tileIndex: 0n, offset: 128, count: 128, foldLevels: 7 });
    expect(nodeTileCoords(62, 1n)).toEqual({ tileLevel: 7, tileIndex: 0n, offset: 64, count: 64, foldLevels: 6 });
    expect(nodeTileCoords(0, (1n << 63n) - 1n - 1n)).toEqual({ tileLevel: 0, tileIndex: (1n << 55n) - 1n, offset: 254, count: 1, foldLevels: 0 });
    expect(() => nodeTileCoords(62, 2n)).toThrow(RangeError); // beyond 2^63 leaves
    expect(() => nodeTileCoords(-1, 0n)).toThrow(RangeError);
  });

  it('subtreeHashFromTileHashes folds 2^r hashes pairwise without a leaf prefix', () => {
    const hs = Array.from({ length: 8 }, (_, i) => hashLeaf(new Uint8Array([i])));
    const tile = new Uint8Array(8 * 32);
    hs.forEach((h, i) => tile.set(h, i * 32));
    expect(toHex(subtreeHashFromTileHashes(tile, 4, 2))).toBe(toHex(hashChildren(hs[4], hs[5])));
    expect(toHex(subtreeHashFromTileHashes(tile, 4, 4))).toBe(toHex(hashChildren(hashChildren(hs[4], hs[5]), hashChildren(hs[6], hs[7]))));
    expect(toHex(subtreeHashFromTileHashes(tile, 3, 1))).toBe(toHex(hs[3]));
    expect(tileHashes(tile).map(toHex)).toEqual(hs.map(toHex));
    expect(() => subtreeHashFromTileHashes(tile, 6, 4)).toThrow(RangeError);
    expect(() => subtreeHashFromTileHashes(tile, 0, 3)).toThrow(RangeError);
    expect(() => subtreeHashFromTileHashes(tile.subarray(1), 0, 1)).toThrow(TypeError);
  });
});

/**
 * Serves the tiles of `tree` as they are at tree size `size`. When `strict`, checks that the
 * requested width is exactly the tile's width at that size (only existing tiles are requested).
 */
function tileServer(tree: MemoryTree, size: bigint, height: number, strict = true) {
  const requests: string[] = [];
  const fetch: TileFetcher = async (level, index, requested) => {
    const width = tileWidthAt(level, index, size, height);
    if (strict) expect(requested).toBe(width);
    expect(width).toBeGreaterThan(0);
    requests.push(`${level}/${index}/${width}`);
    const out = new Uint8Array(width * 32);
    for (let j = 0; j < width; j++) out.set(tree.node(level * height, index * BigInt(2 ** height) + BigInt(j)), j * 32);
    return out;
  };
  return { fetch, requests };
}

describe('proofs built from tiles equal the proofs from the full tree', () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  it('70,000 leaves, tile height 8: inclusion and consistency proofs, each tile fetched once', async () => {
    const tree = new MemoryTree();
    for (let i = 0; i < 70000; i++) tree.appendLeafHash(hashLeaf(enc(`t${i}`)));
    for (const size of [70000n, 65536n, 65537n, 256n, 257n, 1n]) {
      const { fetch, requests } = tileServer(tree, size, 8);
      const hasher = tileSubtreeHasher(size, fetch);
      const root = tree.root(size);
      expect(toHex(await hasher(0n, size))).toBe(toHex(root));
      for (const i of [0n, 255n, 256n, 65535n, 65536n, 69999n]) {
        if (i >= size) continue;
        const p = await inclusionProofAsync(i, size, hasher);
        expect(p.map(toHex)).toEqual(tree.inclusionProof(i, size).map(toHex));
        expect(verifyInclusion(i, size, tree.leafHash(i), p, root)).toBe(true);
      }
      for (const m of [1n, 255n, 256n, 12345n, 65536n, 69999n]) {
        if (m >= size) continue;
        const p = await consistencyProofAsync(m, size, hasher);
        expect(p.map(toHex)).toEqual(tree.consistencyProof(m, size).map(toHex));
        expect(verifyConsistency(m, size, tree.root(m), root, p)).toBe(true);
      }
      expect(new Set(requests).size).toBe(requests.length);
    }
  });

  it('tile height 2 (sumdb-style parameter): every proof in trees of 1..80 leaves', async () => {
    const tree = new MemoryTree();
    for (let i = 0; i < 80; i++) tree.appendLeafHash(hashLeaf(enc(`h2/${i}`)));
    for (let n = 1n; n <= 80n; n++) {
      const { fetch } = tileServer(tree, n, 2);
      const hasher = tileSubtreeHasher(n, fetch, 2);
      for (let i = 0n; i < n; i += 3n) {
        expect((await inclusionProofAsync(i, n, hasher)).map(toHex)).toEqual(tree.inclusionProof(i, n).map(toHex));
      }
      for (let m = 1n; m < n; m += 2n) {
        expect((await consistencyProofAsync(m, n, hasher)).map(toHex)).toEqual(tree.consistencyProof(m, n).map(toHex));
      }
    }
  });

  it('nodes that are not complete at the tree size, bad tiles and failed fetches are errors', async () => {
    const tree = new MemoryTree();
    for (let i = 0; i < 600; i++) tree.appendLeafHash(hashLeaf(enc(`e${i}`)));
    const { fetch } = tileServer(tree, 300n, 8);
    const nodes = tileNodeHasher(300n, fetch);
    await expect(nodes(8, 1n)).rejects.toThrow(RangeError); // leaves 256..511
    await expect(nodes(0, 300n)).rejects.toThrow(RangeError);
    await expect(tileSubtreeHasher(300n, fetch)(0n, 301n)).rejects.toThrow(RangeError);
    const short = tileNodeHasher(300n, async () => new Uint8Array(31));
    await expect(short(0, 0n)).rejects.toThrow(/tile/);
    let calls = 0;
    const flaky = tileNodeHasher(300n, async (l, i, w) => {
      if (calls++ === 0) throw new Error('network');
      return fetch(l, i, w);
    });
    await expect(flaky(0, 1n)).rejects.toThrow('network');
    expect(toHex(await flaky(0, 1n))).toBe(toHex(tree.leafHash(1n))); // failed fetches are not cached
    // A full tile may be served where a partial one was asked for: at size 300, tile 0/1 is
    // partial (width 44), but the tree has grown to 600 and the full tile is served instead.
    const full = tileNodeHasher(300n, tileServer(tree, 600n, 8, false).fetch);
    expect(tileWidthAt(0, 1n, 300n)).toBe(44);
    expect(toHex(await full(2, 70n))).toBe(toHex(tree.node(2, 70n))); // leaves 280..283
    await expect(full(2, 75n)).rejects.toThrow(RangeError); // leaves 300..303: not in the size-300 tree
  });
});
