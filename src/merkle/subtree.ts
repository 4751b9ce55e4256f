// Subtrees and subtree consistency proofs of draft-ietf-plants-merkle-tree-certs-03, the version
// c2sp.org/tlog-witness cites for sign-subtree:
//   §4.1   Definition of a Subtree: [start, end) with 0 <= start < end <= n and start a multiple
//          of BIT_CEIL(end - start); its hash is MTH(D[start:end]) as an independent tree.
//   §4.4.1 Generating a Subtree Consistency Proof: SUBTREE_PROOF(start, end, D_n).
//   §4.4.3 Verifying a Subtree Consistency Proof.
// The draft's editor's copy since 519e6ee (2026-07-18, after -05; -04 and -05 say what -03 says)
// also calls the empty interval [x, x) a subtree (hash SHA-256(""), empty proof); -03, and
// therefore sign-subtree, does not. `allowEmpty` selects that rule.
//
// Written from the draft text; all sizes and indexes are bigint (see proof.ts).
import { EMPTY_ROOT, MAX_TREE_SIZE, equalHashes, hashChildren, isHash } from './hash.js';
import { largestPowerOfTwoBelow, type SubtreeHasher, type AsyncSubtreeHasher } from './proof.js';

/** BIT_CEIL(n): the smallest power of two >= n (BIT_CEIL(0) = 1). */
export function bitCeil(n: bigint): bigint {
  if (n < 0n) throw new RangeError('bitCeil of a negative number');
  if (n <= 1n) return 1n;
  return 1n << BigInt((n - 1n).toString(2).length);
}

export interface SubtreeOptions {
  /** Accept [x, x) as the editor's copy does since 519e6ee (after -05). Default false (draft -03, tlog-witness). */
  allowEmpty?: boolean;
}

/**
 * Is [start, end) a subtree (§4.1)? Checks 0 <= start < end (or start <= end with allowEmpty),
 * end <= 2^63 - 1 and start ≡ 0 mod BIT_CEIL(end - start). Bigint arithmetic: no overflow.
 * The "end <= n" part of the definition is the caller's (it depends on the tree).
 */
export function isValidSubtree(start: bigint, end: bigint, opts: SubtreeOptions = {}): boolean {
  if (typeof start !== 'bigint' || typeof end !== 'bigint') return false;
  if (start < 0n || end > MAX_TREE_SIZE) return false;
  if (start > end || (start === end && !opts.allowEmpty)) return false;
  return start % bitCeil(end - start) === 0n;
}

/** MTH(D[start:end]) of a valid subtree, from a hasher over a tree (e.g. MemoryTree.hasher). */
export function subtreeHash(start: bigint, end: bigint, hasher: SubtreeHasher, opts: SubtreeOptions = {}): Uint8Array {
  if (!isValidSubtree(start, end, opts)) throw new RangeError(`[${start}, ${end}) is not a subtree`);
  return start === end ? EMPTY_ROOT.slice() : hasher(start, end);
}

// The ranges whose hashes make up SUBTREE_PROOF(start, end, D_n), in proof order. Each entry is
// the absolute leaf range [a, b) whose MTH is the proof hash. Follows the §4.4.1 recursion with
// the window D[lo:lo+n] made explicit (the recursion only ever narrows the window).
function subtreeProofRanges(start: bigint, end: bigint, n: bigint): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  let lo = 0n; // window [lo, lo + size)
  let size = n;
  let s = start; // subtree bounds relative to the window
  let e = end;
  let known = true; // b: is the current node's hash the subtree hash the verifier already has?
  for (;;) {
    if (s === 0n && e === size) {
      if (!known) out.push([lo, lo + size]);
      break;
    }
    const k = largestPowerOfTwoBelow(size);
    if (e <= k) {
      out.push([lo + k, lo + size]);
      size = k;
    } else if (k <= s) {
      out.push([lo, lo + k]);
      lo += k;
      size -= k;
      s -= k;
      e -= k;
    } else {
      // s < k < e, which (for a valid subtree) implies s = 0.
      out.push([lo, lo + k]);
      lo += k;
      size -= k;
      e -= k;
      known = false;
    }
  }
  // The recursion appends each level's hash after the deeper ones: reverse to proof order.
  return out.reverse();
}

