// Go's crypto/ed25519 verification rule (ed25519-rules.ts), over noble's edwards25519 arithmetic
// and SHA-512 passed in by the caller: noble.ts passes its static imports; node.ts loads them only
// for the rare inputs that need this rule, so that a Node server never loads @noble/curves otherwise.
import type { ed25519 as Ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes as concat, equalBytes } from '../util/bytes.js';

export type GoEd25519Verify = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean;

function le(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/**
 * Ed25519 verification with exactly Go's crypto/ed25519 rules, which noble's own verify does not
 * follow in either mode: S must be canonical (< L); A is decoded leniently (non-canonical y and
 * x = 0 with the sign bit set are accepted, small-order A is allowed); k = SHA-512(R || A || M)
 * over the bytes as given; the check is cofactorless, comparing the encoding of [S]B - [k]A with
 * the R bytes (so a non-canonical R never verifies).
 */
export function makeGoEd25519Verify(ed25519: typeof Ed25519, sha512: (data: Uint8Array) => Uint8Array): GoEd25519Verify {
  const Point = ed25519.Point;
  const L = Point.Fn.ORDER;
  return (pub, msg, sig) => {
    if (pub.length !== 32 || sig.length !== 64) return false;
    const rBytes = sig.subarray(0, 32);
    const s = le(sig.subarray(32));
    if (s >= L) return false;
    let A;
    try {
      A = Point.fromBytes(pub, true);
    } catch {
      return false;
    }
    const k = le(sha512(concat(rBytes, pub, msg))) % L;
    const R = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
    return equalBytes(R.toBytes(), rBytes);
  };
}
