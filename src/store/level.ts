// The durable WitnessStore: LevelDB (level 10 / classic-level) with group commit.
//
// Key layout (keys and values are UTF-8 strings; <hex(x)> is the lowercase hex of x's UTF-8
// bytes, so any well-formed origin or id, including ones containing '!', is safe in a key, and
// hex never contains '!', so every prefix below is unambiguous):
//
//   m!version                          "gossip-witness/store/v1" (the format marker)
//   s!<hex(origin)>                    LogState as JSON:
//                                      {"size":"<decimal>","root":"<base64>","note":…,
//                                       "cosigned":…,"updatedAt":<ms>}
//   e!<hex(id)>                        StoredEvidence as JSON:
//                                      {"id":…,"origin":…,"receivedAt":<ms>,"bytes":"<base64>"}
//                                      at most maxEvidencePerOrigin per origin (the index of
//                                      all of them is loaded on open: no read to page them)
//   n!<hex(origin)>                    evidence refused past the cap, decimal (written lazily)
//   x!<hex(origin)>!<seq, 16 digits>   SuspectRecord as JSON:
//                                      {"origin":…,"receivedAt":<ms>,"held":…,"submitted":…,
//                                       "oldSize":"<decimal>","proof":["<base64>",…],"reason":…}
//                                      seq is store-wide and increasing, so within an origin
//                                      key order is insertion order; at most SUSPECT_RING_SIZE
//                                      per origin (the oldest are deleted in the same batch).
//
// Open: an empty database gets the marker; a different marker, or data without one, is refused
// (StoreVersionError). All states are loaded into memory (plus the evidence ids and suspect
// keys); a state that fails to decode refuses the open (StoreCorruptError). A LOCK held by
// another process gives StoreLockedError.
//
// Writes: every write goes through one group committer. While a `sync: true` batch is in
// flight, new writes queue; the queue goes as ONE `db.batch(ops, { sync: true })` when the
// in-flight batch completes, and each waiter resolves (or rejects) when its batch does. A
// write method resolves only after its batch completed, i.e. after LevelDB appended it to its
// write-ahead log and fdatasync()ed that log.
//
// compareAndSet is serialised per origin (a per-origin promise-chain mutex) and checks against
// the in-memory state, which is updated only after the durable commit succeeded. addEvidence
// is serialised per id and addSuspect per origin the same way, so no batch ever holds two
// writes of one key.
//
// Integrity (issue 13 §1; src/store/highwater.ts, src/store/integrity.ts): every group that
// changes a state also writes m!hwseq = <group number> and, after LevelDB synced it, appends a
// checksummed record to the high-water journal outside LevelDB's files, fdatasync()ed before any
// writer is answered. On open: a directory is created fresh only when it does not exist or holds
// neither LevelDB files nor a journal; otherwise every stored state must be the checkpoint note it
// claims, and LevelDB must hold at least what the journal says was acknowledged (it may be ahead
// by one group after a crash); anything else refuses the open (StoreDamagedError, naming the way
// out). LevelDB's repair() is never called. A v1 store (no journal, marker v1) is adopted once.
//
// If a batch fails (ENOSPC, EIO, a failed fsync), the store becomes unwritable: health() says
// why and every write rejects with StoreUnavailableError. LevelDB's background error is sticky,
// so the store reopens LevelDB in the background (backoff 1 s doubling to 30 s), re-runs every
// open check, and also checks that LevelDB holds every state acknowledged in this process
// (no rollback); then it takes writes again. Damage found then keeps it unwritable for good.
// Reads of evidence and suspects during a reopen may fail; states are served from memory.
import { sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import { setImmediate } from 'node:timers'; // not the global: tests' fake timers must not stall commits
import { Level } from 'level';
import type { StoreHealth, CasResult, EvidenceCount, EvidenceInfo, LogState, Page, PageQuery, StoredEvidence, SuspectRecord, VerifiedRecord, WitnessStore } from '../witness/store.js';
import { EVIDENCE_PER_ORIGIN, SUSPECT_RING_SIZE } from '../witness/store.js';
import { decodeBase64, decodeUtf8, encodeBase64 } from '../util/bytes.js';
import { StoreUnavailableError } from '../witness/store.js';
import { HighwaterError, HighwaterJournal, entryOf, readHighwater, removeStaleTemp, highwaterPath, type HighwaterEntry } from './highwater.js';
import { StoreDamagedError, dirProblems, inspectDir, journalProblems, stateProblem } from './integrity.js';
import {
  StoreClosedError,
  checkEvidence,
  checkKeyString,
  checkLogState,
  checkPageQuery,
  checkSuspect,
  cloneEvidence,
  cloneLogState,
  cloneSuspect,
  compareEvidence,
  compareStrings,
  evidenceInfo,
  evidencePageOf,
  parseSeqCursor,
} from './memory.js';
import { GossipWitnessError } from '../errors.js';

export { StoreClosedError } from './memory.js';
export { StoreDamagedError } from './integrity.js';

/** v2: the high-water journal exists and m!hwseq counts state-changing groups. */
export const STORE_VERSION = 'gossip-witness/store/v2';
const STORE_VERSION_V1 = 'gossip-witness/store/v1';
const VERSION_KEY = 'm!version';
const HWSEQ_KEY = 'm!hwseq';
/** The journal is rewritten as one snapshot once this much was appended to it (and on every open). */
const JOURNAL_REWRITE_BYTES = 4 * 1024 * 1024;
const STATE_PREFIX = 's!';
const EVIDENCE_PREFIX = 'e!';
const REFUSED_PREFIX = 'n!';
const SUSPECT_PREFIX = 'x!';
const SEQ_DIGITS = 16;
/** One past the last key with the given prefix ending in '!' ('"' follows '!'). */
const rangeOf = (prefix: string) => ({ gte: prefix, lt: prefix.slice(0, -1) + '"' });

/** The data directory holds a different (or no) store format version. */
export class StoreVersionError extends GossipWitnessError {
  constructor(
    readonly dir: string,
    readonly found: string | undefined,
  ) {
    super({
      code: 'STORE_DAMAGED',
      message:
        found === undefined
          ? `data directory ${dir} holds data but no format version marker; supported version is ${STORE_VERSION} (refusing to open it)`
          : `data directory ${dir} has store format version ${JSON.stringify(found)}; supported version is ${STORE_VERSION} (refusing to open it)`,
    });
    this.name = 'StoreVersionError';
  }
}

/** Another process (or another LevelStore in this process) has the data directory open. */
export class StoreLockedError extends GossipWitnessError {
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super({ code: 'UNAVAILABLE', message: `data directory ${dir} is in use by another process (its LevelDB LOCK is held)`, cause });
    this.name = 'StoreLockedError';
  }
}

