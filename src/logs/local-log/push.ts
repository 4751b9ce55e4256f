// Pushing a log's checkpoints to witnesses: the c2sp.org/tlog-witness add-checkpoint client loop
// (protocols.md §4.4), as a log does it.
//   1. old = the size this witness last cosigned for us (0 at first);
//   2. POST <witness>/add-checkpoint with "old N", the consistency proof old -> new, the checkpoint;
//   3. on 409 with a text/x.tlog.size body, take that size as old and send again (at most 3
//      retries); a witness ahead of the checkpoint ends the attempt;
//   4. on 200, keep the returned cosignature lines that are on this exact text (verified when the
//      witness's vkey is known) and add them to the checkpoint the log serves.
import { formatAddCheckpointBody } from '../../witness/request.js';
import { parseTreeSize } from '../../checkpoint/checkpoint.js';
import { openNote, parseNote, keyLabel } from '../../note/note.js';
import type { Verifier } from '../../note/keys.js';

/** transparency-dev feeders retry a 409 up to 3 times. */
export const MAX_409_RETRIES = 3;
export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';
const DEFAULT_TIMEOUT_MS = 10_000;
/** Cap on a witness's response body (cosignature lines; ML-DSA ones are about 3.3 KB each). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** What is pushed: one signed checkpoint of one branch, and proofs to it. */
export interface PushTarget {
  readonly size: bigint;
  /** Checkpoint text (no signatures). */
  readonly text: string;
  /** The note as signed by the log (no cosignatures). */
  readonly note: string;
  /** Consistency proof from `old` (0 < old <= size) to `size`. */
  proof(old: bigint): Uint8Array[];
}

export interface PushOptions {
  /** The witness's submission prefix; add-checkpoint is POSTed to <url>/add-checkpoint. */
  url: string;
  /** The size the witness last cosigned for this log (0 when unknown). */
  oldSize: bigint;
  target: PushTarget;
  /** The witness's cosignature verifier(s), one per key; without any, well-formed lines are kept unverified. */
  verifier?: Verifier | readonly Verifier[];
  /** (name, key ID) labels never accepted from a witness (the log's own key). */
  reservedKeys?: ReadonlySet<string>;
  maxRetries?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export type PushOutcome =
  | {
      kind: 'cosigned';
      /** Kept cosignature lines, each ending in "\n" ('' if none survived the checks). */
      lines: string;
      /** Lines dropped (unverifiable, malformed, or claiming a reserved key). */
      dropped: number;
      /** The old size of the request that succeeded. */
      oldSize: bigint;
      /** 409 answers followed. */
      retries: number;
    }
  | { kind: 'ahead'; witnessSize: bigint; retries: number }
  | { kind: 'failed'; reason: string; status?: number; witnessSize?: bigint; retries: number };

/** The add-checkpoint URL for a witness submission prefix. */
export function addCheckpointUrl(prefix: string): string {
  return `${prefix.replace(/\/+$/, '')}/add-checkpoint`;
}

async function readBody(res: Response): Promise<string> {
  const buf = new Uint8Array(await res.arrayBuffer());
  return new TextDecoder().decode(buf.length > MAX_RESPONSE_BYTES ? buf.subarray(0, MAX_RESPONSE_BYTES) : buf);
}

/** One add-checkpoint session, following 409 answers. Never throws (network errors are "failed"). */
export async function pushCheckpoint(opts: PushOptions): Promise<PushOutcome> {
  const doFetch = opts.fetch ?? fetch;
  const maxRetries = opts.maxRetries ?? MAX_409_RETRIES;
  const { target } = opts;
  let old = opts.oldSize;
  let witnessSize: bigint | undefined;
  for (let retries = 0; ; retries++) {
    if (old > target.size) return { kind: 'ahead', witnessSize: old, retries };
    let body: string;
    try {
      body = formatAddCheckpointBody(old, old === 0n ? [] : target.proof(old), target.note);
    } catch (e) {
      return { kind: 'failed', reason: `cannot build the proof from ${old}: ${(e as Error).message}`, retries, ...(witnessSize !== undefined ? { witnessSize } : {}) };
    }
    let res: Response;
    let text: string;
    try {
      const signals = [AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS), ...(opts.signal ? [opts.signal] : [])];
      res = await doFetch(addCheckpointUrl(opts.url), {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.any(signals),
      });
      text = await readBody(res);
    } catch (e) {
      const err = e as Error;
      return { kind: 'failed', reason: `request failed: ${err.name === 'TimeoutError' ? 'timed out' : (err.cause as Error | undefined)?.message ?? err.message}`, retries, ...(witnessSize !== undefined ? { witnessSize } : {}) };
    }
    if (res.status === 200) {
      const kept = filterCosignatures(target.text, text, opts.verifier, opts.reservedKeys);
      return { kind: 'cosigned', lines: kept.lines, dropped: kept.dropped, oldSize: old, retries };
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (res.status === 409 && contentType === SIZE_CONTENT_TYPE) {
      const n = parseTreeSize(text.endsWith('\n') ? text.slice(0, -1) : text);
      if (n === null) return { kind: 'failed', status: 409, reason: `409 with a malformed size body ${JSON.stringify(text.slice(0, 40))}`, retries };
      witnessSize = n;
      if (n > target.size) return { kind: 'ahead', witnessSize: n, retries };
      if (retries >= maxRetries) return { kind: 'failed', status: 409, reason: `still 409 after ${retries} retries (witness at ${n})`, witnessSize: n, retries };
      old = n;
      continue;
    }
    const snippet = text.trim().slice(0, 200);
    return { kind: 'failed', status: res.status, reason: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, retries, ...(witnessSize !== undefined ? { witnessSize } : {}) };
  }
}

/**
 * Keeps the signature lines of a witness response that belong on `text`: with verifiers (a
 * witness may cosign with several keys, e.g. Ed25519 and ML-DSA-44), only lines that verify under one; without one, every well-formed line except those claiming a
 * reserved (name, key ID), such as the log's own key (a bad line there would make clients reject
 * the whole note). Exact duplicates are dropped.
 */
export function filterCosignatures(text: string, body: string, verifier?: Verifier | readonly Verifier[], reserved?: ReadonlySet<string>): { lines: string; dropped: number } {
  const verifiers = verifier === undefined ? undefined : Array.isArray(verifier) ? (verifier as readonly Verifier[]) : [verifier as Verifier];
  const raw = body.split('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  const seen = new Set<string>();
  let lines = '';
  let dropped = 0;
  for (const line of raw) {
    const candidate = `${text}\n${line}\n`;
    let ok = false;
    try {
      if (verifiers && verifiers.length > 0) {
        ok = openNote(candidate, [...verifiers]).verified.length === 1;
      } else {
        const s = parseNote(candidate).signatures[0];
        ok = !(reserved?.has(keyLabel(s.name, s.keyId)) ?? false);
      }
    } catch {
      ok = false;
    }
    if (!ok || seen.has(line)) {
      dropped++;
      continue;
    }
    seen.add(line);
    lines += line + '\n';
  }
  return { lines, dropped };
}
