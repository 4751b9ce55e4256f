import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import type { CryptoBackend } from './backend.js';
import { makeGoEd25519Verify } from './ed25519-go.js';
import { isP256Spki, P256_SPKI_PREFIX } from './ecdsa-rules.js';

/**
 * Ed25519 verification with exactly Go's crypto/ed25519 rules (ed25519-go.ts, ed25519-rules.ts):
 * the project's rule for every backend; the node backend calls it for the inputs where
 * node:crypto may differ.
 */
export const goEd25519Verify = makeGoEd25519Verify(ed25519, sha512);

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
    if (!isP256Spki(spki)) return false;
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
