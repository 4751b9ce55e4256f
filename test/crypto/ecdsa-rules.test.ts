// ECDSA (0x02) log keys: NIST P-256 with an uncompressed point, the same for every backend
// (src/crypto/ecdsa-rules.ts). node:crypto alone accepted secp256k1 (the spec forbids it) and
// P-384 and compressed points (noble, the browser bundle, refused them): verdicts differed.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '../../src/crypto/noble.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { isP256Spki } from '../../src/crypto/ecdsa-rules.js';
import { parseVkey } from '../../src/note/keys.js';
import { ECDSA } from '../../src/note/sigtypes/ecdsa.js';

const msg = new TextEncoder().encode('example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');

function keyOf(curve: string, compressed = false): { spki: Uint8Array; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  let spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  if (compressed) {
    // The same key, re-encoded with a compressed point (what some encoders write).
    const jwk = publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x!, 'base64url');
    const y = Buffer.from(jwk.y!, 'base64url');
    const head = Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex');
    spki = new Uint8Array(Buffer.concat([head, Buffer.of(2 + (y[y.length - 1] & 1)), x]));
  }
  return { spki, privateKey };
}
const vkeyOf = (spki: Uint8Array) => `example.com/log+${createHash('sha256').update(spki).digest('hex').slice(0, 8)}+${Buffer.concat([Buffer.of(ECDSA), spki]).toString('base64')}`;

describe('ECDSA keys', () => {
  it('P-256: both backends verify', () => {
    const { spki, privateKey } = keyOf('prime256v1');
    const sig = new Uint8Array(sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }));
    expect(isP256Spki(spki)).toBe(true);
    expect([nodeBackend.ecdsaSha256Verify(spki, msg, sig), nobleBackend.ecdsaSha256Verify(spki, msg, sig)]).toEqual([true, true]);
    expect(parseVkey(vkeyOf(spki)).type).toBe(ECDSA);
  });

  it.each([
    ['secp384r1 (P-384)', 'secp384r1', false],
    ['secp256k1', 'secp256k1', false],
    ['P-256, compressed point', 'prime256v1', true],
  ])('%s: refused by both backends, and as a vkey', (_name, curve, compressed) => {
    const { spki, privateKey } = keyOf(curve as string, compressed as boolean);
    const sig = new Uint8Array(sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }));
    expect([nodeBackend.ecdsaSha256Verify(spki, msg, sig), nobleBackend.ecdsaSha256Verify(spki, msg, sig)]).toEqual([false, false]);
    expect(() => parseVkey(vkeyOf(spki))).toThrow(/only NIST P-256 ECDSA keys/);
  });
});
