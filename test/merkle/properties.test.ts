// Property tests on random trees of 1..300 leaves (fast-check).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MemoryTree,
  consistencyRoots,
  hashChildren,
  hashLeaf,
  isPowerOfTwo,
  perfectSubtrees,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { consistencyShape, flipBit, inclusionShape, toHex } from './helpers.js';

const MAX = 300;
const RUNS = 100;

/**
 * A tree whose leaf data depends on `seed`, with its first `n` leaf hashes. Trees of MAX leaves
 * are built once per seed (seeds 0..15) and used at size n: roots and proofs take a size.
 */
const pool = new Map<number, { tree: MemoryTree; leafHashes: Uint8Array[] }>();
function makeTree(seed: number, n: number): { tree: MemoryTree; leafHashes: Uint8Array[] } {
  let t = pool.get(seed);
  if (t === undefined) {
    const tree = new MemoryTree();
    const leafHashes: Uint8Array[] = [];
    for (let i = 0; i < MAX; i++) {
      const h = hashLeaf(new TextEncoder().encode(`${seed}/${i}`));
      leafHashes.push(h);
      tree.appendLeafHash(h);
    }
    t = { tree, leafHashes };
    pool.set(seed, t);
  }
  return { tree: t.tree, leafHashes: t.leafHashes.slice(0, n) };
}

// Reference recursion (RFC 6962 §2.1.1/§2.1.2) over leaf-hash slices with treeHash as MTH.
function refSplit(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
function refPath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = refSplit(d.length);
  return m < k ? [...refPath(m, d.slice(0, k)), treeHash(d.slice(k))] : [...refPath(m - k, d.slice(k)), treeHash(d.slice(0, k))];
}
function refSubproof(m: number, d: Uint8Array[], complete: boolean): Uint8Array[] {
  if (m === d.length) return complete ? [] : [treeHash(d)];
  const k = refSplit(d.length);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), complete), treeHash(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), treeHash(d.slice(0, k))];
}

