import { cryptoBackend, sha256 } from '../../crypto/index.js';
import { concatBytes, decodeBase64, decodeUtf8, readU64be, u64be } from '../../util/bytes.js';
import type { SignatureScheme } from './scheme.js';
import { checkDerSequence, standardKeyId } from './keyid.js';

export const RFC6962 = 0x05;
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * Type 0x05: an RFC 6962 TreeHeadSignature (c2sp.org/static-ct-api), verify only.
 * The key ID uses the LogID (SHA-256 of the SPKI) as key material. The checkpoint must be exactly
 * three lines and its origin must equal the key name; the signed structure is
 * 0x00 (v1) || 0x01 (tree_hash) || u64be timestamp_ms || u64be tree_size || root.
 * Signature bytes: u64be timestamp_ms || 0x04 0x03 (SHA-256/ECDSA) || u16be length || DER signature.
 */
export const rfc6962Scheme: SignatureScheme = {
  type: RFC6962,
  label: 'RFC 6962 STH',
  coversText: false,
  checkKey: checkDerSequence,
  keyId: (name, key) => standardKeyId(name, RFC6962, sha256(key)),
  verify(key, name, text, sig) {
    if (sig.length < 12 || sig[8] !== 0x04 || sig[9] !== 0x03) return false;
    const len = (sig[10] << 8) | sig[11];
    if (sig.length !== 12 + len) return false;
    const s = decodeUtf8(text);
    if (s === null || !s.endsWith('\n')) return false;
    const lines = s.slice(0, -1).split('\n');
    if (lines.length !== 3 || lines[0] !== name) return false;
    if (!/^(0|[1-9][0-9]{0,18})$/.test(lines[1])) return false;
    const size = BigInt(lines[1]);
    const root = decodeBase64(lines[2]);
    if (size > MAX_INT64 || root === null || root.length !== 32) return false;
    const timestamp = readU64be(sig, 0);
    const signed = concatBytes(Uint8Array.of(0, 1), u64be(timestamp), u64be(size), root);
    return cryptoBackend().ecdsaSha256Verify(key, signed, sig.subarray(12));
  },
};