/** A stored record failed to decode. */
export class StoreCorruptError extends GossipWitnessError {
  constructor(
    readonly dir: string,
    readonly key: string,
    detail: string,
  ) {
    super({ code: 'STORE_DAMAGED', message: `data directory ${dir}: stored record ${key} is corrupt: ${detail} (see docs/operator-guide.md, "When things break")` });
    this.name = 'StoreCorruptError';
  }
}

/** A durable write failed; the store refuses further writes until reopened. */
export class StoreWriteError extends GossipWitnessError {
  constructor(dir: string, cause: unknown) {
    super({ code: 'unavailable', message: `data directory ${dir}: a synced write failed (${(cause as Error)?.message ?? String(cause)}); restart to reload from disk`, cause });
    this.name = 'StoreWriteError';
  }
}

export interface LevelStoreOptions {
  /** Most writes committed in one batch (default 1024); more wait for the next batch. */
  maxGroupSize?: number;
  /** Evidence records kept per origin (default EVIDENCE_PER_ORIGIN); later new ones are counted. */
  maxEvidencePerOrigin?: number;
  /** Check on open that every stored note is a checkpoint matching its record (default true). */
  verifyNotes?: boolean;
  /** Warnings (a v1 store adopted, a write failure, recovery); the node passes its logger. */
  onWarning?: (message: string) => void;
  /** Backoff of the background reopen after a failed write (default 1000 → 30000 ms). */
  retryMs?: { min: number; max: number };
  /**
   * `gossip-witness store import`: states (log-signed, cosigned by this witness, checked by the
   * caller) that move their logs forward; written as one group at open. May create a fresh store.
   */
  imports?: ReadonlyMap<string, LogState>;
  /** Fault injection for tests: a returned error fails that step as if the disk had. */
  faults?: { batch?: () => Error | undefined; journal?: () => Error | undefined; reopen?: () => Error | undefined };
}

export interface LevelStoreStats {
  /** Synced batches committed. */
  batches: number;
  /** Writes (CAS, evidence, suspect) committed in them. */
  writes: number;
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };
type Db = Level<string, string>;

// ---- key and value codecs ----

const hexOf = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const stateKey = (origin: string) => STATE_PREFIX + hexOf(origin);
const evidenceKey = (id: string) => EVIDENCE_PREFIX + hexOf(id);
const suspectPrefix = (origin: string) => SUSPECT_PREFIX + hexOf(origin) + '!';
const suspectKey = (origin: string, seq: number) => suspectPrefix(origin) + String(seq).padStart(SEQ_DIGITS, '0');

const HEX_RE = /^(?:[0-9a-f]{2})*$/;
const DECIMAL_RE = /^(?:0|[1-9][0-9]*)$/;
const SEQ_RE = new RegExp(`^[0-9]{${SEQ_DIGITS}}$`);

