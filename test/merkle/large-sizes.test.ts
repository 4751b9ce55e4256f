// Trees far beyond 2^32 leaves, from a synthetic consistent log (test/merkle/helpers.ts): leaves at
// a set of special indexes are pseudo-random, all others are one filler leaf, so any perfect
// subtree hash is cheap to compute and every node is the hash of its children.
import { describe, expect, it } from 'vitest';
import {
  MAX_TREE_SIZE,
  consistencyProof,
  consistencyProofRanges,
  consistencyRoots,
  hashChildren,
  inclusionProof,
  inclusionProofRanges,
  isPowerOfTwo,
  perfectSubtrees,
  rootFromHasher,
  subtreeHasherFromNodes,
  verifyConsistency,
  verifyInclusion,
  MemoryTree,
} from '../../src/merkle/index.js';
import { consistencyShape, inclusionShape, sparseSyntheticTree, toHex } from './helpers.js';

const P31 = 1n << 31n;
const P32 = 1n << 32n;
const P53 = 1n << 53n;

const sizes: bigint[] = [
  P31 - 1n,
  P31,
  P31 + 1n,
  P32 - 1n,
  P32,
  P32 + 1n,
  P32 + 12345n,
  P53 + 1n,
  P53 + 12345n,
  (1n << 62n) + 3n,
  MAX_TREE_SIZE - 1n,
  MAX_TREE_SIZE,
];
const leafIndexes = (size: bigint) =>
  [0n, 1n, size / 2n, size / 3n, size - 2n, size - 1n, P31 - 1n, P31, P32 - 1n, P32, P53 - 1n, P53 + 1n].filter((i) => i >= 0n && i < size);
const oldSizes = (size2: bigint) =>
  [1n, 2n, 3n, 12345n, P31 - 1n, P31, P31 + 1n, P32 - 1n, P32, P32 + 1n, P53 + 1n, size2 - 12345n, size2 - 1n].filter((m) => m > 0n && m < size2);

// Special leaves: every leaf a proof below starts from or ends an old tree at, plus a few more.
const special: bigint[] = [7n, 1000n, P32 + 3n, (1n << 60n) + 5n];
for (const n of sizes) {
  special.push(...leafIndexes(n));
  for (const m of oldSizes(n)) special.push(m - 1n, m);
}
const synth = sparseSyntheticTree(special);
const syntheticNode = synth.node;
const hasher = subtreeHasherFromNodes(syntheticNode);

// ---- naive reference on bigint, written straight from RFC 6962 §2.1 (different code from src) ----
function refSplit(n: bigint): bigint {
  let k = 1n;
  while (k * 2n < n) k *= 2n;
  return k;
}
function refIsPerfect(a: bigint, b: bigint): bigint | null {
  const n = b - a;
  let level = 0n;
  let p = 1n;
  while (p < n) {
    p *= 2n;
    level++;
  }
  return p === n && a % n === 0n ? level : null;
}
function refMth(a: bigint, b: bigint): Uint8Array {
  const level = refIsPerfect(a, b);
  if (level !== null) return syntheticNode(Number(level), a / (b - a));
  const k = refSplit(b - a);
  return hashChildren(refMth(a, a + k), refMth(a + k, b));
}
function refPath(m: bigint, a: bigint, b: bigint): Uint8Array[] {
  if (b - a === 1n) return [];
  const k = refSplit(b - a);
  if (m < k) return [...refPath(m, a, a + k), refMth(a + k, b)];
  return [...refPath(m - k, a + k, b), refMth(a, a + k)];
}
function refSubproof(m: bigint, a: bigint, b: bigint, complete: boolean): Uint8Array[] {
  if (m === b - a) return complete ? [] : [refMth(a, b)];
  const k = refSplit(b - a);
  if (m <= k) return [...refSubproof(m, a, a + k, complete), refMth(a + k, b)];
  return [...refSubproof(m - k, a + k, b, false), refMth(a, a + k)];
}
const hexes = (p: Uint8Array[]) => p.map(toHex);

