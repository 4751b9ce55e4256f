// A pull feeder: one per followed log with pull settings. On an interval (±10% jitter, exponential
// backoff on failure) it fetches the log's latest checkpoint, reads the witness's stored size,
// obtains a consistency proof from that size (none from 0 or at equal size), and submits both
// through Witness.add: the same path as POST /add-checkpoint, so every rule lives in one place.
//
// Failure isolation: each feeder is its own loop with its own timers and per-request deadlines,
// so a slow, lying or broken log never stalls another log; every error is caught and turned into
// a bounded outcome (metrics label) with a reason (logs, stats); nothing a log answers can crash
// the node. stop() aborts in-flight requests, waits for the poll to finish and leaves no timer.
import { openNote, type OpenedNote } from '../../note/note.js';
import { NoteError } from '../../note/errors.js';
import { parseCheckpoint, CheckpointError, type Checkpoint } from '../../checkpoint/checkpoint.js';
import { verifyConsistency } from '../../merkle/proof.js';
import type { AddCheckpointRequest } from '../../witness/request.js';
import type { AddResult, LogRegistry, RejectCode, WitnessLog } from '../../witness/witness.js';
import type { LogState, SuspectRecord } from '../../witness/store.js';
import { verifySplitView, type VerifiedEvidence } from '../../evidence/split-view.js';
import { evidenceId } from '../../witness/evidence.js';
import { decodeUtf8 } from '../../util/bytes.js';
import { FeedAbortedError, FeedError, type FeedFailure } from './http.js';
import { ForwardTarget, type ForwardResult } from './forward.js';
import { pairKey, provePair, type SuspectPair } from './evidence.js';
import { DEFAULT_INTERVAL_MS, DEFAULT_JITTER, DEFAULT_MAX_BACKOFF_MS, type LogSource, type PullType } from './source.js';

/** Successful poll outcomes: the witness cosigned a larger tree, re-cosigned the same one, or holds a larger tree than the log served. */
export type PollSuccess = 'advanced' | 'unchanged' | 'behind';
export type PollOutcome = PollSuccess | FeedFailure;
export const POLL_SUCCESSES: readonly PollSuccess[] = ['advanced', 'unchanged', 'behind'];

/** Suspect pairs examined per poll (each costs a few tile fetches). */
const SUSPECTS_PER_POLL = 4;
const RESOLVED_MEMORY = 512;

/** The witness operations a feeder uses (src/witness/witness.ts Witness). */
export interface FeederWitness {
  add(req: AddCheckpointRequest): Promise<AddResult>;
  storeEvidence(origin: string, evidence: VerifiedEvidence): Promise<boolean>;
}

/** The store reads a feeder uses (src/witness/store.ts WitnessStore). */
export interface FeederStore {
  getState(origin: string): Promise<LogState | undefined>;
  listSuspects(origin?: string): Promise<SuspectRecord[]>;
}

