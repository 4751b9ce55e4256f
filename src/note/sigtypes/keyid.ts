import { sha256 } from '../../crypto/index.js';
import { concatBytes, readU32be, utf8 } from '../../util/bytes.js';

/** C2SP key ID: SHA-256(name || 0x0A || type || key material)[0:4], big-endian. */
export function standardKeyId(name: string, type: number, key: Uint8Array): number {
  return readU32be(sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, type), key)));
}

/** Minimal structural check of a DER SEQUENCE (SubjectPublicKeyInfo) header and length. */
export function checkDerSequence(der: Uint8Array): void {
  if (der.length < 2 || der[0] !== 0x30) throw new Error('key is not a DER SubjectPublicKeyInfo');
  let len = der[1];
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || der.length < 2 + n) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
    off += n;
  }
  if (off + len !== der.length) throw new Error('bad DER length');
}
