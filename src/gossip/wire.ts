// Gossip wire formats (docs/gossip.md is the normative description) and the pure validation that
// maps a received message to a gossipsub verdict. No libp2p here: bytes in, verdict out.
//
// Topic CHECKPOINT_TOPIC carries a cosigned checkpoint: one c2sp.org/signed-note whose text is a
// c2sp.org/tlog-checkpoint, with at least one signature line by the log and any number of
// cosignature/v1 lines by witnesses, at most MAX_CHECKPOINT_MESSAGE bytes.
// Topic EVIDENCE_TOPIC carries proven split-view evidence in its canonical encoding
// (src/witness/evidence.ts), at most MAX_EVIDENCE_BYTES bytes.
//
// Verdicts are chosen so that honest nodes with different log or witness lists never punish each
// other: anything this node cannot judge is IGNORED (not forwarded, no penalty); only what is
// wrong by every reading is REJECTED (not forwarded, the sender is penalised).
import { sha256 } from '../crypto/index.js';
import { parseNote, keyLabel, MAX_SIGNATURE_LINES, type OpenedNote, type SignatureLine, type VerifierSet, formatSignatureLine } from '../note/note.js';
import { NoteError } from '../note/errors.js';
import { parseCheckpoint, CheckpointError, type Checkpoint } from '../checkpoint/checkpoint.js';
import { extensionsAuthenticated } from '../checkpoint/signed.js';
import { decodeEvidence, EvidenceError, forkKeyOf, MAX_EVIDENCE_BYTES, verifyEvidence, type Evidence } from '../witness/evidence.js';
import { toHex, utf8 } from '../util/bytes.js';
import { BoundedSet } from '../util/bounded-set.js';
import type { Verifier } from '../note/keys.js';
import { MESSAGES } from '../errors.js';

export const WIRE_VERSION = 1;
export const CHECKPOINT_TOPIC = '/gossip-witness/cosigned-checkpoint/1';
export const EVIDENCE_TOPIC = '/gossip-witness/evidence/1';
export const TOPICS = [CHECKPOINT_TOPIC, EVIDENCE_TOPIC] as const;
/** Version 2 (docs/gossip.md, "Version 2"): evidence is the only gossipsub topic; checkpoints and cosignatures go over the exchange protocol. */
export const EVIDENCE_TOPIC_V2 = '/gossip-witness/evidence/2';
/** The sync protocol's messages are unchanged in version 2; the ID changes so that versions never mix. */
export const SYNC_PROTOCOL_V2 = '/gossip-witness/sync/2.0.0';
/** The same cap as an add-checkpoint body (transparency-dev/witness caps it at 16 KiB). */
export const MAX_CHECKPOINT_MESSAGE = 16 * 1024;
export { MAX_EVIDENCE_BYTES };
/** gossipsub's inbound data limit: the larger of the two, so oversized messages reach the validator and are rejected there. */
export const MAX_MESSAGE_BYTES = Math.max(MAX_CHECKPOINT_MESSAGE, MAX_EVIDENCE_BYTES) + 1024;

export type Verdict = 'accept' | 'ignore' | 'reject';

/** What a node trusts: log keys by origin, and the cosignature/v1 keys of the witnesses it tracks (its own included). */
export interface Trust {
  logKeys(origin: string): VerifierSet | undefined;
  readonly witnessKeys: VerifierSet;
}

/** A small number per Verifier object, for cache keys (two objects for one key only cost a cache miss). */
const verifierIds = new WeakMap<Verifier, number>();
let nextVerifierId = 0;
function verifierId(v: Verifier): number {
  let id = verifierIds.get(v);
  if (id === undefined) verifierIds.set(v, (id = nextVerifierId++));
  return id;
}

/**
 * Remembers signature lines already verified over a given text (merged messages repeat them),
 * per verifying key: a line checked under one key is never taken as checked under another key
 * with the same label (a log key and a tracked witness key may share name and key ID).
 */
