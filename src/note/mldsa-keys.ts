// ML-DSA-44 (signature type 0x06) keys: skeys, vkeys, checkpoint signers and subtree/v1 signing.
// The format rules live in sigtypes/mldsa44.ts; this file adds the private side.
//
//   skey = "PRIVATE+KEY+" name "+" hex8(keyID) "+" base64(0x06 || 32-byte seed)
// as transparency-dev/formats (note/note_cosigv1.go, GenerateMLDSAKey / NewMLDSASigner) writes
// and reads it: the private key material is the 32-byte FIPS 204 key-generation seed
// (filippo.io/mldsa PrivateKeySize = 32), and the key ID is the one of the public key.
import { cryptoBackend } from '../crypto/index.js';
import { mlDsa44, MLDSA44_SEED_SIZE } from '../crypto/mldsa.js';
import { concatBytes, decodeBase64, encodeBase64, u64be } from '../util/bytes.js';
import { KeyError } from './errors.js';
import { formatKeyId, isValidKeyName, parseVkey, unixSeconds, type Signer, type Verifier } from './keys.js';
import { formatSignatureLine } from './note.js';
import {
  MLDSA44,
  checkpointSubtree,
  cosignedMessage,
  subtreeSignatureProblem,
  verifySubtreeSignature,
  type SignedSubtree,
} from './sigtypes/mldsa44.js';
import { standardKeyId } from './sigtypes/keyid.js';

/** A 0x06 signer for checkpoints, with an async variant that keeps signing off the event loop where it can. */
export interface MlDsa44Signer extends Signer {
  readonly vkey: string;
  signAsync(text: Uint8Array): Promise<Uint8Array>;
}

export interface MlDsa44Key {
  readonly name: string;
  readonly keyId: number;
  readonly type: typeof MLDSA44;
  readonly seed: Uint8Array;
  /** 1312 bytes. */
  readonly publicKey: Uint8Array;
  readonly vkey: string;
  readonly skey: string;
  /** The Verifier for this key's 0x06 lines on checkpoints (as parseVkey(vkey) gives). */
  readonly verifier: Verifier;
  /**
   * The timestamped_signature (u64be timestamp || 2420-byte signature) for the subtree.
   * timestamp defaults to 0 (what sign-subtree answers). Throws RangeError for what the spec
   * forbids: timestamp above 2^63 - 1, non-zero timestamp with non-zero start, an interval that is
   * neither [0, size) nor a subtree (draft -03 §4.1), origin or name not 1..255 bytes.
   */
  signSubtree(s: SignedSubtree, timestamp?: bigint): Uint8Array;
  signSubtreeAsync(s: SignedSubtree, timestamp?: bigint): Promise<Uint8Array>;
  /** The note signature line ("— name base64(keyID || sig)\n") for a subtree signature. */
  subtreeLine(s: SignedSubtree, timestamp?: bigint): Promise<string>;
  /**
   * A witness cosigner for checkpoints (tlog-witness add-checkpoint): start 0, end = size,
   * timestamp = clock(), which must not be 0.
   */
  cosigner(clock?: () => bigint): MlDsa44Signer;
  /** A log signer for its own checkpoints: as cosigner, but timestamp 0 is allowed (and the default clock gives 0). */
  logSigner(clock?: () => bigint): MlDsa44Signer;
}

function prepare(name: string, s: SignedSubtree, timestamp: bigint): Uint8Array {
  if (typeof timestamp !== 'bigint') throw new TypeError('timestamp must be a bigint');
  const problem = subtreeSignatureProblem(timestamp, s.start, s.end);
  if (problem !== null) throw new RangeError(`cannot sign subtree/v1: ${problem}`);
  return cosignedMessage(name, timestamp, s);
}

