import * as nodeCrypto from 'node:crypto';
import {
  createHash,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes as nodeRandomBytes,
  type KeyObject,
} from 'node:crypto';
import type { CryptoBackend } from './backend.js';
import { ed25519MayDifferFromGo } from './ed25519-rules.js';
import { makeGoEd25519Verify, type GoEd25519Verify } from './ed25519-go.js';
import { createRequire } from 'node:module';
import { seedKeyCache } from './seed-keys.js';

// Go's rule needs @noble/curves (about 11 MiB of RSS), but only for the rare edge-case inputs
// (ed25519MayDifferFromGo): load it on first need, synchronously through require(esm) (Node >=
// 20.19 / 22.12). Runtimes without require(esm) import it in the background at load instead, and
// src/platform.ts waits for that (preloadGoEd25519), so every Node entry point has it in time.
let goVerify: GoEd25519Verify | undefined;
type NobleModules = [typeof import('@noble/curves/ed25519.js'), typeof import('@noble/hashes/sha2.js')];
const hasRequireEsm = !!(process.features as { require_module?: boolean }).require_module;

function nodeRequire(): NodeJS.Require {
  // import.meta.url is empty in a CommonJS bundle of this file (packages/client), which has __filename.
  return createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
}

function goEd25519Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (!goVerify) {
    const r = nodeRequire();
    const [{ ed25519 }, { sha512 }] = [r('@noble/curves/ed25519.js'), r('@noble/hashes/sha2.js')] as NobleModules;
    goVerify = makeGoEd25519Verify(ed25519, sha512);
  }
  return goVerify(pub, msg, sig);
}

const preload: Promise<void> = hasRequireEsm
  ? Promise.resolve()
  : Promise.all([import('@noble/curves/ed25519.js'), import('@noble/hashes/sha2.js')]).then(([{ ed25519 }, { sha512 }]) => {
      goVerify ??= makeGoEd25519Verify(ed25519, sha512);
    });

/** Resolves once Go's Ed25519 rule can run synchronously (at once where require(esm) exists). */
export function preloadGoEd25519(): Promise<void> {
  return preload;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// KeyObject creation costs more than a verify; logs and witnesses reuse few keys.
const MAX_CACHED = 4096;
const pubCache = new Map<string, KeyObject | null>();
const spkiCache = new Map<string, KeyObject | null>();

function cached(cache: Map<string, KeyObject | null>, id: string, make: () => KeyObject): KeyObject | null {
  let k = cache.get(id);
  if (k !== undefined) return k;
  try {
    k = make();
  } catch {
    k = null;
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(id, k);
  return k;
}

function ed25519Key(pub: Uint8Array): KeyObject | null {
  if (pub.length !== 32) return null;
  const id = Buffer.from(pub).toString('latin1');
  return cached(pubCache, id, () =>
    createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, pub]), format: 'der', type: 'spki' }),
  );
}

const seedKeys = seedKeyCache(ED25519_PKCS8_PREFIX, 32, () => new Error('ed25519: seed must be 32 bytes'));
const seedKey = (seed: Uint8Array): KeyObject => seedKeys.get(seed);

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// One-shot crypto.hash (Node >= 20.12) is about 1.5x faster than createHash for Merkle-node-sized inputs.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
const scratch = Buffer.allocUnsafe(1024);

export const nodeBackend: CryptoBackend = {
  name: 'node',
  sha256(data) {
    return oneShot ? u8(oneShot('sha256', data, 'buffer')) : u8(createHash('sha256').update(data).digest());
  },
  sha256Parts(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    if (oneShot && n <= scratch.length) {
      let o = 0;
      for (const p of parts) {
        scratch.set(p, o);
        o += p.length;
      }
      return u8(oneShot('sha256', scratch.subarray(0, n), 'buffer'));
    }
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return u8(h.digest());
  },
  ed25519PublicKey(seed) {
    const der = createPublicKey(seedKey(seed)).export({ format: 'der', type: 'spki' });
    return u8(der.subarray(der.length - 32));
  },
  ed25519Sign(seed, msg) {
    return u8(nodeSign(null, msg, seedKey(seed)));
  },
  ed25519Verify(pub, msg, sig) {
    if (sig.length !== 64 || pub.length !== 32) return false;
    // Go's rule (ed25519-rules.ts): node:crypto's verdict on these inputs depends on the OpenSSL version.
    if (ed25519MayDifferFromGo(pub, sig)) return goEd25519Verify(pub, msg, sig);
    const key = ed25519Key(pub);
    if (!key) return false;
    try {
      return nodeVerify(null, msg, key, sig);
    } catch {
      return false;
    }
  },
  ed25519VerifyAsync(pub, msg, sig) {
    if (sig.length !== 64 || pub.length !== 32) return Promise.resolve(false);
    if (ed25519MayDifferFromGo(pub, sig)) return Promise.resolve(goEd25519Verify(pub, msg, sig));
    const key = ed25519Key(pub);
    if (!key) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        nodeVerify(null, msg, key, sig, (err, ok) => resolve(!err && ok));
      } catch {
        resolve(false);
      }
    });
  },
  ecdsaSha256Verify(spki, msg, derSig) {
    const key = cached(spkiCache, Buffer.from(spki).toString('latin1'), () =>
      createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
    );
    if (!key || key.asymmetricKeyType !== 'ec') return false;
    try {
      return nodeVerify('sha256', msg, { key, dsaEncoding: 'der' }, derSig);
    } catch {
      return false;
    }
  },
  randomBytes(n) {
    return u8(nodeRandomBytes(n));
  },
};
