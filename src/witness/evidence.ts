// Proven split-view evidence: a portable, self-verifying proof that a log signed two
// inconsistent trees. One format, used by the witness, the gossip layer, the client and the CLI.
//
// Canonical encoding (UTF-8 JSON, no whitespace, keys in exactly this order):
//   {"type":"gossip-witness/evidence/v1","origin":O,"a":NOTE_A,"b":NOTE_B[,"h":B64,"proof":[B64...]]}
// NOTE_A / NOTE_B are log-signed checkpoint notes (A of size m, B of size n, m <= n).
// When m == n the notes are ordered by their UTF-8 bytes and "h"/"proof" are absent; when m < n,
// "h" claims to be the root of the first m leaves of B's tree and "proof" proves (m, h) -> (n, r2).
//
// Why this is sound: a verifier checks both notes against log keys IT trusts (never keys carried
// here), takes m, n, r1, r2 from the signed texts, and for m < n checks the RFC 9162 consistency
// proof from (m, h) to (n, r2). Every hash that folds into h also folds into r2, so (under
// SHA-256 collision resistance) h is the root of B's first m leaves. h != r1 then means the log
// signed a tree of size m (A) that is not a prefix of a tree it also signed (B): a split view.
// When m is a power of two the proof omits the old root; h is the hash placed in front of it.
// Size 0 is never evidence (every tree extends the empty tree).
import { sha256 } from '../crypto/index.js';
import { openNote, VerifierSet, type OpenedNote } from '../note/note.js';
import { NoteError } from '../note/errors.js';
import type { Verifier } from '../note/keys.js';
import { parseCheckpoint, type Checkpoint, sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import { verifyConsistency } from '../merkle/proof.js';
import { decodeBase64, encodeBase64, equalBytes, toHex, utf8, decodeUtf8 } from '../util/bytes.js';
import { formatSignatureLine } from '../note/note.js';
import { GossipWitnessError } from '../errors.js';

export const EVIDENCE_TYPE = 'gossip-witness/evidence/v1';
/** Upper bound on an encoded evidence object (two notes of up to 100 signatures, a 63-hash proof). */
export const MAX_EVIDENCE_BYTES = 64 * 1024;
/** Evidence a client already holds: two checkpoint notes of the largest text a checkpoint may have, with room for their signatures and a proof. */
export const MAX_HELD_EVIDENCE_BYTES = 8 * 1024 * 1024;

export interface Evidence {
  readonly origin: string;
  readonly a: string;
  readonly b: string;
  readonly h?: Uint8Array;
  readonly proof?: Uint8Array[];
}

/** Evidence that does not parse: code 'malformed' (src/errors.ts). */
export class EvidenceError extends GossipWitnessError {
  declare readonly code: 'malformed';
  constructor(message: string) {
    super({ code: 'malformed', message });
    this.name = 'EvidenceError';
  }
}

export function encodeEvidence(e: Evidence): Uint8Array {
  const parts = [
    `"type":${JSON.stringify(EVIDENCE_TYPE)}`,
    `"origin":${JSON.stringify(e.origin)}`,
    `"a":${JSON.stringify(e.a)}`,
    `"b":${JSON.stringify(e.b)}`,
  ];
  if (e.h !== undefined || e.proof !== undefined) {
    parts.push(`"h":${JSON.stringify(encodeBase64(e.h ?? new Uint8Array()))}`);
    parts.push(`"proof":[${(e.proof ?? []).map((p) => JSON.stringify(encodeBase64(p))).join(',')}]`);
  }
  return utf8(`{${parts.join(',')}}`);
}

/**
 * Decodes evidence, refusing anything but the canonical encoding. Throws EvidenceError. maxBytes:
 * MAX_EVIDENCE_BYTES for what peers send; a client checking evidence it holds may allow more
 * (MAX_HELD_EVIDENCE_BYTES), since a log can sign checkpoints larger than witnesses gossip.
 */
export function decodeEvidence(bytes: Uint8Array, maxBytes = MAX_EVIDENCE_BYTES): Evidence {
  if (bytes.length > maxBytes) throw new EvidenceError(`evidence too large (${bytes.length} bytes; at most ${maxBytes})`);
  const text = decodeUtf8(bytes);
  if (text === null) throw new EvidenceError('evidence is not UTF-8');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new EvidenceError('evidence is not JSON');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new EvidenceError('evidence must be a JSON object');
  const o = obj as Record<string, unknown>;
  if (o.type !== EVIDENCE_TYPE) throw new EvidenceError(`unknown evidence type ${JSON.stringify(o.type)}`);
  if (typeof o.origin !== 'string' || typeof o.a !== 'string' || typeof o.b !== 'string') throw new EvidenceError('origin, a and b must be strings');
  let e: Evidence = { origin: o.origin, a: o.a, b: o.b };
  if ('h' in o || 'proof' in o) {
    if (typeof o.h !== 'string' || !Array.isArray(o.proof) || o.proof.length > 64) throw new EvidenceError('h must be a string and proof an array');
    const h = decodeBase64(o.h);
    const proof = o.proof.map((p) => (typeof p === 'string' ? decodeBase64(p) : null));
    if (h === null || h.length !== 32 || proof.some((p) => p === null || p.length !== 32)) throw new EvidenceError('h and proof must be base64 of 32-byte hashes');
    e = { ...e, h, proof: proof as Uint8Array[] };
  }
  if (!equalBytes(encodeEvidence(e), bytes)) throw new EvidenceError('evidence is not in canonical form');
  return e;
}

/** A stable identifier: lowercase hex SHA-256 of the canonical encoding. */
export function evidenceId(e: Evidence | Uint8Array): string {
  return toHex(sha256(e instanceof Uint8Array ? e : encodeEvidence(e)));
}

function noteWithOnly(opened: OpenedNote): string {
  return opened.text + '\n' + opened.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Builds canonical evidence from two log-signed notes (verified by the caller with the log's keys;
 * only the verified log signature lines are kept). For m < n, h and proof must be supplied.
 */
export function makeEvidence(
  x: { note: OpenedNote; checkpoint: Checkpoint },
  y: { note: OpenedNote; checkpoint: Checkpoint },
  consistency?: { h: Uint8Array; proof: Uint8Array[] },
): Evidence {
  const [a, b] = x.checkpoint.size <= y.checkpoint.size ? [x, y] : [y, x];
  const na = noteWithOnly(a.note);
  const nb = noteWithOnly(b.note);
  if (a.checkpoint.size === b.checkpoint.size) {
    const [first, second] = compareBytes(utf8(na), utf8(nb)) <= 0 ? [na, nb] : [nb, na];
    return { origin: a.checkpoint.origin, a: first, b: second };
  }
  if (!consistency) throw new EvidenceError('evidence for different sizes needs h and a consistency proof');
  return { origin: a.checkpoint.origin, a: na, b: nb, h: consistency.h, proof: consistency.proof };
}

export type EvidenceVerdict =
  | { ok: true; origin: string; a: Checkpoint; b: Checkpoint }
  | { ok: false; code: 'malformed' | 'unknown-origin' | 'bad-signature' | 'not-evidence'; reason: string };

/**
 * What evidence proves, whatever its encoding: the log and its two (size, root) pairs, in a fixed
 * order. Two encodings of one split view (lines by unknown keys added, a and b swapped) share it.
 */
export function forkKeyOf(origin: string, a: Pick<Checkpoint, 'size' | 'root'>, b: Pick<Checkpoint, 'size' | 'root'>): string {
  const [x, y] = [`${a.size} ${encodeBase64(a.root)}`, `${b.size} ${encodeBase64(b.root)}`].sort();
  return `${origin}\n${x}\n${y}`;
}

/**
 * Verifies evidence against the log keys the VERIFIER trusts for the origin.
 * trustedKeys returns undefined for an origin the verifier does not follow.
 */
export function verifyEvidence(
  input: Evidence | Uint8Array,
  trustedKeys: (origin: string) => Verifier[] | VerifierSet | undefined,
): EvidenceVerdict {
  let e: Evidence;
  try {
    e = input instanceof Uint8Array ? decodeEvidence(input) : input;
  } catch (err) {
    return { ok: false, code: 'malformed', reason: (err as Error).message };
  }
  const keys = trustedKeys(e.origin);
  if (!keys) return { ok: false, code: 'unknown-origin', reason: `no trusted keys for origin ${JSON.stringify(e.origin)}` };
  const open = (note: string, which: string): Checkpoint => {
    let opened: OpenedNote;
    try {
      opened = openNote(note, keys);
    } catch (err) {
      if (err instanceof NoteError && err.code === 'malformed') throw new EvidenceError(`checkpoint ${which}: ${err.message}`);
      throw Object.assign(new EvidenceError(`checkpoint ${which}: ${(err as Error).message}`), { signature: true });
    }
    const c = parseCheckpoint(opened.text);
    if (c.origin !== e.origin) throw new EvidenceError(`checkpoint ${which} has origin ${JSON.stringify(c.origin)}, not ${JSON.stringify(e.origin)}`);
    return c;
  };
  let a: Checkpoint, b: Checkpoint;
  try {
    a = open(e.a, 'a');
    b = open(e.b, 'b');
  } catch (err) {
    const code = (err as { signature?: boolean }).signature ? 'bad-signature' : 'malformed';
    return { ok: false, code, reason: (err as Error).message };
  }
  const m = a.size;
  const n = b.size;
  if (m === 0n || n === 0n) return { ok: false, code: 'not-evidence', reason: 'size 0 is never evidence' };
  if (m > n) return { ok: false, code: 'malformed', reason: 'checkpoint a must not be larger than b' };
  if (m === n) {
    if (e.h !== undefined || e.proof !== undefined) return { ok: false, code: 'malformed', reason: 'same-size evidence carries no proof' };
    if (!sameSizeOtherRoot(a, b)) return { ok: false, code: 'not-evidence', reason: 'same size and same root: consistent' };
    return { ok: true, origin: e.origin, a, b };
  }
  if (!e.h || !e.proof) return { ok: false, code: 'not-evidence', reason: 'evidence for different sizes needs h and a proof' };
  if (!verifyConsistency(m, n, e.h, b.root, e.proof)) {
    return { ok: false, code: 'not-evidence', reason: `consistency proof from (${m}, h) to (${n}, root of b) does not verify` };
  }
  if (equalBytes(e.h, a.root)) return { ok: false, code: 'not-evidence', reason: 'h equals the root of a: the checkpoints are consistent' };
  return { ok: true, origin: e.origin, a, b };
}

