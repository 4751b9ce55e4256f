// Counts Ed25519 verifications (issue 15: "each signature verified at most once per node") by
// wrapping the process's crypto backend; restore() puts the real one back.
import { cryptoBackend, setCryptoBackend } from '../../src/crypto/index.js';

export function countEd25519Verifications(): { verified: string[]; restore: () => void } {
  const inner = cryptoBackend();
  const verified: string[] = [];
  const counting = Object.create(inner) as typeof inner;
  Object.defineProperty(counting, 'ed25519Verify', {
    value: (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
      verified.push(Buffer.from(sig).toString('base64'));
      return inner.ed25519Verify(pub, msg, sig);
    },
  });
  setCryptoBackend(counting);
  return { verified, restore: () => setCryptoBackend(inner) };
}
