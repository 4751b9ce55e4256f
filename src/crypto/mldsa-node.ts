// ML-DSA-44 through node:crypto, for runtimes whose OpenSSL has it (Node >= 24.7, OpenSSL 3.5).
// Keys go in and out as DER with the RFC 9881 encodings, which every such Node version imports:
//   SubjectPublicKeyInfo: fixed 22-byte prefix || 1312-byte public key
//   PKCS #8, seed-only form: fixed 22-byte prefix || 32-byte seed ([0] IMPLICIT OCTET STRING)
// OID id-ml-dsa-44 = 2.16.840.1.101.3.4.3.17. Signing is pure ML-DSA with the empty context
// (node:crypto's default for ML-DSA keys); OpenSSL signs hedged, so signatures differ from call
// to call but verify identically. Async signing runs on the libuv thread pool (crypto.sign with
// a callback), keeping milliseconds of lattice arithmetic off the event loop.
import { createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { seedKeyCache, verifyOnPool } from './node-keys.js';
import { MLDSA44_PUBLIC_KEY_SIZE, MLDSA44_SEED_SIZE, MLDSA44_SIGNATURE_SIZE, type MlDsa44Backend } from './mldsa.js';

// SEQUENCE(1330) { SEQUENCE { OID id-ml-dsa-44 }, BIT STRING(1313) { 0 unused bits, pk } }
const SPKI_PREFIX = Buffer.from('30820532300b06096086480165030403110382052100', 'hex');
// SEQUENCE(52) { INTEGER 0, SEQUENCE { OID id-ml-dsa-44 }, OCTET STRING(34) { [0](32) seed } }
const PKCS8_SEED_PREFIX = Buffer.from('3034020100300b060960864801650304031104228020', 'hex');

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const MAX_CACHED = 4096;
const pubCache = new Map<string, KeyObject | null>();

function publicKeyObject(pub: Uint8Array): KeyObject | null {
  if (pub.length !== MLDSA44_PUBLIC_KEY_SIZE) return null;
  const id = Buffer.from(pub).toString('latin1');
  let k = pubCache.get(id);
  if (k !== undefined) return k;
  try {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
  } catch {
    k = null;
  }
  if (pubCache.size >= MAX_CACHED) pubCache.clear();
  pubCache.set(id, k);
  return k;
}

const seedKeys = seedKeyCache(PKCS8_SEED_PREFIX, MLDSA44_SEED_SIZE, () => new RangeError(`ML-DSA-44 seed must be ${MLDSA44_SEED_SIZE} bytes`));
const privateKeyObject = (seed: Uint8Array): KeyObject => seedKeys.get(seed);

function verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== MLDSA44_SIGNATURE_SIZE) return false;
  const key = publicKeyObject(pub);
  if (!key) return false;
  try {
    return nodeVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}

const backend: MlDsa44Backend = {
  name: 'node',
  publicKey(seed) {
    const der = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
    if (der.length !== SPKI_PREFIX.length + MLDSA44_PUBLIC_KEY_SIZE || !der.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) {
      throw new Error('node:crypto returned an unexpected ML-DSA-44 SubjectPublicKeyInfo');
    }
    return u8(der.subarray(SPKI_PREFIX.length));
  },
  sign(seed, msg) {
    return u8(nodeSign(null, msg, privateKeyObject(seed)));
  },
  signAsync(seed, msg) {
    return new Promise((resolve, reject) => {
      try {
        nodeSign(null, msg, privateKeyObject(seed), (err, sig) => (err ? reject(err) : resolve(u8(sig))));
      } catch (e) {
        reject(e);
      }
    });
  },
  verify,
  verifyAsync(pub, msg, sig) {
    if (sig.length !== MLDSA44_SIGNATURE_SIZE) return Promise.resolve(false);
    const key = publicKeyObject(pub);
    if (!key) return Promise.resolve(false);
    return verifyOnPool(key, msg, sig);
  },
};

let available: boolean | undefined;

/** True when this runtime's node:crypto can import, sign and verify with ML-DSA-44 keys. */
export function nodeHasMlDsa44(): boolean {
  if (available === undefined) {
    try {
      const seed = new Uint8Array(MLDSA44_SEED_SIZE);
      const pub = backend.publicKey(seed);
      const msg = new Uint8Array([0x06]);
      available = verify(pub, msg, backend.sign(seed, msg));
    } catch {
      available = false;
    } finally {
      seedKeys.clear();
      pubCache.clear();
    }
  }
  return available;
}

/** The node:crypto ML-DSA-44 backend, or null when the runtime lacks ML-DSA (Node < 24.7). */
export function nodeMlDsa44(): MlDsa44Backend | null {
  return nodeHasMlDsa44() ? backend : null;
}