describe('proofs for trees around 2^31, 2^32, 2^53 and 2^63-1 leaves (synthetic perfect-node source)', () => {
  it('roots match the naive bigint reference recursion', () => {
    for (const n of sizes) expect(toHex(rootFromHasher(n, hasher))).toBe(toHex(refMth(0n, n)));
  });

  it.each(sizes.map((n) => [n.toString(), n]))('inclusion proofs in a tree of %s leaves equal the reference and verify', (_s, n) => {
    const size = n as bigint;
    const root = refMth(0n, size);
    for (const i of leafIndexes(size)) {
      const proof = inclusionProof(i, size, hasher);
      expect(hexes(proof)).toEqual(hexes(refPath(i, 0n, size)));
      const leaf = syntheticNode(0, i);
      expect(verifyInclusion(i, size, leaf, proof, root)).toBe(true);
      // A wrong index is rejected. A wrong size is rejected exactly when it changes the proof's
      // shape: the low bits of the size that the right-edge hashes absorb are not authenticated.
      if (i + 1n < size) expect(verifyInclusion(i + 1n, size, leaf, proof, root)).toBe(false);
      for (const other of [size + 1n, size - 1n, size + P32, size - P32, size * 2n, size / 2n]) {
        if (other <= 0n) continue;
        const same = inclusionShape(i, other) === inclusionShape(i, size);
        expect(verifyInclusion(i, other, leaf, proof, root)).toBe(same && other <= MAX_TREE_SIZE);
      }
    }
  });

  it.each(sizes.map((n) => [n.toString(), n]))('consistency proofs into a tree of %s leaves equal the reference and verify', (_s, n) => {
    const size2 = n as bigint;
    const root2 = refMth(0n, size2);
    for (const size1 of oldSizes(size2)) {
      const proof = consistencyProof(size1, size2, hasher);
      expect(hexes(proof)).toEqual(hexes(refSubproof(size1, 0n, size2, true)));
      const root1 = refMth(0n, size1);
      expect(verifyConsistency(size1, size2, root1, root2, proof)).toBe(true);
      const r = consistencyRoots(size1, size2, proof, isPowerOfTwo(size1) ? root1 : undefined);
      expect(toHex(r!.oldRoot)).toBe(toHex(root1));
      expect(toHex(r!.newRoot)).toBe(toHex(root2));
      // Mutated sizes verify exactly when the proof shape is unchanged.
      for (const [m, n] of [
        [size1 + P32, size2 + P32],
        [size1 + 1n, size2],
        [size1 - 1n, size2],
        [size1, size2 + 1n],
        [size1, size2 - 1n],
        [size1, size2 + P32],
        [size1 * 2n, size2 * 2n],
      ]) {
        const same = consistencyShape(m, n) !== null && consistencyShape(m, n) === consistencyShape(size1, size2);
        expect(verifyConsistency(m, n, root1, root2, proof)).toBe(same && n <= MAX_TREE_SIZE);
      }
    }
  });

  it('a 2^63-1 tree: proof lengths are as expected and sizes beyond 2^63-1 are refused', () => {
    const size = MAX_TREE_SIZE; // 63 one-bits: perfect subtrees of 2^62, 2^61, ..., 1 leaves
    expect(inclusionProofRanges(0n, size).length).toBe(63);
    expect(inclusionProofRanges(size - 1n, size).length).toBe(62);
    expect(consistencyProofRanges(size - 1n, size).length).toBeGreaterThan(0);
    expect(() => inclusionProofRanges(0n, size + 1n)).toThrow(RangeError);
    expect(() => consistencyProofRanges(1n, size + 1n)).toThrow(RangeError);
    const leaf = syntheticNode(0, 0n);
    const proof = inclusionProof(0n, size, hasher);
    const root = rootFromHasher(size, hasher);
    expect(verifyInclusion(0n, size + 1n, leaf, proof, root)).toBe(false);
    expect(verifyInclusion(0n, 1n << 64n, leaf, proof, root)).toBe(false);
    expect(verifyConsistency(1n, size + 1n, leaf, root, [])).toBe(false);
  });
});

describe('tree arithmetic is not 32-bit: results would differ if | & >> << were used on numbers', () => {
  it('a small-tree proof does not verify at index and size shifted by 2^32 (32-bit truncation would accept)', () => {
    const t = new MemoryTree(Array.from({ length: 7 }, (_, i) => new Uint8Array([i])));
    const proof = t.inclusionProof(5n, 7n);
    expect(verifyInclusion(5n, 7n, t.leafHash(5n), proof, t.root(7n))).toBe(true);
    // (5 + 2^32) | 0 === 5 and (7 + 2^32) | 0 === 7: a 32-bit implementation would say true.
    expect(verifyInclusion(5n + P32, 7n + P32, t.leafHash(5n), proof, t.root(7n))).toBe(false);
    const cp = t.consistencyProof(3n, 7n);
    expect(verifyConsistency(3n, 7n, t.root(3n), t.root(7n), cp)).toBe(true);
    expect(verifyConsistency(3n + P32, 7n + P32, t.root(3n), t.root(7n), cp)).toBe(false);
    expect(verifyConsistency(3n, 7n + P32, t.root(3n), t.root(7n), cp)).toBe(false);
  });

  it('split points and decompositions above 2^32 are exact', () => {
    // (2^32 + 5) >> 1 on a number would be 2; perfect subtrees of [0, 2^32 + 5) are 2^32, 4, 1.
    expect(perfectSubtrees(0n, P32 + 5n)).toEqual([
      { level: 32, index: 0n },
      { level: 2, index: (P32 + 0n) / 4n },
      { level: 0, index: P32 + 4n },
    ]);
    expect(perfectSubtrees(P53 + 1n, P53 + 4n)).toEqual([
      { level: 0, index: P53 + 1n },
      { level: 1, index: (P53 + 2n) / 2n },
    ]);
    // Index 2^53 + 1 is not representable as a JS number; its proof must differ from 2^53's.
    const size = P53 + 3n;
    expect(hexes(inclusionProof(P53 + 1n, size, hasher))).not.toEqual(hexes(inclusionProof(P53, size, hasher)));
    expect(inclusionProofRanges(P53 + 1n, size)[0]).toEqual({ start: P53, end: P53 + 1n });
  });

  it('a consistency proof across the 2^32 boundary is the 2-element proof the RFC gives', () => {
    // m = 2^32 (power of two) into n = 2^32 + 1: the proof is just the new leaf; m's root is omitted.
    const ranges = consistencyProofRanges(P32, P32 + 1n);
    expect(ranges).toEqual([{ start: P32, end: P32 + 1n }]);
    const ranges2 = consistencyProofRanges(P32 - 1n, P32 + 1n);
    expect(ranges2.length).toBe(refSubproof(P32 - 1n, 0n, P32 + 1n, true).length);
    expect(ranges2.length).toBe(34); // 1 right edge + 31 left siblings + the last leaf pair
    expect(ranges2[ranges2.length - 1]).toEqual({ start: P32, end: P32 + 1n });
  });
});
