// RFC 6962 / RFC 9162 Merkle tree hashing (protocols.md §5.1).
import { cryptoBackend } from '../crypto/index.js';

export const HASH_SIZE = 32;

/** Largest tree size a log may have: sizes are uint64 on the wire, but we cap at int63 like Go's tlog. */
export const MAX_TREE_SIZE = (1n << 63n) - 1n;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** MTH({}) = SHA-256(""). */
export const EMPTY_ROOT: Uint8Array = cryptoBackend().sha256(new Uint8Array(0));

/** True iff h is a Uint8Array of exactly HASH_SIZE bytes. */
export function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** True iff n is a bigint tree size in [0, 2^63-1]. */
export function isTreeSize(n: unknown): n is bigint {
  return typeof n === 'bigint' && n >= 0n && n <= MAX_TREE_SIZE;
}

/** Throws a RangeError unless n is a bigint in [0, 2^63-1]. */
export function checkTreeSize(n: unknown, what = 'tree size'): asserts n is bigint {
  if (typeof n !== 'bigint') throw new TypeError(`${what} must be a bigint`);
  if (n < 0n || n > MAX_TREE_SIZE) throw new RangeError(`${what} ${n} out of range [0, 2^63-1]`);
}

function checkHash(h: unknown, what: string): asserts h is Uint8Array {
  if (!isHash(h)) {
    throw new TypeError(`${what} must be a ${HASH_SIZE}-byte Uint8Array`);
  }
}

/** SHA-256(0x00 || data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  return cryptoBackend().sha256Parts(LEAF_PREFIX, data);
}

/** SHA-256(0x01 || left || right). Both inputs must be 32 bytes. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  checkHash(left, 'left hash');
  checkHash(right, 'right hash');
  return cryptoBackend().sha256Parts(NODE_PREFIX, left, right);
}

/** Byte equality (hashes are public, so no constant-time requirement). */
export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * MTH of the given leaf hashes (RFC 6962 §2.1); the empty list gives EMPTY_ROOT.
 * Runs in O(n) hashes and O(log n) memory: keeps a stack of complete subtrees (a compact range)
 * and folds it from the right at the end.
 */
export function treeHash(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT.slice();
  const stack: Uint8Array[] = [];
  const heights: number[] = [];
  for (let i = 0; i < leafHashes.length; i++) {
    let h = leafHashes[i];
    checkHash(h, `leaf hash ${i}`);
    let height = 0;
    while (heights.length > 0 && heights[heights.length - 1] === height) {
      h = hashChildren(stack.pop()!, h);
      heights.pop();
      height++;
    }
    stack.push(h);
    heights.push(height);
  }
  return foldRight(stack);
}

/**
 * node(p1, node(p2, ... node(p_{n-1}, p_n))): the MTH of a range made of perfect subtrees of
 * strictly decreasing size, given left to right (golang/mod tlog subTreeHash). One element is
 * returned as is (copied).
 */
export function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) throw new RangeError('foldRight of no hashes');
  let acc = hashes[hashes.length - 1];
  checkHash(acc, 'hash');
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i], acc);
  return hashes.length === 1 ? acc.slice() : acc;
}