export class VerifiedLines {
  private readonly set: BoundedSet<string>;
  constructor(max = 16_384) {
    this.set = new BoundedSet(max);
  }
  private key(v: Verifier, textHash: string, line: SignatureLine): string {
    return `${verifierId(v)} ${textHash} ${line.name} ${line.base64}`;
  }
  has(v: Verifier, textHash: string, line: SignatureLine): boolean {
    return this.set.has(this.key(v, textHash, line));
  }
  /** Whether the line verifies under v over text, checking it at most once per (key, text, line) while remembered. */
  verifyOnce(v: Verifier, textHash: string, textBytes: Uint8Array, line: SignatureLine): boolean {
    const k = this.key(v, textHash, line);
    if (this.set.has(k)) return true;
    if (!v.verify(textBytes, line.sig)) return false;
    this.set.add(k);
    return true;
  }
  /**
   * Every line of a note this node's own witness core just stored (its log lines verified there,
   * the rest signed there), under the key `keyOf` names for it: reading it back, or the same lines
   * from peers, verifies nothing again.
   */
  addStoredByCore(note: Uint8Array, keyOf: (line: SignatureLine) => Verifier | undefined): void {
    let parsed;
    try {
      parsed = parseNote(note);
    } catch {
      return; // not a note: nothing to remember, everything read later is verified
    }
    const textHash = textHashOf(parsed.textBytes);
    for (const line of parsed.signatures) {
      let v;
      try {
        v = keyOf(line);
      } catch {
        continue; // an ambiguous key: verified when read
      }
      if (v) this.add(v, textHash, line);
    }
  }
  add(v: Verifier, textHash: string, line: SignatureLine): void {
    this.set.add(this.key(v, textHash, line));
  }
}

/** A cosigned checkpoint message that passed validation. */
export interface CheckpointMessage {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  /** Lowercase hex SHA-256 of the checkpoint text: the key cosignatures merge on. */
  readonly textHash: string;
  /** The note opened with the log's keys: verified = the log signature lines that verified. */
  readonly logNote: OpenedNote;
  /** Verified cosignature lines of known witnesses, one per key (the first valid line). */
  readonly cosignatures: readonly SignatureLine[];
  /** Lines by keys this node does not know (neither a log key nor a tracked witness). */
  readonly unknownLines: number;
}

export type CheckpointVerdict =
  | { ok: true; message: CheckpointMessage }
  | { ok: false; verdict: 'ignore' | 'reject'; reason: string };

export function textHashOf(textBytes: Uint8Array): string {
  return toHex(sha256(textBytes));
}

/**
 * Parses and verifies a cosigned-checkpoint message:
 *   reject: oversized; not a signed note; a known log's checkpoint text that does not parse; a
 *           signature line by a key this node knows (log or witness) that fails to verify.
 *   ignore: an unknown origin; no signature by a log key this node trusts; an ambiguous key.
 * A message with lines by unknown keys passes (ok) with unknownLines > 0: the caller uses what it
 * can verify and must not forward it (its verdict is ignore), so that a peer who knows those keys
 * never sees a line this node passed on unchecked.
 */
