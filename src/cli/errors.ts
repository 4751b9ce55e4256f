// The CLI's errors and THE table of exit codes (README, "Command line"; docs/errors.md). Every
// command throws a GossipWitnessError (src/errors.ts); main.ts turns it into a message on stderr
// and the exit code of its kind below. Anything else that escapes a command, and any error of kind
// INTERNAL, is a bug: exit 70 with the stack trace.
import { ERROR_CODES, GossipWitnessError, kindOf, type ErrorCode, type ErrorKind } from '../errors.js';

interface ExitCode {
  readonly exit: number;
  readonly meaning: string;
}

/** THE table: the exit code of each error kind (every ErrorCode has a kind: src/errors.ts). */
export const KIND_EXIT_CODES: Readonly<Record<ErrorKind | 'OK', ExitCode>> = {
  OK: { exit: 0, meaning: 'success' },
  REFUSED: { exit: 1, meaning: 'the input was checked and refused (one-line reason on stderr)' },
  USAGE: { exit: 2, meaning: 'unusable invocation: unknown or missing flag, bad flag value, unreadable file' },
  BAD_INPUT: { exit: 2, meaning: 'content that does not parse (note, checkpoint, policy, proof, JSON)' },
  CONFIG: { exit: 2, meaning: 'permanent start-up failure: bad config or key file (systemd: RestartPreventExitStatus=2)' },
  STORE_DAMAGED: { exit: 2, meaning: 'permanent start-up failure: damaged data folder or database' },
  NETWORK: { exit: 3, meaning: 'network failure: nothing answered (every witness, or the log, unreachable)' },
  UNAVAILABLE: { exit: 75, meaning: 'transient start-up failure: port in use, database or lock not available yet (EX_TEMPFAIL; restart later)' },
  INTERNAL: { exit: 70, meaning: 'internal error (a bug): stack trace on stderr (EX_SOFTWARE)' },
};

/** KIND_EXIT_CODES looked up for every error code, by its kind (so EXIT_CODES[e.code] works for any error). */
export const EXIT_CODES: Readonly<Record<ErrorCode | 'OK', ExitCode>> = {
  ...(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, kind]) => [code, KIND_EXIT_CODES[kind]])) as Record<ErrorCode, ExitCode>),
  ...KIND_EXIT_CODES,
};

/** The exit code for any error code (by its kind). */
export function exitCodeOf(code: ErrorCode): number {
  return KIND_EXIT_CODES[kindOf(code)].exit;
}

/** The exit code for anything a command threw: by kind for a GossipWitnessError, else 70 (a bug). */
export function exitCodeFor(e: unknown): number {
  return e instanceof GossipWitnessError ? exitCodeOf(e.code) : EXIT_CODES.INTERNAL.exit;
}

/** Base of the CLI's errors: a kind as its code, and the exit code the table gives it. */
export class CliError extends GossipWitnessError {
  declare readonly code: ErrorKind;
  get exitCode(): number {
    return exitCodeOf(this.code);
  }
}

/** Bad flags, missing flags, unreadable file. */
export class UsageError extends CliError {
  constructor(message: string, cause?: unknown) {
    super({ code: 'USAGE', message, cause });
    this.name = 'UsageError'; // not new.target.name: the bundled CLI (dist/bin) is minified
  }
}

/** Content that does not parse. */
export class BadInputError extends CliError {
  constructor(message: string, cause?: unknown) {
    super({ code: 'BAD_INPUT', message, cause });
    this.name = 'BadInputError'; // not new.target.name: the bundled CLI (dist/bin) is minified
  }
}

/** Checked and refused. */
export class RefusedError extends CliError {
  constructor(message: string, cause?: unknown) {
    super({ code: 'REFUSED', message, cause });
    this.name = 'RefusedError'; // not new.target.name: the bundled CLI (dist/bin) is minified
  }
}

/** Nothing answered over the network. */
export class NetworkError extends CliError {
  constructor(message: string, cause?: unknown) {
    super({ code: 'NETWORK', message, cause });
    this.name = 'NetworkError'; // not new.target.name: the bundled CLI (dist/bin) is minified
  }
}

/** Start-up failure: permanent (CONFIG, STORE_DAMAGED) or transient (UNAVAILABLE). */
export class StartupError extends CliError {
  constructor(code: 'CONFIG' | 'STORE_DAMAGED' | 'UNAVAILABLE', message: string, cause?: unknown) {
    super({ code, message, cause });
    this.name = 'StartupError'; // not new.target.name: the bundled CLI (dist/bin) is minified
  }
}

// errno codes, LevelDB's lock, and PostgreSQL's SQLSTATEs for "not now": 57P03 cannot connect now
// (starting up), 53300 too many connections, 08001/08006 connection failures.
const TRANSIENT_ERRNO = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EAGAIN', 'LEVEL_LOCKED', '57P03', '53300', '08001', '08006']);

function codesOf(e: unknown, depth = 0): string[] {
  if (e === null || typeof e !== 'object' || depth > 5) return [];
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof o.code === 'string' ? [o.code] : [];
  const nested = Array.isArray(o.errors) ? o.errors.flatMap((x) => codesOf(x, depth + 1)) : [];
  return [...own, ...codesOf(o.cause, depth + 1), ...nested];
}

/** True for JavaScript's own errors: a bug, not a bad setup. */
export function isProgrammingError(e: unknown): boolean {
  return e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError || e instanceof RangeError || (e instanceof Error && e.name === 'AssertionError');
}

/**
 * Classifies a failure while starting a witness (or a log): transient when a port, a database
 * or a lock is not available yet; damaged store when the store says so; internal for a bug;
 * otherwise a permanent setup problem (config, key file, data folder).
 */
export function startupError(e: unknown, what = 'start-up failed'): CliError {
  if (e instanceof CliError) return e;
  // One line per problem: libp2p puts the stacks of its listen errors into its message.
  const message = `${what}: ${(e as Error)?.message ?? String(e)}`.replace(/\n\s+at [^\n]*/g, '').replace(/\n{2,}/g, '\n').trimEnd();
  if (isProgrammingError(e)) return new CliError({ code: 'INTERNAL', message, cause: e });
  // Our own errors say what they are (src/errors.ts): their kind decides; a bad note, key or policy is bad config.
  // A damaged, corrupt or foreign-version store (STORE_DAMAGED) stays so until an operator acts; a
  // held lock or a full disk (UNAVAILABLE) may pass.
  if (e instanceof GossipWitnessError) {
    const kind = e.kind;
    if (kind === 'INTERNAL' || kind === 'UNAVAILABLE' || kind === 'STORE_DAMAGED' || kind === 'NETWORK') return new CliError({ code: kind === 'NETWORK' ? 'UNAVAILABLE' : kind, message, cause: e });
    // PostgreSQL not reachable yet: our error, the system's transient cause.
    if (codesOf(e.cause).some((c) => TRANSIENT_ERRNO.has(c))) return new StartupError('UNAVAILABLE', message, e);
    return new StartupError('CONFIG', message, e);
  }
  const name = (e as Error)?.name;
  if (codesOf(e).some((c) => TRANSIENT_ERRNO.has(c))) return new StartupError('UNAVAILABLE', message, e);
  // libp2p says why a gossip listen address failed only in the text of its message.
  if (name === 'UnsupportedListenAddressesError' && /\bE(ADDRINUSE|ADDRNOTAVAIL)\b/.test(message)) return new StartupError('UNAVAILABLE', message, e);
  return new StartupError('CONFIG', message, e);
}
