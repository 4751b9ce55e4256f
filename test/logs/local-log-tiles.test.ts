// The local log's tlog-tiles: fetched over HTTP, tiles rebuild the checkpoint root and give
// proofs that verify; partial widths are those tilesForSize says; entry bundles decode; the
// --dir layout holds the same bytes; a restart keeps the log.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalLog, decodeEntryRecords, MAX_ENTRY_SIZE, type LocalLog } from '../../src/logs/local-log/index.js';
import {
  TILE_WIDTH,
  consistencyProofAsync,
  entriesPath,
  hashLeaf,
  inclusionProofAsync,
  subtreeHashFromTileHashes,
  tilePath,
  tileSubtreeHasher,
  tilesForSize,
  verifyConsistency,
  verifyInclusion,
  MemoryTree,
} from '../../src/merkle/index.js';
import { generateKey } from '../../src/note/keys.js';
import { fetchCheckpoint, httpGet, httpTileFetcher } from './local-log-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-ll-tiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logs: LocalLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.stop()));
});

async function start(opts: Parameters<typeof startLocalLog>[0]): Promise<LocalLog> {
  const l = await startLocalLog({ intervalMs: 0, ...opts });
  logs.push(l);
  return l;
}

const enc = new TextEncoder();
/** Deterministic entries of varied lengths (one empty, one large). */
function entry(i: number): Uint8Array {
  if (i === 5) return new Uint8Array(0);
  if (i === 7) return new Uint8Array(3000).fill(i & 0xff);
  return enc.encode(`entry ${i}`);
}

async function growTo(log: LocalLog, size: number): Promise<void> {
  const from = Number(log.size());
  const batch: Uint8Array[] = [];
  for (let i = from; i < size; i++) batch.push(entry(i));
  const idx = await log.append(batch);
  expect(idx).toEqual(batch.map((_, k) => BigInt(from + k)));
  await log.publish();
}

