// The witness core (c2sp.org/tlog-witness add-checkpoint), transport-free: it takes bytes and a
// store and returns a typed result. HTTP push, pull feeders and gossip all call add().
// Status codes live in exactly one table: src/http/status.ts.
import { openNote, parseNote, formatSignatureLine, keyLabel, type OpenedNote, type ParsedNote, VerifierSet } from '../note/note.js';
import { ED25519 } from '../note/sigtypes/ed25519.js';
import { MLDSA44, TIMESTAMPED_MLDSA44_SIZE } from '../note/sigtypes/mldsa44.js';
import { verifyMlDsa44CheckpointAsync } from './verify-async.js';
import { extensionsAuthenticated, logSignedNoteBytes, MAX_LOG_SIGNED_NOTE } from '../checkpoint/signed.js';
import { schemeFor } from '../note/sigtypes/registry.js';

/** Whether a key type's line signs the whole note text (cosignature/v1) rather than origin, size and root (subtree/v1). */
const coversText = (type: number): boolean => schemeFor(type)?.coversText !== false;
import { cryptoBackend } from '../crypto/index.js';
import { NoteError } from '../note/errors.js';
import { cosignatureLineTimestamp, parseCosignatureVkey, type Signer, type Verifier } from '../note/keys.js';
import { parseCheckpoint, CheckpointError, hasValidEmptyTreeRoot, type Checkpoint, sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import { verifyConsistency } from '../merkle/proof.js';
import { equalBytes } from '../util/bytes.js';
import { GossipWitnessError, MESSAGES, type ErrorCode } from '../errors.js';
import { parseAddCheckpointBody, RequestError, type AddCheckpointRequest } from './request.js';
import { StoreUnavailableError, type LogState, type SuspectRecord, type WitnessStore } from './store.js';
import { KeyedMutex } from './mutex.js';
import { TokenBucket, qpdBucket, qpdCapacity } from './ratelimit.js';
import { makeEvidence, type Evidence } from './evidence.js';
import { evidenceRecord, verifySplitView, type VerifiedEvidence } from '../evidence/split-view.js';

/** A log this witness follows: its origin and the keys trusted to sign its checkpoints. */
export interface WitnessLog {
  readonly origin: string;
  readonly verifiers: VerifierSet;
  /** Allowed state-advancing add-checkpoint requests per day; undefined means no limit. */
  readonly qpd?: number;
  readonly disabled?: boolean;
}

export interface LogRegistry {
  get(origin: string): WitnessLog | undefined;
}

/** Why add-checkpoint refused (codes of src/errors.ts; HTTP status: STATUS_OF in src/http/status.ts). */
export type RejectCode = Extract<
  ErrorCode,
  | 'malformed' // 400: body, note or checkpoint does not parse
  | 'body-too-large' // 413: a log-signed checkpoint larger than gossip and evidence carry (MAX_LOG_SIGNED_NOTE)
  | 'old-size-too-large' // 400: old > checkpoint size
  | 'unknown-log' // 404
  | 'bad-signature' // 403: no trusted signature verifies, or a trusted key's signature fails
  | 'inconsistent' // 422: proof or root rules
  | 'rate-limited' // 429
  | 'unavailable' // 503: the store cannot write now (disk full, I/O error); retry later
  | 'clock-behind' // 503: this witness's clock is behind a timestamp it already signed
>;

export type AddResult =
  | { kind: 'cosigned'; origin: string; checkpoint: Checkpoint; lines: string; advanced: boolean }
  | { kind: 'stale'; origin: string; size: bigint } // 409 with the size this witness holds
  | { kind: 'rejected'; code: RejectCode; reason: string; origin?: string; retryAfter?: number };

export type WitnessEvent =
  /**
   * note: the cosigned note just stored (when it advanced): its log lines verified here, the rest
   * signed here, so that other parts of this node need not verify them again (issue 15).
   */
  | { type: 'cosigned'; origin: string; size: bigint; advanced: boolean; note?: string }
  | { type: 'evidence'; origin: string; id: string; evidence: Evidence; isNew: boolean }
  | { type: 'suspect'; origin: string; reason: string; recorded: boolean; repeat?: boolean }
  /** A store call failed: nothing that depends on it was released. */
  | { type: 'store-error'; origin?: string; op: StoreOp; reason: string }
  /** The clock fell behind the newest cosignature timestamp (behind: true), or passed it again. */
  | { type: 'clock'; behind: boolean; nowSeconds: number; newestSeconds: number }
  /** The stored state was behind a checkpoint this witness had cosigned: it was moved forward (error level). */
  | { type: 'restored'; origin: string; from: bigint; to: bigint; source: string };

/** What restoreFromOwnCosignature did. */
export type RestoreResult = { kind: 'advanced'; from: bigint; to: bigint } | { kind: 'ignored'; reason: string } | { kind: 'evidence' };

export type StoreOp = 'read' | 'write';

/** Seconds a client is told to wait after a store failure (the store recovers in the background). */
export const UNAVAILABLE_RETRY_AFTER = 10;
/** Cap on the Retry-After of a clock-behind answer: the operator may fix the clock sooner. */
const CLOCK_RETRY_AFTER_MAX = 300;
/** Distinct suspect pairs remembered per log (repeats of one are counted, not stored again). */
const SUSPECT_PAIRS_REMEMBERED = 256;

/** A store call failed inside add(): answered as 'unavailable', never as a 500. */
class StoreFailure extends GossipWitnessError {
  declare readonly code: 'unavailable';
  constructor(
    readonly op: StoreOp,
    readonly reason: string,
    cause: unknown,
  ) {
    super({ code: 'unavailable', message: reason, cause });
    this.name = 'StoreFailure';
  }
}

/** An unexpected error (a bug) while handling a request for a known origin: carries the origin for metrics. */
export class WitnessInternalError extends GossipWitnessError {
  declare readonly code: 'internal';
  constructor(
    readonly origin: string,
    cause: unknown,
  ) {
    super({ code: 'internal', message: (cause as Error)?.message ?? String(cause), cause });
    this.name = 'WitnessInternalError';
  }
}

function storeReason(e: unknown): string {
  if (e instanceof StoreUnavailableError) return e.reason;
  return `store error: ${(e as Error)?.message ?? String(e)}`;
}

export interface WitnessOptions {
  store: WitnessStore;
  logs: LogRegistry;
  /** Cosigners, one per witness key: cosignature/v1 (Ed25519) and ML-DSA-44 subtree/v1 (with signAsync); several during key rotation. */
  cosigners: Signer[];
  onEvent?: (e: WitnessEvent) => void;
  now?: () => number;
}

/** At most this many Ed25519 signature lines of a note are verified off the main thread; the rest inline. */
const MAX_PREVERIFIED = 4;

/**
 * The verifiers with the verdicts for this note's signature lines by trusted keys computed
 * beforehand off the event loop: Ed25519 lines (when ed25519 is true) with
 * cryptoBackend().ed25519VerifyAsync (node: the libuv thread pool), and EVERY ML-DSA-44 (0x06)
 * line with mlDsa44().verifyAsync (node:crypto on the libuv pool, or noble on the worker pool:
 * noble takes about 2.4 ms per verification on Node 20, which must not block the event loop).
 * The result is used with openNote on the same note bytes, whose rules are unchanged: a wrapped
 * verifier answers the precomputed verdict for the exact (text, signature) it was computed for,
 * and verifies anything else inline as before.
 */
async function preverify(parsed: ParsedNote, verifiers: VerifierSet, ed25519: boolean): Promise<VerifierSet> {
  const jobs: { v: Verifier; sig: Uint8Array; ok: Promise<boolean> }[] = [];
  let edJobs = 0;
  let mlChain: Promise<boolean> = Promise.resolve(true);
  for (const line of parsed.signatures) {
    let v: Verifier | undefined;
    try {
      v = verifiers.lookup(line.name, line.keyId);
    } catch {
      continue; // ambiguous key: openNote reports it
    }
    if (!v) continue;
    // ML-DSA-44: each distinct line once, in note order, stopping at the first failure (openNote
    // refuses the note there): a note repeating a trusted key's line 100 times costs one check.
    if (v.type === MLDSA44) {
      if (jobs.some((j) => j.v === v && equalBytes(j.sig, line.sig))) continue;
      const prev = mlChain;
      const sig = line.sig;
      const ok = (mlChain = prev.then((good) => (good ? verifyMlDsa44CheckpointAsync(v!, parsed.textBytes, sig) : false)));
      jobs.push({ v, sig, ok });
    }
    else if (ed25519 && v.type === ED25519 && edJobs < MAX_PREVERIFIED) {
      edJobs++;
      jobs.push({ v, sig: line.sig, ok: cryptoBackend().ed25519VerifyAsync(v.key, parsed.textBytes, line.sig) });
    }
  }
  if (jobs.length === 0) return verifiers;
  const verdicts = await Promise.all(jobs.map((j) => j.ok));
  return new PreverifiedSet(verifiers, parsed.textBytes, jobs.map((j, i) => ({ v: j.v, sig: j.sig, ok: verdicts[i] })));
}

class PreverifiedSet extends VerifierSet {
  private readonly wrapped = new Map<Verifier, Verifier>();

  constructor(
    private readonly inner: VerifierSet,
    private readonly text: Uint8Array,
    private readonly verdicts: readonly { v: Verifier; sig: Uint8Array; ok: boolean }[],
  ) {
    super();
  }

  override lookup(name: string, keyId: number): Verifier | undefined {
    const v = this.inner.lookup(name, keyId);
    if (!v || !this.verdicts.some((d) => d.v === v)) return v;
    let w = this.wrapped.get(v);
    if (!w) {
      const mine = this.verdicts.filter((d) => d.v === v);
      const text = this.text;
      w = {
        name: v.name,
        keyId: v.keyId,
        type: v.type,
        key: v.key,
        vkey: v.vkey,
        verify: (t, sig) => {
          if (equalBytes(t, text)) for (const d of mine) if (equalBytes(d.sig, sig)) return d.ok;
          return v.verify(t, sig);
        },
      };
      this.wrapped.set(v, w);
    }
    return w;
  }

  override get size(): number {
    return this.inner.size;
  }
}

const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** A cosigner's signature, off the event loop when the signer can (ML-DSA-44 signAsync). */
function signOffLoop(s: Signer, text: Uint8Array): Promise<Uint8Array> | Uint8Array {
  const a = (s as Signer & { signAsync?: (t: Uint8Array) => Promise<Uint8Array> }).signAsync;
  return typeof a === 'function' ? a.call(s, text) : s.sign(text);
}
const isoSeconds = (t: bigint): string => (t <= 8_640_000_000_000n ? new Date(Number(t) * 1000).toISOString() : `${t} s`);
/** Identifies a suspect pair: the held and the submitted note. */
const suspectKey = (held: string, submitted: string): string => `${held}\u0000${submitted}`;

const reject = (code: RejectCode, reason: string, origin?: string): AddResult => ({ kind: 'rejected', code, reason, origin });

/** Suspect records per log: one per 30 s, bursts of 8 (anyone can send a junk proof). */
const SUSPECT_RATE = 1 / 30;
const SUSPECT_BURST = 8;

export class Witness {
  private readonly store: WitnessStore;
  private readonly logs: LogRegistry;
  private readonly cosigners: Signer[];
  private readonly onEvent: (e: WitnessEvent) => void;
  private readonly now: () => number;
  private readonly locks = new KeyedMutex();
  /** add() calls in progress (signature checks go off the main thread when there are several). */
  private inflight = 0;
  /** Per origin, the stored cosigned note whose own timestamps signChecked has already noted. */
  private readonly timestampNoted = new Map<string, string>();
  private readonly budgets = new Map<string, TokenBucket>();
  /** Suspect records are rate-limited per origin: anyone can send a junk proof. */
  private readonly suspectBudgets = new Map<string, TokenBucket>();
  /** The newest cosignature timestamp (Unix seconds) this witness signed; undefined until read from the store. */
  private newestSigned: bigint | undefined;
  private newestLoading: Promise<bigint> | undefined;
  /** Whether every stored state was scanned for newestSigned (once per process). */
  private newestLoaded = false;
  private clockIsBehind = false;
  /** Per origin: suspect pairs (held + submitted note) already stored, with the repeats seen since. */
  private readonly suspectPairs = new Map<string, Promise<Map<string, number>>>();
  private readonly suspectRepeatCounts = new Map<string, number>();
  /** Logs with proven split-view evidence: their suspects are recorded once per held state. */
  private readonly provenLogs = new Set<string>();

  constructor(opts: WitnessOptions) {
    if (opts.cosigners.length === 0) throw new Error('a witness needs at least one cosigning key');
    this.store = opts.store;
    this.logs = opts.logs;
    this.cosigners = opts.cosigners;
    const onEvent = opts.onEvent ?? (() => {});
    this.onEvent = (e) => {
      if (e.type === 'evidence') this.provenLogs.add(e.origin);
      onEvent(e);
    };
    this.now = opts.now ?? Date.now;
  }

  /** POST /add-checkpoint: the raw request body. */
  async addCheckpoint(body: Uint8Array): Promise<AddResult> {
    let req: AddCheckpointRequest;
    try {
      req = parseAddCheckpointBody(body);
    } catch (e) {
      if (e instanceof RequestError) return reject('malformed', e.message);
      throw e;
    }
    return this.add(req);
  }

  /** The one path every checkpoint takes (push, pull, gossip-triggered fetch). */
  async add(req: AddCheckpointRequest): Promise<AddResult> {
    this.inflight++;
    const ctx: { origin?: string } = {};
    try {
      return await this.addNow(req, ctx);
    } catch (e) {
      // A store failure is a 503 with the reason, never a 500; nothing was signed and released.
      if (e instanceof StoreFailure || e instanceof StoreUnavailableError) {
        if (!(e instanceof StoreFailure)) this.storeFailed('write', ctx.origin, e);
        const reason = e.reason;
        return { kind: 'rejected', code: 'unavailable', reason: `the witness cannot use its store now (${reason}); nothing was cosigned, retry later`, ...(ctx.origin !== undefined ? { origin: ctx.origin } : {}), retryAfter: UNAVAILABLE_RETRY_AFTER };
      }
      if (ctx.origin !== undefined && !(e instanceof WitnessInternalError)) throw new WitnessInternalError(ctx.origin, e);
      throw e;
    } finally {
      this.inflight--;
    }
  }

  private async addNow(req: AddCheckpointRequest, ctx: { origin?: string } = {}): Promise<AddResult> {
    // 1. Parse the note's syntax; the origin is the first line of its text.
    let origin: string;
    let parsed: ParsedNote;
    try {
      parsed = parseNote(req.note);
      const nl = parsed.text.indexOf('\n');
      origin = parsed.text.slice(0, nl);
    } catch (e) {
      if (e instanceof NoteError) return reject('malformed', 'malformed checkpoint note');
      throw e;
    }
    // 2. Look up the origin (404).
    const log = this.logs.get(origin);
    if (!log || log.disabled) return reject('unknown-log', MESSAGES.unknownLog(origin), origin);
    ctx.origin = origin;
    // 3. Verify the log's signature (403). SPEC: a line whose name and key ID match a trusted
    //    key but fails to verify is rejected, as is a note with no trusted signature.
    //    The Ed25519 verifications run off the main thread first (preverify); openNote then
    //    applies exactly the same rules to those verdicts.
    let opened: OpenedNote;
    try {
      // Ed25519 off the main thread only when other requests are in flight (alone, the hop to
      // the pool and back would only add latency); ML-DSA-44 log signatures always.
      const verifiers = this.inflight > 1 || parsed.signatures.some((l) => l.sig.length === TIMESTAMPED_MLDSA44_SIZE) ? await preverify(parsed, log.verifiers, this.inflight > 1) : log.verifiers;
      opened = openNote(req.note, verifiers, { verifyRepeatedKnown: true });
    } catch (e) {
      if (e instanceof NoteError) return reject(e.code === 'malformed' ? 'malformed' : 'bad-signature', e.message, origin);
      throw e;
    }
    let cp: Checkpoint;
    try {
      cp = parseCheckpoint(opened.text);
    } catch (e) {
      if (e instanceof CheckpointError) return reject('malformed', MESSAGES.malformedCheckpoint(e.message), origin);
      throw e;
    }
    // Our cosignature/v1 signs the whole text. A log signature that does not cover extension
    // lines (ML-DSA-44 subtree/v1, RFC 6962 STH) lets anyone rewrite them, so a cosignature/v1
    // would vouch for text the log never signed: only keys whose lines do not cover the text
    // either (ML-DSA-44 subtree/v1: origin, size and root) cosign it. SPEC (tlog-witness): "If
    // all the checks above pass, the witness MUST ... respond with a 200"; with no such key this
    // witness has no line it can give: refuse (403), as before.
    if (!extensionsAuthenticated(cp, opened.verified, log.verifiers) && !this.cosigners.some((c) => !coversText(c.type))) {
      return reject('bad-signature', 'the checkpoint has extension lines, but no trusted log signature on it covers them (e.g. only ML-DSA-44 subtree/v1 or RFC 6962 signatures), and this witness has no ML-DSA-44 key: refusing to cosign text the log did not sign', origin);
    }
    // Gossip and split-view evidence carry at most this much: a larger checkpoint could fork unseen.
    const noteBytes = logSignedNoteBytes(opened.textBytes, opened.verified);
    if (noteBytes > MAX_LOG_SIGNED_NOTE) {
      return reject('body-too-large', `the log-signed checkpoint (text and log signatures) is ${noteBytes} bytes; this witness cosigns at most ${MAX_LOG_SIGNED_NOTE}, what gossip and split-view evidence can carry`, origin);
    }
    // Issue 13 §1: a checkpoint carrying our own cosignature above the stored size means our
    // state was lost; move forward to it first (the request then gets its 409 or is cosigned).
    if (this.carriesOwnLine(opened)) await this.restoreFromOwnCosignature(new TextDecoder().decode(req.note), 'add-checkpoint');
    // 4. SPEC: old > checkpoint size is a 400.
    if (req.oldSize > cp.size) return reject('old-size-too-large', `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`, origin);
    return this.locks.run(origin, () => this.addLocked(log, req, opened, cp));
  }

  private async addLocked(log: WitnessLog, req: AddCheckpointRequest, opened: OpenedNote, cp: Checkpoint): Promise<AddResult> {
    const origin = cp.origin;
    const state = await this.io('read', origin, () => this.store.getState(origin));
    const storedSize = state?.size ?? 0n;
    // 5. SPEC: old must equal the size of the latest checkpoint cosigned for the origin (0 if none): 409.
    if (req.oldSize !== storedSize) return { kind: 'stale', origin, size: storedSize };
    // 6. SPEC: a size-0 checkpoint must carry the empty tree's root.
    if (!hasValidEmptyTreeRoot(cp)) return reject('inconsistent', 'size 0 checkpoint with a root other than SHA-256("")', origin);
    const advances = state === undefined || cp.size > storedSize;
    if (req.oldSize === 0n) {
      // SPEC: with old 0 the proof must be empty.
      if (req.proof.length > 0) return reject('inconsistent', 'old size 0 requires an empty proof', origin);
    } else if (req.oldSize === cp.size) {
      // SPEC: same size: the proof must be empty and the roots equal.
      if (req.proof.length > 0) return reject('inconsistent', 'old size equals the checkpoint size: the proof must be empty', origin);
      if (sameSizeOtherRoot(cp, state!)) {
        await this.recordSameSizeConflict(log, state!, opened, cp);
        return reject('inconsistent', `root differs from the checkpoint of the same size this witness cosigned (split view evidence recorded)`, origin);
      }
    } else if (!verifyConsistency(req.oldSize, cp.size, state!.root, cp.root, req.proof)) {
      // SPEC: 0 < old < size: the consistency proof must verify. A failed proof is NOT evidence
      // (the log does not sign proofs); keep it as a bounded, rate-limited suspect record.
      await this.recordSuspect(origin, state!, opened, req, MESSAGES.consistencyFails());
      return reject('inconsistent', MESSAGES.consistencyFails(req.oldSize, cp.size), origin);
    }
    // Only state-advancing requests consume the log's budget, so replaying an old checkpoint
    // can never exhaust it.
    const budget = advances ? this.budget(log) : undefined;
    if (budget && !budget.canTake()) {
      return { kind: 'rejected', code: 'rate-limited', reason: `log ${origin} is over its qpd budget`, origin, retryAfter: budget.secondsUntil() };
    }
    // A store shared by several instances keeps the budget (a lost compare-and-set then costs a token too).
    const wait = advances && log.qpd !== undefined && this.store.takeToken ? await this.io('write', origin, () => this.store.takeToken!(`qpd:${origin}`, log.qpd! / 86400, qpdCapacity(log.qpd!), this.now())) : 0;
    if (wait > 0) return { kind: 'rejected', code: 'rate-limited', reason: `log ${origin} is over its qpd budget`, origin, retryAfter: wait };
    // 7-8. Sign, persist atomically and durably, then answer. A signature is never released
    // before the state that justifies it is on disk.
    const signed = await this.signChecked(opened.textBytes, origin, state, extensionsAuthenticated(cp, opened.verified, log.verifiers));
    if ('kind' in signed) return signed;
    const { lines } = signed;
    let cosignedNext: string | undefined;
    if (advances) {
      const logSigned = opened.text + '\n' + opened.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
      cosignedNext = logSigned + lines;
      const next: LogState = { size: cp.size, root: cp.root, note: logSigned, cosigned: cosignedNext, updatedAt: this.now() };
      // SPEC: "The witness MUST persist the new checkpoint before responding." A failed write
      // rejects (StoreFailure → 503): the lines above are dropped, never released.
      const cas = await this.io('write', origin, () => this.store.compareAndSet(origin, storedSize, next));
      // SPEC: if the compare-and-set loses, answer 409 with the new size.
      if (!cas.ok) return { kind: 'stale', origin, size: cas.current?.size ?? 0n };
      budget?.take();
    } else if (this.store.confirm) {
      // A shared store: another instance may have moved the log since our read. Re-cosigning the
      // stored size is released only if it is still the stored size (and durably so).
      const ok = await this.io('write', origin, () => this.store.confirm!(origin, storedSize));
      if (!ok.ok) return { kind: 'stale', origin, size: ok.current?.size ?? 0n };
    }
    this.noteSigned(signed.latest);
    if (advances) this.markNoted(origin, cosignedNext!);
    this.onEvent({ type: 'cosigned', origin, size: cp.size, advanced: advances, ...(cosignedNext !== undefined ? { note: cosignedNext } : {}) });
    return { kind: 'cosigned', origin, checkpoint: cp, lines, advanced: advances };
  }

  private budget(log: WitnessLog): TokenBucket | undefined {
    if (log.qpd === undefined || this.store.takeToken) return undefined;
    let b = this.budgets.get(log.origin);
    if (!b) this.budgets.set(log.origin, (b = qpdBucket(log.qpd, this.now)));
    return b;
  }

  /** Same size, different root, both log-signed: proven evidence at once. */
  private async recordSameSizeConflict(log: WitnessLog, state: LogState, opened: OpenedNote, cp: Checkpoint): Promise<void> {
    let held: OpenedNote;
    try {
      held = openNote(state.note, log.verifiers);
    } catch {
      // The stored note no longer verifies with the configured keys (rotated out): keep a suspect record.
      await this.recordSuspect(cp.origin, state, opened, { oldSize: state.size, proof: [], note: opened.textBytes }, 'same size, different root (stored note no longer verifies with the configured keys)');
      return;
    }
    // Both notes verified with the log's keys above; verifying the evidence as a whole gives the
    // type the store accepts (and costs two signature checks on a rare path).
    const v = verifySplitView(makeEvidence({ note: held, checkpoint: parseCheckpoint(held.text) }, { note: opened, checkpoint: cp }), (o) => (o === cp.origin ? log.verifiers : undefined));
    if (!v.ok) return;
    try {
      await this.storeEvidence(cp.origin, v.evidence);
    } catch (e) {
      // The 422 stands (the checkpoint is inconsistent either way); the log's next attempt
      // brings the same pair again, and it is stored once the store can write.
      this.storeFailed('write', cp.origin, e);
    }
  }


  /**
   * Stores verified evidence (callers verify it first). Returns true when new and stored; false
   * for a known record, or past the log's cap (the store keeps the first EVIDENCE_PER_ORIGIN and
   * only counts later ones), so a log that signs thousands of forks is neither stored nor
   * re-gossiped thousands of times.
   */
  async storeEvidence(origin: string, evidence: VerifiedEvidence): Promise<boolean> {
    const record = evidenceRecord(evidence, this.now());
    const id = record.id;
    const isNew = await this.store.addEvidence(record);
    this.onEvent({ type: 'evidence', origin, id, evidence, isNew });
    return isNew;
  }

  private async recordSuspect(origin: string, state: LogState, opened: OpenedNote, req: AddCheckpointRequest, reason: string): Promise<void> {
    const submitted = opened.text + '\n' + opened.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
    await this.noteSuspect({ origin, receivedAt: this.now(), held: state.note, submitted, oldSize: req.oldSize, proof: req.proof, reason });
  }

  /**
   * Records a suspect pair (a held and a submitted log-signed note that failed a consistency
   * check) once: a repeat of a stored pair is counted (suspectRepeats), not stored again, and new
   * pairs are rate-limited per log (anyone can send a junk proof). A store failure is reported as
   * a store-error event, never thrown: the caller's answer does not depend on the record.
   */
  async noteSuspect(r: SuspectRecord): Promise<'recorded' | 'repeat' | 'rate-limited' | 'failed'> {
    const { origin, reason } = r;
    // Once a split view of the log is proven, a forked branch that keeps growing brings a new
    // submitted note at every poll against the same held state: one record per held state then.
    const key = suspectKey(r.held, r.submitted);
    let pairs: Map<string, number> | undefined;
    try {
      pairs = await this.suspectPairsOf(origin);
    } catch (e) {
      this.storeFailed('read', origin, e);
    }
    const heldKey = suspectKey(r.held, '*');
    const seenKey = pairs?.has(key) ? key : this.provenLogs.has(origin) && pairs?.has(heldKey) ? heldKey : undefined;
    const seen = seenKey === undefined ? undefined : pairs!.get(seenKey);
    if (pairs && seenKey !== undefined && seen !== undefined) {
      pairs.set(seenKey, seen + 1);
      this.suspectRepeatCounts.set(origin, (this.suspectRepeatCounts.get(origin) ?? 0) + 1);
      this.onEvent({ type: 'suspect', origin, reason, recorded: false, repeat: true });
      return 'repeat';
    }
    let bucket = this.suspectBudgets.get(origin);
    if (!bucket) this.suspectBudgets.set(origin, (bucket = new TokenBucket(SUSPECT_RATE, SUSPECT_BURST, this.now)));
    if (!(this.store.takeToken ? (await this.store.takeToken(`suspect:${origin}`, SUSPECT_RATE, SUSPECT_BURST, this.now()).catch(() => 1)) === 0 : bucket.take())) {
      this.onEvent({ type: 'suspect', origin, reason, recorded: false });
      return 'rate-limited';
    }
    try {
      await this.store.addSuspect(r);
    } catch (e) {
      this.storeFailed('write', origin, e);
      this.onEvent({ type: 'suspect', origin, reason, recorded: false });
      return 'failed';
    }
    if (pairs) {
      pairs.set(key, 0);
      if (!pairs.has(heldKey)) pairs.set(heldKey, 0);
      while (pairs.size > 2 * SUSPECT_PAIRS_REMEMBERED) pairs.delete(pairs.keys().next().value as string);
    }
    this.onEvent({ type: 'suspect', origin, reason, recorded: true });
    return 'recorded';
  }

  /** Repeats of already stored suspect pairs of a log since start (not stored again). */
  suspectRepeats(origin: string): number {
    return this.suspectRepeatCounts.get(origin) ?? 0;
  }

  /** The stored pairs of a log, read from the store once (so a restart does not store them again). */
  private suspectPairsOf(origin: string): Promise<Map<string, number>> {
    let p = this.suspectPairs.get(origin);
    if (!p) {
      p = (async () => {
        if ((await this.store.evidenceCounts()).some((c) => c.origin === origin && c.stored > 0)) this.provenLogs.add(origin);
        const list = await this.store.listSuspects(origin);
        return new Map(list.slice(-SUSPECT_PAIRS_REMEMBERED).flatMap((s) => [[suspectKey(s.held, s.submitted), 0] as const, [suspectKey(s.held, '*'), 0] as const]));
      })();
      this.suspectPairs.set(origin, p);
      p.catch(() => this.suspectPairs.delete(origin));
    }
    return p;
  }

  /** A store call inside add(): a failure is reported (store-error event) and becomes a StoreFailure (503). */
  private async io<T>(op: StoreOp, origin: string | undefined, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      this.storeFailed(op, origin, e);
      throw new StoreFailure(op, storeReason(e), e);
    }
  }

  private storeFailed(op: StoreOp, origin: string | undefined, e: unknown): void {
    this.onEvent({ type: 'store-error', ...(origin !== undefined ? { origin } : {}), op, reason: storeReason(e) });
  }

  /**
   * Signs with every key, then checks the cosignatures' timestamps against the newest this
   * witness has signed. SPEC (c2sp.org/tlog-cosignature): a v1 cosignature states that "as of the
   * specified time" this is the largest tree observed; signing with a time before an earlier
   * cosignature (a clock set back, a restored VM snapshot, a broken RTC) would contradict it. So
   * nothing is released until the clock passes the newest timestamp again.
   */
  /** wholeText: the log's signatures cover the whole text (else only keys whose lines cover origin, size and root alone sign). */
  private async signChecked(text: Uint8Array, origin: string, state: LogState | undefined, wholeText = true): Promise<{ lines: string; latest: bigint } | AddResult> {
    // The stored state may carry a newer own cosignature than any seen so far (restored from peers).
    // Parsed once per stored note: a note this witness just wrote was noted when it signed it.
    if (state && this.timestampNoted.get(origin) !== state.cosigned) {
      this.noteSigned(this.ownTimestamp(state.cosigned));
      this.markNoted(origin, state.cosigned);
    }
    const newest = await this.io('read', origin, () => this.newestSignedTimestamp());
    // Issue 14: one line per key (cosignature/v1 and ML-DSA-44 subtree/v1), all computed here,
    // before the caller's one durable write. SPEC (tlog-witness): "If the cosignature format
    // supports subtrees, the cosignature returned by the witness MUST be for the entire tree in
    // the submitted checkpoint, i.e. start MUST be zero and end MUST be the checkpoint size. The
    // cosignature MUST NOT omit the timestamp, i.e. the timestamp MUST NOT be zero." (MlDsa44Key
    // .cosigner signs [0, size) and refuses a zero clock.) ML-DSA-44 signs off the event loop
    // (signAsync: libuv pool or worker threads); Ed25519 inline (tens of µs).
    // SPEC (tlog-cosignature): "opaque log_origin<1..2^8-1>": an ML-DSA-44 key cannot name a
    // longer origin, so only the other keys cosign it (none left: this witness cannot witness it).
    const originBytes = new TextEncoder().encode(origin).length;
    const signers = this.cosigners.filter((s) => (originBytes <= 255 || s.type !== MLDSA44) && (wholeText || !coversText(s.type)));
    if (signers.length === 0) return reject('unknown-log', `this witness cannot cosign checkpoints of this log: its origin is ${originBytes} bytes, and an ML-DSA-44 subtree/v1 cosignature names at most 255`, origin);
    const sigs = await Promise.all(signers.map((s) => signOffLoop(s, text)));
    let lines = '';
    let oldest: bigint | undefined;
    let latest = 0n;
    signers.forEach((s, i) => {
      lines += formatSignatureLine(s.name, s.keyId, sigs[i]);
      const t = cosignatureLineTimestamp(s.type, sigs[i]);
      if (t === null) return;
      if (oldest === undefined || t < oldest) oldest = t;
      latest = maxBig(latest, t);
    });
    if (oldest === undefined) return { lines, latest };
    if (oldest < newest) {
      this.setClockBehind(true, oldest, newest);
      const wait = Math.min(CLOCK_RETRY_AFTER_MAX, Math.max(1, Number(newest - oldest)));
      return {
        kind: 'rejected',
        code: 'clock-behind',
        reason: `this witness's clock (${isoSeconds(oldest)}) is behind the newest cosignature it has signed (${isoSeconds(newest)}); it cosigns again once its clock passes that time`,
        origin,
        retryAfter: wait,
      };
    }
    this.setClockBehind(false, oldest, newest);
    return { lines, latest };
  }

  private setClockBehind(behind: boolean, nowSeconds: bigint, newestSeconds: bigint): void {
    if (behind === this.clockIsBehind) return;
    this.clockIsBehind = behind;
    this.onEvent({ type: 'clock', behind, nowSeconds: Number(nowSeconds), newestSeconds: Number(newestSeconds) });
  }

  private markNoted(origin: string, cosigned: string): void {
    // Bounded: a store that does not keep states in memory would otherwise hold one note per log here.
    if (this.timestampNoted.size >= 1024 && !this.timestampNoted.has(origin)) this.timestampNoted.clear();
    this.timestampNoted.set(origin, cosigned);
  }

  private noteSigned(t: bigint): void {
    if (this.newestSigned === undefined || t > this.newestSigned) this.newestSigned = t;
  }

  /** The newest cosignature timestamp in the stored states (read once), or a later one signed since. */
  private newestSignedTimestamp(): Promise<bigint> {
    if (this.newestLoaded) return Promise.resolve(this.newestSigned ?? 0n);
    this.newestLoading ??= (async () => {
      let max = 0n;
      for (const origin of await this.store.origins()) {
        const s = await this.store.getState(origin);
        if (s) max = maxBig(max, this.ownTimestamp(s.cosigned));
      }
      this.noteSigned(max);
      this.newestLoaded = true;
      return this.newestSigned!;
    })().finally(() => {
      this.newestLoading = undefined;
    });
    return this.newestLoading;
  }

  /** The largest timestamp among this witness's own lines (cosignature/v1 and ML-DSA-44) in a cosigned note (0 if none). */
  private ownTimestamp(cosigned: string): bigint {
    let max = 0n;
    try {
      for (const l of parseNote(cosigned).signatures) {
        const own = this.cosigners.find((s) => s.name === l.name && s.keyId === l.keyId);
        const t = own ? cosignatureLineTimestamp(own.type, l.sig) : null;
        if (t !== null) max = maxBig(max, t);
      }
    } catch {
      // a note that does not parse carries no timestamp of ours
    }
    return max;
  }

  /** Reads the newest signed timestamp from the store (at start, so the clock gauge is right at once). False if the store could not be read. */
  async prepare(): Promise<boolean> {
    await this.checkStoreIsOurs();
    try {
      await this.newestSignedTimestamp();
      return true;
    } catch (e) {
      this.storeFailed('read', undefined, e);
      return false;
    }
  }

  /**
   * Every stored state carries this witness's own lines, under its name (the part of `cosigned`
   * after `note`). A state without one is another witness's (a copied or misnamed data folder, a
   * shared database): taking it as ours could cosign a fork of what we signed. Names, not keys,
   * so that a key rotation keeps its history. Cheap: a substring search per log, no signature.
   */
  private async checkStoreIsOurs(): Promise<void> {
    const names = [...new Set(this.cosigners.map((c) => c.name))];
    if (names.length === 0) return;
    const foreign: string[] = [];
    let origins: string[];
    try {
      origins = await this.store.origins();
    } catch {
      return; // unreadable: prepare() reports it
    }
    for (const origin of origins) {
      const st = await this.store.getState(origin).catch(() => undefined);
      if (!st) continue;
      const own = st.cosigned.startsWith(st.note) ? st.cosigned.slice(st.note.length) : '';
      if (!names.some((n) => own.startsWith(`\u2014 ${n} `) || own.includes(`\n\u2014 ${n} `))) foreign.push(`${JSON.stringify(origin)} (size ${st.size})`);
    }
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
      throw new GossipWitnessError({
        code: 'STORE_DAMAGED',
        message: `the stored state of ${shown} carries no cosignature under this witness's name (${names.join(', ')}): this is not this witness's store (another witness's data folder or database, or a changed name:); point data: (or store.postgres) at this witness's own state, or at an empty folder for a new witness`,
      });
    }
  }

  /** How far (seconds) the clock is behind the newest cosignature timestamp this witness signed; 0 when not. */
  clockBehindSeconds(): number {
    if (this.newestSigned === undefined) return 0;
    const nowS = BigInt(Math.floor(this.now() / 1000));
    return this.newestSigned > nowS ? Number(this.newestSigned - nowS) : 0;
  }

  /** The newest cosignature timestamp known (Unix seconds), if read yet. */
  newestCosignatureSeconds(): number | undefined {
    return this.newestSigned === undefined ? undefined : Number(this.newestSigned);
  }

  /**
   * Issue 13 §1, the world outside the disk: a log-signed checkpoint that carries a valid
   * cosignature by one of this witness's own keys at a size larger than the stored one means the
   * stored state was lost (a damaged disk, a restored backup). This witness signed it, so moving
   * forward to it cannot fork: the state moves forward through the store's compare-and-set (never
   * backward) and a 'restored' event is emitted (the node logs it at error level). The same size
   * with another root is a split view of our own making and becomes evidence. Called from the
   * add path (push and pull feeders) and gossip's rollback protection; `store import` applies the
   * same rule offline (src/store/offline.ts).
   */
  async restoreFromOwnCosignature(note: string, source: string): Promise<RestoreResult> {
    const ignored = (reason: string): RestoreResult => ({ kind: 'ignored', reason });
    let origin: string;
    try {
      const text = parseNote(note).text;
      origin = text.slice(0, text.indexOf('\n'));
    } catch {
      return ignored(MESSAGES.malformedNote());
    }
    const log = this.logs.get(origin);
    if (!log || log.disabled) return ignored(MESSAGES.unknownLog(origin));
    let opened: OpenedNote;
    let mine: OpenedNote;
    let cp: Checkpoint;
    try {
      opened = openNote(note, log.verifiers, { verifyRepeatedKnown: true });
      cp = parseCheckpoint(opened.text);
      // Throws unless at least one line by our own keys verifies and none of them fails.
      mine = openNote(note, this.ownVerifiers(), { verifyRepeatedKnown: true });
    } catch (e) {
      if (e instanceof NoteError || e instanceof CheckpointError) return ignored(e.message);
      throw e;
    }
    if (cp.origin !== origin) return ignored('malformed checkpoint origin');
    return this.locks.run(origin, async (): Promise<RestoreResult> => {
      const state = await this.store.getState(origin);
      const from = state?.size ?? 0n;
      if (state && sameSizeOtherRoot(state, cp)) {
        await this.recordSameSizeConflict(log, state, opened, cp);
        return { kind: 'evidence' };
      }
      // Never move backward or sideways: only a strictly larger size replaces the stored state.
      if (state && state.size >= cp.size) return ignored(`the stored size ${state.size} is not smaller than ${cp.size}`);
      const logSigned = opened.text + '\n' + opened.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
      const own = mine.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
      const next: LogState = { size: cp.size, root: cp.root, note: logSigned, cosigned: logSigned + own, updatedAt: this.now() };
      const cas = await this.store.compareAndSet(origin, from, next);
      if (!cas.ok) return ignored('the stored state changed meanwhile');
      this.onEvent({ type: 'restored', origin, from, to: cp.size, source });
      return { kind: 'advanced', from, to: cp.size };
    });
  }

  /** Verifiers of this witness's own keys, cosignature/v1 and ML-DSA-44 (signers made by cosigner() carry a vkey). */
  private ownVerifiers(): Verifier[] {
    return this.cosigners.flatMap((s) => {
      const vkey = (s as Signer & { vkey?: unknown }).vkey;
      return typeof vkey === 'string' ? [parseCosignatureVkey(vkey)] : [];
    });
  }

  /** Whether a note carries a signature line labelled with one of this witness's own keys. */
  private carriesOwnLine(opened: OpenedNote): boolean {
    const labels = new Set(this.cosigners.map((s) => keyLabel(s.name, s.keyId)));
    return opened.unverified.some((l) => labels.has(keyLabel(l.name, l.keyId)));
  }

  /** The latest checkpoint this witness cosigned for the origin (monitoring GET). */
  async latest(origin: string): Promise<LogState | undefined> {
    return this.store.getState(origin);
  }
}
