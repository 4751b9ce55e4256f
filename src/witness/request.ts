// The tlog-witness add-checkpoint request body (c2sp.org/tlog-witness):
//   "old " <decimal> "\n"  *(b64(32-byte hash) "\n")  "\n"  <signed checkpoint note>
import { decodeBase64 } from '../util/bytes.js';
import { parseTreeSize } from '../checkpoint/checkpoint.js';
import { GossipWitnessError } from '../errors.js';

/** Clients MUST NOT send more than 63 proof lines; a witness may reject more with 400. */
export const MAX_PROOF_LINES = 63;

export interface AddCheckpointRequest {
  readonly oldSize: bigint;
  readonly proof: Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  readonly note: Uint8Array;
}

/** A request body that does not parse: code 'malformed' (src/errors.ts). */
export class RequestError extends GossipWitnessError {
  declare readonly code: 'malformed';
  constructor(message: string) {
    super({ code: 'malformed', message });
    this.name = 'RequestError';
  }
}

/**
 * The header lines of an add-checkpoint or sign-subtree body and the note after the blank line.
 * Proof and hash lines are never empty, so the first "\n\n" ends the header unambiguously.
 */
export function splitRequestBody(body: Uint8Array): { lines: string[]; note: Uint8Array } {
  let split = -1;
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i] === 0x0a && body[i + 1] === 0x0a) {
      split = i;
      break;
    }
  }
  if (split < 0) throw new RequestError('missing blank line after the proof');
  const header = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body.subarray(0, split));
  return { lines: header.split('\n'), note: body.subarray(split + 2) };
}

export function parseAddCheckpointBody(body: Uint8Array): AddCheckpointRequest {
  const { lines, note } = splitRequestBody(body);
  const first = lines[0];
  if (!first.startsWith('old ')) throw new RequestError('first line must be "old <size>"');
  const oldSize = parseTreeSize(first.slice(4));
  if (oldSize === null) throw new RequestError('bad old size');
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) throw new RequestError(`more than ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((l, i) => {
    const h = decodeBase64(l);
    if (h === null || h.length !== 32) throw new RequestError(`proof line ${i + 1} is not base64 of 32 bytes`);
    return h;
  });
  return { oldSize, proof, note };
}

export function formatAddCheckpointBody(oldSize: bigint, proof: Uint8Array[], note: string): string {
  return `old ${oldSize}\n${proof.map((h) => Buffer.from(h).toString('base64') + '\n').join('')}\n${note}`;
}
