// Key strings of c2sp.org/signed-note:
//   vkey = name "+" hex8(keyID) "+" b64(type || public key material)
//   skey = "PRIVATE+KEY+" name "+" hex8(keyID) "+" b64(type || private key material)
// Split at the first two "+" only: base64 key material often contains "+".
import { cryptoBackend } from '../crypto/index.js';
import { decodeBase64, encodeBase64, concatBytes, readU64be, u64be } from '../util/bytes.js';
import { KeyError } from './errors.js';
import { schemeFor } from './sigtypes/registry.js';
import { ED25519 } from './sigtypes/ed25519.js';
import { COSIGNATURE_V1, cosignatureMessage, MAX_TIMESTAMP } from './sigtypes/cosignature.js';
import { standardKeyId } from './sigtypes/keyid.js';
import { MLDSA44, TIMESTAMPED_MLDSA44_SIZE } from './sigtypes/mldsa44.js';

export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** Public key material (after the type byte). */
  readonly key: Uint8Array;
  /** The vkey string this verifier was made from (or would be published as). */
  readonly vkey: string;
  verify(text: Uint8Array, sig: Uint8Array): boolean;
}

export interface Signer {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  /** Signature bytes (after the key ID) over the note text. */
  sign(text: Uint8Array): Uint8Array;
}

/**
 * A key name is non-empty, valid UTF-8, has no "+" and no Unicode space (Go's unicode.IsSpace:
 * \t \n \v \f \r, space, U+0085, U+00A0 and categories Zs/Zl/Zp).
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !name.includes('+') && !/[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]/u.test(name) && !hasLoneSurrogate(name);
}

function hasLoneSurrogate(s: string): boolean {
  return /\p{Cs}/u.test(s);
}

function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

function parseHex8(s: string): number | null {
  // Go: len(hash16) == 8 && strconv.ParseUint(hash16, 16, 32) succeeds.
  return /^[0-9a-fA-F]{8}$/.test(s) ? parseInt(s, 16) : null;
}

export function formatKeyId(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}

function makeVerifier(name: string, keyId: number, type: number, key: Uint8Array): Verifier {
  const scheme = schemeFor(type);
  if (!scheme) throw new KeyError(`unsupported signature type 0x${type.toString(16).padStart(2, '0')}`);
  const vkey = `${name}+${formatKeyId(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(type), key))}`;
  return {
    name,
    keyId,
    type,
    key,
    vkey,
    verify: (text, sig) => scheme.verify(key, name, text, sig),
  };
}

const VKEY_SHAPE = /^([^+\s]{1,128})\+([0-9a-fA-F]{8})\+[A-Za-z0-9+/]+=*$/;
/** For input that already failed to parse: anything that may be a secret. */
const SECRET_HINT = /PRIVATE|SECRET|BEGIN /i;

function isShortAndHarmless(s: string): boolean {
  return s.length <= 20 && !SECRET_HINT.test(s);
}

/** Whether a string is a private key: a Go skey (PRIVATE+KEY+…) or a PEM private key block. */
export function looksLikePrivateKey(s: string): boolean {
  return s.trimStart().startsWith('PRIVATE+KEY+') || /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(s);
}

/**
 * How an error may quote a string that should have been a vkey. It may be a private key pasted
 * by mistake, so its key material is never shown: a private key is named as such, a vkey-shaped
 * string is shown as NAME+KEYID+… (its public parts), a short harmless one as is, anything
 * else only by its length.
 */
export function describeKeyInput(s: string): string {
  const t = s.trim();
  const privateKey = 'this looks like a private key (PRIVATE+KEY+…; not shown), but a vkey is expected: keep private keys out of configs and policies, and rotate one that was shared';
  if (looksLikePrivateKey(t)) return privateKey;
  const m = VKEY_SHAPE.exec(t);
  if (m) return JSON.stringify(`${m[1]}+${m[2]}+…`);
  if (SECRET_HINT.test(t)) return privateKey;
  if (isShortAndHarmless(t)) return JSON.stringify(t);
  return `a ${t.length}-character string that is not NAME+KEYID+BASE64 (not shown)`;
}

