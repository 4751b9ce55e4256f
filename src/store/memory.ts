// An in-memory WitnessStore for tests: the same semantics as LevelStore (src/store/level.ts), no
// durability. Values are copied in and out, so callers can never mutate stored state.
//
// Semantics shared by both stores (test/store/conformance.ts checks them against both):
//  - compareAndSet stores `next` iff the current size (0 when there is no state) equals
//    expectedSize; `next` is snapshotted when the call is made.
//  - addEvidence is idempotent by id: a second record with a known id is ignored (false); an
//    origin keeps its first maxEvidencePerOrigin records, later new ids are counted, not stored.
//  - listEvidence is ordered by receivedAt, then id; pageEvidence pages that order, its cursor
//    is the last item's id. pageSuspects' cursor is the last item's store-wide sequence number.
//  - each origin keeps its newest SUSPECT_RING_SIZE suspect records; listSuspects returns them
//    oldest first, and across origins in the order they were added.
//  - origins() is sorted (UTF-16 code-unit order).
//  - inputs are validated (TypeError): origins and ids must be well-formed Unicode strings,
//    sizes non-negative bigints, times finite numbers, roots/bytes/proofs Uint8Arrays.
//  - every method rejects with StoreClosedError after close().
import type { StoreHealth, CasResult, EvidenceCount, EvidenceInfo, LogState, Page, PageQuery, StoredEvidence, SuspectRecord, VerifiedRecord, WitnessStore } from '../witness/store.js';
import { EVIDENCE_PER_ORIGIN, SUSPECT_RING_SIZE } from '../witness/store.js';
import { GossipWitnessError } from '../errors.js';

/** Thrown by every store method once the store is closed. */
export class StoreClosedError extends GossipWitnessError {
  constructor() {
    super({ code: 'unavailable', message: 'the witness store is closed' });
    this.name = 'StoreClosedError';
  }
}

// ---- value helpers shared with src/store/level.ts ----

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Checks a string used as (part of) a key: it must survive UTF-8 encoding unchanged. */
export function checkKeyString(what: string, s: unknown): asserts s is string {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
  if (LONE_SURROGATE.test(s)) throw new TypeError(`${what} is not well-formed Unicode (lone surrogate)`);
}

function checkSize(what: string, n: unknown): asserts n is bigint {
  if (typeof n !== 'bigint' || n < 0n) throw new TypeError(`${what} must be a non-negative bigint`);
}

function checkTime(what: string, t: unknown): asserts t is number {
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`${what} must be a finite number`);
}

function checkBytes(what: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
}

function checkString(what: string, s: unknown): asserts s is string {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
}

export function checkLogState(s: LogState): void {
  if (typeof s !== 'object' || s === null) throw new TypeError('state must be an object');
  checkSize('state.size', s.size);
  checkBytes('state.root', s.root);
  checkString('state.note', s.note);
  checkString('state.cosigned', s.cosigned);
  checkTime('state.updatedAt', s.updatedAt);
}

export function checkEvidence(e: StoredEvidence): void {
  if (typeof e !== 'object' || e === null) throw new TypeError('evidence must be an object');
  checkKeyString('evidence.id', e.id);
  if (e.id === '') throw new TypeError('evidence.id must not be empty');
  checkKeyString('evidence.origin', e.origin);
  checkTime('evidence.receivedAt', e.receivedAt);
  checkBytes('evidence.bytes', e.bytes);
}

export function checkSuspect(r: SuspectRecord): void {
  if (typeof r !== 'object' || r === null) throw new TypeError('suspect record must be an object');
  checkKeyString('suspect.origin', r.origin);
  checkTime('suspect.receivedAt', r.receivedAt);
  checkString('suspect.held', r.held);
  checkString('suspect.submitted', r.submitted);
  checkSize('suspect.oldSize', r.oldSize);
  if (!Array.isArray(r.proof)) throw new TypeError('suspect.proof must be an array');
  r.proof.forEach((p, i) => checkBytes(`suspect.proof[${i}]`, p));
  checkString('suspect.reason', r.reason);
}

