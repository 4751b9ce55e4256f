// THE one table mapping the witness's error codes to HTTP statuses (c2sp.org/tlog-witness), STATUS_OF.
// Every error status the witness's HTTP API returns (add-checkpoint, sign-subtree, the read paths,
// the HTTP layer's own refusals) is decided here and nowhere else. Codes: src/errors.ts; docs/errors.md.
import type { ErrorCode } from '../errors.js';
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

/** The witness's error codes: add-checkpoint's, sign-subtree's, and the HTTP layer's own. */
export type WitnessErrorCode =
  | RejectCode
  | SubtreeRejectCode
  | Extract<ErrorCode, 'stale' | 'empty-body' | 'body-too-large' | 'bad-query' | 'not-found' | 'method-not-allowed' | 'not-ready' | 'internal'>;

/** THE table: one HTTP status per witness error code (the same for add-checkpoint and sign-subtree). */
export const STATUS_OF: Readonly<Record<WitnessErrorCode, number>> = {
  // add-checkpoint (SPEC: c2sp.org/tlog-witness) and sign-subtree (at C2SP 5ba5ee83, "sign-subtree").
  malformed: 400, // add-checkpoint: not in the spec, 400 is the sensible choice (litewitness's 500 is an accident); sign-subtree SPEC: invalid request, [start, end) not a subtree, end > size
  'old-size-too-large': 400, // SPEC: old > checkpoint size
  'bad-signature': 403, // SPEC: no trusted signature verifies, or a trusted key's signature fails; sign-subtree: no valid cosignature by this witness's keys
  'unknown-log': 404, // SPEC: origin not configured
  stale: 409, // SPEC: old size is not the size this witness holds; body: that size
  inconsistent: 422, // SPEC: proof or root rules (HEAD: same size, different root too)
  'rate-limited': 429, // not in the spec; omniwitness and Sigsum use 429; sign-subtree: per-client limit on cache misses
  unavailable: 503, // not in the spec: the store cannot write now; transient, with Retry-After
  'clock-behind': 503, // not in the spec: the clock is behind a cosignature already signed; with Retry-After
  'not-enabled': 404, // sign-subtree is OPTIONAL: without an ML-DSA-44 key this witness does not offer it
  // The HTTP layer.
  'empty-body': 400,
  'bad-query': 400, // /evidence and /suspects: bad origin filter, limit or cursor, unknown cursor
  'not-found': 404,
  'method-not-allowed': 405,
  'body-too-large': 413,
  internal: 500, // a bug; logged
  'not-ready': 503, // /readyz
};

function view<K extends WitnessErrorCode>(codes: Record<K, true>): Readonly<Record<K, number>> {
  return Object.fromEntries(Object.keys(codes).map((c) => [c, STATUS_OF[c as K]])) as Record<K, number>;
}
/** STATUS_OF restricted to add-checkpoint's rejection codes (the compiler checks the list is complete). */
export const REJECT_STATUS = view<RejectCode>({ malformed: true, 'body-too-large': true, 'old-size-too-large': true, 'unknown-log': true, 'bad-signature': true, inconsistent: true, 'rate-limited': true, unavailable: true, 'clock-behind': true });
/** STATUS_OF restricted to sign-subtree's rejection codes. */
export const SUBTREE_REJECT_STATUS = view<SubtreeRejectCode>({ malformed: true, inconsistent: true, 'unknown-log': true, 'bad-signature': true, 'rate-limited': true, 'not-enabled': true });

/** HTTP-layer failures that never reach the witness core (names kept; values from STATUS_OF). */
export const HTTP_STATUS = {
  emptyBody: STATUS_OF['empty-body'],
  badQuery: STATUS_OF['bad-query'],
  bodyTooLarge: STATUS_OF['body-too-large'],
  notFound: STATUS_OF['not-found'],
  methodNotAllowed: STATUS_OF['method-not-allowed'],
  internal: STATUS_OF.internal,
  unavailable: STATUS_OF['not-ready'],
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
      return { status: STATUS_OF.stale, headers: { 'content-type': TLOG_SIZE }, body: `${result.size}\n` };
    case 'rejected': {
      const status = STATUS_OF[result.code];
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
  const status = STATUS_OF[result.code];
  return textAnswer(status, result.reason, status === 429 ? { 'retry-after': String(Math.max(1, Math.ceil(result.retryAfter ?? 1))) } : {});
}