/**
 * Quotes untrusted input in an error (a line of a log list or policy file), at most max
 * characters, unless it may be key material: a private key, or one long base64/hex token.
 */
export function quoteInput(s: string, max = 60): string {
  if (looksLikePrivateKey(s) || SECRET_HINT.test(s)) return '(this looks like a private key: not shown)';
  if (/^[A-Za-z0-9+/=_-]{24,}$/.test(s.trim())) return `(a ${s.trim().length}-character token: not shown, it may be key material)`;
  return JSON.stringify(s.slice(0, max));
}

/** Parses a vkey, recomputing and checking its key ID. Throws KeyError with the reason. */
export function parseVkey(vkey: string): Verifier {
  if (looksLikePrivateKey(vkey)) throw new KeyError(`invalid vkey: ${describeKeyInput(vkey)}`);
  const [name, rest] = chop(vkey, '+');
  const [hex, b64] = chop(rest, '+');
  // The name is public in a vkey, but a bad one may be a pasted secret: quoted only when short and harmless.
  if (!isValidKeyName(name)) throw new KeyError(`invalid vkey: bad key name${isShortAndHarmless(name) ? ` ${JSON.stringify(name)}` : ''}`);
  const id = parseHex8(hex);
  if (id === null) throw new KeyError('invalid vkey: key ID must be 8 hex digits');
  const material = decodeBase64(b64);
  if (material === null || material.length === 0) throw new KeyError('invalid vkey: bad base64 key material');
  const type = material[0];
  const key = material.subarray(1);
  const scheme = schemeFor(type);
  if (!scheme) throw new KeyError(`invalid vkey: unsupported signature type 0x${type.toString(16).padStart(2, '0')}`);
  try {
    scheme.checkKey(key);
  } catch (e) {
    throw new KeyError(`invalid vkey: ${(e as Error).message}`);
  }
  const want = scheme.keyId(name, key);
  if (want !== id) throw new KeyError(`invalid vkey: key ID ${hex} does not match the key (want ${formatKeyId(want)})`);
  return makeVerifier(name, id, type, key);
}

/**
 * The verifier of a witness key's cosignature lines. Accepts a 0x04 vkey, or an Ed25519 (0x01)
 * vkey as witnesses often publish, from which the 0x04 key ID is re-derived (tlog-cosignature);
 * or an ML-DSA-44 (0x06) vkey, returned as is: its lines verify as subtree/v1 cosignatures with
 * start 0 and end = the checkpoint size. Both kinds of line carry their timestamp in the first
 * 8 bytes of the signature (cosignatureLineTimestamp).
 */
export function parseCosignatureVkey(vkey: string): Verifier {
  const v = parseVkey(vkey);
  if (v.type === COSIGNATURE_V1 || v.type === MLDSA44) return v;
  if (v.type !== ED25519) throw new KeyError('invalid witness vkey: must be Ed25519 (0x01), cosignature/v1 (0x04) or ML-DSA-44 (0x06)');
  return makeVerifier(v.name, standardKeyId(v.name, COSIGNATURE_V1, v.key), COSIGNATURE_V1, v.key);
}

/** cosignature/v1: u64 timestamp || 64-byte Ed25519 signature. */
const COSIGNATURE_V1_SIG_SIZE = 72;

/**
 * The timestamp (POSIX seconds; 0 = none given) of a witness cosignature line of the given
 * signature type (sig = the bytes after the key ID), or null when the type carries none or the
 * length is wrong for it. Type 0x04 and 0x06 both start with a big-endian u64 timestamp.
 */
export function cosignatureLineTimestamp(type: number, sig: Uint8Array): bigint | null {
  if (type === COSIGNATURE_V1 && sig.length === COSIGNATURE_V1_SIG_SIZE) return readU64be(sig, 0);
  if (type === MLDSA44 && sig.length === TIMESTAMPED_MLDSA44_SIZE) return readU64be(sig, 0);
  return null;
}

