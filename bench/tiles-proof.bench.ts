// Building a consistency proof from tlog-tiles for a tree of 10^8 entries, tiles fetched over
// HTTP from a local server, as a pulling witness does (src/merkle/tiles.ts tileSubtreeHasher).
// Run: node --import tsx bench/tiles-proof.bench.ts
// Prints one markdown table row per old size:
//   | benchmark | old size → new size | requests | KiB fetched | proof hashes | ms (median) | verified |
//
// The server holds no 10^8 entries: it serves a synthetic but fully consistent tree (the sparse
// trick of test/merkle/large-sizes.test.ts): leaves at a set of special indexes are distinct,
// every other leaf is one filler leaf, so a perfect subtree without special leaves hashes to a
// per-level constant and every other node is computed (memoised) from its children. Every
// level-L tile hash is therefore the MTH of the tile below it, exactly as on a real log. Tiles are
// served by the local log's own tlog-tiles handler (src/logs/local-log/server.ts).
import '../src/platform.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  consistencyProofAsync,
  hashChildren,
  hashLeaf,
  rootFromHasher,
  subtreeHasherFromNodes,
  tilePath,
  tileSubtreeHasher,
  verifyConsistency,
} from '../src/merkle/index.js';
import { answerTlogTiles } from '../src/logs/local-log/server.js';
import type { TileSource } from '../src/logs/local-log/tiles.js';

const SIZE = 100_000_000n;
const OLD_SIZES = [1n, 12_345_678n, 1n << 26n, SIZE - 12_345n, SIZE - 1n];
const RUNS = 7;

function syntheticTree(special: bigint[]) {
  const sorted = [...new Set(special)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const filler: Uint8Array[] = [hashLeaf(new TextEncoder().encode('filler'))];
  const uniform = (level: number): Uint8Array => {
    while (filler.length <= level) filler.push(hashChildren(filler[filler.length - 1], filler[filler.length - 1]));
    return filler[level];
  };
  const anySpecial = (start: bigint, end: bigint): boolean => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo] < end;
  };
  const memo = new Map<string, Uint8Array>();
  const node = (level: number, index: bigint): Uint8Array => {
    const start = index << BigInt(level);
    if (!anySpecial(start, start + (1n << BigInt(level)))) return uniform(level);
    const key = `${level}/${index}`;
    let h = memo.get(key);
    if (h === undefined) {
      h = level === 0 ? hashLeaf(new TextEncoder().encode(`leaf ${index}`)) : hashChildren(node(level - 1, 2n * index), node(level - 1, 2n * index + 1n));
      memo.set(key, h);
    }
    return h;
  };
  return node;
}

// Special leaves: pseudo-random ones everywhere, and those at the edges of every tree size used.
const special: bigint[] = [];
let x = 0x2545f491n;
for (let i = 0; i < 2000; i++) {
  x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
  special.push(x % SIZE);
}
const WARMUP_SIZE = SIZE - 777n;
for (const m of [...OLD_SIZES, SIZE, WARMUP_SIZE]) special.push(m - 1n, m);
const node = syntheticTree(special.filter((i) => i >= 0n && i < SIZE));
const source: TileSource = { size: SIZE, node };
const modelHasher = subtreeHasherFromNodes(node);

let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  const a = answerTlogTiles(new URL(req.url ?? '/', 'http://x').pathname, source, undefined);
  requests++;
  const body = a === null ? 'not found\n' : a.body;
  bytes += body.length;
  res.writeHead(a?.status ?? 404, a?.headers ?? {}).end(body);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const fetchTile = async (level: number, index: bigint, width: number): Promise<Uint8Array> => {
  const res = await fetch(`${base}/${tilePath(level, index, width)}`);
  if (res.status !== 200) throw new Error(`tile ${level}/${index}.p/${width}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};

const newRoot = rootFromHasher(SIZE, modelHasher);
// JIT warm-up (fetch, hashing, the server) with a size not measured below.
for (let i = 0; i < 20; i++) await consistencyProofAsync(WARMUP_SIZE, SIZE, tileSubtreeHasher(SIZE, fetchTile));
console.log('| benchmark | old size → new size | requests | KiB fetched | proof hashes | ms (median) | verified |');
console.log('|---|---|---|---|---|---|---|');
for (const m of OLD_SIZES) {
  const oldRoot = rootFromHasher(m, modelHasher);
  // Warm the server's memo once, so the numbers are the client's (fetch + hashing) cost.
  await consistencyProofAsync(m, SIZE, tileSubtreeHasher(SIZE, fetchTile));
  const times: number[] = [];
  let reqs = 0;
  let kib = 0;
  let proofLen = 0;
  let ok = true;
  for (let run = 0; run < RUNS; run++) {
    requests = 0;
    bytes = 0;
    const t0 = performance.now();
    // A fresh hasher: no tile is cached between runs (a cold client).
    const proof = await consistencyProofAsync(m, SIZE, tileSubtreeHasher(SIZE, fetchTile));
    times.push(performance.now() - t0);
    reqs = requests;
    kib = bytes / 1024;
    proofLen = proof.length;
    ok &&= verifyConsistency(m, SIZE, oldRoot, newRoot, proof);
  }
  times.sort((a, b) => a - b);
  const label = `${m.toLocaleString('en-US')} → ${SIZE.toLocaleString('en-US')}`;
  console.log(`| tiles-proof | ${label} | ${reqs} | ${kib.toFixed(1)} | ${proofLen} | ${times[RUNS >> 1].toFixed(1)} | ${ok ? 'yes' : 'NO'} |`);
  if (!ok) process.exitCode = 1;
}
server.closeAllConnections();
server.close();
