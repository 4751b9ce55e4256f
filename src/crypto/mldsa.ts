// ML-DSA-44 (FIPS 204), pure mode with the empty context string: the signature algorithm of
// c2sp.org/tlog-cosignature subtree/v1 cosignatures and of 0x06 log signatures (signed-note).
//
// One small interface, two implementations with identical verdicts:
// - nobleMlDsa44 (this file): @noble/post-quantum, portable (Node 20, browsers);
// - nodeMlDsa44 (mldsa-node.ts): node:crypto on runtimes whose OpenSSL has ML-DSA (Node >= 24.7).
// This file must stay free of node: imports (the browser bundle uses it).
//
// Keys are handled as the 32-byte FIPS 204 key-generation seed ξ (the form transparency-dev/formats
// writes into 0x06 skeys, and RFC 9881's seed-only private key) and the 1312-byte encoded
// public key. Signatures are 2420 bytes.
import type { ml_dsa44 as MlDsa44Impl } from '@noble/post-quantum/ml-dsa.js';

// @noble/post-quantum is loaded on first use, not at import: a Node server whose runtime has
// ML-DSA in node:crypto, or that has no ML-DSA key to sign or verify with, never needs it. The
// client entry (noble-default.ts, also the browser bundle) provides the static import; elsewhere
// it is required synchronously (process.getBuiltinModule, require(esm)).
let impl: typeof MlDsa44Impl | undefined;

/** Supplies the statically imported module (browser bundle); no-op once loaded. */
export function provideNobleMlDsa44(m: typeof MlDsa44Impl): void {
  impl ??= m;
}

type GetBuiltin = (id: string) => { createRequire(url: string): (id: string) => { ml_dsa44: typeof MlDsa44Impl } };

function noble(): typeof MlDsa44Impl {
  if (impl) return impl;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;
  if (typeof getBuiltin !== 'function') throw new Error('ML-DSA-44: @noble/post-quantum not loaded (import gossip-witness/client)');
  impl = getBuiltin('node:module').createRequire(import.meta.url)('@noble/post-quantum/ml-dsa.js').ml_dsa44;
  return impl;
}

export const MLDSA44_SEED_SIZE = 32;
export const MLDSA44_PUBLIC_KEY_SIZE = 1312;
export const MLDSA44_SIGNATURE_SIZE = 2420;

export interface MlDsa44Backend {
  readonly name: string;
  /** The 1312-byte public key for a 32-byte seed (FIPS 204 ML-DSA.KeyGen_internal(ξ)). */
  publicKey(seed: Uint8Array): Uint8Array;
  /**
   * A 2420-byte signature over msg (pure ML-DSA, empty context). Hedged (randomised) unless the
   * backend documents otherwise; verifiers cannot tell. Throws on a bad seed length.
   */
  sign(seed: Uint8Array, msg: Uint8Array): Uint8Array;
  /** As sign, without blocking the event loop where the backend can (node: libuv thread pool). */
  signAsync(seed: Uint8Array, msg: Uint8Array): Promise<Uint8Array>;
  /** Pure ML-DSA-44 verification, empty context. Wrong lengths give false. Never throws. */
  verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
  verifyAsync(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

function checkSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== MLDSA44_SEED_SIZE) {
    throw new RangeError(`ML-DSA-44 seed must be ${MLDSA44_SEED_SIZE} bytes`);
  }
}

// Expanding a seed costs about as much as a signature: keep the expanded keys of the few seeds a
// process signs with. Keyed by the seed bytes; bounded.
const MAX_CACHED = 64;
const expanded = new Map<string, { secretKey: Uint8Array; publicKey: Uint8Array }>();

function nobleKeys(seed: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  checkSeed(seed);
  const id = String.fromCharCode(...seed);
  let k = expanded.get(id);
  if (k === undefined) {
    k = noble().keygen(seed);
    if (expanded.size >= MAX_CACHED) expanded.clear();
    expanded.set(id, k);
  }
  return k;
}

function nobleVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== MLDSA44_PUBLIC_KEY_SIZE || sig.length !== MLDSA44_SIGNATURE_SIZE) return false;
  try {
    return noble().verify(sig, msg, pub);
  } catch {
    return false;
  }
}

export interface NobleMlDsa44Options {
  /**
   * Deterministic signing (FIPS 204 deterministic variant, rnd = 0^32): the same seed and message
   * give the same bytes. Default false (hedged, as FIPS 204 recommends). Tests use true.
   */
  deterministic?: boolean;
}

export function makeNobleMlDsa44(opts: NobleMlDsa44Options = {}): MlDsa44Backend {
  const signOpts = opts.deterministic ? { extraEntropy: false as const } : {};
  const sign = (seed: Uint8Array, msg: Uint8Array): Uint8Array => noble().sign(msg, nobleKeys(seed).secretKey, signOpts);
  return {
    name: opts.deterministic ? 'noble-deterministic' : 'noble',
    publicKey: (seed) => nobleKeys(seed).publicKey.slice(),
    sign,
    // No worker pool yet: noble signs on the calling thread (about 3.5 to 10 ms on Node 20).
    signAsync: async (seed, msg) => sign(seed, msg),
    verify: nobleVerify,
    verifyAsync: async (pub, msg, sig) => nobleVerify(pub, msg, sig),
  };
}

/** The portable backend: hedged signing. */
export const nobleMlDsa44: MlDsa44Backend = makeNobleMlDsa44();

// Portable default; Node entry points may switch to node:crypto (see mldsa-node.ts).
let current: MlDsa44Backend = nobleMlDsa44;

export function mlDsa44(): MlDsa44Backend {
  return current;
}

export function setMlDsa44Backend(b: MlDsa44Backend): void {
  current = b;
}
