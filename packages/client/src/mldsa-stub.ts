// Stands in for @noble/post-quantum in the Ed25519-only browser bundle (dist/client.ed25519.bundle.js):
// ML-DSA-44 signatures then never verify (the caller turns the throw into false), and signing says why.
const missing = (): never => {
  throw new Error('ML-DSA-44 is not in this build (client.ed25519.bundle.js); use client.bundle.js');
};
export const ml_dsa44 = { keygen: missing, sign: missing, verify: missing };