export function parseCheckpointMessage(data: Uint8Array, trust: Trust, cache?: VerifiedLines): CheckpointVerdict {
  if (data.length > MAX_CHECKPOINT_MESSAGE) return { ok: false, verdict: 'reject', reason: `message larger than ${MAX_CHECKPOINT_MESSAGE} bytes` };
  let parsed;
  try {
    parsed = parseNote(data);
  } catch (e) {
    if (e instanceof NoteError) return { ok: false, verdict: 'reject', reason: 'not a signed note' };
    throw e;
  }
  const nl = parsed.text.indexOf('\n');
  const origin = parsed.text.slice(0, nl);
  const logKeys = trust.logKeys(origin);
  if (!logKeys) return { ok: false, verdict: 'ignore', reason: MESSAGES.unknownLog() };
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parsed.text);
  } catch (e) {
    if (e instanceof CheckpointError) return { ok: false, verdict: 'reject', reason: MESSAGES.malformedCheckpoint(e.message) };
    throw e;
  }
  const textHash = textHashOf(parsed.textBytes);
  const logLines: SignatureLine[] = [];
  const cosignatures: SignatureLine[] = [];
  const seenLog = new Set<string>();
  const seenWitness = new Set<string>();
  const unknown = new Set<string>();
  for (const line of parsed.signatures) {
    let role: 'log' | 'witness' | undefined;
    let v;
    try {
      v = logKeys.lookup(line.name, line.keyId);
      if (v) role = 'log';
      else {
        v = trust.witnessKeys.lookup(line.name, line.keyId);
        if (v) role = 'witness';
      }
    } catch {
      return { ok: false, verdict: 'ignore', reason: `ambiguous key ${keyLabel(line.name, line.keyId)}` };
    }
    if (!v || !role) {
      unknown.add(`${line.name} ${line.base64}`);
      continue;
    }
    // Every line of a known key is verified, repeated ones included (tlog-witness: a witness MUST
    // refuse a note with any failing line of a trusted key).
    const ok = cache ? cache.verifyOnce(v, textHash, parsed.textBytes, line) : v.verify(parsed.textBytes, line.sig);
    if (!ok) return { ok: false, verdict: 'reject', reason: MESSAGES.invalidSignature(keyLabel(line.name, line.keyId)) };
    const label = keyLabel(line.name, line.keyId);
    if (role === 'log') {
      if (!seenLog.has(label)) logLines.push(line);
      seenLog.add(label);
    } else {
      if (!seenWitness.has(label)) cosignatures.push(line);
      seenWitness.add(label);
    }
  }
  if (logLines.length === 0) return { ok: false, verdict: 'ignore', reason: 'no signature by a log key this node trusts' };
  // Extension lines no log signature covers (an ML-DSA-44 log's) would let anyone mint endless
  // "log-signed" variants of one checkpoint, each taken in and forwarded: not the log's text.
  if (!extensionsAuthenticated(checkpoint, logLines, logKeys)) return { ok: false, verdict: 'ignore', reason: 'extension lines that no log signature covers' };
  const logNote: OpenedNote = { text: parsed.text, textBytes: parsed.textBytes, signatures: parsed.signatures, verified: logLines, unverified: [] };
  return { ok: true, message: { origin, checkpoint, textHash, logNote, cosignatures, unknownLines: unknown.size } };
}

/** The log-signed note: the text, a blank line and the verified log signature lines. */
export function logSignedNote(m: { logNote: OpenedNote }): string {
  return m.logNote.text + '\n' + m.logNote.verified.map(lineText).join('');
}

export function lineText(s: SignatureLine): string {
  return formatSignatureLine(s.name, s.keyId, s.sig);
}

/**
 * Formats a cosigned-checkpoint message: log lines first, then cosignatures sorted by key label
 * (deterministic bytes). Capped so that no honest node ever sends what a peer must reject: at most
 * MAX_SIGNATURE_LINES lines (the note limit) and MAX_CHECKPOINT_MESSAGE bytes. When cosignatures
 * must be left out, those whose labels are in `prefer` (this node's own) are kept first, then the
 * rest in label order; what is left out still reaches peers through the nodes that made them.
 */
export function formatCheckpointMessage(logNote: OpenedNote, cosignatures: Iterable<SignatureLine>, prefer?: ReadonlySet<string>): Uint8Array {
  return packCheckpointMessage(logNote, [...cosignatures], prefer).bytes;
}

/**
 * Every cosignature on a text, as checkpoint messages each within what a peer accepts: the first
 * is formatCheckpointMessage's, each next one carries lines the ones before left out (e.g.
 * ML-DSA-44 lines, ≈ 3.3 KB each, of which a 16 KiB message holds four). Each is a log-signed
 * note with some of the cosignatures, so a peer verifies and merges each like gossip.
 */
export function formatCheckpointPages(logNote: OpenedNote, cosignatures: Iterable<SignatureLine>, prefer?: ReadonlySet<string>): Uint8Array[] {
  const pages: Uint8Array[] = [];
  let left = [...cosignatures];
  for (;;) {
    const { bytes, kept } = packCheckpointMessage(logNote, left, prefer);
    pages.push(bytes);
    const sent = new Set(kept);
    left = left.filter((c) => !sent.has(c));
    // kept is empty only for a line that fits no message at all (none does: lines are ≤ 4 KiB).
    if (left.length === 0 || kept.length === 0) return pages;
  }
}

