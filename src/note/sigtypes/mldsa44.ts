// Signature type 0x06 of c2sp.org/signed-note: timestamped ML-DSA-44 (sub)tree cosignatures,
// c2sp.org/tlog-cosignature "ML-DSA-44 signed message" (subtree/v1). Followed: C2SP/C2SP at
// 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9 (2026-07-22; tlog-cosignature.md last changed in
// 01194db1, signed-note.md lists 0x06), subtrees per draft-ietf-plants-merkle-tree-certs-03 §4.1
// (the version c2sp.org/tlog-witness cites). See docs/formats.md.
//
//   vkey:  name+keyid+base64(0x06 || 1312-byte ML-DSA-44 public key)
//   keyid: SHA-256(name || 0x0A || 0x06 || public key)[:4]
//   sig:   timestamped_signature = u64be timestamp || 2420-byte ML-DSA-44 signature
//   over:  cosigned_message = "subtree/v1\n\0" || u8 len || cosigner name || u64be timestamp
//          || u8 len || origin || u64be start || u64be end || 32-byte hash
//
// As a note signature (cosignature or log signature) the signed subtree is the whole checkpoint:
// start 0, end = size, hash = root. Extension lines are NOT covered; the checkpoint text must
// still parse (c2sp.org/tlog-checkpoint). Verification refuses timestamps above 2^63 - 1 and a
// non-zero timestamp with a non-zero start. Timestamp 0 is legal (no "largest tree" statement).
import { mlDsa44, MLDSA44_PUBLIC_KEY_SIZE, MLDSA44_SIGNATURE_SIZE } from '../../crypto/mldsa.js';
import { parseCheckpoint } from '../../checkpoint/checkpoint.js';
import { isValidSubtree } from '../../merkle/subtree.js';
import { concatBytes, decodeUtf8, readU64be, u64be, utf8 } from '../../util/bytes.js';
import type { SignatureScheme } from './scheme.js';
import { standardKeyId } from './keyid.js';

export const MLDSA44 = 0x06;
export const SUBTREE_V1_LABEL = utf8('subtree/v1\n\0');
export const TIMESTAMPED_MLDSA44_SIZE = 8 + MLDSA44_SIGNATURE_SIZE;
const MAX_TIMESTAMP = (1n << 63n) - 1n;
const MAX_U64 = (1n << 64n) - 1n;

/** The subtree a subtree/v1 signature is about. */
export interface SignedSubtree {
  /** The log's origin line, without its newline: 1 to 255 bytes of UTF-8. */
  readonly origin: string;
  readonly start: bigint;
  readonly end: bigint;
  /** MTH(D[start:end]), 32 bytes. */
  readonly hash: Uint8Array;
}

function opaque8(what: string, s: string): Uint8Array {
  const b = utf8(s);
  if (b.length < 1 || b.length > 255) throw new RangeError(`subtree/v1 ${what} must be 1 to 255 bytes (got ${b.length})`);
  return concatBytes(Uint8Array.of(b.length), b);
}

function u64(what: string, n: bigint): Uint8Array {
  if (typeof n !== 'bigint' || n < 0n || n > MAX_U64) throw new RangeError(`subtree/v1 ${what} out of range: ${n}`);
  return u64be(n);
}

/**
 * The cosigned_message struct of tlog-cosignature, byte for byte. Throws RangeError when a field
 * cannot be encoded (empty or over-long name or origin, hash not 32 bytes, integers out of
 * uint64 range). It does not judge the values (see checkSubtreeSignatureValues).
 */
export function cosignedMessage(cosignerName: string, timestamp: bigint, s: SignedSubtree): Uint8Array {
  if (!(s.hash instanceof Uint8Array) || s.hash.length !== 32) throw new RangeError('subtree/v1 hash must be 32 bytes');
  return concatBytes(
    SUBTREE_V1_LABEL,
    opaque8('cosigner name', cosignerName),
    u64('timestamp', timestamp),
    opaque8('log origin', s.origin),
    u64('start', s.start),
    u64('end', s.end),
    s.hash,
  );
}

/**
 * Why (timestamp, subtree) may not be signed or accepted, or null when it may:
 * timestamp above 2^63 - 1; non-zero timestamp with non-zero start; [start, end) neither a
 * checkpoint ([0, size), size 0 included) nor a subtree (draft -03 §4.1).
 */
export function subtreeSignatureProblem(timestamp: bigint, start: bigint, end: bigint): string | null {
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) return 'timestamp out of range (must be 0 to 2^63 - 1)';
  if (start !== 0n && timestamp !== 0n) return 'a subtree with a non-zero start must have timestamp 0';
  if (start === 0n && end >= 0n && end <= MAX_TIMESTAMP) return null;
  if (!isValidSubtree(start, end)) return `[${start}, ${end}) is not a subtree`;
  return null;
}

/** The timestamp of a 0x06 signature (the bytes after the key ID), or null for a wrong length. */
export function mlDsa44Timestamp(sig: Uint8Array): bigint | null {
  return sig.length === TIMESTAMPED_MLDSA44_SIZE ? readU64be(sig, 0) : null;
}

/**
 * Verifies a timestamped subtree/v1 signature (sig = the bytes after the key ID) by the cosigner
 * (name, 1312-byte key) over the subtree. Never throws.
 */
export function verifySubtreeSignature(key: Uint8Array, name: string, s: SignedSubtree, sig: Uint8Array): boolean {
  if (key.length !== MLDSA44_PUBLIC_KEY_SIZE || sig.length !== TIMESTAMPED_MLDSA44_SIZE) return false;
  const timestamp = readU64be(sig, 0);
  if (subtreeSignatureProblem(timestamp, s.start, s.end) !== null) return false;
  let msg: Uint8Array;
  try {
    msg = cosignedMessage(name, timestamp, s);
  } catch {
    return false;
  }
  return mlDsa44().verify(key, msg, sig.subarray(8));
}

/** The subtree a checkpoint text stands for ([0, size) with its root), or null if it does not parse. */
export function checkpointSubtree(text: Uint8Array): SignedSubtree | null {
  const s = decodeUtf8(text);
  if (s === null) return null;
  try {
    const c = parseCheckpoint(s);
    return { origin: c.origin, start: 0n, end: c.size, hash: c.root };
  } catch {
    return null;
  }
}

/**
 * Verifies a 0x06 note signature over checkpoint text: a witness cosignature or a log signature
 * (the rule is the same; the key name is the cosigner name in the signed message).
 */
export function verifyCheckpointSignature(key: Uint8Array, name: string, text: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== TIMESTAMPED_MLDSA44_SIZE) return false;
  const s = checkpointSubtree(text);
  return s !== null && verifySubtreeSignature(key, name, s, sig);
}

/** Type 0x06: ML-DSA-44 subtree/v1 over the checkpoint the note text holds. */
export const mlDsa44Scheme: SignatureScheme = {
  type: MLDSA44,
  label: 'ML-DSA-44 subtree/v1',
  coversText: false,
  checkKey(key) {
    if (key.length !== MLDSA44_PUBLIC_KEY_SIZE) throw new Error(`ML-DSA-44 key must be ${MLDSA44_PUBLIC_KEY_SIZE} bytes`);
  },
  keyId: (name, key) => standardKeyId(name, MLDSA44, key),
  verify: verifyCheckpointSignature,
};
