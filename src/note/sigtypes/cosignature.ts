import { cryptoBackend } from '../../crypto/index.js';
import { concatBytes, readU64be, utf8 } from '../../util/bytes.js';
import type { SignatureScheme } from './scheme.js';
import { standardKeyId } from './keyid.js';

export const COSIGNATURE_V1 = 0x04;
export const MAX_TIMESTAMP = (1n << 63n) - 1n;

/**
 * The cosignature/v1 signed message (c2sp.org/tlog-cosignature):
 * "cosignature/v1\ntime <decimal>\n" followed by the entire checkpoint text, extension lines
 * included (torchwood/litewitness sign only the first three lines; the spec signs all of them).
 */
export function cosignatureMessage(timestamp: bigint, checkpointText: Uint8Array): Uint8Array {
  return concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), checkpointText);
}

/** Type 0x04: timestamped Ed25519 cosignature; signature bytes are u64be timestamp || sig(64). */
export const cosignatureScheme: SignatureScheme = {
  type: COSIGNATURE_V1,
  label: 'cosignature/v1',
  coversText: true,
  checkKey(key) {
    if (key.length !== 32) throw new Error('cosignature/v1 key must be 32 bytes');
  },
  keyId: (name, key) => standardKeyId(name, COSIGNATURE_V1, key),
  verify(key, _name, text, sig) {
    if (sig.length !== 72) return false;
    const timestamp = readU64be(sig, 0);
    // The timestamp is at most 2^63 - 1 (tlog-cosignature).
    if (timestamp > MAX_TIMESTAMP) return false;
    return cryptoBackend().ed25519Verify(key, cosignatureMessage(timestamp, text), sig.subarray(8));
  },
};

/** The timestamp carried by a cosignature/v1 signature (the bytes after the key ID). */
export function cosignatureTimestamp(sig: Uint8Array): bigint {
  if (sig.length !== 72) throw new Error('not a cosignature/v1 signature');
  return readU64be(sig, 0);
}
