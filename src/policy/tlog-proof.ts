// c2sp.org/tlog-proof@v1: an offline-verifiable proof that an entry is in a log, as one text file
// (`.tlog-proof`; also called a transparent or spicy signature). Spec read at
// C2SP/C2SP tlog-proof.md@0065ea5b716154a2dd48508e3f905012a16ce5e9, re-read at ab17a74 (2026-05-22, in
// C2SP main 5ba5ee83), which only adds "Verifying a tlog proof" (the four steps verifyEntryInclusion
// takes) and "Use of timestamps":
//
//   c2sp.org/tlog-proof@v1              first line, exactly
//   extra <base64>                      optional, opaque, NOT authenticated
//   index <decimal>                     no leading zeroes (unless "0")
//   <base64 SHA-256 hash>               zero or more: the RFC 6962 inclusion proof, leaf's sibling first
//                                       one empty line
//   <checkpoint note, verbatim>         c2sp.org/tlog-checkpoint with its signatures and cosignatures
//
// The parser is strict on every line, stricter than public implementations where they are lax:
// `index 007`, `index +7`, unpadded or non-canonical base64, CR line ends, a missing blank line
// or a missing final newline are all refused. The verifier takes the policy (log keys, witness
// keys, k-of-n) and the leaf hash from the caller: nothing in the file is trusted, and the `extra`
// data is returned but never used. Cosignature age is NOT checked (a proof is meant to verify
// offline, long after it was made): maxAge does not apply. The spec, "Use of timestamps": "after a
// cosignature has been verified, the timestamp value is ignored by the above verification procedure.
//
// Pure: no file or network access, no Node-only module (this runs in browsers).
import { HASH_SIZE, MAX_TREE_SIZE } from '../merkle/index.js';
import { parseNote } from '../note/note.js';
import { parseCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { decodeBase64, decodeUtf8, encodeBase64 } from '../util/bytes.js';
import type { Policy } from './parse.js';
import { verifyCosignedCheckpoint, type VerifyOptions } from './verify.js';
import { verifyEntryInclusion, ProofFormatError, type EntryVerification, type InclusionEntry } from './inclusion.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

/** At most 63 hashes are needed for a tree of up to 2^63 - 1 leaves. */
const MAX_TLOG_PROOF_HASHES = 63;
/** Upper bound on a whole proof file (a checkpoint note is at most ~1 MB here). */
export const MAX_TLOG_PROOF_BYTES = 2_000_000;

export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  readonly index: bigint;
  /** The RFC 6962 inclusion proof, leaf's sibling first. */
  readonly hashes: readonly Uint8Array[];
  /** The checkpoint note, verbatim (text and signature lines). */
  readonly checkpoint: string;
  /** Opaque, unauthenticated extra data (absent when the file has no `extra` line). */
  readonly extra?: Uint8Array;
}

export class TlogProofError extends ProofFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'TlogProofError';
  }
}

/** True when the input's first line is the tlog-proof header (to tell it from a JSON proof). */
export function isTlogProof(input: string | Uint8Array): boolean {
  const text = typeof input === 'string' ? input : decodeUtf8(input.subarray(0, TLOG_PROOF_HEADER.length + 1));
  return text !== null && text.startsWith(TLOG_PROOF_HEADER + '\n');
}

/** RFC 4648 base64 with padding, canonical (unused trailing bits zero): re-encoding gives the same text. */
function decodeCanonicalBase64(s: string): Uint8Array | null {
  const b = decodeBase64(s);
  return b !== null && encodeBase64(b) === s ? b : null;
}

const INDEX_RE = /^index (0|[1-9][0-9]{0,18})$/;

/**
 * Parses a tlog-proof. Throws TlogProofError naming the line. The checkpoint must be a signed
 * note whose text is a checkpoint (its signatures are checked by verifyTlogProof, not here).
 */