/** pino-compatible. */
export interface FeederLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error?(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export type FeederEvent =
  | {
      type: 'poll';
      origin: string;
      outcome: PollOutcome;
      /** Why (failures, and 'behind'). */
      reason?: string;
      /** The size of the checkpoint the log served (when it verified). */
      size?: bigint;
      durationMs: number;
      consecutiveFailures: number;
      /** The delay before the next poll of a running feeder. */
      nextDelayMs: number;
      at: number;
    }
  | { type: 'forward'; origin: string; result: ForwardResult }
  | { type: 'evidence'; origin: string; id: string; isNew: boolean; sizes: [bigint, bigint] }
  | { type: 'evidence-error'; origin: string; reason: string };

export interface FeederStats {
  readonly origin: string;
  readonly type: PullType;
  readonly url: string;
  readonly running: boolean;
  readonly polls: number;
  readonly lastPollAt?: number;
  /** Milliseconds since the epoch of the last successful poll. */
  readonly lastSuccessAt?: number;
  readonly lastOutcome?: PollOutcome;
  readonly lastError?: { readonly reason: FeedFailure; readonly message: string; readonly at: number };
  readonly consecutiveFailures: number;
  readonly nextDelayMs?: number;
  /** Size of the last verified checkpoint the log served. */
  readonly logSize?: bigint;
  readonly outcomes: Readonly<Partial<Record<PollOutcome, number>>>;
  readonly evidenceStored: number;
  readonly forward: readonly { readonly url: string; readonly size?: bigint; readonly lastOutcome?: string; readonly lastReason?: string }[];
}

export interface FeederOptions {
  readonly origin: string;
  readonly source: LogSource;
  readonly witness: FeederWitness;
  readonly store: FeederStore;
  /** The registry the witness uses: the log's keys (rotation and log-list updates included). */
  readonly logs: LogRegistry;
  readonly intervalMs?: number;
  readonly maxBackoffMs?: number;
  /** Relative jitter on every delay (default 0.1: ±10%). */
  readonly jitter?: number;
  /** Other witnesses' submission prefixes to forward pulled checkpoints to. */
  readonly forward?: readonly ForwardTarget[];
  readonly onEvent?: (e: FeederEvent) => void;
  readonly logger?: FeederLogger;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface PollResult {
  readonly outcome: PollOutcome | 'aborted';
  readonly reason?: string;
  readonly size?: bigint;
}

const REJECT_REASON: Record<RejectCode, FeedFailure> = {
  malformed: 'malformed',
  'body-too-large': 'too-large',
  'old-size-too-large': 'stale',
  'unknown-log': 'not-configured',
  'bad-signature': 'bad-signature',
  inconsistent: 'inconsistent',
  'rate-limited': 'rate-limited',
  unavailable: 'unavailable',
  'clock-behind': 'clock-behind',
};

const silent: FeederLogger = { info() {}, warn() {} };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Feeder {
  readonly origin: string;
  readonly source: LogSource;
  readonly intervalMs: number;
  readonly maxBackoffMs: number;
  private readonly jitter: number;
  private readonly witness: FeederWitness;
  private readonly store: FeederStore;
  private readonly logs: LogRegistry;
  private readonly targets: readonly ForwardTarget[];
  private readonly onEvent: (e: FeederEvent) => void;
  private readonly logger: FeederLogger;
  private readonly now: () => number;
  private readonly random: () => number;

  private ac: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private unlinkExternal: (() => void) | undefined;
  /** Serialises polls (the loop's and manual pollOnce calls). */
  private chain: Promise<unknown> = Promise.resolve();
  /** Suspect pairs already decided (evidence stored, consistent, or unusable). */
  private readonly resolved = new Set<string>();

  private polls = 0;
  private lastPollAt: number | undefined;
  private lastSuccessAt: number | undefined;
  private lastOutcome: PollOutcome | undefined;
  private lastError: { reason: FeedFailure; message: string; at: number } | undefined;
  private consecutiveFailures = 0;
  private nextDelayMs: number | undefined;
  private logSize: bigint | undefined;
  /** The size of the checkpoint verified during the current poll. */
  private pollSize: bigint | undefined;
  private readonly outcomes: Partial<Record<PollOutcome, number>> = {};
  private evidenceStored = 0;

  constructor(opts: FeederOptions) {
    this.origin = opts.origin;
    this.source = opts.source;
    this.witness = opts.witness;
    this.store = opts.store;
    this.logs = opts.logs;
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.jitter = opts.jitter ?? DEFAULT_JITTER;
    this.targets = opts.forward ?? [];
    this.logger = opts.logger ?? silent;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    const onEvent = opts.onEvent;
    this.onEvent = (e) => {
      if (!onEvent) return;
      try {
        onEvent(e);
      } catch (err) {
        this.logger.warn({ origin: this.origin, err: (err as Error)?.message }, 'feeder event listener threw');
      }
    };
    if (!(this.intervalMs > 0) || !(this.maxBackoffMs > 0)) throw new RangeError('feeder interval and backoff cap must be positive');
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Starts polling (first poll at once). An external signal stops the feeder when aborted. */
  start(signal?: AbortSignal): void {
    if (this.loop) return;
    if (signal?.aborted) return;
    const ac = new AbortController();
    this.ac = ac;
    if (signal) {
      const onAbort = () => void this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      this.unlinkExternal = () => signal.removeEventListener('abort', onAbort);
    }
    this.loop = this.run(ac.signal);
  }

  /** Stops polling; resolves once in-flight work (requests, witness calls) has finished. */
  async stop(): Promise<void> {
    this.ac?.abort();
    this.unlinkExternal?.();
    this.unlinkExternal = undefined;
    const loop = this.loop;
    if (loop) await loop;
    await this.chain.catch(() => {});
    if (this.loop === loop) {
      this.loop = undefined;
      this.ac = undefined;
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.pollOnce(signal);
      if (signal.aborted) break;
      await sleep(this.nextDelayMs ?? this.intervalMs, signal);
    }
  }

  /** One poll (serialised with the loop's). Never rejects. */
  pollOnce(signal?: AbortSignal): Promise<PollResult> {
    const p = this.chain.then(() => this.poll(signal));
    this.chain = p.catch(() => {});
    return p;
  }

  /** The delay before the next poll after `failures` consecutive failures (with jitter). */
  delayFor(failures: number): number {
    let base = this.intervalMs;
    if (failures > 0) base = Math.min(Math.max(this.maxBackoffMs, this.intervalMs), this.intervalMs * 2 ** Math.min(failures, 30));
    const j = 1 + (this.random() * 2 - 1) * this.jitter;
    return Math.max(1, Math.round(base * j));
  }

  stats(): FeederStats {
    return {
      origin: this.origin,
      type: this.source.type,
      url: this.source.url,
      running: this.running,
      polls: this.polls,
      ...(this.lastPollAt !== undefined ? { lastPollAt: this.lastPollAt } : {}),
      ...(this.lastSuccessAt !== undefined ? { lastSuccessAt: this.lastSuccessAt } : {}),
      ...(this.lastOutcome !== undefined ? { lastOutcome: this.lastOutcome } : {}),
      ...(this.lastError !== undefined ? { lastError: { ...this.lastError } } : {}),
      consecutiveFailures: this.consecutiveFailures,
      ...(this.nextDelayMs !== undefined ? { nextDelayMs: this.nextDelayMs } : {}),
      ...(this.logSize !== undefined ? { logSize: this.logSize } : {}),
      outcomes: { ...this.outcomes },
      evidenceStored: this.evidenceStored,
      forward: this.targets.map((t) => ({
        url: t.url,
        ...(t.size !== undefined ? { size: t.size } : {}),
        ...(t.lastResult ? { lastOutcome: t.lastResult.outcome } : {}),
        ...(t.lastResult?.reason ? { lastReason: t.lastResult.reason } : {}),
      })),
    };
  }

  private async poll(signal?: AbortSignal): Promise<PollResult> {
    const started = this.now();
    let outcome: PollOutcome;
    let reason: string | undefined;
    let size: bigint | undefined;
    this.pollSize = undefined;
    try {
      ({ outcome, reason } = await this.feed(signal));
    } catch (e) {
      if (e instanceof FeedAbortedError || signal?.aborted) return { outcome: 'aborted' };
      if (e instanceof FeedError) {
        outcome = e.reason;
        reason = e.message;
      } else {
        outcome = 'internal';
        reason = (e as Error)?.message ?? String(e);
        (this.logger.error ?? this.logger.warn).call(this.logger, { origin: this.origin, err: e, stack: (e as Error)?.stack }, 'feeder: unexpected error');
      }
    }
    size = this.pollSize as bigint | undefined;
    const at = this.now();
    this.polls++;
    this.lastPollAt = at;
    this.lastOutcome = outcome;
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    const ok = (POLL_SUCCESSES as readonly string[]).includes(outcome);
    if (ok) {
      this.consecutiveFailures = 0;
      this.lastSuccessAt = at;
    } else {
      this.consecutiveFailures++;
      this.lastError = { reason: outcome as FeedFailure, message: reason ?? outcome, at };
    }
    this.nextDelayMs = this.delayFor(this.consecutiveFailures);
    const fields = { origin: this.origin, type: this.source.type, outcome, reason, size: size?.toString(), consecutiveFailures: this.consecutiveFailures, nextDelayMs: this.nextDelayMs };
    if (!ok) this.logger.warn(fields, 'feeder poll failed');
    else if (outcome === 'advanced') this.logger.info(fields, 'feeder: witness advanced');
    else this.logger.debug?.(fields, 'feeder poll');
    this.onEvent({
      type: 'poll',
      origin: this.origin,
      outcome,
      ...(reason !== undefined ? { reason } : {}),
      ...(size !== undefined ? { size } : {}),
      durationMs: at - started,
      consecutiveFailures: this.consecutiveFailures,
      nextDelayMs: this.nextDelayMs,
      at,
    });
    return { outcome, ...(reason !== undefined ? { reason } : {}), ...(size !== undefined ? { size } : {}) };
  }

  private log(): WitnessLog {
    const log = this.logs.get(this.origin);
    if (!log || log.disabled) throw new FeedError('not-configured', `the witness does not follow ${JSON.stringify(this.origin)}`);
    return log;
  }

  /** Fetches and verifies the log's latest checkpoint. */
  private async latest(log: WitnessLog, signal?: AbortSignal): Promise<{ raw: Uint8Array; note: OpenedNote; checkpoint: Checkpoint }> {
    const raw = await this.source.latest(signal);
    let note: OpenedNote;
    try {
      note = openNote(raw, log.verifiers);
    } catch (e) {
      if (e instanceof NoteError) {
        const what = decodeUtf8(raw.subarray(0, 60))?.split('\n')[0] ?? '(binary)';
        throw new FeedError(e.code === 'malformed' ? 'malformed' : 'bad-signature', `checkpoint from ${this.source.url}: ${e.message} (${JSON.stringify(what)})`);
      }
      throw e;
    }
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(note.text);
    } catch (e) {
      if (e instanceof CheckpointError) throw new FeedError('malformed', `checkpoint from ${this.source.url}: ${e.message}`);
      throw e;
    }
    if (checkpoint.origin !== this.origin) {
      throw new FeedError('wrong-origin', `checkpoint from ${this.source.url} has origin ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(this.origin)}`);
    }
    return { raw, note, checkpoint };
  }

  private async feed(signal?: AbortSignal): Promise<{ outcome: PollOutcome; reason?: string }> {
    const log = this.log();
    const { raw, note, checkpoint: cp } = await this.latest(log, signal);
    this.logSize = cp.size;
    this.pollSize = cp.size;
    let failure: FeedError | undefined;
    let success: { outcome: PollSuccess; reason?: string } | undefined;
    const pairs: SuspectPair[] = [];
    for (let attempt = 0; ; attempt++) {
      const state = await this.store.getState(this.origin);
      const old = state?.size ?? 0n;
      // SPEC (§4.4): if the witness's size is larger than the checkpoint's, stop: it is ahead.
      if (old > cp.size) {
        success = { outcome: 'behind', reason: `the log served size ${cp.size}; the witness holds ${old}` };
        break;
      }
      let proof: Uint8Array[] = [];
      if (old > 0n && old < cp.size) {
        let attemptProof = await this.source.proof(old, cp, { signal });
        let ok = verifyConsistency(old, cp.size, state!.root, cp.root, attemptProof.proof);
        if (!ok && attemptProof.fromCache) {
          // Maybe a cached tile from another branch: evict and rebuild from fresh tiles.
          attemptProof.settle(false);
          attemptProof = await this.source.proof(old, cp, { signal, fresh: true });
          ok = verifyConsistency(old, cp.size, state!.root, cp.root, attemptProof.proof);
        }
        attemptProof.settle(ok);
        proof = attemptProof.proof;
      }
      // THE one path: the same rules as POST /add-checkpoint. A failing proof is still submitted,
      // so the witness keeps its (rate-limited) suspect record.
      const res = await this.witness.add({ oldSize: old, proof, note: raw });
      if (res.kind === 'cosigned') {
        success = { outcome: res.advanced ? 'advanced' : 'unchanged' };
        break;
      }
      if (res.kind === 'stale') {
        // Another path (a push, gossip) advanced the state meanwhile: retry once with it.
        if (attempt === 0) continue;
        failure = new FeedError('stale', `the witness's size kept changing (now ${res.size})`);
        break;
      }
      if (res.code === 'inconsistent' && state && old > 0n && old < cp.size) pairs.push({ held: state.note, submitted: decodeUtf8(raw) ?? '' });
      failure = new FeedError(REJECT_REASON[res.code], `witness refused the checkpoint of size ${cp.size} from ${this.source.url}: ${res.reason}`);
      break;
    }
    if (success && (success.outcome === 'advanced' || success.outcome === 'unchanged')) await this.forwardAll(cp, raw, signal);
    if (this.source.tiles) await this.seekEvidence(log, { note, checkpoint: cp }, pairs, signal);
    if (failure) throw failure;
    return success!;
  }

  private async forwardAll(cp: Checkpoint, raw: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.targets.length === 0) return;
    await Promise.all(
      this.targets.map(async (t) => {
        let result: ForwardResult;
        try {
          result = await t.forward(cp, raw, this.source, signal);
        } catch (e) {
          if (e instanceof FeedAbortedError) return;
          result = { url: t.url, outcome: 'internal', reason: (e as Error)?.message ?? String(e) };
        }
        if (result.outcome !== 'cosigned' && result.outcome !== 'up-to-date' && result.outcome !== 'ahead') {
          this.logger.warn({ origin: this.origin, witness: t.url, outcome: result.outcome, reason: result.reason }, 'feeder: forwarding failed');
        }
        this.onEvent({ type: 'forward', origin: this.origin, result });
      }),
    );
  }

  /** Turns suspect records (and this poll's own failed proof) into proven evidence where the tiles allow. */
  private async seekEvidence(log: WitnessLog, current: { note: OpenedNote; checkpoint: Checkpoint }, own: SuspectPair[], signal?: AbortSignal): Promise<void> {
    const tiles = this.source.tiles;
    if (!tiles) return;
    try {
      const suspects = await this.store.listSuspects(this.origin);
      const seen = new Set<string>();
      const unresolved: { key: string; pair: SuspectPair }[] = [];
      for (const pair of [...own, ...suspects.map((s) => ({ held: s.held, submitted: s.submitted }))]) {
        const key = pairKey(pair);
        if (seen.has(key) || this.resolved.has(key)) continue;
        seen.add(key);
        unresolved.push({ key, pair });
      }
      for (const { key, pair } of unresolved.slice(0, SUSPECTS_PER_POLL)) {
        if (signal?.aborted) return;
        const verdict = await provePair(pair, current, tiles, log.verifiers, signal);
        if (verdict.kind === 'pending') {
          this.logger.debug?.({ origin: this.origin, reason: verdict.reason }, 'feeder: suspect not provable yet');
          continue;
        }
        this.remember(key);
        if (verdict.kind !== 'evidence') continue;
        const check = verifySplitView(verdict.evidence, (o) => (o === this.origin ? log.verifiers : undefined));
        if (!check.ok) {
          this.onEvent({ type: 'evidence-error', origin: this.origin, reason: `evidence did not verify: ${check.reason}` });
          continue;
        }
        const isNew = await this.witness.storeEvidence(this.origin, check.evidence);
        if (isNew) this.evidenceStored++;
        this.logger.warn({ origin: this.origin, sizes: verdict.sizes.map(String), isNew }, 'feeder: proven split-view evidence from the log\'s tiles');
        this.onEvent({ type: 'evidence', origin: this.origin, id: evidenceId(verdict.evidence), isNew, sizes: verdict.sizes });
      }
    } catch (e) {
      if (e instanceof FeedAbortedError || signal?.aborted) return;
      const reason = (e as Error)?.message ?? String(e);
      this.logger.warn({ origin: this.origin, reason }, 'feeder: could not examine suspect records');
      this.onEvent({ type: 'evidence-error', origin: this.origin, reason });
    }
  }

  private remember(key: string): void {
    this.resolved.add(key);
    if (this.resolved.size > RESOLVED_MEMORY) this.resolved.delete(this.resolved.values().next().value as string);
  }
}
