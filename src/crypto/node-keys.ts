// What the Ed25519 and ML-DSA-44 node:crypto backends share: private KeyObjects from raw seeds
// (the PKCS #8 DER is a fixed prefix followed by the seed; building a KeyObject costs more than a
// signature and a witness signs with few keys, so they are cached: at most 64, cleared when full)
// and verification on the libuv thread pool.
import { createPrivateKey, verify as nodeVerify, type KeyObject } from 'node:crypto';

/** node:crypto's verify in its callback form (on the libuv thread pool): false on any error, never a rejection. */
export function verifyOnPool(key: KeyObject, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      nodeVerify(null, msg, key, sig, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

export interface SeedKeys {
  get(seed: Uint8Array): KeyObject;
  clear(): void;
}

export function seedKeyCache(pkcs8Prefix: Buffer, seedSize: number, invalid: () => Error): SeedKeys {
  const cache = new Map<string, KeyObject>();
  return {
    get(seed) {
      if (!(seed instanceof Uint8Array) || seed.length !== seedSize) throw invalid();
      const id = Buffer.from(seed).toString('latin1');
      let k = cache.get(id);
      if (!k) {
        k = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
        if (cache.size >= 64) cache.clear();
        cache.set(id, k);
      }
      return k;
    },
    clear: () => cache.clear(),
  };
}
