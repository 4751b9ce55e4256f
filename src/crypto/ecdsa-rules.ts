// The ECDSA keys every backend accepts, so that node:crypto and noble (the browser bundle) give the
// same verdicts: NIST P-256, as an uncompressed point in a DER SubjectPublicKeyInfo (what Rekor and
// Go's x509.MarshalPKIXPublicKey write). c2sp.org/signed-note: "The ECDSA curve MUST be one of NIST
// P-256, NIST P-384, or NIST P-521, and SHOULD be NIST P-256." P-384 and P-521 are not supported
// here (refused when a key is parsed); node:crypto alone would also take secp256k1 or compressed
// points, which the spec forbids or noble refuses.

/** SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes follow) }. */
export const P256_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]);

/** Whether spki is a P-256 public key with an uncompressed point (0x04 || x || y). */
export function isP256Spki(spki: Uint8Array): boolean {
  if (spki.length !== P256_SPKI_PREFIX.length + 65 || spki[P256_SPKI_PREFIX.length] !== 0x04) return false;
  for (let i = 0; i < P256_SPKI_PREFIX.length; i++) if (spki[i] !== P256_SPKI_PREFIX[i]) return false;
  return true;
}
