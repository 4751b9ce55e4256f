// Inclusion of an entry in a policy-verified checkpoint (RFC 6962 / RFC 9162 inclusion proofs).
//
// Proof file format (JSON, UTF-8):
//   {"leafIndex": 123, "treeSize": 456, "hashes": ["<base64 32-byte hash>", ...]}
// leafIndex and treeSize are JSON integers or decimal strings (read losslessly, so values above
// 2^53 are exact); treeSize is optional and, when present, must equal the checkpoint's size;
// hashes are the audit path from the leaf up (RFC 9162 §2.1.3), possibly empty.
// The entry is the raw leaf data; its leaf hash is SHA-256(0x00 || entry).
//
// Pure: no file or network access, no Node-only module (this runs in browsers).
import { hashLeaf, verifyInclusion, HASH_SIZE } from '../merkle/index.js';
import { parseJsonLossless, toBigIntSize } from '../util/json.js';
import { decodeBase64, decodeUtf8, encodeBase64 } from '../util/bytes.js';
import { GossipWitnessError } from '../errors.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { Policy } from './parse.js';
import { verifyCosignedCheckpoint, type PolicyVerification, type VerifyOptions } from './verify.js';

export interface InclusionProof {
  readonly leafIndex: bigint;
  /** When present, must equal the checkpoint's size. */
  readonly treeSize?: bigint;
  readonly hashes: readonly Uint8Array[];
}

/** The entry: its raw data (hashed as an RFC 6962 leaf), or its leaf hash. */
export type InclusionEntry = { readonly entry: Uint8Array } | { readonly leafHash: Uint8Array };

/** A proof file that does not parse: code 'malformed' (src/errors.ts). */
export class ProofFormatError extends GossipWitnessError {
  declare readonly code: 'malformed';
  constructor(message: string) {
    super({ code: 'malformed', message });
    this.name = 'ProofFormatError';
  }
}

/** At most 64 hashes fit a tree of 2^63 - 1 leaves. */
const MAX_PROOF_HASHES = 64;

/** Parses the proof file format above. Throws ProofFormatError naming the field. */
export function parseInclusionProof(input: string | Uint8Array): InclusionProof {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text === null) throw new ProofFormatError('proof is not UTF-8');
  let v: unknown;
  try {
    v = parseJsonLossless(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ProofFormatError(`proof is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ProofFormatError('proof must be a JSON object {leafIndex, treeSize?, hashes}');
  const o = v as Record<string, unknown>;
  let leafIndex: bigint;
  let treeSize: bigint | undefined;
  try {
    leafIndex = toBigIntSize(o.leafIndex, 'leafIndex');
    if (o.treeSize !== undefined) treeSize = toBigIntSize(o.treeSize, 'treeSize');
  } catch (e) {
    throw new ProofFormatError((e as Error).message);
  }
  if (!Array.isArray(o.hashes)) throw new ProofFormatError('hashes: must be an array of base64 strings');
  if (o.hashes.length > MAX_PROOF_HASHES) throw new ProofFormatError(`hashes: ${o.hashes.length} hashes; a proof has at most ${MAX_PROOF_HASHES}`);
  const hashes = o.hashes.map((h, i) => {
    const b = typeof h === 'string' ? decodeBase64(h) : null;
    if (b === null || b.length !== HASH_SIZE) throw new ProofFormatError(`hashes[${i}]: must be base64 of ${HASH_SIZE} bytes`);
    return b;
  });
  if (treeSize !== undefined && leafIndex >= treeSize) throw new ProofFormatError(`leafIndex ${leafIndex} is not below treeSize ${treeSize}`);
  return treeSize === undefined ? { leafIndex, hashes } : { leafIndex, treeSize, hashes };
}

/** The proof file format for a proof (for tools that write proofs). */
export function formatInclusionProof(p: InclusionProof): string {
  const size = p.treeSize === undefined ? '' : `,"treeSize":${JSON.stringify(p.treeSize.toString())}`;
  return `{"leafIndex":${JSON.stringify(p.leafIndex.toString())}${size},"hashes":[${p.hashes.map((h) => JSON.stringify(encodeBase64(h))).join(',')}]}\n`;
}

export type InclusionResult = { readonly ok: true; readonly leafHash: Uint8Array } | { readonly ok: false; readonly reason: string };

function leafHashOf(e: InclusionEntry): Uint8Array {
  return 'entry' in e ? hashLeaf(e.entry) : e.leafHash;
}

/**
 * Checks that the entry is included in the checkpoint's tree. The checkpoint must come from a
 * successful policy verification (use verifyInclusionAgainst or verifyEntryInclusion for that).
 */
export function verifyInclusionInCheckpoint(checkpoint: Checkpoint, entry: InclusionEntry, proof: InclusionProof): InclusionResult {
  const leafHash = leafHashOf(entry);
  if (leafHash.length !== HASH_SIZE) return { ok: false, reason: `leaf hash must be ${HASH_SIZE} bytes` };
  if (proof.treeSize !== undefined && proof.treeSize !== checkpoint.size) {
    return { ok: false, reason: `the proof is for tree size ${proof.treeSize}, the checkpoint has size ${checkpoint.size}` };
  }
  if (proof.leafIndex >= checkpoint.size) return { ok: false, reason: `leaf index ${proof.leafIndex} is not below the checkpoint size ${checkpoint.size}` };
  if (!verifyInclusion(proof.leafIndex, checkpoint.size, leafHash, proof.hashes, checkpoint.root)) {
    return { ok: false, reason: `the inclusion proof for leaf ${proof.leafIndex} does not lead to the root of ${checkpoint.origin} at size ${checkpoint.size}` };
  }
  return { ok: true, leafHash };
}

/** Inclusion against a verification result; refuses unless the policy verification succeeded. */
export function verifyInclusionAgainst(verified: PolicyVerification, entry: InclusionEntry, proof: InclusionProof): InclusionResult {
  if (!verified.ok || !verified.checkpoint) return { ok: false, reason: `the checkpoint does not satisfy the policy: ${verified.reason}` };
  return verifyInclusionInCheckpoint(verified.checkpoint, entry, proof);
}

export interface EntryVerification extends Omit<PolicyVerification, 'code'> {
  readonly code?: PolicyVerification['code'] | 'inclusion';
  /** The inclusion check, when the checkpoint satisfied the policy. */
  readonly inclusion?: InclusionResult;
}

/**
 * The whole client check: the checkpoint satisfies the policy AND the entry is included in it.
 * ok only if both hold; code 'inclusion' when only the proof fails.
 */
export function verifyEntryInclusion(
  note: string | Uint8Array,
  policy: Policy,
  entry: InclusionEntry,
  proof: InclusionProof,
  opts: VerifyOptions = {},
): EntryVerification {
  const v = verifyCosignedCheckpoint(note, policy, opts);
  if (!v.ok) return v;
  const inclusion = verifyInclusionAgainst(v, entry, proof);
  if (!inclusion.ok) return { ...v, ok: false, code: 'inclusion', reason: `${v.reason}; but ${inclusion.reason}`, inclusion };
  return { ...v, reason: `${v.reason}; entry included at index ${proof.leafIndex}`, inclusion };
}
