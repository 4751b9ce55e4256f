import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from './backend.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

function le(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Ed25519 verification with exactly Go's crypto/ed25519 rules, which noble's own verify does not
 * follow in either mode: S must be canonical (< L); A is decoded leniently (non-canonical y and
 * x = 0 with the sign bit set are accepted, small-order A is allowed); k = SHA-512(R || A || M)
 * over the bytes as given; the check is cofactorless, comparing the encoding of [S]B - [k]A with
 * the R bytes (so a non-canonical R never verifies). This is the project's rule for every backend
 * (ed25519-rules.ts); the node backend calls it for the inputs where node:crypto may differ.
 */
export function goEd25519Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
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
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// DER SubjectPublicKeyInfo header for an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const P256_SPKI_PREFIX = hex('3059301306072a8648ce3d020106082a8648ce3d030107034200');

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  sha256(data) {
    return nobleSha256(data);
  },
  sha256Parts(...parts) {
    const h = nobleSha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  ed25519PublicKey(seed) {
    if (seed.length !== 32) throw new Error('ed25519: seed must be 32 bytes');
    return ed25519.getPublicKey(seed);
  },
  ed25519Sign(seed, msg) {
    if (seed.length !== 32) throw new Error('ed25519: seed must be 32 bytes');
    return ed25519.sign(msg, seed);
  },
  ed25519Verify: goEd25519Verify,
  async ed25519VerifyAsync(pub, msg, sig) {
    return goEd25519Verify(pub, msg, sig);
  },
  ecdsaSha256Verify(spki, msg, derSig) {
    if (spki.length !== P256_SPKI_PREFIX.length + 65) return false;
    if (!equalBytes(spki.subarray(0, P256_SPKI_PREFIX.length), P256_SPKI_PREFIX)) return false;
    try {
      // Go's ecdsa.VerifyASN1: strict DER, no low-S rule.
      return p256.verify(derSig, nobleSha256(msg), spki.subarray(P256_SPKI_PREFIX.length), {
        prehash: false,
        format: 'der',
        lowS: false,
      });
    } catch {
      return false;
    }
  },
  randomBytes(n) {
    const out = new Uint8Array(n);
    globalThis.crypto.getRandomValues(out);
    return out;
  },
};
