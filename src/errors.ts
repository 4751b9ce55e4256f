// One error base with a code, after sigstore-js's BaseError<Code> (@sigstore/core): the code is a
// string union the caller can switch on; the message is for people; `cause` keeps the original.
// The CLI maps codes to exit codes in one table (src/cli/errors.ts). This round only the CLI
// layer uses it; the witness, gossip and policy error classes keep their own names for now.

export class BaseError<Code extends string> extends Error {
  readonly code: Code;
  constructor(opts: { code: Code; message: string; cause?: unknown }) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code;
    this.name = new.target.name;
  }
}

/**
 * What went wrong, as a command sees it:
 * - USAGE: the invocation is unusable (unknown or missing flag, bad flag value, unreadable file).
 * - BAD_INPUT: content that does not parse (a note, checkpoint, policy, proof or JSON file).
 * - REFUSED: the input parsed and was checked, and the check failed.
 * - CONFIG: a witness config or its key file is unusable (permanent: retrying will not help).
 * - STORE_DAMAGED: the data folder or database is damaged (permanent until an operator acts).
 * - NETWORK: nothing answered (every witness unreachable, the log unreachable).
 * - UNAVAILABLE: a resource is not available yet (port in use, database or lock not ready): transient.
 * - INTERNAL: a bug.
 */
export type GossipWitnessErrorCode = 'USAGE' | 'BAD_INPUT' | 'REFUSED' | 'CONFIG' | 'STORE_DAMAGED' | 'NETWORK' | 'UNAVAILABLE' | 'INTERNAL';

export class GossipWitnessError extends BaseError<GossipWitnessErrorCode> {}
