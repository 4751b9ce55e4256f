// THE error vocabulary of gossip-witness: one base error with a code (after sigstore-js's
// BaseError<Code>, @sigstore/core), one union of codes (ErrorCode, the keys of ERROR_CODES) used by
// the client (src/policy, src/note, src/checkpoint), the witness (src/witness), the HTTP layer and
// the CLI, and the messages said in more than one place (MESSAGES), each spelled once here.
// Every code has a kind; the CLI maps kinds to exit codes (src/cli/errors.ts, EXIT_CODES) and the
// witness maps its codes to HTTP statuses (src/http/status.ts, STATUS_OF). docs/errors.md lists all.
// No imports: the client package bundles this file, and it must stay dependency-free and browser-safe.

export class BaseError<Code extends string> extends Error {
  readonly code: Code;
  constructor(opts: { code: Code; message: string; cause?: unknown }) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code;
    this.name = new.target.name;
  }
}

/**
 * What went wrong, as a caller decides what to do next (the CLI: which exit code):
 * - USAGE: the invocation is unusable (unknown or missing flag, bad flag value, unreadable file).
 * - BAD_INPUT: content that does not parse (a note, checkpoint, policy, proof or JSON file).
 * - REFUSED: the input parsed and was checked, and the check failed.
 * - CONFIG: a witness config or its key file is unusable (permanent: retrying will not help).
 * - STORE_DAMAGED: the data folder or database is damaged (permanent until an operator acts).
 * - NETWORK: nothing answered (every witness unreachable, the log unreachable).
 * - UNAVAILABLE: a resource is not available yet (port in use, database or lock not ready): transient.
 * - INTERNAL: a bug.
 */
export type ErrorKind = 'USAGE' | 'BAD_INPUT' | 'REFUSED' | 'CONFIG' | 'STORE_DAMAGED' | 'NETWORK' | 'UNAVAILABLE' | 'INTERNAL';
/** The kinds, under the name the CLI layer first used. */
export type GossipWitnessErrorCode = ErrorKind;

/**
 * Every error code and its kind (meanings: the comments here and docs/errors.md). A kind is a
 * code too (the CLI throws those). Kept small: the client's browser bundle carries it.
 * Layers keep their own narrower unions (NoteErrorCode, PolicyErrorCode, RejectCode, ...), each
 * a subset of ErrorCode: the compiler rejects a code that is not listed here.
 */
export const ERROR_CODES = {
  USAGE: 'USAGE', // unusable invocation: unknown or missing flag, bad flag value, unreadable file
  BAD_INPUT: 'BAD_INPUT', // content that does not parse (note, checkpoint, policy, proof, JSON)
  REFUSED: 'REFUSED', // the input was checked and refused
  CONFIG: 'CONFIG', // bad config or key file (permanent)
  STORE_DAMAGED: 'STORE_DAMAGED', // damaged data folder or database (permanent until an operator acts)
  NETWORK: 'NETWORK', // nothing answered (every witness, or the log, unreachable)
  UNAVAILABLE: 'UNAVAILABLE', // a port, database or lock is not available yet (transient)
  INTERNAL: 'INTERNAL', // a bug

  // Notes, keys, checkpoints, proofs, request bodies, evidence (client and witness).
  malformed: 'BAD_INPUT', // a note, checkpoint, proof, request body or evidence file does not parse
  'bad-key': 'BAD_INPUT', // a key (vkey or skey) does not parse or has the wrong type for its role
  'ambiguous-key': 'BAD_INPUT', // two trusted keys share a key name and key ID
  unverified: 'REFUSED', // no signature by a trusted key
  'invalid-signature': 'REFUSED', // a trusted key's signature does not verify

  // Policies (tlog-policy and Sigsum): PolicyErrorCode.
  syntax: 'BAD_INPUT', // policy: bad characters, wrong number of fields, unknown keyword, bad threshold
  'duplicate-name': 'BAD_INPUT', // policy: a name defined twice
  'duplicate-key': 'BAD_INPUT', // policy: two keys wrapping the same public key
  'unknown-name': 'BAD_INPUT', // policy: a name that is never defined
  'forward-reference': 'BAD_INPUT', // policy: a name used before the line that defines it
  'duplicate-member': 'BAD_INPUT', // policy: a name listed twice as a group member
  quorum: 'BAD_INPUT', // policy: no quorum line, or more than one
  extension: 'BAD_INPUT', // policy: the origin extension misused
  limit: 'BAD_INPUT', // policy: too large

  // The witness (c2sp.org/tlog-witness add-checkpoint and sign-subtree): RejectCode, SubtreeRejectCode.
  'old-size-too-large': 'BAD_INPUT', // add-checkpoint: old size larger than the checkpoint size
  'unknown-log': 'REFUSED', // the origin is not a log this witness follows
  'bad-signature': 'REFUSED', // no trusted signature verifies, or a trusted key's signature fails
  inconsistent: 'REFUSED', // the consistency proof or the root rules fail
  stale: 'REFUSED', // add-checkpoint: old size is not the size this witness holds
  'not-enabled': 'REFUSED', // sign-subtree: this witness has no ML-DSA-44 key
  'rate-limited': 'UNAVAILABLE', // a per-log or per-client budget is spent; retry later
  unavailable: 'UNAVAILABLE', // the store cannot write now (disk full, I/O error); retry later
  'clock-behind': 'UNAVAILABLE', // this witness's clock is behind a timestamp it already signed
  internal: 'INTERNAL', // a bug while handling a request

  // The witness's HTTP layer (requests that never reach the witness core).
  'empty-body': 'BAD_INPUT', // a POST without a body
  'body-too-large': 'BAD_INPUT', // a request body over the limit
  'bad-query': 'USAGE', // a bad query parameter (origin filter, limit, paging cursor)
  'not-found': 'USAGE', // no such path, log checkpoint or evidence
  'method-not-allowed': 'USAGE', // a method other than POST on a POST endpoint
  'not-ready': 'UNAVAILABLE', // the witness cannot cosign now (readiness)
} as const satisfies Readonly<Record<string, ErrorKind>>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function kindOf(code: ErrorCode): ErrorKind {
  return ERROR_CODES[code];
}

