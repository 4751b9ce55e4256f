// Shared test helpers: fixtures read losslessly (leaf indexes up to 2^64-1 must not be rounded),
// hex/base64 decoding, and a synthetic consistent tree far too big to materialise.
import { readFileSync } from 'node:fs';
import { parseJsonLossless } from '../../src/util/json.js';
import { hashChildren, hashLeaf } from '../../src/merkle/index.js';

export function fixture(name: string): any {
  return parseJsonLossless(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const b64 = (s: string | null | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64'));
export const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A fixture number (number or, above 2^53, bigint) as bigint. */
export const big = (v: number | bigint): bigint => BigInt(v);

/**
 * A consistent synthetic log of 2^63 leaves that never materialises them: the leaves at the
 * `special` indexes get distinct pseudo-random hashes, every other leaf is the same filler leaf.
 * A perfect subtree without special leaves then has a hash that depends only on its level, and
 * one with special leaves is hashed from its children, so any node costs O(63 · |special|) hashes
 * at most (memoised). Every node really is hashChildren of its two children, so proofs verify.
 */
export function sparseSyntheticTree(special: Iterable<bigint>) {
  const sorted = [...new Set(special)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const filler: Uint8Array[] = [hashLeaf(new TextEncoder().encode('filler'))];
  const uniform = (level: number): Uint8Array => {
    while (filler.length <= level) filler.push(hashChildren(filler[filler.length - 1], filler[filler.length - 1]));
    return filler[level];
  };
  // Is there a special index in [start, end)?
  const anySpecial = (start: bigint, end: bigint): boolean => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
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
      h =
        level === 0
          ? hashLeaf(new TextEncoder().encode(`special leaf ${index}`))
          : hashChildren(node(level - 1, 2n * index), node(level - 1, 2n * index + 1n));
      memo.set(key, h);
    }
    return h;
  };
  return { node, leafHash: (i: bigint) => node(0, i) };
}

/** Flips one bit of one hash of a proof (copying). */
export function flipBit(proof: Uint8Array[], element: number, bit: number): Uint8Array[] {
  return proof.map((h, i) => {
    if (i !== element) return h;
    const c = h.slice();
    c[bit >> 3] ^= 1 << (bit & 7); // byte/bit position within a 32-byte hash, not tree arithmetic
    return c;
  });
}

// ---- Proof "shapes" from the RFC 6962 recursion (written independently of src/merkle) ----
// A verifier given the proof for (i, n) but told (i, n') recomputes the same hash iff the
// producer would have made the same decisions for (i, n'). Sizes are not otherwise authenticated.

function split(n: bigint): bigint {
  let k = 1n;
  while (k * 2n < n) k *= 2n;
  return k;
}

/** Side of each inclusion-path sibling, leaf to root: 'R' = sibling on the right. */
export function inclusionShape(i: bigint, n: bigint): string | null {
  if (i < 0n || i >= n) return null;
  const out: string[] = [];
  let a = 0n;
  let b = n;
  while (b - a > 1n) {
    const k = split(b - a);
    if (i < a + k) {
      out.push('R');
      b = a + k;
    } else {
      out.push('L');
      a += k;
    }
  }
  return out.reverse().join('');
}

/**
 * Consistency proof shape for 0 < m < n: 'S' for the starting hash (the omitted old root when m
 * is a power of two, else the first proof element), then per element 'B' (in both trees, end <= m)
 * or 'N' (new tree only, start >= m).
 */
export function consistencyShape(m: bigint, n: bigint): string | null {
  if (m <= 0n || m >= n) return null;
  const out: string[] = [];
  let a = 0n;
  let b = n;
  let mm = m;
  for (;;) {
    const len = b - a;
    if (mm === len) {
      out.push('S'); // the omitted old root (m a power of two) or the old tree's last node
      break;
    }
    const k = split(len);
    if (mm <= k) {
      out.push('N');
      b = a + k;
    } else {
      out.push('B');
      mm -= k;
      a += k;
    }
  }
  return out.reverse().join('');
}
