// RFC 6962 / RFC 9162 inclusion and consistency proofs: verification (protocols.md §5.2, §5.3)
// and production over an abstract subtree-hash source (§5.4).
//
// All sizes and indexes are bigint. Tree arithmetic uses bigint operators only: JS bitwise
// operators on numbers truncate to 32 bits and would silently break trees above 2^31 leaves.
import { EMPTY_ROOT, MAX_TREE_SIZE, checkTreeSize, equalHashes, hashChildren, isHash, isTreeSize } from './hash.js';

/** MTH of the leaves [start, end) of some tree; 0 <= start < end. */
export type SubtreeHasher = (start: bigint, end: bigint) => Uint8Array;
/** As SubtreeHasher, for sources that fetch data (e.g. tiles). */
export type AsyncSubtreeHasher = (start: bigint, end: bigint) => Promise<Uint8Array>;
/** Hash of the perfect subtree at `level` (2^level leaves) with `index`: leaves [index·2^level, (index+1)·2^level). */
export type NodeHasher = (level: number, index: bigint) => Uint8Array;
export type AsyncNodeHasher = (level: number, index: bigint) => Promise<Uint8Array>;

/** A half-open leaf range [start, end). */
export interface LeafRange {
  start: bigint;
  end: bigint;
}

/** A perfect (complete, aligned) subtree: covers leaves [index·2^level, (index+1)·2^level). */
export interface PerfectNode {
  level: number;
  index: bigint;
}

// ---------------------------------------------------------------------------------------------
// bigint helpers

/** Number of bits in x (x >= 0): bitLength(0) = 0, bitLength(1) = 1, bitLength(2^k) = k+1. */
export function bitLength(x: bigint): number {
  if (x < 0n) throw new RangeError('bitLength of a negative number');
  return x === 0n ? 0 : x.toString(2).length;
}

/** True iff n is a power of two (n >= 1). */
export function isPowerOfTwo(n: bigint): boolean {
  return n > 0n && (n & (n - 1n)) === 0n;
}

/** The largest power of two strictly less than n (n >= 2): the RFC 6962 split point k. */
export function largestPowerOfTwoBelow(n: bigint): bigint {
  if (n < 2n) throw new RangeError(`no power of two below ${n} (need n >= 2)`);
  return 1n << BigInt(bitLength(n - 1n) - 1);
}

function largestPowerOfTwoAtMost(n: bigint): bigint {
  return 1n << BigInt(bitLength(n) - 1);
}

function checkRange(start: bigint, end: bigint): void {
  if (typeof start !== 'bigint' || typeof end !== 'bigint') throw new TypeError('range bounds must be bigints');
  if (start < 0n || end <= start || end > MAX_TREE_SIZE) {
    throw new RangeError(`bad leaf range [${start}, ${end})`);
  }
}

function checkProducedHash(h: Uint8Array, r: LeafRange): Uint8Array {
  if (!isHash(h)) throw new TypeError(`subtree hasher returned a non-32-byte value for [${r.start}, ${r.end})`);
  return h;
}

// ---------------------------------------------------------------------------------------------
// Verification (never throws; structurally bad input is simply "does not verify")

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2), or null if the proof is malformed
 * for (index, size): index >= size, wrong hash lengths, too long or too short.
 */
