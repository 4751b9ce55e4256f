// THE one table mapping witness results to HTTP answers (c2sp.org/tlog-witness). Every status code
// the add-checkpoint and sign-subtree endpoints can return is decided here and nowhere else.
import type { AddResult, RejectCode } from '../witness/witness.js';
import type { SubtreeRejectCode, SubtreeResult } from '../witness/sign-subtree.js';

export const TEXT_PLAIN = 'text/plain; charset=utf-8';
/** SPEC: a 409 carries the witness's current size as `<size>\n` with this content type. */
export const TLOG_SIZE = 'text/x.tlog.size';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Status per rejection code. */
export const REJECT_STATUS: Readonly<Record<RejectCode, number>> = {
  malformed: 400, // not in the spec; 400 is the sensible choice (litewitness's 500 is an accident)
  'old-size-too-large': 400, // SPEC: old > checkpoint size
  'unknown-log': 404, // SPEC: origin not configured
  'bad-signature': 403, // SPEC: no trusted signature verifies, or a trusted key's signature fails
  inconsistent: 422, // SPEC: proof or root rules (HEAD: same size, different root too)
  'rate-limited': 429, // not in the spec; omniwitness and Sigsum use 429
  unavailable: 503, // not in the spec: the store cannot write now; transient, with Retry-After
  'clock-behind': 503, // not in the spec: the clock is behind a cosignature already signed; with Retry-After
};

/** sign-subtree status per rejection code (c2sp.org/tlog-witness at C2SP 5ba5ee83, "sign-subtree"). */
export const SUBTREE_REJECT_STATUS: Readonly<Record<SubtreeRejectCode, number>> = {
  malformed: 400, // SPEC: invalid request, [start, end) not a subtree (draft -03 §4.1), end > size
  inconsistent: 422, // SPEC: the subtree consistency proof (draft -03 §4.4) does not verify
  'unknown-log': 404, // SPEC: the checkpoint origin is unknown
  'bad-signature': 403, // SPEC: no valid cosignature from one of the witness's own keys
  'rate-limited': 429, // not in the spec: per-client limit on cache misses (each costs an ML-DSA-44 signature)
  'not-enabled': 404, // the API is OPTIONAL: without an ML-DSA-44 key this witness does not offer it
};

/** HTTP-layer failures that never reach the witness core. */
export const HTTP_STATUS = {
  emptyBody: 400,
  bodyTooLarge: 413,
  notFound: 404,
  methodNotAllowed: 405,
  internal: 500,
  unavailable: 503,
} as const;

/** A plain-text error answer: one line, newline-terminated. */
export function textAnswer(status: number, message: string, headers: Record<string, string> = {}): HttpAnswer {
  const line = message.replace(/[\r\n]+/g, ' ').trim();
  return { status, headers: { 'content-type': TEXT_PLAIN, ...headers }, body: line + '\n' };
}

/** Maps a witness result to the HTTP answer for POST /add-checkpoint. */
export function answerFor(result: AddResult): HttpAnswer {
  switch (result.kind) {
    case 'cosigned':
      // SPEC: 200 with only this witness's cosignature lines.
      return { status: 200, headers: { 'content-type': TEXT_PLAIN }, body: result.lines };
    case 'stale':
      // SPEC: 409 with the size of the latest checkpoint this witness cosigned (0 if none).
      return { status: 409, headers: { 'content-type': TLOG_SIZE }, body: `${result.size}\n` };
    case 'rejected': {
      const status = REJECT_STATUS[result.code];
      const headers: Record<string, string> = {};
      // 429 and 503 tell the client when to try again (RFC 9110 §10.2.3).
      if (status === 429 || status === 503) headers['retry-after'] = String(Math.max(1, Math.ceil(result.retryAfter ?? 1)));
      return textAnswer(status, result.reason, headers);
    }
  }
}

/** Maps a sign-subtree result to its HTTP answer. */
export function answerForSubtree(result: SubtreeResult): HttpAnswer {
  // SPEC: 200 with "a sequence of one or more note signature lines for the subtree".
  if (result.kind === 'signed') return { status: 200, headers: { 'content-type': TEXT_PLAIN }, body: result.lines };
  const status = SUBTREE_REJECT_STATUS[result.code];
  return textAnswer(status, result.reason, status === 429 ? { 'retry-after': String(Math.max(1, Math.ceil(result.retryAfter ?? 1))) } : {});
}