/** Validates a page query; `after` stays a string for the store to interpret. */
export function checkPageQuery(q: PageQuery): { origin: string | undefined; limit: number; after: string | undefined } {
  if (typeof q !== 'object' || q === null) throw new TypeError('page query must be an object');
  if (q.origin !== undefined) checkKeyString('origin', q.origin);
  if (!Number.isSafeInteger(q.limit) || q.limit < 1) throw new TypeError('limit must be a positive integer');
  if (q.after !== undefined) checkKeyString('after', q.after);
  return { origin: q.origin, limit: q.limit, after: q.after };
}

const SEQ_CURSOR = /^[1-9][0-9]{0,15}$/;

/** A suspect cursor: the decimal sequence number of the previous page's last record. */
export function parseSeqCursor(after: string | undefined): number {
  if (after === undefined) return 0;
  if (!SEQ_CURSOR.test(after)) throw new TypeError('unknown cursor');
  return Number(after);
}

export const evidenceInfo = (e: EvidenceInfo): EvidenceInfo => ({ id: e.id, origin: e.origin, receivedAt: e.receivedAt });

/** The page of `sorted` (listEvidence order) after the record with id `after`. */
export function evidencePageOf(sorted: EvidenceInfo[], limit: number, after: EvidenceInfo | undefined): Page<EvidenceInfo> {
  let start = 0;
  if (after) {
    // First index strictly after the cursor record (binary search; the order is total).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareEvidenceInfo(sorted[mid], after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const items = sorted.slice(start, start + limit).map(evidenceInfo);
  return start + limit < sorted.length ? { items, next: items[items.length - 1].id } : { items };
}

/** A fresh copy holding exactly the LogState fields (extra properties are dropped). */
export function cloneLogState(s: LogState): LogState {
  return { size: s.size, root: new Uint8Array(s.root), note: s.note, cosigned: s.cosigned, updatedAt: s.updatedAt };
}

export function cloneEvidence(e: StoredEvidence): StoredEvidence {
  return { id: e.id, origin: e.origin, receivedAt: e.receivedAt, bytes: new Uint8Array(e.bytes) };
}

export function cloneSuspect(r: SuspectRecord): SuspectRecord {
  return {
    origin: r.origin,
    receivedAt: r.receivedAt,
    held: r.held,
    submitted: r.submitted,
    oldSize: r.oldSize,
    proof: r.proof.map((p) => new Uint8Array(p)),
    reason: r.reason,
  };
}

/** UTF-16 code-unit order (the default sort order), as a comparator. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** listEvidence order: receivedAt, then id. */
export function compareEvidence(a: EvidenceInfo, b: EvidenceInfo): number {
  return a.receivedAt - b.receivedAt || compareStrings(a.id, b.id);
}

const compareEvidenceInfo = compareEvidence;

// ---- the store ----

export interface MemoryStoreOptions {
  /** Evidence records kept per origin (default EVIDENCE_PER_ORIGIN). */
  maxEvidencePerOrigin?: number;
}

export class MemoryStore implements WitnessStore {
  private readonly states = new Map<string, LogState>();
  private readonly evidence = new Map<string, StoredEvidence>();
  private readonly evidenceCount = new Map<string, { stored: number; refused: number }>();
  private readonly maxEvidence: number;
  /** Per origin, oldest first, each tagged with a store-wide insertion sequence number. */
  private readonly suspects = new Map<string, { seq: number; rec: SuspectRecord }[]>();
  private seq = 0;
  private closed = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxEvidence = Math.max(1, opts.maxEvidencePerOrigin ?? EVIDENCE_PER_ORIGIN);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  async getState(origin: string): Promise<LogState | undefined> {
    this.assertOpen();
    checkKeyString('origin', origin);
    const s = this.states.get(origin);
    return s && cloneLogState(s);
  }

  async compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult> {
    this.assertOpen();
    checkKeyString('origin', origin);
    checkSize('expectedSize', expectedSize);
    checkLogState(next);
    // No await between the check and the set: atomic on the single JS thread.
    const cur = this.states.get(origin);
    if ((cur?.size ?? 0n) !== expectedSize) return { ok: false, current: cur && cloneLogState(cur) };
    this.states.set(origin, cloneLogState(next));
    return { ok: true };
  }

  async addEvidence(e: VerifiedRecord): Promise<boolean> {
    this.assertOpen();
    checkEvidence(e);
    if (this.evidence.has(e.id)) return false;
    let n = this.evidenceCount.get(e.origin);
    if (!n) this.evidenceCount.set(e.origin, (n = { stored: 0, refused: 0 }));
    if (n.stored >= this.maxEvidence) {
      n.refused++;
      return false;
    }
    n.stored++;
    this.evidence.set(e.id, cloneEvidence(e));
    return true;
  }

  async pageEvidence(q: PageQuery): Promise<Page<EvidenceInfo>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    const cursor = after === undefined ? undefined : this.evidence.get(after);
    if (after !== undefined && !cursor) throw new TypeError('unknown cursor');
    const all = [...this.evidence.values()].filter((e) => origin === undefined || e.origin === origin).sort(compareEvidence);
    return evidencePageOf(all, limit, cursor);
  }

  async evidenceCounts(): Promise<EvidenceCount[]> {
    this.assertOpen();
    return [...this.evidenceCount].map(([origin, n]) => ({ origin, ...n })).sort((a, b) => compareStrings(a.origin, b.origin));
  }

  async listEvidence(origin?: string): Promise<StoredEvidence[]> {
    this.assertOpen();
    if (origin !== undefined) checkKeyString('origin', origin);
    const out: StoredEvidence[] = [];
    for (const e of this.evidence.values()) if (origin === undefined || e.origin === origin) out.push(cloneEvidence(e));
    return out.sort(compareEvidence);
  }

  async getEvidence(id: string): Promise<StoredEvidence | undefined> {
    this.assertOpen();
    checkKeyString('id', id);
    const e = this.evidence.get(id);
    return e && cloneEvidence(e);
  }

  async addSuspect(r: SuspectRecord): Promise<void> {
    this.assertOpen();
    checkSuspect(r);
    let ring = this.suspects.get(r.origin);
    if (!ring) this.suspects.set(r.origin, (ring = []));
    ring.push({ seq: ++this.seq, rec: cloneSuspect(r) });
    if (ring.length > SUSPECT_RING_SIZE) ring.splice(0, ring.length - SUSPECT_RING_SIZE);
  }

  async listSuspects(origin?: string): Promise<SuspectRecord[]> {
    this.assertOpen();
    if (origin !== undefined) {
      checkKeyString('origin', origin);
      return (this.suspects.get(origin) ?? []).map((x) => cloneSuspect(x.rec));
    }
    const all = [...this.suspects.values()].flat();
    all.sort((a, b) => a.seq - b.seq);
    return all.map((x) => cloneSuspect(x.rec));
  }

  async pageSuspects(q: PageQuery): Promise<Page<SuspectRecord>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    const from = parseSeqCursor(after);
    const pool = origin === undefined ? [...this.suspects.values()].flat() : (this.suspects.get(origin) ?? []);
    const sorted = pool.filter((x) => x.seq > from).sort((a, b) => a.seq - b.seq);
    const page = sorted.slice(0, limit);
    const items = page.map((x) => cloneSuspect(x.rec));
    return sorted.length > limit ? { items, next: String(page[page.length - 1].seq) } : { items };
  }

  health(): StoreHealth {
    return { writable: true };
  }

  async origins(): Promise<string[]> {
    this.assertOpen();
    return [...this.states.keys()].sort(compareStrings);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