export function inclusionRoot(index: bigint, size: bigint, leafHash: Uint8Array, proof: readonly Uint8Array[]): Uint8Array | null {
  if (typeof index !== 'bigint' || !isTreeSize(size) || index < 0n || index >= size) return null;
  if (!isHash(leafHash) || !Array.isArray(proof)) return null;
  for (const x of proof) if (!isHash(x)) return null;
  let fn = index;
  let sn = size - 1n;
  let acc = leafHash;
  for (const x of proof) {
    if (sn === 0n) return null; // proof too long
    if ((fn & 1n) === 1n || fn === sn) {
      acc = hashChildren(x, acc);
      // Skip levels where our node is the last one and has no right sibling.
      while (fn !== 0n && (fn & 1n) === 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      acc = hashChildren(acc, x);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return null; // proof too short
  return acc === leafHash ? acc.slice() : acc;
}

/** RFC 9162 §2.1.3.2 inclusion proof verification. Never throws. */
export function verifyInclusion(
  index: bigint,
  size: bigint,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  const r = inclusionRoot(index, size, leafHash, proof);
  return r !== null && equalHashes(r, root);
}

/**
 * Runs the RFC 9162 §2.1.4.2 algorithm for 0 < size1 < size2 and returns the old and new roots
 * the proof implies, or null if the proof is malformed for these sizes (wrong hash lengths,
 * too short, too long, empty).
 *
 * When size1 is a power of two the old tree is a single complete subtree whose hash the prover
 * omits; the caller must then supply it as `root1ForPowerOfTwo` (it is prepended to the proof and
 * is returned unchanged as oldRoot, while newRoot shows whether it is the root of the first size1
 * leaves of the new tree). Passing it when size1 is not a power of two, or omitting it when size1
 * is one, is a programming error and throws a TypeError: see `isPowerOfTwo`.
 *
 * Split-view evidence: with h = the root of the first m leaves of B's tree and p a proof from
 * (m, h) to (n, r2), `consistencyRoots(m, n, p, isPowerOfTwo(m) ? h : undefined)` must give
 * newRoot == r2, and oldRoot is h (when m is not a power of two it is computed from p).
 */
export function consistencyRoots(
  size1: bigint,
  size2: bigint,
  proof: readonly Uint8Array[],
  root1ForPowerOfTwo?: Uint8Array,
): { oldRoot: Uint8Array; newRoot: Uint8Array } | null {
  if (!isTreeSize(size1) || !isTreeSize(size2) || size1 === 0n || size1 >= size2) return null;
  const pow2 = isPowerOfTwo(size1);
  if (pow2 && root1ForPowerOfTwo === undefined) {
    throw new TypeError(`consistencyRoots: size1 ${size1} is a power of two; the proof omits the old root, pass it explicitly`);
  }
  if (!pow2 && root1ForPowerOfTwo !== undefined) {
    throw new TypeError(`consistencyRoots: size1 ${size1} is not a power of two; the old root comes from the proof`);
  }
  if (!Array.isArray(proof)) return null;
  for (const x of proof) if (!isHash(x)) return null;
  let path: readonly Uint8Array[] = proof;
  if (pow2) {
    if (!isHash(root1ForPowerOfTwo)) return null;
    path = [root1ForPowerOfTwo, ...proof];
  }
  if (path.length === 0) return null;

  let fn = size1 - 1n;
  let sn = size2 - 1n;
  // Drop the levels where the old tree's last node is a right child.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0n) return null; // proof too long
    if ((fn & 1n) === 1n || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn !== 0n && (fn & 1n) === 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c); // exists only in the new tree
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return null; // proof too short
  return { oldRoot: fr.slice(), newRoot: sr === fr ? sr.slice() : sr };
}

/**
 * Consistency proof verification with the library-level semantics of transparency-dev/merkle
 * VerifyConsistency (and its test vectors). Never throws.
 * - size1 == 0: false (a proof from the empty tree is meaningless; a witness special-cases old
 *   size 0 before calling this).
 * - size1 > size2: false.
 * - size1 == size2: true iff the proof is empty and root1 and root2 are byte-equal (as in Go, the
 *   roots are compared, not length-checked, in this case).
 * - otherwise RFC 9162 §2.1.4.2.
 */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isTreeSize(size1) || !isTreeSize(size2) || !Array.isArray(proof)) return false;
  if (size1 === 0n || size1 > size2) return false;
  if (size1 === size2) {
    return proof.length === 0 && root1 instanceof Uint8Array && root2 instanceof Uint8Array && equalHashes(root1, root2);
  }
  if (!isHash(root1) || !isHash(root2)) return false;
  const r = consistencyRoots(size1, size2, proof, isPowerOfTwo(size1) ? root1 : undefined);
  return r !== null && equalHashes(r.oldRoot, root1) && equalHashes(r.newRoot, root2);
}

// ---------------------------------------------------------------------------------------------
// Production (RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF, iteratively)

function checkIndex(index: bigint, size: bigint): void {
  checkTreeSize(size);
  if (typeof index !== 'bigint') throw new TypeError('leaf index must be a bigint');
  if (index < 0n || index >= size) throw new RangeError(`leaf index ${index} out of range for tree size ${size}`);
}

/**
 * The leaf ranges whose MTHs form the inclusion proof for `index` in a tree of `size`, in proof
 * order (leaf to root). Throws RangeError unless 0 <= index < size <= 2^63-1.
 */
export function inclusionProofRanges(index: bigint, size: bigint): LeafRange[] {
  checkIndex(index, size);
  const ranges: LeafRange[] = [];
  let a = 0n;
  let b = size;
  while (b - a > 1n) {
    const k = largestPowerOfTwoBelow(b - a);
    if (index < a + k) {
      ranges.push({ start: a + k, end: b });
      b = a + k;
    } else {
      ranges.push({ start: a, end: a + k });
      a += k;
    }
  }
  return ranges.reverse();
}

/**
 * The leaf ranges whose MTHs form the consistency proof from size1 to size2 (RFC 6962 SUBPROOF),
 * in proof order. Empty when size1 == 0 or size1 == size2. Throws RangeError unless
 * 0 <= size1 <= size2 <= 2^63-1.
 */
export function consistencyProofRanges(size1: bigint, size2: bigint): LeafRange[] {
  checkTreeSize(size1, 'size1');
  checkTreeSize(size2, 'size2');
  if (size1 > size2) throw new RangeError(`size1 ${size1} > size2 ${size2}`);
  const ranges: LeafRange[] = [];
  if (size1 === 0n || size1 === size2) return ranges;
  let a = 0n;
  let b = size2;
  let m = size1;
  let complete = true;
  for (;;) {
    const n = b - a;
    if (m === n) {
      if (!complete) ranges.push({ start: a, end: b });
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      ranges.push({ start: a + k, end: b });
      b = a + k;
    } else {
      ranges.push({ start: a, end: a + k });
      m -= k;
      a += k;
      complete = false;
    }
  }
  return ranges.reverse();
}

/** Inclusion proof for leaf `index` in the tree of `size` leaves whose subtree hashes `hasher` gives. */
export function inclusionProof(index: bigint, size: bigint, hasher: SubtreeHasher): Uint8Array[] {
  return inclusionProofRanges(index, size).map((r) => checkProducedHash(hasher(r.start, r.end), r));
}

/** Consistency proof from size1 to size2 (RFC 6962 SUBPROOF; [] when size1 is 0 or equals size2). */
export function consistencyProof(size1: bigint, size2: bigint, hasher: SubtreeHasher): Uint8Array[] {
  return consistencyProofRanges(size1, size2).map((r) => checkProducedHash(hasher(r.start, r.end), r));
}

/** As inclusionProof; the subtree hashes are requested concurrently. */
export async function inclusionProofAsync(index: bigint, size: bigint, hasher: AsyncSubtreeHasher): Promise<Uint8Array[]> {
  const ranges = inclusionProofRanges(index, size);
  return Promise.all(ranges.map(async (r) => checkProducedHash(await hasher(r.start, r.end), r)));
}

/** As consistencyProof; the subtree hashes are requested concurrently. */
export async function consistencyProofAsync(size1: bigint, size2: bigint, hasher: AsyncSubtreeHasher): Promise<Uint8Array[]> {
  const ranges = consistencyProofRanges(size1, size2);
  return Promise.all(ranges.map(async (r) => checkProducedHash(await hasher(r.start, r.end), r)));
}

// ---------------------------------------------------------------------------------------------
// Ranges and perfect subtrees

/**
 * The minimal list of perfect (aligned, complete) subtrees covering [start, end), left to right.
 * Sizes first increase (alignment of start) then decrease. For [0, n), and for every range that
 * appears in an RFC 6962 proof, sizes strictly decrease and `foldRight` of the node hashes is the
 * range's MTH.
 */
export function perfectSubtrees(start: bigint, end: bigint): PerfectNode[] {
  if (typeof start !== 'bigint' || typeof end !== 'bigint') throw new TypeError('range bounds must be bigints');
  if (start < 0n || end < start || end > MAX_TREE_SIZE) throw new RangeError(`bad leaf range [${start}, ${end})`);
  const out: PerfectNode[] = [];
  let a = start;
  while (a < end) {
    let size = largestPowerOfTwoAtMost(end - a);
    if (a !== 0n) {
      const align = a & -a; // lowest set bit of a (bigint: no 32-bit truncation)
      if (align < size) size = align;
    }
    const level = bitLength(size) - 1;
    out.push({ level, index: a >> BigInt(level) });
    a += size;
  }
  return out;
}

/**
 * A SubtreeHasher computing MTH(D[start:end]) from perfect-subtree hashes, following the RFC 6962
 * recursion: aligned perfect ranges are looked up, others are split at the largest power of two
 * below their length. Ranges that appear in proofs cost O(log n) lookups and hashes; arbitrary
 * unaligned ranges are still correct but may cost more.
 */
export function subtreeHasherFromNodes(nodeHash: NodeHasher): SubtreeHasher {
  const rec = (a: bigint, b: bigint): Uint8Array => {
    const n = b - a;
    if (isPowerOfTwo(n) && a % n === 0n) {
      const level = bitLength(n) - 1;
      const h = nodeHash(level, a >> BigInt(level));
      if (!isHash(h)) throw new TypeError(`node hasher returned a non-32-byte value for level ${level}`);
      return h;
    }
    const k = largestPowerOfTwoBelow(n);
    return hashChildren(rec(a, a + k), rec(a + k, b));
  };
  return (start, end) => {
    checkRange(start, end);
    return rec(start, end);
  };
}

/** As subtreeHasherFromNodes; the node hashes are requested concurrently. */
export function asyncSubtreeHasherFromNodes(nodeHash: AsyncNodeHasher): AsyncSubtreeHasher {
  const rec = async (a: bigint, b: bigint): Promise<Uint8Array> => {
    const n = b - a;
    if (isPowerOfTwo(n) && a % n === 0n) {
      const level = bitLength(n) - 1;
      const h = await nodeHash(level, a >> BigInt(level));
      if (!isHash(h)) throw new TypeError(`node hasher returned a non-32-byte value for level ${level}`);
      return h;
    }
    const k = largestPowerOfTwoBelow(n);
    const [l, r] = await Promise.all([rec(a, a + k), rec(a + k, b)]);
    return hashChildren(l, r);
  };
  return async (start, end) => {
    checkRange(start, end);
    return rec(start, end);
  };
}

/** MTH of the first `size` leaves given a SubtreeHasher (EMPTY_ROOT for size 0). */
export function rootFromHasher(size: bigint, hasher: SubtreeHasher): Uint8Array {
  checkTreeSize(size);
  return size === 0n ? EMPTY_ROOT.slice() : hasher(0n, size);
}
