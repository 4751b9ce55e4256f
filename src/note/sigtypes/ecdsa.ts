import { cryptoBackend, sha256 } from '../../crypto/index.js';
import { readU32be } from '../../util/bytes.js';
import type { SignatureScheme } from './scheme.js';
import { checkDerSequence } from './keyid.js';
import { isP256Spki } from '../../crypto/ecdsa-rules.js';

export const ECDSA = 0x02;

/**
 * Type 0x02: ECDSA (P-256 in practice: Rekor v1, Pixel BT) with SHA-256 over the note text,
 * DER signature. The key ID is SHA-256(DER SPKI)[0:4] with no name or type prefix (Rekor's form).
 */
export const ecdsaScheme: SignatureScheme = {
  type: ECDSA,
  label: 'ECDSA',
  coversText: true,
  checkKey: (key) => {
    checkDerSequence(key);
    if (!isP256Spki(key)) throw new Error('only NIST P-256 ECDSA keys (an uncompressed point in a DER SubjectPublicKeyInfo) are supported');
  },
  keyId: (_name, key) => readU32be(sha256(key)),
  verify: (key, _name, text, sig) => cryptoBackend().ecdsaSha256Verify(key, text, sig),
};