export interface Ed25519SignerKey extends Signer {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The Ed25519 (0x01) vkey. */
  readonly vkey: string;
  /** The cosignature/v1 (0x04) vkey for the same key and name. */
  readonly cosignatureVkey: string;
  readonly skey: string;
}

function ed25519SignerKey(name: string, seed: Uint8Array): Ed25519SignerKey {
  const b = cryptoBackend();
  const publicKey = b.ed25519PublicKey(seed);
  const keyId = standardKeyId(name, ED25519, publicKey);
  const cosigId = standardKeyId(name, COSIGNATURE_V1, publicKey);
  const vkey = `${name}+${formatKeyId(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(ED25519), publicKey))}`;
  return {
    name,
    keyId,
    type: ED25519,
    seed,
    publicKey,
    vkey,
    cosignatureVkey: `${name}+${formatKeyId(cosigId)}+${encodeBase64(concatBytes(Uint8Array.of(COSIGNATURE_V1), publicKey))}`,
    skey: `PRIVATE+KEY+${name}+${formatKeyId(keyId)}+${encodeBase64(concatBytes(Uint8Array.of(ED25519), seed))}`,
    sign: (text) => cryptoBackend().ed25519Sign(seed, text),
  };
}

/** Parses an Ed25519 skey (Go's note.NewSigner), checking the key ID against the derived public key. */
export function parseSkey(skey: string): Ed25519SignerKey {
  const [p1, r1] = chop(skey, '+');
  const [p2, r2] = chop(r1, '+');
  const [name, r3] = chop(r2, '+');
  const [hex, b64] = chop(r3, '+');
  if (p1 !== 'PRIVATE' || p2 !== 'KEY') throw new KeyError('invalid skey: must start with PRIVATE+KEY+');
  if (!isValidKeyName(name)) throw new KeyError('invalid skey: bad key name');
  const id = parseHex8(hex);
  if (id === null) throw new KeyError('invalid skey: key ID must be 8 hex digits');
  const material = decodeBase64(b64);
  if (material === null || material.length === 0) throw new KeyError('invalid skey: bad base64 key material');
  if (material[0] !== ED25519) throw new KeyError('invalid skey: only Ed25519 (0x01) private keys are supported');
  const seed = material.slice(1);
  if (seed.length !== 32) throw new KeyError('invalid skey: Ed25519 seed must be 32 bytes');
  const k = ed25519SignerKey(name, seed);
  if (k.keyId !== id) throw new KeyError('invalid skey: key ID does not match the key');
  return k;
}

export function generateKey(name: string): Ed25519SignerKey {
  if (!isValidKeyName(name)) throw new KeyError(`invalid key name ${JSON.stringify(name)}`);
  return ed25519SignerKey(name, cryptoBackend().randomBytes(32));
}

export function ed25519KeyFromSeed(name: string, seed: Uint8Array): Ed25519SignerKey {
  if (!isValidKeyName(name)) throw new KeyError(`invalid key name ${JSON.stringify(name)}`);
  if (seed.length !== 32) throw new KeyError('Ed25519 seed must be 32 bytes');
  return ed25519SignerKey(name, seed);
}

/** A cosignature/v1 signer for an Ed25519 key; clock returns POSIX seconds. */
export function cosigner(key: Ed25519SignerKey, clock: () => bigint = unixSeconds): Signer & { readonly vkey: string } {
  const keyId = standardKeyId(key.name, COSIGNATURE_V1, key.publicKey);
  return {
    name: key.name,
    keyId,
    type: COSIGNATURE_V1,
    vkey: key.cosignatureVkey,
    sign(text) {
      const t = clock();
      // tlog-witness: the timestamp must not be zero; tlog-cosignature: at most 2^63 - 1.
      if (t <= 0n || t > MAX_TIMESTAMP) throw new Error(`cosignature timestamp out of range: ${t}`);
      return concatBytes(u64be(t), cryptoBackend().ed25519Sign(key.seed, cosignatureMessage(t, text)));
    },
  };
}

export function unixSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

