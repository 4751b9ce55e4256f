// The Ed25519 verification rule of this project, for every backend and every runtime:
// Go's crypto/ed25519 (the signed-note ecosystem, sigsum and the Go witnesses and logs follow it).
//   - S must be canonical (S < L);
//   - A is decoded leniently: non-canonical y (y >= p), x = 0 with the sign bit set, small-order and
//     mixed-order A are all accepted;
//   - k = SHA-512(R || A || M) over the bytes as given;
//   - cofactorless check: the encoding of [S]B - [k]A must equal the R bytes (so a non-canonical R
//     never verifies, and neither does a low-order residue).
// goEd25519Verify (noble.ts) implements exactly this. node:crypto agrees with it on ordinary inputs,
// but not on every edge case, and its verdict depends on the OpenSSL that Node bundles: OpenSSL 3.0
// (Node 20) follows Go; OpenSSL 3.5 (Node 24 and 26) rejects every small-order A and every
// small-order R (measured on all 914 C2SP/CCTV ed25519 vectors; test/crypto). So the node backend
// sends exactly the inputs of those classes, and of the non-canonical encodings, to
// goEd25519Verify, on every Node version: the verdict never depends on the runtime.

// A 32-byte point encoding is y (255 bits, little-endian) plus the sign bit of x in bit 255.
// The small-order points of edwards25519 have y in {0, 1, p - 1, ±y8} where y8 is the y of the
// order-8 points. x = 0 with the sign bit set occurs only for y = ±1, both in that set.
const SMALL_ORDER_Y: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0 (order 4)
  '0100000000000000000000000000000000000000000000000000000000000000', // y = 1 (identity)
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p - 1 (order 2)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
].map((h) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
});
const FIRST_BYTES = new Set(SMALL_ORDER_Y.map((y) => y[0]));

/** y >= p = 2^255 - 19: an alternative (non-canonical) encoding of y - p. */
function nonCanonicalY(b: Uint8Array, o: number): boolean {
  if ((b[o + 31] & 0x7f) !== 0x7f) return false;
  for (let i = 30; i >= 1; i--) if (b[o + i] !== 0xff) return false;
  return b[o] >= 0xed;
}

function smallOrderY(b: Uint8Array, o: number): boolean {
  if (!FIRST_BYTES.has(b[o])) return false;
  next: for (const y of SMALL_ORDER_Y) {
    for (let i = 0; i < 31; i++) if (b[o + i] !== y[i]) continue next;
    if ((b[o + 31] & 0x7f) === y[31]) return true;
  }
  return false;
}

/** The 32 bytes at b[o..o+32] encode a small-order point or are a non-canonical encoding. */
export function ed25519EdgeEncoding(b: Uint8Array, o = 0): boolean {
  return nonCanonicalY(b, o) || smallOrderY(b, o);
}

/**
 * True when a verifier other than goEd25519Verify may give a different verdict than Go's
 * crypto/ed25519: A or R is a small-order point or a non-canonical encoding. A few byte
 * comparisons; false for every honestly made key and signature (except with negligible probability).
 * Expects pub.length === 32 and sig.length === 64.
 */
export function ed25519MayDifferFromGo(pub: Uint8Array, sig: Uint8Array): boolean {
  return ed25519EdgeEncoding(pub, 0) || ed25519EdgeEncoding(sig, 0);
}