class Decoder {
  constructor(
    private readonly dir: string,
    private readonly key: string,
  ) {}
  fail(detail: string): never {
    throw new StoreCorruptError(this.dir, this.key, detail);
  }
  hexString(hex: string, what: string): string {
    if (!HEX_RE.test(hex)) this.fail(`${what} in the key is not hex`);
    const s = decodeUtf8(Buffer.from(hex, 'hex'));
    if (s === null) this.fail(`${what} in the key is not UTF-8`);
    return s;
  }
  json(value: string): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(value);
    } catch (err) {
      this.fail(`invalid JSON (${(err as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('not a JSON object');
    return v as Record<string, unknown>;
  }
  string(o: Record<string, unknown>, f: string): string {
    const v = o[f];
    if (typeof v !== 'string') this.fail(`field ${f} is not a string`);
    return v;
  }
  time(o: Record<string, unknown>, f: string): number {
    const v = o[f];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`field ${f} is not a finite number`);
    return v;
  }
  size(o: Record<string, unknown>, f: string): bigint {
    const v = o[f];
    if (typeof v !== 'string' || !DECIMAL_RE.test(v)) this.fail(`field ${f} is not a decimal size`);
    return BigInt(v);
  }
  b64(v: unknown, f: string): Uint8Array {
    const b = typeof v === 'string' ? decodeBase64(v) : null;
    if (b === null) this.fail(`field ${f} is not base64`);
    return new Uint8Array(b);
  }
}

function encodeState(s: LogState): string {
  return JSON.stringify({
    size: s.size.toString(),
    root: encodeBase64(s.root),
    note: s.note,
    cosigned: s.cosigned,
    updatedAt: s.updatedAt,
  });
}

function decodeState(d: Decoder, value: string): LogState {
  const o = d.json(value);
  return {
    size: d.size(o, 'size'),
    root: d.b64(o.root, 'root'),
    note: d.string(o, 'note'),
    cosigned: d.string(o, 'cosigned'),
    updatedAt: d.time(o, 'updatedAt'),
  };
}

function encodeEvidence(e: StoredEvidence): string {
  return JSON.stringify({ id: e.id, origin: e.origin, receivedAt: e.receivedAt, bytes: encodeBase64(e.bytes) });
}

function decodeEvidence(d: Decoder, value: string, id: string): StoredEvidence {
  const o = d.json(value);
  const e = { id: d.string(o, 'id'), origin: d.string(o, 'origin'), receivedAt: d.time(o, 'receivedAt'), bytes: d.b64(o.bytes, 'bytes') };
  if (e.id !== id) d.fail('the id does not match the key');
  return e;
}

function encodeSuspect(r: SuspectRecord): string {
  return JSON.stringify({
    origin: r.origin,
    receivedAt: r.receivedAt,
    held: r.held,
    submitted: r.submitted,
    oldSize: r.oldSize.toString(),
    proof: r.proof.map(encodeBase64),
    reason: r.reason,
  });
}

function decodeSuspect(d: Decoder, value: string, origin: string): SuspectRecord {
  const o = d.json(value);
  if (!Array.isArray(o.proof)) d.fail('field proof is not an array');
  const r: SuspectRecord = {
    origin: d.string(o, 'origin'),
    receivedAt: d.time(o, 'receivedAt'),
    held: d.string(o, 'held'),
    submitted: d.string(o, 'submitted'),
    oldSize: d.size(o, 'oldSize'),
    proof: (o.proof as unknown[]).map((p, i) => d.b64(p, `proof[${i}]`)),
    reason: d.string(o, 'reason'),
  };
  if (r.origin !== origin) d.fail('the origin does not match the key');
  return r;
}

// ---- concurrency helpers ----

/** Per-key mutual exclusion by promise chaining; entries are dropped when idle. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev ? prev.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      if (prev) await prev;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

interface Waiter {
  ops: Op[];
  /** The state this write stores (for the high-water journal). */
  state?: [string, LogState];
  /** The evidence id this write stores (for the high-water journal). */
  evidence?: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Reads every stored state. */
async function readStates(db: Db, dir: string): Promise<Map<string, LogState>> {
  const states = new Map<string, LogState>();
  const it = db.iterator(rangeOf(STATE_PREFIX));
  try {
    for (;;) {
      const entries = await it.nextv(5000);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        const d = new Decoder(dir, key);
        states.set(d.hexString(key.slice(STATE_PREFIX.length), 'origin'), decodeState(d, value));
      }
    }
  } finally {
    await it.close();
  }
  return states;
}

/** Opens LevelDB; it may create a database only in a fresh directory (never over damage). */
async function openDb(dir: string, fresh: boolean): Promise<Db> {
  const db: Db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open({ createIfMissing: fresh });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(dir, err);
    const msg = (cause as Error | undefined)?.message ?? (err as Error).message;
    // An existing database that LevelDB cannot open (damaged CURRENT or MANIFEST, missing files)
    // is damage; a full disk or a failing device is not (the background reopen retries it).
    if (!fresh && !TRANSIENT_IO_RE.test(msg)) throw new StoreDamagedError(dir, [`LevelDB cannot open it (${msg})`]);
    throw new Error(`cannot open data directory ${dir}: ${msg}`, { cause: err });
  }
  return db;
}

/** The ts-merged high-water entries for what LevelDB holds (≥ the journal's, checked before). */
function entriesOf(states: ReadonlyMap<string, LogState>, prev: ReadonlyMap<string, HighwaterEntry> | undefined): Map<string, HighwaterEntry> {
  const out = new Map<string, HighwaterEntry>();
  for (const [o, st] of states) out.set(o, entryOf(st, prev?.get(o)));
  return out;
}

type Version = 'new' | 'v1' | 'v2';

/**
 * `store import`: each imported state must move its log forward, past what LevelDB holds and at
 * least to what the journal says was acknowledged (the same tree when the size is equal).
 */
function importProblems(imports: ReadonlyMap<string, LogState>, states: ReadonlyMap<string, LogState>, journaled: ReadonlyMap<string, HighwaterEntry> | undefined): string[] {
  const out: string[] = [];
  for (const [o, st] of imports) {
    const cur = states.get(o);
    const j = journaled?.get(o);
    // The same size and root as LevelDB holds is accepted: re-running an import that a crash cut
    // short (LevelDB written, the journal not yet) must finish it.
    if (cur && (cur.size > st.size || sameSizeOtherRoot(cur, st))) out.push(`import of log ${JSON.stringify(o)} at size ${st.size}: the store already holds size ${cur.size}${cur.size === st.size ? ' with another root' : ''}`);
    else if (j && (st.size < j.size || sameSizeOtherRoot(st, j))) out.push(`import of log ${JSON.stringify(o)} at size ${st.size}: below (or another tree than) the acknowledged size ${j.size}`);
  }
  return out;
}

/** LevelDB's messages for system conditions that pass (not damage to the files). */
const TRANSIENT_IO_RE = /No space left|Input\/output error|Read-only file system|Permission denied|Too many open files|Disk quota/i;

/** Errors of this store pass; anything else while reading (LevelDB "Corruption: …") is damage. */
function readFailure(dir: string, err: unknown): unknown {
  if (err instanceof StoreDamagedError || err instanceof StoreCorruptError || err instanceof StoreVersionError || err instanceof StoreLockedError) return err;
  if (/^E[A-Z]+$/.test(String((err as { code?: unknown })?.code))) return err; // ENOSPC, EACCES, EIO: the system's error, as it is
  if (TRANSIENT_IO_RE.test((err as Error)?.message ?? '')) return err;
  return new StoreDamagedError(dir, [`LevelDB could not read its data (${(err as Error)?.message ?? String(err)})`]);
}

// ---- the store ----

export class LevelStore implements WitnessStore {
  private readonly states = new Map<string, LogState>();
  /** Every stored evidence record without its bytes, by id. */
  private readonly evidenceIndex = new Map<string, EvidenceInfo>();
  /** Records that did not decode on open: known by id (idempotency), reported when read. */
  private readonly corruptEvidence = new Map<string, StoreCorruptError>();
  private readonly evidenceStored = new Map<string, number>();
  private readonly evidenceRefused = new Map<string, number>();
  private readonly refusedDirty = new Set<string>();
  private refusedFlushing = false;
  /** evidenceIndex in listEvidence order; rebuilt after an add. */
  private sortedEvidence: EvidenceInfo[] | undefined;
  /** Per origin, the sequence numbers of its stored suspect records, oldest first. */
  private readonly suspectSeqs = new Map<string, number[]>();
  private lastSeq = 0;

  private readonly stateLocks = new KeyedMutex();
  private readonly evidenceLocks = new KeyedMutex();
  private readonly suspectLocks = new KeyedMutex();

  private queue: Waiter[] = [];
  private flushing = false;
  private flushScheduled = false;
  /** Why writes are refused now (a failed write, a reopen in progress, damage found). */
  private unavailable: { reason: string; permanent: boolean } | undefined;
  private recovery: Promise<void> | undefined;
  private wakeRecovery: (() => void) | undefined;
  private journal: HighwaterJournal | undefined;
  /** What the journal holds (merged), and its last group. */
  private hw = new Map<string, HighwaterEntry>();
  private hwEvidence = new Set<string>();
  private hwSeq = 0;
  /** Damage found on open that cannot lead to a fork (lost evidence records): reported, not refused. */
  private readonly warnings: string[] = [];
  private db: Db;
  private readonly maxGroupSize: number;
  private readonly maxEvidence: number;
  private readonly counters: LevelStoreStats = { batches: 0, writes: 0 };

  private readonly pending = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    db: Db,
    readonly dir: string,
    private readonly opts: LevelStoreOptions,
  ) {
    this.db = db;
    this.maxGroupSize = Math.max(1, opts.maxGroupSize ?? 1024);
    this.maxEvidence = Math.max(1, opts.maxEvidencePerOrigin ?? EVIDENCE_PER_ORIGIN);
  }

  /**
   * The underlying level database, exposed for diagnostics and tests (which spy on its batch
   * method). Writing through it bypasses every invariant of this store. A new object after a
   * background reopen.
   */
  get database(): Db {
    return this.db;
  }

  /** Opens (creating only in a fresh directory) the store in dir; see the errors documented at the top. */
  static async open(dir: string, opts: LevelStoreOptions = {}): Promise<LevelStore> {
    const contents = await inspectDir(dir);
    const problems = dirProblems(contents);
    if (problems.length > 0) throw new StoreDamagedError(dir, problems);
    const store = new LevelStore(await openDb(dir, contents.fresh), dir, opts);
    try {
      await store.attach(contents.fresh, undefined);
      await store.load();
      store.reportCorruptEvidence();
    } catch (err) {
      await store.journal?.close().catch(() => {});
      await store.db.close().catch(() => {});
      throw readFailure(dir, err);
    }
    return store;
  }

  private async checkVersion(fresh: boolean): Promise<Version> {
    const db = this.db;
    const found = await db.get(VERSION_KEY);
    if (found === STORE_VERSION) return 'v2';
    if (found === STORE_VERSION_V1) return 'v1';
    if (found !== undefined) throw new StoreVersionError(this.dir, found);
    const any = await db.keys({ limit: 1 }).all();
    if (any.length > 0) throw new StoreVersionError(this.dir, undefined);
    // An existing LevelDB that holds nothing at all lost everything, even its marker.
    if (!fresh) throw new StoreDamagedError(this.dir, ['LevelDB holds no records at all, not even its format marker']);
    await db.batch(
      [
        { type: 'put', key: VERSION_KEY, value: STORE_VERSION },
        { type: 'put', key: HWSEQ_KEY, value: '0' },
      ],
      { sync: true },
    );
    return 'new';
  }

  /** The last state-changing group LevelDB holds (0 for a v1 store, which never counted). */
  private async readSeq(version: Version, problems: string[]): Promise<number> {
    const v = await this.db.get(HWSEQ_KEY);
    if (v === undefined && version === 'v1') return 0;
    if (v === undefined || !DECIMAL_RE.test(v) || !Number.isSafeInteger(Number(v))) {
      problems.push(`LevelDB's group counter ${HWSEQ_KEY} is ${v === undefined ? 'missing' : 'malformed'}`);
      return -1;
    }
    return Number(v);
  }

  /**
   * Reads and checks the states on a just-opened database, then re-records them as the
   * journal's snapshot. acked: the states acknowledged by this process before a reopen.
   * SPEC (issue 13): start "with exactly the state it acknowledged, or refuse"; never repair().
   */
  private async attach(fresh: boolean, acked: ReadonlyMap<string, LogState> | undefined): Promise<void> {
    const version = await this.checkVersion(fresh);
    const states = await readStates(this.db, this.dir);
    const problems: string[] = [];
    let dbSeq = await this.readSeq(version, problems);
    let hw;
    let journalDamage: string | undefined;
    try {
      hw = await readHighwater(this.dir);
    } catch (e) {
      if (!(e instanceof HighwaterError)) throw e;
      journalDamage = e.message; // as a missing journal: the way out is an import of every log
    }
    const imports = acked ? undefined : this.opts.imports; // only at the first open
    const levelOrigins = [...states.keys()];
    if (imports && imports.size > 0) {
      problems.push(...importProblems(imports, states, hw?.logs));
      for (const [o, st] of imports) states.set(o, st);
      // The imported states form one new group, after everything LevelDB or the journal knew.
      dbSeq = Math.max(dbSeq, hw?.seq ?? 0) + 1;
    }
    if (this.opts.verifyNotes !== false) for (const [o, st] of states) problems.push(...[stateProblem(o, st)].filter((p): p is string => !!p));
    if (hw) problems.push(...journalProblems(dbSeq, states, hw));
    else if (journalDamage !== undefined || (problems.length === 0 && version === 'v2' && (dbSeq !== 0 || levelOrigins.length > 0))) {
      // Without a (readable) journal nothing checks LevelDB's states: each must be replaced by an import.
      const unchecked = levelOrigins.filter((o) => !imports?.has(o));
      const way = unchecked.length > 0 ? `import a checkpoint this witness cosigned for each of ${unchecked.map((o) => JSON.stringify(o)).join(', ')}` : 'import a checkpoint this witness cosigned for every log it witnessed';
      if (journalDamage !== undefined && (!imports?.size || unchecked.length > 0)) problems.push(`${journalDamage}; to start again, ${way}`);
      else if (journalDamage === undefined && (!imports?.size || unchecked.length > 0)) problems.push(`the high-water journal ${highwaterPath(this.dir)} is missing, but LevelDB holds acknowledged states: ${way}`);
    }
    if (acked) problems.push(...this.rollbackProblems(acked, states));
    if (problems.length > 0) throw new StoreDamagedError(this.dir, problems);
    const evidence = await this.checkEvidence(hw?.evidence);
    if (version === 'v1' && !hw) this.opts.onWarning?.(`data directory ${this.dir}: adopting a v1 store (no high-water journal yet) once; its states are now recorded in ${highwaterPath(this.dir)}`);
    if (imports && imports.size > 0) {
      const ops: Op[] = [...imports].map(([o, st]) => ({ type: 'put' as const, key: stateKey(o), value: encodeState(st) }));
      await this.db.batch([...ops, { type: 'put', key: HWSEQ_KEY, value: String(dbSeq) }], { sync: true });
    }
    await this.record(version, states, dbSeq, hw?.logs, evidence);
  }

  /**
   * Evidence the journal acknowledged must still be in LevelDB. A lost record cannot lead to a
   * fork (evidence is what the witness proved about a log, not what it signed) and peers gossip
   * it again, so this is reported loudly (warnings(), onWarning, `store verify`), not refused.
   * The lost ids stay in the journal until the records come back. Returns the ids to record.
   */
  private async checkEvidence(journaled: ReadonlySet<string> | undefined): Promise<Set<string>> {
    const present = new Set<string>();
    for (const key of await this.db.keys(rangeOf(EVIDENCE_PREFIX)).all()) present.add(Buffer.from(key.slice(EVIDENCE_PREFIX.length), 'hex').toString('utf8'));
    const lost = [...(journaled ?? [])].filter((id) => !present.has(id));
    if (lost.length > 0) {
      const w = `data directory ${this.dir}: ${lost.length} acknowledged evidence record(s) missing from LevelDB (damaged files?): ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''}`;
      this.warnings.push(w);
      this.opts.onWarning?.(w);
    }
    return new Set([...present, ...lost]);
  }

  /** Evidence records that do not decode (kept by id, reported when read) are also reported at open. */
  private reportCorruptEvidence(): void {
    if (this.corruptEvidence.size === 0) return;
    const w = `data directory ${this.dir}: ${this.corruptEvidence.size} evidence record(s) do not decode (damaged files?): ${[...this.corruptEvidence.keys()].slice(0, 5).join(', ')}`;
    this.warnings.push(w);
    this.opts.onWarning?.(w);
  }

  /** Damage found on open that does not refuse it (lost evidence records). */
  integrityWarnings(): string[] {
    return [...this.warnings];
  }

  /** Re-records what LevelDB holds (≥ the journal) as the journal's one snapshot, which also bounds its size. */
  private async record(version: Version, states: Map<string, LogState>, dbSeq: number, journaled: ReadonlyMap<string, HighwaterEntry> | undefined, evidence: Set<string>): Promise<void> {
    await removeStaleTemp(this.dir);
    const entries = entriesOf(states, journaled ?? this.hw);
    this.journal = await HighwaterJournal.rewrite(this.dir, dbSeq, entries, evidence);
    this.hwEvidence = evidence;
    if (version === 'v1') {
      await this.db.batch(
        [
          { type: 'put', key: VERSION_KEY, value: STORE_VERSION },
          { type: 'put', key: HWSEQ_KEY, value: String(dbSeq) },
        ],
        { sync: true },
      );
    }
    this.hw = entries;
    this.hwSeq = dbSeq;
    this.states.clear();
    for (const [o, st] of states) this.states.set(o, st);
  }

  /** After a reopen: LevelDB must hold every state this process acknowledged (no rollback). */
  private rollbackProblems(acked: ReadonlyMap<string, LogState>, states: ReadonlyMap<string, LogState>): string[] {
    const out: string[] = [];
    for (const [o, a] of acked) {
      const st = states.get(o);
      if (!st || st.size < a.size || sameSizeOtherRoot(st, a)) {
        out.push(`log ${JSON.stringify(o)}: after reopening, LevelDB holds ${st ? `size ${st.size}` : 'nothing'}, but size ${a.size} was acknowledged`);
      }
    }
    return out;
  }

  /**
   * The largest cosignature/v1 timestamp (Unix seconds) in the states this store holds or held
   * (kept in the high-water journal, so a damaged LevelDB cannot lower it); undefined when no
   * stored state carries one. Re-cosignatures of an unchanged size are not stored, so this is a
   * lower bound of what the witness signed.
   */
  maxSignedTimestamp(): number | undefined {
    let max: number | undefined;
    for (const e of this.hw.values()) if (e.ts !== undefined) max = Math.max(max ?? 0, e.ts);
    return max;
  }

  /** Evidence and suspect indexes (states are read and checked by attach()). */
  private async load(): Promise<void> {
    const db = this.database;
    await this.loadEvidenceIndex();
    // Suspect ring positions.
    for (const key of await db.keys(rangeOf(SUSPECT_PREFIX)).all()) {
      const d = new Decoder(this.dir, key);
      const [hex, seqText, ...rest] = key.slice(SUSPECT_PREFIX.length).split('!');
      if (seqText === undefined || rest.length > 0 || !SEQ_RE.test(seqText)) d.fail('malformed suspect key');
      const origin = d.hexString(hex, 'origin');
      const seq = Number(seqText);
      let seqs = this.suspectSeqs.get(origin);
      if (!seqs) this.suspectSeqs.set(origin, (seqs = []));
      seqs.push(seq); // key order: ascending within the origin
      if (seq > this.lastSeq) this.lastSeq = seq;
    }
  }

  /** The evidence index and refused counts (idempotency, the cap and paging without reads). */
  private async loadEvidenceIndex(): Promise<void> {
    const it = this.database.iterator(rangeOf(EVIDENCE_PREFIX));
    try {
      for (;;) {
        const entries = await it.nextv(1000);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          const d = new Decoder(this.dir, key);
          const id = d.hexString(key.slice(EVIDENCE_PREFIX.length), 'id');
          try {
            this.indexEvidence(decodeEvidence(d, value, id));
          } catch (err) {
            if (!(err instanceof StoreCorruptError)) throw err;
            this.corruptEvidence.set(id, err);
          }
        }
      }
    } finally {
      await it.close();
    }
    for (const [key, value] of await this.database.iterator(rangeOf(REFUSED_PREFIX)).all()) {
      const origin = new Decoder(this.dir, key).hexString(key.slice(REFUSED_PREFIX.length), 'origin');
      // A damaged counter is only a statistic: it restarts from 0 rather than refusing the open.
      if (DECIMAL_RE.test(value) && value.length < 16) this.evidenceRefused.set(origin, Number(value));
    }
  }

  private indexEvidence(e: EvidenceInfo): void {
    this.evidenceIndex.set(e.id, evidenceInfo(e));
    this.evidenceStored.set(e.origin, (this.evidenceStored.get(e.origin) ?? 0) + 1);
    this.sortedEvidence = undefined;
  }

  /** Counts a refused record; the counters are written in the background, coalesced. */
  private countRefused(origin: string): void {
    this.evidenceRefused.set(origin, (this.evidenceRefused.get(origin) ?? 0) + 1);
    this.refusedDirty.add(origin);
    if (this.refusedFlushing) return;
    this.refusedFlushing = true;
    void this.op(async () => {
      try {
        while (this.refusedDirty.size > 0) {
          const origins = [...this.refusedDirty];
          this.refusedDirty.clear();
          const ops: Op[] = origins.map((o) => ({ type: 'put', key: REFUSED_PREFIX + hexOf(o), value: String(this.evidenceRefused.get(o) ?? 0) }));
          try {
            await this.commit(ops);
          } catch {
            for (const o of origins) this.refusedDirty.add(o); // retried with the next refusal
            return;
          }
        }
      } finally {
        this.refusedFlushing = false;
      }
    });
  }

  /** Counters for tests and benchmarks. */
  get stats(): LevelStoreStats {
    return { ...this.counters };
  }

  // ---- group commit ----

  /** Resolves once ops are durably committed (as part of some group's synced batch). */
  private commit(ops: Op[], journal: Pick<Waiter, 'state' | 'evidence'> = {}): Promise<void> {
    if (this.unavailable) return Promise.reject(new StoreUnavailableError(this.unavailable.reason));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, resolve, reject, ...journal });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled || this.queue.length === 0) return;
    this.flushScheduled = true;
    // One macrotask turn lets every write issued in the current turn join the group.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const group = this.queue.splice(0, this.maxGroupSize);
    try {
      if (this.unavailable) throw new StoreUnavailableError(this.unavailable.reason);
      await this.write(group);
      this.counters.batches++;
      this.counters.writes += group.length;
      for (const w of group) w.resolve();
      if (this.journal!.appended > JOURNAL_REWRITE_BYTES) await this.rewriteJournal();
    } catch (err) {
      const e = err instanceof StoreUnavailableError ? err : this.failed(err);
      for (const w of group) w.reject(e);
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
  }

  /**
   * One group: the LevelDB batch (with the group number when states change), synced; then the
   * journal record, fdatasync()ed. INVARIANT: no cosignature leaves before its state is durable
   * in both, so the caller resolves the writers only after this returns.
   */
  private async write(group: Waiter[]): Promise<void> {
    const changed = new Map<string, HighwaterEntry>();
    for (const w of group) if (w.state) changed.set(w.state[0], entryOf(w.state[1], this.hw.get(w.state[0])));
    const evidence = group.flatMap((w) => (w.evidence === undefined ? [] : [w.evidence]));
    const journaled = changed.size > 0 || evidence.length > 0;
    const ops = group.flatMap((w) => w.ops);
    const seq = this.hwSeq + 1;
    if (journaled) ops.push({ type: 'put', key: HWSEQ_KEY, value: String(seq) });
    const injected = this.opts.faults?.batch?.();
    if (injected) throw injected;
    await this.db.batch(ops, { sync: true });
    if (!journaled) return;
    const jInjected = this.opts.faults?.journal?.();
    if (jInjected) throw jInjected;
    await this.journal!.append(seq, changed, evidence);
    this.hwSeq = seq;
    for (const [o, e] of changed) this.hw.set(o, e);
    for (const id of evidence) this.hwEvidence.add(id);
  }

  /** The journal as one snapshot again (between groups: nothing else writes it meanwhile). */
  private async rewriteJournal(): Promise<void> {
    await this.journal!.close();
    this.journal = undefined;
    this.journal = await HighwaterJournal.rewrite(this.dir, this.hwSeq, this.hw, this.hwEvidence);
  }

  /** A write failed: refuse writes, say why, and start reopening in the background. */
  private failed(err: unknown): StoreUnavailableError {
    const reason = `a synced write failed (${(err as Error)?.message ?? String(err)}); reopening the store in the background`;
    this.unavailable ??= { reason, permanent: false };
    this.opts.onWarning?.(`data directory ${this.dir}: ${reason}`);
    this.startRecovery();
    return new StoreUnavailableError(this.unavailable.reason, { cause: err });
  }

  private startRecovery(): void {
    if (this.recovery || this.closing) return;
    this.recovery = (async () => {
      const { min, max } = this.opts.retryMs ?? { min: 1000, max: 30_000 };
      for (let delay = min; !this.closing; delay = Math.min(max, delay * 2)) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wakeRecovery = () => (clearTimeout(t), r());
        });
        if (this.closing || (await this.tryReopen())) break;
      }
      this.recovery = undefined;
    })();
  }

  /** One reopen attempt: true when done (recovered, or damage found: unwritable for good). */
  private async tryReopen(): Promise<boolean> {
    const acked = new Map(this.states);
    try {
      await this.journal?.close().catch(() => {});
      await this.db.close().catch(() => {});
      const injected = this.opts.faults?.reopen?.();
      if (injected) throw injected;
      const problems = dirProblems(await inspectDir(this.dir));
      if (problems.length > 0) throw new StoreDamagedError(this.dir, problems);
      this.db = await openDb(this.dir, false);
      await this.attach(false, acked);
      this.unavailable = undefined;
      this.opts.onWarning?.(`data directory ${this.dir}: reopened and verified after a failed write; taking writes again`);
      this.scheduleFlush();
      return true;
    } catch (err) {
      const permanent = err instanceof StoreDamagedError || err instanceof StoreVersionError;
      const first = this.unavailable?.reason.split('; last attempt: ')[0] ?? 'reopening the store';
      this.unavailable = { reason: permanent ? (err as Error).message : `${first}; last attempt: ${(err as Error).message}`, permanent };
      if (permanent) this.opts.onWarning?.((err as Error).message);
      return permanent;
    }
  }

  // ---- operation bookkeeping ----

  private assertOpen(): void {
    if (this.closing) throw new StoreClosedError();
  }

  /** Runs fn as a tracked operation (close() waits for it). */
  private op<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn();
    this.pending.add(p);
    const done = () => void this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  // ---- WitnessStore ----

  async getState(origin: string): Promise<LogState | undefined> {
    this.assertOpen();
    checkKeyString('origin', origin);
    const s = this.states.get(origin);
    return s && cloneLogState(s);
  }

  async compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult> {
    this.assertOpen();
    checkKeyString('origin', origin);
    if (typeof expectedSize !== 'bigint' || expectedSize < 0n) throw new TypeError('expectedSize must be a non-negative bigint');
    checkLogState(next);
    const snap = cloneLogState(next); // the caller may mutate next while we wait for the lock
    return this.op(() =>
      this.stateLocks.run(origin, async (): Promise<CasResult> => {
        const cur = this.states.get(origin);
        if ((cur?.size ?? 0n) !== expectedSize) return { ok: false, current: cur && cloneLogState(cur) };
        await this.commit([{ type: 'put', key: stateKey(origin), value: encodeState(snap) }], { state: [origin, snap] });
        this.states.set(origin, snap);
        return { ok: true };
      }),
    );
  }

  async addEvidence(e: VerifiedRecord): Promise<boolean> {
    this.assertOpen();
    checkEvidence(e);
    const snap = cloneEvidence(e);
    // Origin lock (the cap), then id lock (idempotency); always in this order.
    return this.op(() =>
      this.evidenceLocks.run(`o${snap.origin}`, () =>
        this.evidenceLocks.run(`i${snap.id}`, async () => {
          if (this.evidenceIndex.has(snap.id) || this.corruptEvidence.has(snap.id)) return false;
          if ((this.evidenceStored.get(snap.origin) ?? 0) >= this.maxEvidence) {
            this.countRefused(snap.origin);
            return false;
          }
          await this.commit([{ type: 'put', key: evidenceKey(snap.id), value: encodeEvidence(snap) }], { evidence: snap.id });
          this.indexEvidence(snap);
          return true;
        }),
      ),
    );
  }

  async pageEvidence(q: PageQuery): Promise<Page<EvidenceInfo>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    // Records that do not decode are not in the index: reported on open and by getEvidence, and
    // the intact ones stay listable.
    const cursor = after === undefined ? undefined : this.evidenceIndex.get(after);
    if (after !== undefined && !cursor) throw new TypeError('unknown cursor');
    const sorted = (this.sortedEvidence ??= [...this.evidenceIndex.values()].sort(compareEvidence));
    return evidencePageOf(origin === undefined ? sorted : sorted.filter((e) => e.origin === origin), limit, cursor);
  }

  async evidenceCounts(): Promise<EvidenceCount[]> {
    this.assertOpen();
    const origins = new Set([...this.evidenceStored.keys(), ...this.evidenceRefused.keys()]);
    return [...origins].sort(compareStrings).map((origin) => ({ origin, stored: this.evidenceStored.get(origin) ?? 0, refused: this.evidenceRefused.get(origin) ?? 0 }));
  }

  async listEvidence(origin?: string): Promise<StoredEvidence[]> {
    this.assertOpen();
    if (origin !== undefined) checkKeyString('origin', origin);
    return this.op(async () => {
      const out: StoredEvidence[] = [];
      for (const [key, value] of await this.database.iterator(rangeOf(EVIDENCE_PREFIX)).all()) {
        const d = new Decoder(this.dir, key);
        const e = decodeEvidence(d, value, d.hexString(key.slice(EVIDENCE_PREFIX.length), 'id'));
        if (origin === undefined || e.origin === origin) out.push(e);
      }
      return out.sort(compareEvidence);
    });
  }

  async getEvidence(id: string): Promise<StoredEvidence | undefined> {
    this.assertOpen();
    checkKeyString('id', id);
    return this.op(async () => {
      const key = evidenceKey(id);
      const value = await this.database.get(key);
      return value === undefined ? undefined : decodeEvidence(new Decoder(this.dir, key), value, id);
    });
  }

  async addSuspect(r: SuspectRecord): Promise<void> {
    this.assertOpen();
    checkSuspect(r);
    const snap = cloneSuspect(r);
    return this.op(() =>
      this.suspectLocks.run(snap.origin, async () => {
        const seqs = this.suspectSeqs.get(snap.origin) ?? [];
        const seq = ++this.lastSeq;
        const drop = Math.max(0, seqs.length + 1 - SUSPECT_RING_SIZE);
        const ops: Op[] = [{ type: 'put', key: suspectKey(snap.origin, seq), value: encodeSuspect(snap) }];
        for (const old of seqs.slice(0, drop)) ops.push({ type: 'del', key: suspectKey(snap.origin, old) });
        await this.commit(ops);
        this.suspectSeqs.set(snap.origin, [...seqs.slice(drop), seq]);
      }),
    );
  }

  async listSuspects(origin?: string): Promise<SuspectRecord[]> {
    this.assertOpen();
    if (origin !== undefined) checkKeyString('origin', origin);
    return this.op(async () => {
      const range = origin === undefined ? rangeOf(SUSPECT_PREFIX) : rangeOf(suspectPrefix(origin));
      const found: { seq: number; rec: SuspectRecord }[] = [];
      for (const [key, value] of await this.database.iterator(range).all()) {
        const d = new Decoder(this.dir, key);
        const [hex, seqText] = key.slice(SUSPECT_PREFIX.length).split('!');
        found.push({ seq: Number(seqText), rec: decodeSuspect(d, value, d.hexString(hex, 'origin')) });
      }
      if (origin === undefined) found.sort((a, b) => a.seq - b.seq);
      return found.map((x) => x.rec);
    });
  }

  async pageSuspects(q: PageQuery): Promise<Page<SuspectRecord>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    const from = parseSeqCursor(after);
    // Select from the in-memory ring positions, then read only the page.
    const cand: { seq: number; origin: string }[] = [];
    for (const [o, seqs] of this.suspectSeqs) if (origin === undefined || o === origin) for (const seq of seqs) if (seq > from) cand.push({ seq, origin: o });
    cand.sort((a, b) => a.seq - b.seq);
    const page = cand.slice(0, limit);
    return this.op(async () => {
      const keys = page.map((c) => suspectKey(c.origin, c.seq));
      const values = keys.length > 0 ? await this.database.getMany(keys) : [];
      const items: SuspectRecord[] = [];
      // A record missing here was pushed out of its ring meanwhile.
      values.forEach((v, i) => v !== undefined && items.push(decodeSuspect(new Decoder(this.dir, keys[i]), v, page[i].origin)));
      return cand.length > limit ? { items, next: String(page[page.length - 1].seq) } : { items };
    });
  }

  health(): StoreHealth {
    return this.unavailable ? { writable: false, reason: this.unavailable.reason } : { writable: true };
  }

  async origins(): Promise<string[]> {
    this.assertOpen();
    return [...this.states.keys()].sort(compareStrings);
  }

  /** Stops accepting operations, waits for every started one (and its batch), then closes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      this.wakeRecovery?.();
      await this.recovery;
      await this.journal?.close().catch(() => {});
      await this.db.close();
    })();
    return this.closing;
  }
}
