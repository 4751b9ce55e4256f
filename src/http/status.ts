// THE one table mapping witness results to HTTP answers (c2sp.org/tlog-witness). Every status code
// the add-checkpoint endpoint can return is decided here and nowhere else.
import type { AddResult, RejectCode } from '../witness/witness.js';

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