const seedArb = fc.integer({ min: 0, max: 15 });
/** (n, i) with 1 <= n <= MAX, 0 <= i < n. */
const indexArb = fc.integer({ min: 1, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));
/** (m, n) with 1 <= m < n <= MAX. */
const pairArb = fc.integer({ min: 2, max: MAX }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('inclusion proofs on random trees (1..300 leaves)', () => {
  it('produced proofs equal the RFC 6962 reference and verify', () => {
    fc.assert(
      fc.property(seedArb, indexArb, (seed, [n, i]) => {
        const { tree, leafHashes } = makeTree(seed, n);
        const proof = tree.inclusionProof(BigInt(i), BigInt(n));
        expect(proof.map(toHex)).toEqual(refPath(i, leafHashes).map(toHex));
        expect(verifyInclusion(BigInt(i), BigInt(n), leafHashes[i], proof, treeHash(leafHashes))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('any single-bit flip in any proof hash makes verification fail', () => {
    fc.assert(
      fc.property(seedArb, indexArb.filter(([n]) => n > 1), fc.nat(), fc.integer({ min: 0, max: 255 }), (seed, [n, i], e, bit) => {
        const { tree } = makeTree(seed, n);
        const proof = tree.inclusionProof(BigInt(i), BigInt(n));
        const bad = flipBit(proof, e % proof.length, bit);
        expect(verifyInclusion(BigInt(i), BigInt(n), tree.leafHash(BigInt(i)), bad, tree.root(BigInt(n)))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncated, extended (before or after) and wrong-leaf proofs fail', () => {
    fc.assert(
      fc.property(seedArb, indexArb, hashArb, (seed, [n, i], extra) => {
        const { tree } = makeTree(seed, n);
        const I = BigInt(i);
        const proof = tree.inclusionProof(I, BigInt(n));
        const leaf = tree.leafHash(I);
        const root = tree.root(BigInt(n));
        if (proof.length > 0) {
          expect(verifyInclusion(I, BigInt(n), leaf, proof.slice(0, -1), root)).toBe(false);
          expect(verifyInclusion(I, BigInt(n), leaf, proof.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(I, BigInt(n), leaf, [...proof, extra], root)).toBe(false);
        expect(verifyInclusion(I, BigInt(n), leaf, [extra, ...proof], root)).toBe(false);
        expect(verifyInclusion(I, BigInt(n), leaf, [...proof, root], root)).toBe(false);
        expect(verifyInclusion(I, BigInt(n), hashLeaf(new Uint8Array([1, 2, 3])), proof, root)).toBe(false);
        expect(verifyInclusion(I, BigInt(n), leaf, proof, hashChildren(root, root))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('index ±1 always fails; size ±1 verifies exactly when the proof shape is unchanged', () => {
    let sameShapeSeen = 0;
    fc.assert(
      fc.property(seedArb, indexArb, (seed, [n, i]) => {
        const { tree } = makeTree(seed, n);
        const I = BigInt(i);
        const N = BigInt(n);
        const proof = tree.inclusionProof(I, N);
        const leaf = tree.leafHash(I);
        const root = tree.root(BigInt(n));
        expect(verifyInclusion(I + 1n, N, leaf, proof, root)).toBe(false);
        expect(verifyInclusion(I - 1n, N, leaf, proof, root)).toBe(false);
        for (const other of [N - 1n, N + 1n]) {
          const same = inclusionShape(I, other) === inclusionShape(I, N);
          if (same) sameShapeSeen++;
          expect(verifyInclusion(I, other, leaf, proof, root)).toBe(same);
        }
      }),
      { numRuns: RUNS * 2 },
    );
    // The "unauthenticated low bits of the size" case does occur (e.g. leaf 0 of 3 vs 4).
    expect(sameShapeSeen).toBeGreaterThan(0);
  });
});

describe('consistency proofs on random trees (1..300 leaves)', () => {
  it('produced proofs equal the RFC 6962 reference and verify; m == n needs an empty proof', () => {
    fc.assert(
      fc.property(seedArb, pairArb, (seed, [m, n]) => {
        const { tree, leafHashes } = makeTree(seed, n);
        const M = BigInt(m);
        const N = BigInt(n);
        const proof = tree.consistencyProof(M, N);
        expect(proof.map(toHex)).toEqual(refSubproof(m, leafHashes, true).map(toHex));
        expect(verifyConsistency(M, N, tree.root(M), tree.root(N), proof)).toBe(true);
        expect(verifyConsistency(M, M, tree.root(M), tree.root(M), [])).toBe(true);
        expect(verifyConsistency(N, N, tree.root(N), tree.root(N), [])).toBe(true);
        expect(verifyConsistency(M, M, tree.root(M), tree.root(M), proof)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('any single-bit flip in any proof hash makes verification fail', () => {
    fc.assert(
      fc.property(seedArb, pairArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (seed, [m, n], e, bit) => {
        const { tree } = makeTree(seed, n);
        const M = BigInt(m);
        const N = BigInt(n);
        const proof = tree.consistencyProof(M, N);
        const bad = flipBit(proof, e % proof.length, bit);
        expect(verifyConsistency(M, N, tree.root(M), tree.root(N), bad)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncated, extended, empty proofs and swapped or wrong roots fail', () => {
    fc.assert(
      fc.property(seedArb, pairArb, hashArb, (seed, [m, n], extra) => {
        const { tree } = makeTree(seed, n);
        const M = BigInt(m);
        const N = BigInt(n);
        const proof = tree.consistencyProof(M, N);
        const r1 = tree.root(M);
        const r2 = tree.root(N);
        expect(verifyConsistency(M, N, r1, r2, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, proof.slice(1))).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, [...proof, extra])).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, [extra, ...proof])).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, [r1, ...proof])).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, [...proof, r2])).toBe(false);
        expect(verifyConsistency(M, N, r1, r2, [])).toBe(false);
        expect(verifyConsistency(M, N, r2, r1, proof)).toBe(false);
        expect(verifyConsistency(M, N, r1, extra, proof)).toBe(false);
        expect(verifyConsistency(M, N, extra, r2, proof)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('size1 ±1 and size2 ±1 verify exactly when the proof shape is unchanged', () => {
    let sameShapeSeen = 0;
    fc.assert(
      fc.property(seedArb, pairArb, (seed, [m, n]) => {
        const { tree } = makeTree(seed, n);
        const M = BigInt(m);
        const N = BigInt(n);
        const proof = tree.consistencyProof(M, N);
        const r1 = tree.root(M);
        const r2 = tree.root(N);
        for (const [mm, nn] of [
          [M - 1n, N],
          [M + 1n, N],
          [M, N - 1n],
          [M, N + 1n],
        ]) {
          const shape = consistencyShape(mm, nn);
          const same = shape !== null && shape === consistencyShape(M, N);
          if (same) sameShapeSeen++;
          expect(verifyConsistency(mm, nn, r1, r2, proof)).toBe(same);
        }
      }),
      { numRuns: RUNS * 2 },
    );
    expect(sameShapeSeen).toBeGreaterThan(0);
  });

  it('consistencyRoots returns the real old and new roots', () => {
    fc.assert(
      fc.property(seedArb, pairArb, (seed, [m, n]) => {
        const { tree } = makeTree(seed, n);
        const M = BigInt(m);
        const N = BigInt(n);
        const r = consistencyRoots(M, N, tree.consistencyProof(M, N), isPowerOfTwo(M) ? tree.root(M) : undefined);
        expect(r).not.toBeNull();
        expect(toHex(r!.oldRoot)).toBe(toHex(tree.root(M)));
        expect(toHex(r!.newRoot)).toBe(toHex(tree.root(N)));
      }),
      { numRuns: RUNS },
    );
  });

  it('split view: B\'s proof proves B\'s own old root h != A\'s root r1, and does not verify from r1', () => {
    fc.assert(
      fc.property(
        seedArb,
        pairArb.chain(([m, n]) => fc.tuple(fc.constant(m), fc.constant(n), fc.integer({ min: 0, max: m - 1 }))),
        (seed, [m, n, fork]) => {
          // A and B agree on the first `fork` leaves and differ at leaf `fork` < m.
          const a = makeTree(seed, m).tree;
          const b = new MemoryTree();
          for (let i = 0; i < n; i++) b.append(new TextEncoder().encode(i < fork ? `${seed}/${i}` : `B${seed}/${i}`));
          const M = BigInt(m);
          const N = BigInt(n);
          const p = b.consistencyProof(M, N);
          const h = b.root(M);
          const r = consistencyRoots(M, N, p, isPowerOfTwo(M) ? h : undefined);
          expect(toHex(r!.oldRoot)).toBe(toHex(h));
          expect(toHex(r!.newRoot)).toBe(toHex(b.root(N)));
          expect(toHex(h)).not.toBe(toHex(a.root(M)));
          expect(verifyConsistency(M, N, a.root(M), b.root(N), p)).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('tree hashes and ranges on random trees', () => {
  it('MemoryTree roots, subtree hashes of arbitrary ranges and treeHash agree', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.integer({ min: 1, max: MAX }).chain((n) =>
          fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }).chain((a) => fc.tuple(fc.constant(a), fc.integer({ min: a + 1, max: n })))),
        ),
        (seed, [n, [a, b]]) => {
          const { tree, leafHashes } = makeTree(seed, n);
          expect(toHex(tree.root(BigInt(n)))).toBe(toHex(treeHash(leafHashes)));
          expect(toHex(tree.subtreeHash(BigInt(a), BigInt(b)))).toBe(toHex(treeHash(leafHashes.slice(a, b))));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('perfectSubtrees is a minimal aligned cover of [start, end)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 62n }), fc.bigInt({ min: 0n, max: 1n << 40n }), (start, len) => {
        const nodes = perfectSubtrees(start, start + len);
        let pos = start;
        let prevLevel = -1;
        let descending = false;
        for (const { level, index } of nodes) {
          const size = 1n << BigInt(level);
          expect(index * size).toBe(pos); // contiguous and aligned
          pos += size;
          // Levels strictly increase, then strictly decrease (a minimal cover; the largest
          // level may appear twice, once on each side: [1, 15) = 1, 2, 4, 4, 2, 1).
          if (descending) expect(level).toBeLessThan(prevLevel);
          else if (level <= prevLevel) descending = true;
          prevLevel = level;
        }
        expect(pos).toBe(start + len);
      }),
      { numRuns: 300 },
    );
  });
});