function packCheckpointMessage(logNote: OpenedNote, all: readonly SignatureLine[], prefer?: ReadonlySet<string>): { bytes: Uint8Array; kept: SignatureLine[] } {
  const byLabel = (a: SignatureLine, b: SignatureLine) => (keyLabel(a.name, a.keyId) < keyLabel(b.name, b.keyId) ? -1 : keyLabel(a.name, a.keyId) > keyLabel(b.name, b.keyId) ? 1 : 0);
  const head = logNote.text + '\n' + logNote.verified.map(lineText).join('');
  let room = MAX_SIGNATURE_LINES - logNote.verified.length;
  let bytes = utf8(head).length;
  const ordered = [...all.filter((c) => prefer?.has(keyLabel(c.name, c.keyId))).sort(byLabel), ...all.filter((c) => !prefer?.has(keyLabel(c.name, c.keyId))).sort(byLabel)];
  const kept: SignatureLine[] = [];
  for (const c of ordered) {
    const len = utf8(lineText(c)).length;
    if (room <= 0 || bytes + len > MAX_CHECKPOINT_MESSAGE) continue;
    kept.push(c);
    room--;
    bytes += len;
  }
  kept.sort(byLabel);
  return { bytes: utf8(head + kept.map(lineText).join('')), kept };
}

export type EvidenceVerdictResult =
  | { ok: true; evidence: Evidence; origin: string; bytes: Uint8Array; /** forkKeyOf: the split view it proves, whatever the encoding. */ fork: string }
  | { ok: false; verdict: 'ignore' | 'reject'; reason: string };

/**
 * Validates an evidence message: reject if oversized, not canonical, signed by a known log key
 * that fails, or not proof of a split view (forged); ignore if the origin is unknown here or no
 * signature is by a log key this node trusts (a key it has not learned yet).
 */
export function parseEvidenceMessage(data: Uint8Array, trust: Pick<Trust, 'logKeys'>): EvidenceVerdictResult {
  if (data.length > MAX_EVIDENCE_BYTES) return { ok: false, verdict: 'reject', reason: `evidence larger than ${MAX_EVIDENCE_BYTES} bytes` };
  let evidence: Evidence;
  try {
    evidence = decodeEvidence(data);
  } catch (e) {
    if (e instanceof EvidenceError) return { ok: false, verdict: 'reject', reason: e.message };
    throw e;
  }
  const keys = trust.logKeys(evidence.origin);
  if (!keys) return { ok: false, verdict: 'ignore', reason: MESSAGES.unknownLog() };
  // Tell "no key of ours signed this" (ignore) apart from "a key of ours signed it badly" (reject).
  for (const note of [evidence.a, evidence.b]) {
    let parsed;
    try {
      parsed = parseNote(note);
    } catch {
      return { ok: false, verdict: 'reject', reason: 'evidence checkpoint is not a signed note' };
    }
    let known = false;
    for (const line of parsed.signatures) {
      try {
        if (keys.lookup(line.name, line.keyId)) known = true;
      } catch {
        return { ok: false, verdict: 'ignore', reason: 'ambiguous log key' };
      }
    }
    if (!known) return { ok: false, verdict: 'ignore', reason: 'evidence signed by no log key this node trusts' };
  }
  const v = verifyEvidence(evidence, (o) => (o === evidence.origin ? keys : undefined));
  if (!v.ok) return { ok: false, verdict: v.code === 'unknown-origin' ? 'ignore' : 'reject', reason: v.reason };
  return { ok: true, evidence, origin: evidence.origin, bytes: data, fork: forkKeyOf(evidence.origin, v.a, v.b) };
}

/** gossipsub message ID: SHA-256 of the data (messages are unsigned and self-authenticating). */
export function messageId(data: Uint8Array): Uint8Array {
  return sha256(data).subarray(0, 20);
}