/** Marks this vocabulary's errors across copies of this module (Symbol.for is process-wide). */
const BRAND = Symbol.for('gossip-witness.error');

/**
 * The base of every error class of the project; `kind` says what a caller should do about it.
 * Subclasses narrow `code` to their own codes (`declare readonly code: NoteErrorCode`).
 */
export class GossipWitnessError extends BaseError<ErrorCode> {
  get kind(): ErrorKind {
    return kindOf(this.code);
  }

  /**
   * `e instanceof GossipWitnessError` also holds for an error from another copy of this module: the
   * bundled CLI (dist/bin) runs the tools commands from dist/src or @gossip-witness/tools, and a
   * client bundle can sit beside the node package. Subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    if (this !== GossipWitnessError) return Function.prototype[Symbol.hasInstance].call(this, x);
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }
}
Object.defineProperty(GossipWitnessError.prototype, BRAND, { value: true });

/** Origins and key labels in messages: quoted, so that odd characters show. */
const q = (s: string): string => JSON.stringify(s);

/** Messages said in more than one place, spelled once. */
export const MESSAGES = {
  unknownLog: (origin?: string) => (origin === undefined ? 'unknown log' : `unknown log origin ${q(origin)}`),
  malformedNote: () => 'malformed note',
  malformedCheckpoint: (detail: string) => `malformed checkpoint: ${detail}`,
  invalidSignature: (label: string) => `invalid signature for key ${label}`,
  logSignatureFails: (label: string) => `the signature by log key ${label} does not verify`,
  consistencyFails: (from?: bigint | number, to?: bigint | number) =>
    from === undefined || to === undefined ? 'consistency proof does not verify' : `consistency proof from ${from} to ${to} does not verify`,
  inclusionFails: () => 'inclusion proof does not verify',
  subtreeNotEnabled: () => 'sign-subtree is not enabled: this witness has no ML-DSA-44 key',
  /** Not cosigned by enough witnesses. */
  quorumNotSatisfied: (quorum: string, explain: string) => `quorum ${quorum} not satisfied: ${explain}`,
  quorumSatisfied: (quorum: string, by: string) => `quorum ${quorum} satisfied (${by})`,
  splitViewKnown: (origin: string) => `proven split-view evidence is known for origin ${q(origin)}: the log signed inconsistent trees, so none of its checkpoints is trusted`,
  badQuery: (what: 'origin filter' | 'limit' | 'cursor' | 'unknown cursor', max?: number) =>
    what === 'origin filter'
      ? 'bad origin filter'
      : what === 'limit'
        ? `bad limit: expected 1 to ${max}`
        : `${what === 'cursor' ? 'bad cursor' : 'unknown cursor'}: use the after= of a Link rel="next" header`,
} as const;
