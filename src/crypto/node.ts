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
import { seedKeyCache, verifyOnPool } from './node-keys.js';
import { isP256Spki } from './ecdsa-rules.js';

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

// libsodium, through sodium-native (an optional dependency, N-API prebuilds): Ed25519 verify about
// 62 µs and sign 35 µs on this project's 2-core CI machine against node:crypto's 150 and 63 µs
// (OpenSSL 3.0.19 and 3.5 alike). Loaded on first use, since its loader adds about 7 MiB of RSS
// that an idle witness does not need; where it is absent or fails to load (no prebuild for the
// platform), or GW_CRYPTO_SODIUM=0 is set, node:crypto does the work. The verdict is the same:
// libsodium departs from Go's rule only on small-order or non-canonical A and R, and those inputs
// never reach it (ed25519MayDifferFromGo sends them to goEd25519Verify, as for node:crypto).
interface Sodium {
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_hash_sha256(out: Uint8Array, data: Uint8Array): void;
}
let sodium: Sodium | null | undefined;

/** libsodium if it loads (and GW_CRYPTO_SODIUM is not 0), else null; decided once per process. */
export function loadSodium(): Sodium | null {
  if (sodium !== undefined) return sodium;
  sodium = null;
  if (process.env.GW_CRYPTO_SODIUM === '0') return sodium;
  try {
    const m = nodeRequire()('sodium-native') as Sodium;
    // A smoke test: a prebuild that loads but misbehaves must not decide verdicts.
    const pk = new Uint8Array(32);
    const sk = new Uint8Array(64);
    const sig = new Uint8Array(64);
    const msg = Uint8Array.of(1, 2, 3);
    m.crypto_sign_seed_keypair(pk, sk, new Uint8Array(32).fill(7));
    m.crypto_sign_detached(sig, msg, sk);
    const abc = new Uint8Array(32);
    m.crypto_hash_sha256(abc, Uint8Array.of(0x61, 0x62, 0x63));
    const abcOk = Buffer.from(abc).toString('hex') === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    if (abcOk && m.crypto_sign_verify_detached(sig, msg, pk) && !m.crypto_sign_verify_detached(sig, Uint8Array.of(1, 2, 4), pk)) sodium = m;
  } catch {
    // not installed, or no prebuild for this platform: node:crypto
  }
  return sodium;
}

// libsodium signs with seed || public key (64 bytes), derived once per seed.
const sodiumSecrets = new Map<string, Uint8Array>();
function sodiumSecret(na: Sodium, seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new Error('ed25519: seed must be 32 bytes');
  const id = Buffer.from(seed).toString('latin1');
  let sk = sodiumSecrets.get(id);
  if (!sk) {
    sk = new Uint8Array(64);
    na.crypto_sign_seed_keypair(new Uint8Array(32), sk, seed);
    if (sodiumSecrets.size >= 64) sodiumSecrets.clear();
    sodiumSecrets.set(id, sk);
  }
  return sk;
}

// SHA-256 of short inputs (Merkle nodes are 65 bytes) through libsodium once it is loaded (by an
// Ed25519 operation; hashing alone never loads it): 0.7-1.1 µs against crypto.hash's 2.7 µs for 65
// bytes here, the cost being the call, not the compression. Above SODIUM_SHA256_MAX bytes OpenSSL's
// SHA extensions win (1 KiB: 5.1 against 3.6 µs).
const SODIUM_SHA256_MAX = 256;

// One-shot crypto.hash (Node >= 20.12) is about 1.5x faster than createHash for Merkle-node-sized inputs.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
const scratch = Buffer.allocUnsafe(1024);

/**
 * The Node backend: node:crypto, with libsodium for Ed25519 when useSodium is true and it loads
 * (nodeBackend); nodeCryptoBackend never uses libsodium (tests compare the two).
 */
function makeNodeBackend(useSodium: boolean): CryptoBackend {
  const na = (): Sodium | null => (useSodium ? loadSodium() : null);
  return {
    name: useSodium ? 'node' : 'node-crypto',
    sha256(data) {
      const na = useSodium ? sodium : null;
      if (na && data.length <= SODIUM_SHA256_MAX) {
        const out = new Uint8Array(32);
        na.crypto_hash_sha256(out, data);
        return out;
      }
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
        const na = useSodium ? sodium : null;
        if (na && n <= SODIUM_SHA256_MAX) {
          const out = new Uint8Array(32);
          na.crypto_hash_sha256(out, scratch.subarray(0, n));
          return out;
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
      const s = na();
      if (s) {
        const sig = new Uint8Array(64);
        s.crypto_sign_detached(sig, msg, sodiumSecret(s, seed));
        return sig;
      }
      return u8(nodeSign(null, msg, seedKey(seed)));
    },
    ed25519Verify(pub, msg, sig) {
      if (sig.length !== 64 || pub.length !== 32) return false;
      // Go's rule (ed25519-rules.ts): node:crypto's verdict on these inputs depends on the OpenSSL
      // version, and libsodium rejects them all.
      if (ed25519MayDifferFromGo(pub, sig)) return goEd25519Verify(pub, msg, sig);
      const s = na();
      if (s) return s.crypto_sign_verify_detached(sig, msg, pub);
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
      // libsodium inline costs less than node:crypto's verify plus the hop to the libuv pool and back.
      const s = na();
      if (s) return Promise.resolve(s.crypto_sign_verify_detached(sig, msg, pub));
      const key = ed25519Key(pub);
      if (!key) return Promise.resolve(false);
      return verifyOnPool(key, msg, sig);
    },
    ecdsaSha256Verify(spki, msg, derSig) {
      if (!isP256Spki(spki)) return false; // the keys noble takes too (ecdsa-rules.ts)
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
}

export const nodeBackend: CryptoBackend = makeNodeBackend(true);
export const nodeCryptoBackend: CryptoBackend = makeNodeBackend(false);
