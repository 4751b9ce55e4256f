// Consistency-proof verification for a 2^40-leaf tree, per crypto backend.
// Run: node --import tsx bench/merkle.bench.ts
// Prints one markdown table row per backend: | benchmark | backend | ops/s | µs/op |
import '../src/polyfill.js';
import { setCryptoBackend, type CryptoBackend } from '../src/crypto/index.js';
import { nodeBackend } from '../src/crypto/node.js';
import { nobleBackend } from '../src/crypto/noble.js';
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  isPowerOfTwo,
  rootFromHasher,
  subtreeHasherFromNodes,
  verifyConsistency,
} from '../src/merkle/index.js';

const SIZE2 = 1n << 40n;
const SIZE1 = SIZE2 - 12345n;

/**
 * A consistent synthetic tree without materialised leaves: leaves at the `special` indexes are
 * distinct, all others are one filler leaf, so perfect subtrees without special leaves hash to a
 * per-level constant and the rest are computed from their children (memoised).
 */
function syntheticNodes(special: bigint[]) {
  const filler = [hashLeaf(new TextEncoder().encode('filler'))];
  const uniform = (level: number) => {
    while (filler.length <= level) filler.push(hashChildren(filler[filler.length - 1], filler[filler.length - 1]));
    return filler[level];
  };
  const memo = new Map<string, Uint8Array>();
  const node = (level: number, index: bigint): Uint8Array => {
    const start = index << BigInt(level);
    const end = start + (1n << BigInt(level));
    if (!special.some((s) => s >= start && s < end)) return uniform(level);
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

function bench(fn: () => void, minMs = 1500): { opsPerSec: number; usPerOp: number } {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 500; i++) fn();
    ops += 500;
    now = performance.now();
  }
  const secs = (now - start) / 1000;
  return { opsPerSec: ops / secs, usPerOp: (secs * 1e6) / ops };
}

const backends: CryptoBackend[] = [nodeBackend, nobleBackend];
for (const backend of backends) {
  setCryptoBackend(backend);
  const hasher = subtreeHasherFromNodes(syntheticNodes([0n, SIZE1 - 1n, SIZE1, SIZE2 - 1n]));
  const proof = consistencyProof(SIZE1, SIZE2, hasher);
  const root1 = rootFromHasher(SIZE1, hasher);
  const root2 = rootFromHasher(SIZE2, hasher);
  if (isPowerOfTwo(SIZE1) || !verifyConsistency(SIZE1, SIZE2, root1, root2, proof)) throw new Error('bench setup: proof does not verify');
  const r = bench(() => {
    if (!verifyConsistency(SIZE1, SIZE2, root1, root2, proof)) throw new Error('verify failed');
  });
  const fmt = (n: number, d: number) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  process.stdout.write(
    `| merkle verifyConsistency 2^40-12345 → 2^40 (${proof.length}-hash proof) | ${backend.name} | ${fmt(r.opsPerSec, 0)} ops/s | ${fmt(r.usPerOp, 2)} µs/op |\n`,
  );
}