describe('local log tiles over HTTP', () => {
  it('serves tiles that rebuild every checkpoint root, with the partial widths tilesForSize gives', async () => {
    const log = await start({ origin: 'example.com/tiles' });
    const reference = new MemoryTree();
    const roots = new Map<bigint, Uint8Array>();
    // Empty log: a size-0 checkpoint with the empty root, no tiles.
    let cp = (await fetchCheckpoint(log.url, log.vkey)).checkpoint;
    expect(cp.size).toBe(0n);
    expect(cp.root).toEqual(reference.root());
    expect((await httpGet(`${log.url}/tile/0/000.p/1`)).status).toBe(404);

    for (const size of [1, 3, 255, 256, 257, 600, 70_000]) {
      await growTo(log, size);
      while (reference.size < BigInt(size)) reference.append(entry(Number(reference.size)));
      cp = (await fetchCheckpoint(log.url, log.vkey)).checkpoint;
      expect(cp.size).toBe(BigInt(size));
      expect(cp.origin).toBe('example.com/tiles');
      roots.set(cp.size, cp.root);

      // The root, rebuilt from tiles only.
      const fetcher = httpTileFetcher(log.url);
      const hasher = tileSubtreeHasher(cp.size, fetcher);
      expect(await hasher(0n, cp.size)).toEqual(cp.root);
      expect(cp.root).toEqual(reference.root());

      // Partial tiles: exactly the widths tilesForSize says exist; one more is 404.
      for (const lt of tilesForSize(cp.size)) {
        if (lt.partialWidth > 0) {
          const r = await httpGet(`${log.url}/${tilePath(lt.level, lt.fullTiles, lt.partialWidth)}`);
          expect(r.status).toBe(200);
          expect(r.body.length).toBe(32 * lt.partialWidth);
          expect((await httpGet(`${log.url}/${tilePath(lt.level, lt.fullTiles, lt.partialWidth + 1)}`)).status).toBe(404);
          expect((await httpGet(`${log.url}/${tilePath(lt.level, lt.fullTiles)}`)).status).toBe(404);
        }
        if (lt.fullTiles > 0n) {
          const last = await httpGet(`${log.url}/${tilePath(lt.level, lt.fullTiles - 1n)}`);
          expect(last.status).toBe(200);
          expect(last.body.length).toBe(8192);
          expect(last.headers['cache-control']).toContain('immutable');
        }
      }
      // Beyond the tree: 404.
      expect((await httpGet(`${log.url}/${tilePath(0, BigInt(size) / 256n + 1n, 1)}`)).status).toBe(404);
    }

    // 70,000 leaves: 273 full level-0 tiles + 112, 1 full level-1 tile + 17, level 2 width 1.
    expect(tilesForSize(70_000n).map((l) => [l.level, l.fullTiles, l.partialWidth])).toEqual([
      [0, 273n, 112],
      [1, 1n, 17],
      [2, 0n, 1],
    ]);
    const t1 = await httpGet(`${log.url}/tile/1/000`);
    const t0 = await httpGet(`${log.url}/tile/0/005`);
    // A level-1 hash is the MTH of the full level-0 tile below it.
    expect(t1.body.subarray(5 * 32, 6 * 32)).toEqual(subtreeHashFromTileHashes(t0.body, 0, 256));
    const t2 = await httpGet(`${log.url}/tile/2/000.p/1`);
    expect(t2.body).toEqual(subtreeHashFromTileHashes(t1.body, 0, 256));

    // Consistency and inclusion proofs built from tiles verify against the signed roots.
    const size = 70_000n;
    for (const m of [1n, 3n, 255n, 256n, 257n, 600n]) {
      const fetcher = httpTileFetcher(log.url);
      const proof = await consistencyProofAsync(m, size, tileSubtreeHasher(size, fetcher));
      expect(verifyConsistency(m, size, roots.get(m)!, roots.get(size)!, proof)).toBe(true);
      expect(fetcher.requests.length).toBeLessThan(12);
    }
    for (const i of [0n, 5n, 7n, 256n, 69_999n]) {
      const proof = await inclusionProofAsync(i, size, tileSubtreeHasher(size, httpTileFetcher(log.url)));
      expect(verifyInclusion(i, size, hashLeaf(entry(Number(i))), proof, roots.get(size)!)).toBe(true);
    }
    // Old partial tiles stay available (a client may hold an older checkpoint).
    expect((await httpGet(`${log.url}/tile/0/002.p/88`)).status).toBe(200);
  });

  it('serves entry bundles that decode to the entries, full and partial', async () => {
    const log = await start({ origin: 'example.com/bundles' });
    await growTo(log, 600);
    const full = await httpGet(`${log.url}/${entriesPath(1n)}`);
    expect(full.status).toBe(200);
    const dec = decodeEntryRecords(full.body);
    expect(dec.consumed).toBe(full.body.length);
    expect(dec.entries).toEqual(Array.from({ length: 256 }, (_, k) => entry(256 + k)));
    const first = decodeEntryRecords((await httpGet(`${log.url}/${entriesPath(0n)}`)).body).entries;
    expect(first[5]).toEqual(new Uint8Array(0));
    expect(first[7].length).toBe(3000);
    const partial = await httpGet(`${log.url}/${entriesPath(2n, 88)}`);
    expect(partial.status).toBe(200);
    expect(decodeEntryRecords(partial.body).entries).toEqual(Array.from({ length: 88 }, (_, k) => entry(512 + k)));
    expect((await httpGet(`${log.url}/${entriesPath(2n, 89)}`)).status).toBe(404);
    expect((await httpGet(`${log.url}/tile/entries/2`)).status).toBe(404); // not a valid path
    // Each bundle entry's leaf hash is the level-0 tile's hash.
    const tile = (await httpGet(`${log.url}/${tilePath(0, 2n, 88)}`)).body;
    const bundle = decodeEntryRecords(partial.body).entries;
    bundle.forEach((e, k) => expect(hashLeaf(e)).toEqual(tile.subarray(k * 32, k * 32 + 32)));
  });

  it('accepts POST /add, refuses oversized entries and bad requests', async () => {
    const log = await start({ origin: 'example.com/add' });
    let res = await fetch(`${log.url}/add`, { method: 'POST', body: 'hello' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ index: 0 });
    res = await fetch(`${log.url}/add`, { method: 'POST', body: new Uint8Array(MAX_ENTRY_SIZE) });
    expect(await res.json()).toEqual({ index: 1 });
    res = await fetch(`${log.url}/add`, { method: 'POST', body: new Uint8Array(MAX_ENTRY_SIZE + 1) });
    expect(res.status).toBe(413);
    res = await fetch(`${log.url}/add`, { method: 'POST', body: 'x', headers: {} });
    expect(res.status).toBe(200);
    expect((await fetch(`${log.url}/add`)).status).toBe(405);
    expect((await fetch(`${log.url}/add?branch=b`, { method: 'POST', body: 'x' })).status).toBe(400); // not forked
    expect((await fetch(`${log.url}/add?branch=c`, { method: 'POST', body: 'x' })).status).toBe(400);
    expect((await fetch(`${log.url}/nope`)).status).toBe(404);
    // Concurrent adds are batched and all get distinct indexes.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${log.url}/add`, { method: 'POST', body: `c${i}` }).then((r) => r.json() as Promise<{ index: number }>)));
    expect(new Set(many.map((m) => m.index)).size).toBe(50);
    expect(Math.min(...many.map((m) => m.index))).toBe(3);
    // Sequenced, not yet published: the checkpoint grows on publish.
    expect((await fetchCheckpoint(log.url, log.vkey)).checkpoint.size).toBe(0n);
    await log.publish();
    expect((await fetchCheckpoint(log.url, log.vkey)).checkpoint.size).toBe(53n);
  });

  it('writes exactly the tlog-tiles layout to --dir and keeps the log across a restart', async () => {
    const d = join(dir, 'persist');
    const key = generateKey('example.com/persist');
    let log = await start({ origin: 'example.com/persist', key, dir: d });
    await growTo(log, 300);
    const root300 = (await fetchCheckpoint(log.url, log.vkey)).checkpoint.root;
    // Every served resource is on disk, byte for byte; superseded partials are gone.
    for (const lt of tilesForSize(300n)) {
      for (let n = 0n; n <= lt.fullTiles; n++) {
        const w = n < lt.fullTiles ? TILE_WIDTH : lt.partialWidth;
        if (w === 0) continue;
        const p = tilePath(lt.level, n, w);
        expect(new Uint8Array(readFileSync(join(d, p)))).toEqual((await httpGet(`${log.url}/${p}`)).body);
      }
    }
    expect(new Uint8Array(readFileSync(join(d, entriesPath(1n, 44))))).toEqual((await httpGet(`${log.url}/${entriesPath(1n, 44)}`)).body);
    expect(existsSync(join(d, 'tile/0/000'))).toBe(true);
    expect(existsSync(join(d, 'tile/0/000.p'))).toBe(false);
    expect(existsSync(join(d, 'tile/entries/000.p'))).toBe(false);
    expect(readFileSync(join(d, 'checkpoint'), 'utf8')).toBe(log.checkpoint());
    await log.stop();
    logs.length = 0;

    // Restart: same entries, same root; growing on is consistent with the old checkpoint.
    log = await start({ origin: 'example.com/persist', key, dir: d });
    expect(log.size()).toBe(300n);
    const again = (await fetchCheckpoint(log.url, log.vkey)).checkpoint;
    expect(again.size).toBe(300n);
    expect(again.root).toEqual(root300);
    await growTo(log, 700);
    const cp = (await fetchCheckpoint(log.url, log.vkey)).checkpoint;
    const proof = await consistencyProofAsync(300n, 700n, tileSubtreeHasher(700n, httpTileFetcher(log.url)));
    expect(verifyConsistency(300n, 700n, root300, cp.root, proof)).toBe(true);
    expect(existsSync(join(d, 'tile/0/001.p'))).toBe(false);
    expect(existsSync(join(d, 'tile/0/002.p/188'))).toBe(true);
  });

  it('cuts a torn final record off the entries file on load', async () => {
    const d = join(dir, 'torn');
    const key = generateKey('example.com/torn');
    let log = await start({ origin: 'example.com/torn', key, dir: d });
    await growTo(log, 10);
    await log.stop();
    logs.length = 0;
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(d, '.local-log/entries'), Uint8Array.of(0, 9, 1, 2)); // a record cut short
    log = await start({ origin: 'example.com/torn', key, dir: d });
    expect(log.size()).toBe(10n);
    await growTo(log, 12);
    await log.stop();
    logs.length = 0;
    log = await start({ origin: 'example.com/torn', key, dir: d });
    expect(log.size()).toBe(12n);
  });
});
