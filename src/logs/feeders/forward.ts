// Forwarding: a feeder can pass what it pulled on to other witnesses over their add-checkpoint
// API (c2sp.org/tlog-witness), as the log itself would (protocols.md §4.4): start from the size
// the witness is believed to hold (0 when unknown), send a proof from that size, follow a 409's
// `text/x.tlog.size` body, and stop when the witness is ahead. Proofs come from the same source
// the feeder pulls from (tiles or the log's proof API).
import type { Checkpoint } from '../../checkpoint/checkpoint.js';
import { parseTreeSize } from '../../checkpoint/checkpoint.js';
import { concatBytes, decodeUtf8, encodeBase64, utf8 } from '../../util/bytes.js';
import { FeedAbortedError, FeedError, httpRequest, joinUrl, displayUrl, type HttpSettings } from './http.js';
import type { LogSource } from './source.js';

/** SPEC: a 409 carries the witness's size with this content type. */
export const TLOG_SIZE_MEDIA_TYPE = 'text/x.tlog.size';
/** transparency-dev feeders follow up to 3 conflicts per checkpoint. */
export const MAX_FORWARD_CONFLICTS = 3;
const MAX_RESPONSE_BYTES = 64 * 1024;

export type ForwardOutcome =
  | 'cosigned' // 200: the witness cosigned
  | 'up-to-date' // the witness already holds this checkpoint (not sent again)
  | 'ahead' // the witness holds a larger tree than the checkpoint: nothing to send
  | 'conflict' // 409 without a size, or still 409 after MAX_FORWARD_CONFLICTS attempts
  | 'rejected' // another 4xx/5xx (400, 403, 404, 422, 429, 5xx)
  | 'proof-failed' // the proof from the witness's size could not be obtained from the log
  | 'timeout'
  | 'network'
  | 'too-large'
  | 'malformed'
  | 'internal';

export interface ForwardResult {
  readonly url: string;
  readonly outcome: ForwardOutcome;
  /** The witness's size as last learned. */
  readonly size?: bigint;
  readonly reason?: string;
  /** The witness's cosignature lines (200). */
  readonly cosignatures?: string;
}

/** The add-checkpoint body, with the note bytes verbatim. */
export function addCheckpointBody(oldSize: bigint, proof: readonly Uint8Array[], note: Uint8Array): Uint8Array {
  return concatBytes(utf8(`old ${oldSize}\n${proof.map((h) => encodeBase64(h) + '\n').join('')}\n`), note);
}

/** One remote witness: its submission prefix and the size it is believed to hold. */
export class ForwardTarget {
  /** The size the witness holds, as last learned (undefined: unknown, start from 0). */
  size: bigint | undefined;
  /** The root it holds at `size` when we sent it (to skip resending the same checkpoint). */
  private rootAtSize: string | undefined;
  lastResult: ForwardResult | undefined;

  constructor(
    readonly url: string,
    private readonly http: HttpSettings,
  ) {}

  async forward(cp: Checkpoint, note: Uint8Array, source: LogSource, signal?: AbortSignal): Promise<ForwardResult> {
    const result = await this.attempt(cp, note, source, signal);
    this.lastResult = result;
    return result;
  }

  private async attempt(cp: Checkpoint, note: Uint8Array, source: LogSource, signal?: AbortSignal): Promise<ForwardResult> {
    const url = this.url;
    const rootB64 = encodeBase64(cp.root);
    if (this.size === cp.size && this.rootAtSize === rootB64) return { url, outcome: 'up-to-date', size: this.size };
    let old = this.size ?? 0n;
    try {
      for (let i = 0; i <= MAX_FORWARD_CONFLICTS; i++) {
        if (old > cp.size) return { url, outcome: 'ahead', size: old };
        let proof: Uint8Array[] = [];
        if (old !== 0n && old !== cp.size) {
          try {
            proof = (await source.proof(old, cp, { signal })).proof;
          } catch (e) {
            if (e instanceof FeedAbortedError) throw e;
            return { url, outcome: 'proof-failed', size: old, reason: `proof from ${old} to ${cp.size}: ${(e as Error)?.message ?? String(e)}` };
          }
        }
        const res = await httpRequest(this.http, {
          url: joinUrl(url, 'add-checkpoint'),
          method: 'POST',
          body: addCheckpointBody(old, proof, note),
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          maxBytes: MAX_RESPONSE_BYTES,
          signal,
        });
        const text = decodeUtf8(res.body) ?? '';
        if (res.status === 200) {
          this.size = cp.size;
          this.rootAtSize = rootB64;
          return { url, outcome: 'cosigned', size: cp.size, cosignatures: text };
        }
        if (res.status === 409) {
          // SPEC: read the size only from a text/x.tlog.size body (v1.0.0 witnesses send 409
          // without one for a same-size root mismatch).
          const m = res.mediaType === TLOG_SIZE_MEDIA_TYPE ? /^([0-9]+)\n?$/.exec(text) : null;
          const size = m ? parseTreeSize(m[1]) : null;
          if (size === null) return { url, outcome: 'conflict', reason: `409 without a size from ${displayUrl(url)}: ${text.slice(0, 120).trim()}` };
          this.size = size;
          this.rootAtSize = undefined;
          old = size;
          continue;
        }
        return { url, outcome: 'rejected', reason: `HTTP ${res.status}: ${text.slice(0, 200).trim()}` };
      }
      return { url, outcome: 'conflict', reason: `still 409 after ${MAX_FORWARD_CONFLICTS} retries` };
    } catch (e) {
      if (e instanceof FeedAbortedError) throw e;
      if (e instanceof FeedError) {
        const outcome: ForwardOutcome = e.reason === 'timeout' || e.reason === 'network' || e.reason === 'too-large' || e.reason === 'malformed' ? e.reason : 'rejected';
        return { url, outcome, reason: e.message };
      }
      return { url, outcome: 'internal', reason: (e as Error)?.message ?? String(e) };
    }
  }
}
