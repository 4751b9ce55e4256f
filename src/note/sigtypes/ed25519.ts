import { cryptoBackend } from '../../crypto/index.js';
import type { SignatureScheme } from './scheme.js';
import { standardKeyId } from './keyid.js';

export const ED25519 = 0x01;

/** Type 0x01: Ed25519 (RFC 8032) over the note text. */
export const ed25519Scheme: SignatureScheme = {
  type: ED25519,
  label: 'Ed25519',
  coversText: true,
  checkKey(key) {
    if (key.length !== 32) throw new Error('Ed25519 key must be 32 bytes');
  },
  keyId: (name, key) => standardKeyId(name, ED25519, key),
  verify: (key, _name, text, sig) => cryptoBackend().ed25519Verify(key, text, sig),
};
