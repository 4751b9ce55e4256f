// The witness's persistence interface. Implementations: src/store/level.ts (LevelDB, durable,
// group commit) and src/store/memory.ts (tests). test/store/conformance.ts runs against both.
import { GossipWitnessError } from '../errors.js';

/** What the witness keeps per log: the latest checkpoint it cosigned, in full. */
export interface LogState {
  readonly size: bigint;
  readonly root: Uint8Array;
  /** The log-signed checkpoint note (text + the log signature lines that verified). */
  readonly note: string;
  /** The same checkpoint with this witness's cosignature lines appended (monitoring GET). */
  readonly cosigned: string;
  /** Milliseconds since the epoch when this state was stored. */
  readonly updatedAt: number;
}

/** A log-signed checkpoint that failed a consistency check: possible, unproven misbehaviour. */
export interface SuspectRecord {
  readonly origin: string;
  readonly receivedAt: number;
  /** The note this witness held (its stored state) when the submission arrived. */
  readonly held: string;
  /** The submitted log-signed note. */
  readonly submitted: string;
  readonly oldSize: bigint;
  readonly proof: Uint8Array[];
  readonly reason: string;
}

export interface StoredEvidence {
  readonly id: string;
  readonly origin: string;
  readonly receivedAt: number;
  /** Canonical encoding (src/witness/evidence.ts). */
  readonly bytes: Uint8Array;
}

declare const verifiedRecord: unique symbol;
/**
 * An evidence record made from evidence that verified against this node's log keys: the only
 * thing addEvidence accepts. Made by `evidenceRecord` in src/evidence/split-view.ts from a
 * `VerifiedEvidence` (what `verifySplitView` returns); a type-level brand, nothing at run time.
 */
export type VerifiedRecord = StoredEvidence & { readonly [verifiedRecord]: true };

/** Whether the store can take writes now (readiness, 503 answers). */
export type StoreHealth = { writable: true } | { writable: false; reason: string };

/**
 * The store cannot write now (disk full, I/O error, reopening after a failure): nothing was
 * stored, and the caller must not release anything that depends on the write. Transient: the
 * store recovers by itself once it can write again (see health()).
 */
export class StoreUnavailableError extends GossipWitnessError {
  declare readonly code: 'unavailable';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super({ code: 'unavailable', message: `store unavailable: ${reason}`, cause: options?.cause });
    this.name = 'StoreUnavailableError';
  }
}

export type CasResult = { ok: true } | { ok: false; current: LogState | undefined };

export interface WitnessStore {
  getState(origin: string): Promise<LogState | undefined>;
  /**
   * Atomic compare-and-set: stores next iff the current state's size equals expectedSize
   * (a log with no state has size 0). Resolves only once the write is durable.
   */
  compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult>;
  /**
   * Optional (stores shared by several instances): succeeds iff the stored size still equals
   * `size`, as a durable write that orders with every compareAndSet. Without it, a state read
   * under the witness's per-origin lock cannot have moved (one process owns the store).
   */
  confirm?(origin: string, size: bigint): Promise<CasResult>;
  /**
   * Adds evidence (idempotent by id); resolves true if it was new, once durable. An origin keeps
   * its first maxEvidencePerOrigin records (default EVIDENCE_PER_ORIGIN): past that a new id is
   * not stored, only counted (EvidenceCount.refused), and the call resolves false.
   */
  addEvidence(e: VerifiedRecord): Promise<boolean>;
  /** Every stored record (bounded by the per-origin cap), ordered by receivedAt, then id. */
  listEvidence(origin?: string): Promise<StoredEvidence[]>;
  /** One page of listEvidence's order, without the bytes (getEvidence has them). */
  pageEvidence(q: PageQuery): Promise<Page<EvidenceInfo>>;
  /** Per origin with evidence (stored or refused), sorted by origin. */
  evidenceCounts(): Promise<EvidenceCount[]>;
  getEvidence(id: string): Promise<StoredEvidence | undefined>;
  /** Appends to the origin's bounded ring of suspect records (oldest dropped). */
  addSuspect(r: SuspectRecord): Promise<void>;
  listSuspects(origin?: string): Promise<SuspectRecord[]>;
  /** One page of listSuspects' order. */
  pageSuspects(q: PageQuery): Promise<Page<SuspectRecord>>;
  /** Whether writes can succeed now; a write while not writable rejects with StoreUnavailableError. */
  health(): StoreHealth;
  /**
   * Optional: a token bucket shared by every instance on the store (PostgreSQL), for the qpd
   * budgets and the suspect rate limit. Takes one token from bucket `key` (created full); resolves
   * 0 when taken, else the seconds until one is. Without it the witness keeps buckets in memory.
   */
  takeToken?(key: string, ratePerSecond: number, capacity: number, now: number): Promise<number>;
  /** All origins with state (for status pages and metrics). */
  origins(): Promise<string[]>;
  close(): Promise<void>;
}

/** How many suspect records a store keeps per origin. */
export const SUSPECT_RING_SIZE = 32;

/** How many evidence records a store keeps per origin: the first proofs are all a client needs. */
export const EVIDENCE_PER_ORIGIN = 32;

export type EvidenceInfo = Omit<StoredEvidence, 'bytes'>;

export interface EvidenceCount {
  readonly origin: string;
  readonly stored: number;
  /** New records refused past the cap (the count survives restarts; the last few may be lost in a crash). */
  readonly refused: number;
}

export interface PageQuery {
  origin?: string;
  /** At most this many items (a positive integer). */
  limit: number;
  /** The previous page's `next`: the page starts after that item. A cursor the store did not make is a TypeError. */
  after?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Present when more items may follow: pass it as `after`. */
  readonly next?: string;
}