export function parseTlogProof(input: string | Uint8Array): TlogProof {
  if (typeof input !== 'string' && input.length > MAX_TLOG_PROOF_BYTES) throw new TlogProofError(`proof is larger than ${MAX_TLOG_PROOF_BYTES} bytes`);
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text === null) throw new TlogProofError('proof is not UTF-8');
  if (text.length > MAX_TLOG_PROOF_BYTES) throw new TlogProofError(`proof is larger than ${MAX_TLOG_PROOF_BYTES} bytes`);
  let pos = 0;
  let lineNo = 0;
  /** The next line without its "\n"; null when no newline-terminated line is left. */
  const next = (): string | null => {
    const nl = text.indexOf('\n', pos);
    if (nl === -1) return null;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    lineNo++;
    return line;
  };
  const fail = (msg: string): never => {
    throw new TlogProofError(`line ${lineNo}: ${msg}`);
  };
  let line = next();
  if (line !== TLOG_PROOF_HEADER) {
    lineNo = 1;
    fail(`the first line must be ${JSON.stringify(TLOG_PROOF_HEADER)}`);
  }
  line = next();
  let extra: Uint8Array | undefined;
  if (line !== null && line.startsWith('extra ')) {
    const b = decodeCanonicalBase64(line.slice('extra '.length));
    if (b === null) fail('extra: not canonical padded base64');
    extra = b!;
    line = next();
  }
  if (line === null) fail('missing the "index N" line');
  const m = INDEX_RE.exec(line!);
  if (m === null) fail('must be "index N" with N a decimal number without leading zeroes');
  const index = BigInt(m![1]);
  if (index >= MAX_TREE_SIZE) fail(`index ${index} is beyond the largest tree size (2^63 - 1)`);
  const hashes: Uint8Array[] = [];
  for (;;) {
    line = next();
    if (line === null) fail('missing the empty line before the checkpoint');
    if (line === '') break;
    if (hashes.length === MAX_TLOG_PROOF_HASHES) fail(`more than ${MAX_TLOG_PROOF_HASHES} proof hashes`);
    const h = decodeCanonicalBase64(line!);
    if (h === null || h.length !== HASH_SIZE) fail(`a proof hash must be canonical base64 of ${HASH_SIZE} bytes`);
    hashes.push(h!);
  }
  const checkpoint = text.slice(pos);
  if (checkpoint === '') fail('the checkpoint is missing after the empty line');
  const startLine = lineNo + 1;
  try {
    const note = parseNote(checkpoint);
    parseCheckpoint(note.text);
  } catch (e) {
    throw new TlogProofError(`line ${startLine}: the checkpoint is not a signed checkpoint note: ${(e as Error).message}`);
  }
  return extra === undefined ? { index, hashes, checkpoint } : { index, hashes, checkpoint, extra };
}

/** Writes a tlog-proof (the inverse of parseTlogProof). Checks what it writes. */
export function formatTlogProof(p: TlogProof): string {
  if (typeof p.index !== 'bigint' || p.index < 0n || p.index >= MAX_TREE_SIZE) throw new TlogProofError('index must be a bigint in [0, 2^63 - 1)');
  if (p.hashes.length > MAX_TLOG_PROOF_HASHES) throw new TlogProofError(`more than ${MAX_TLOG_PROOF_HASHES} proof hashes`);
  for (const h of p.hashes) if (h.length !== HASH_SIZE) throw new TlogProofError(`a proof hash must be ${HASH_SIZE} bytes`);
  const out =
    `${TLOG_PROOF_HEADER}\n` +
    (p.extra !== undefined ? `extra ${encodeBase64(p.extra)}\n` : '') +
    `index ${p.index}\n` +
    p.hashes.map((h) => encodeBase64(h) + '\n').join('') +
    '\n' +
    p.checkpoint;
  parseTlogProof(out);
  return out;
}

/** Options for verifyTlogProof: those of verifyCosignedCheckpoint without freshness (see above). */
export type TlogProofVerifyOptions = Omit<VerifyOptions, 'maxAge' | 'clockSkew' | 'now'>;

export interface TlogProofVerification extends EntryVerification {
  /** The parsed proof (absent when it did not parse: code 'malformed'). */
  readonly proof?: TlogProof;
}

/**
 * Verifies a tlog-proof for the entry the caller names (its data, or its RFC 6962 leaf hash):
 * the checkpoint satisfies the policy (log signature, origin, k-of-n cosignatures) AND the proof
 * includes that leaf at the proof's index. Never throws on bad input: a proof that does not
 * parse gives code 'malformed'. Cosignature age is not checked.
 */
export function verifyTlogProof(
  input: string | Uint8Array | TlogProof,
  policy: Policy,
  entry: InclusionEntry,
  opts: TlogProofVerifyOptions = {},
): TlogProofVerification {
  let proof: TlogProof;
  try {
    proof = typeof input === 'string' || input instanceof Uint8Array ? parseTlogProof(input) : input;
  } catch (e) {
    const reason = `not a ${TLOG_PROOF_HEADER} proof: ${(e as Error).message}`;
    // The same result shape as any malformed input (every witness absent), with the proof's reason.
    return { ...verifyCosignedCheckpoint('', policy), ok: false, code: 'malformed', reason };
  }
  const { maxAge: _a, clockSkew: _c, now: _n, ...rest } = opts as VerifyOptions;
  const v = verifyEntryInclusion(proof.checkpoint, policy, entry, { leafIndex: proof.index, hashes: proof.hashes }, rest);
  return { ...v, proof };
}

/** The checkpoint of a parsed proof (parsed from its note text; not verified). */
export function tlogProofCheckpoint(p: TlogProof): Checkpoint {
  return parseCheckpoint(parseNote(p.checkpoint).text);
}