function checkProofArgs(start: bigint, end: bigint, n: bigint, opts: SubtreeOptions): void {
  if (typeof n !== 'bigint' || n < 0n || n > MAX_TREE_SIZE) throw new RangeError(`bad tree size ${n}`);
  if (!isValidSubtree(start, end, opts)) throw new RangeError(`[${start}, ${end}) is not a subtree`);
  if (end > n) throw new RangeError(`subtree end ${end} beyond tree size ${n}`);
}

/** SUBTREE_PROOF(start, end, D_n) (§4.4.1) from a hasher over a tree of at least n leaves. */
export function subtreeConsistencyProof(start: bigint, end: bigint, n: bigint, hasher: SubtreeHasher, opts: SubtreeOptions = {}): Uint8Array[] {
  checkProofArgs(start, end, n, opts);
  if (start === end) return [];
  return subtreeProofRanges(start, end, n).map(([a, b]) => hasher(a, b));
}

/** As subtreeConsistencyProof, for hashers that fetch (tiles); hashes are requested concurrently. */
export async function subtreeConsistencyProofAsync(
  start: bigint,
  end: bigint,
  n: bigint,
  hasher: AsyncSubtreeHasher,
  opts: SubtreeOptions = {},
): Promise<Uint8Array[]> {
  checkProofArgs(start, end, n, opts);
  if (start === end) return [];
  return Promise.all(subtreeProofRanges(start, end, n).map(([a, b]) => hasher(a, b)));
}

/**
 * Verifies a subtree consistency proof (§4.4.3): that the subtree [start, end) with hash
 * nodeHash is consistent with the tree of size n with root rootHash. Never throws; any malformed
 * input (invalid subtree, end > n, wrong hash lengths, wrong proof length) is false.
 */
export function verifySubtreeConsistency(
  start: bigint,
  end: bigint,
  n: bigint,
  proof: readonly Uint8Array[],
  nodeHash: Uint8Array,
  rootHash: Uint8Array,
  opts: SubtreeOptions = {},
): boolean {
  // Step 1: a valid subtree with end <= n.
  if (typeof n !== 'bigint' || n > MAX_TREE_SIZE || !isValidSubtree(start, end, opts) || end > n) return false;
  if (!isHash(nodeHash) || !isHash(rootHash) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  // The editor's copy since 519e6ee: the empty subtree has the empty hash and an empty proof.
  if (start === end) return proof.length === 0 && equalHashes(nodeHash, EMPTY_ROOT);
  // A proof has at most one hash per level of a tree of 2^63 leaves, plus the starting node.
  if (proof.length > 64) return false;
  // Step 2.
  let fn = start;
  let sn = end - 1n;
  let tn = n - 1n;
  // Steps 3 and 4: skip to the starting node.
  if (sn === tn) {
    while (fn !== sn) {
      fn >>= 1n;
      sn >>= 1n;
      tn >>= 1n;
    }
  } else {
    while (fn !== sn && (sn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
      tn >>= 1n;
    }
  }
  // Steps 5 and 6.
  let i = 0;
  let fr: Uint8Array;
  let sr: Uint8Array;
  if (fn === sn) {
    fr = nodeHash;
    sr = nodeHash;
  } else {
    if (proof.length === 0) return false;
    fr = proof[0];
    sr = proof[0];
    i = 1;
  }
  // Step 7.
  for (; i < proof.length; i++) {
    const c = proof[i];
    if (tn === 0n) return false;
    if ((sn & 1n) === 1n || sn === tn) {
      if (fn < sn) fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      // sn > 0 here (sn = tn > 0, or sn odd), so this terminates.
      while ((sn & 1n) === 0n) {
        fn >>= 1n;
        sn >>= 1n;
        tn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
    tn >>= 1n;
  }
  // Step 8.
  return tn === 0n && equalHashes(fr, nodeHash) && equalHashes(sr, rootHash);
}
