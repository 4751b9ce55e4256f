// Stands in for @noble/curves/nist.js in the Ed25519-only browser bundle: ECDSA P-256 signatures
// (Rekor v1 checkpoints) never verify (the caller turns the throw into false).
const missing = (): never => {
  throw new Error('ECDSA P-256 is not in this build (client.ed25519.bundle.js); use client.bundle.js');
};
export const p256 = { verify: missing };
