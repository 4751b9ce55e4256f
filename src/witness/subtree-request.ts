// The tlog-witness sign-subtree request body (c2sp.org/tlog-witness at C2SP 5ba5ee83, "sign-subtree"):
//   "subtree " <start> " " <end> "\n"  b64(subtree hash) "\n"  *(b64(32-byte hash) "\n")  "\n"
//   <reference checkpoint (signed note)>
// Everything the spec calls an invalid request (400) is refused here with RequestError: syntax,
// more than 63 proof lines, [start, end) not a subtree (draft-ietf-plants-merkle-tree-certs-03
// §4.1), end greater than the checkpoint size, a checkpoint that does not parse. Only parsing:
// the proof (422), the origin (404) and the witness's own cosignature (403) are the caller's.
import { decodeBase64 } from '../util/bytes.js';
import { parseCheckpoint, parseTreeSize, type Checkpoint } from '../checkpoint/checkpoint.js';
import { isValidSubtree } from '../merkle/subtree.js';
import { parseNote } from '../note/note.js';
import { MAX_PROOF_LINES, RequestError, splitRequestBody } from './request.js';

export interface SignSubtreeRequest {
  readonly start: bigint;
  readonly end: bigint;
  /** The subtree hash the client asks to have signed. */
  readonly hash: Uint8Array;
  readonly proof: Uint8Array[];
  /** The reference checkpoint note, verbatim (signatures included). */
  readonly note: Uint8Array;
  readonly checkpoint: Checkpoint;
}

function hashLine(line: string, what: string): Uint8Array {
  const h = decodeBase64(line);
  if (h === null || h.length !== 32) throw new RequestError(`${what} is not base64 of 32 bytes`);
  return h;
}

export function parseSignSubtreeBody(body: Uint8Array): SignSubtreeRequest {
  const { lines, note } = splitRequestBody(body);
  const m = /^subtree (\S+) (\S+)$/.exec(lines[0]);
  if (!m) throw new RequestError('first line must be "subtree <start> <end>"');
  const start = parseTreeSize(m[1]);
  const end = parseTreeSize(m[2]);
  if (start === null || end === null) throw new RequestError('bad subtree start or end');
  if (lines.length < 2) throw new RequestError('missing subtree hash line');
  const hash = hashLine(lines[1], 'the subtree hash line');
  const proofLines = lines.slice(2);
  if (proofLines.length > MAX_PROOF_LINES) throw new RequestError(`more than ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((l, i) => hashLine(l, `proof line ${i + 1}`));
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (e) {
    throw new RequestError(`bad reference checkpoint: ${(e as Error).message}`);
  }
  if (!isValidSubtree(start, end)) throw new RequestError(`[${start}, ${end}) is not a subtree`);
  if (end > checkpoint.size) throw new RequestError(`subtree end ${end} is beyond the checkpoint size ${checkpoint.size}`);
  return { start, end, hash, proof, note, checkpoint };
}

export function formatSignSubtreeBody(start: bigint, end: bigint, hash: Uint8Array, proof: Uint8Array[], note: string): string {
  const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');
  return `subtree ${start} ${end}\n${b64(hash)}\n${proof.map((h) => b64(h) + '\n').join('')}\n${note}`;
}