function makeKey(name: string, seed: Uint8Array): MlDsa44Key {
  const publicKey = mlDsa44().publicKey(seed);
  const keyId = standardKeyId(name, MLDSA44, publicKey);
  const hex = formatKeyId(keyId);
  const vkey = `${name}+${hex}+${encodeBase64(concatBytes(Uint8Array.of(MLDSA44), publicKey))}`;
  const skey = `PRIVATE+KEY+${name}+${hex}+${encodeBase64(concatBytes(Uint8Array.of(MLDSA44), seed))}`;
  const verifier = parseVkey(vkey);
  const signSubtree = (s: SignedSubtree, timestamp = 0n): Uint8Array =>
    concatBytes(u64be(timestamp), mlDsa44().sign(seed, prepare(name, s, timestamp)));
  const signSubtreeAsync = async (s: SignedSubtree, timestamp = 0n): Promise<Uint8Array> => {
    const msg = prepare(name, s, timestamp);
    return concatBytes(u64be(timestamp), await mlDsa44().signAsync(seed, msg));
  };
  const checkpointSigner = (clock: () => bigint, allowZero: boolean): MlDsa44Signer => {
    const subtreeOf = (text: Uint8Array): { s: SignedSubtree; t: bigint } => {
      const s = checkpointSubtree(text);
      if (s === null) throw new Error('ML-DSA-44 checkpoint signing: the note text is not a checkpoint');
      const t = clock();
      // tlog-witness: a witness's checkpoint cosignature must not have timestamp 0.
      if (!allowZero && t === 0n) throw new RangeError('cosignature timestamp must not be 0');
      return { s, t };
    };
    return {
      name,
      keyId,
      type: MLDSA44,
      vkey,
      sign(text) {
        const { s, t } = subtreeOf(text);
        return signSubtree(s, t);
      },
      signAsync(text) {
        try {
          const { s, t } = subtreeOf(text);
          return signSubtreeAsync(s, t);
        } catch (e) {
          return Promise.reject(e);
        }
      },
    };
  };
  return {
    name,
    keyId,
    type: MLDSA44,
    seed,
    publicKey,
    vkey,
    skey,
    verifier,
    signSubtree,
    signSubtreeAsync,
    subtreeLine: async (s, timestamp = 0n) => formatSignatureLine(name, keyId, await signSubtreeAsync(s, timestamp)),
    cosigner: (clock = unixSeconds) => checkpointSigner(clock, false),
    logSigner: (clock = () => 0n) => checkpointSigner(clock, true),
  };
}

/** An ML-DSA-44 key from its 32-byte seed. */
export function mlDsa44KeyFromSeed(name: string, seed: Uint8Array): MlDsa44Key {
  if (!isValidKeyName(name)) throw new KeyError(`invalid key name ${JSON.stringify(name)}`);
  if (new TextEncoder().encode(name).length > 255) throw new KeyError('ML-DSA-44 key names are at most 255 bytes (subtree/v1 cosigner_name)');
  if (!(seed instanceof Uint8Array) || seed.length !== MLDSA44_SEED_SIZE) throw new KeyError(`ML-DSA-44 seed must be ${MLDSA44_SEED_SIZE} bytes`);
  return makeKey(name, seed.slice());
}

export function generateMlDsa44Key(name: string): MlDsa44Key {
  return mlDsa44KeyFromSeed(name, cryptoBackend().randomBytes(MLDSA44_SEED_SIZE));
}

/** Parses a 0x06 skey, checking the key ID against the derived public key. Throws KeyError. */
export function parseMlDsa44Skey(skey: string): MlDsa44Key {
  const parts = /^PRIVATE\+KEY\+([^+]*)\+([^+]*)\+(.*)$/s.exec(skey);
  if (!parts) throw new KeyError('invalid skey: must be PRIVATE+KEY+name+keyid+key');
  const [, name, hex, b64] = parts;
  if (!isValidKeyName(name)) throw new KeyError('invalid skey: bad key name');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new KeyError('invalid skey: key ID must be 8 hex digits');
  const material = decodeBase64(b64);
  if (material === null || material.length === 0) throw new KeyError('invalid skey: bad base64 key material');
  if (material[0] !== MLDSA44) throw new KeyError('invalid skey: not an ML-DSA-44 (0x06) key');
  if (material.length !== 1 + MLDSA44_SEED_SIZE) throw new KeyError(`invalid skey: ML-DSA-44 seed must be ${MLDSA44_SEED_SIZE} bytes`);
  const k = mlDsa44KeyFromSeed(name, material.subarray(1));
  if (k.keyId !== parseInt(hex, 16)) throw new KeyError('invalid skey: key ID does not match the key');
  return k;
}

/** A 0x06 verifier that can also check subtree signatures (sign-subtree answers, MTC). */
export interface MlDsa44Verifier extends Verifier {
  verifySubtree(s: SignedSubtree, sig: Uint8Array): boolean;
}

/** Parses a 0x06 vkey (key ID checked). Throws KeyError for any other type. */
export function parseMlDsa44Vkey(vkey: string): MlDsa44Verifier {
  const v = parseVkey(vkey);
  if (v.type !== MLDSA44) throw new KeyError('invalid vkey: not an ML-DSA-44 (0x06) key');
  return { ...v, verify: v.verify, verifySubtree: (s, sig) => verifySubtreeSignature(v.key, v.name, s, sig) };
}
