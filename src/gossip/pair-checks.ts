// Pair checks: is a gossiped checkpoint of another size consistent with this node's chain? One
// check per pair however often it is triggered (results cached, checks in flight joined); the
// sources are the split-view prover's (src/evidence/split-view.ts): the log's tiles first, then
// peers and the log's proof API at once under one deadline. See docs/gossip.md, "Detecting split views".
import type { PeerId } from '@libp2p/interface';
import { openNote, type VerifierSet } from '../note/note.js';
import { parseCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { verifyConsistency } from '../merkle/proof.js';
import { toHex } from '../util/bytes.js';
import type { Witness } from '../witness/witness.js';
import type { LogSource } from '../logs/feeders/source.js';
import { provePair } from '../logs/feeders/evidence.js';
import { candidateHFromPrefixProof, hFromProof, provePairFrom, verdictFromConsistency, type Evidence, type ProofSource, type SourceAnswer } from '../evidence/split-view.js';
import { logSignedNote } from './wire.js';
import type { LogView, ViewEntry } from './view.js';
import { SYNC_TIMEOUT_MS, type SyncRequest, type SyncResponse } from './sync.js';

export type CheckResult = 'consistent' | 'evidence' | 'suspect' | 'undecided';

export const MAX_PENDING_CHECKS = 256;
/**
 * Pair checks running at once (each asks up to PROVE_PEERS peers and the log, for up to
 * CHECK_DEADLINE_MS); more wait, at most MAX_WAITING_CHECKS, the largest checkpoints first. Genuine
 * old checkpoints cost a sender 300 bytes each and a node a check each: without the bound, a peer
 * holding many of them could start any number at once at every node that forwards them. When the
 * queue is full the smallest checkpoint's check is dropped: a fork shows in new checkpoints.
 */
export const MAX_RUNNING_CHECKS = 32;
export const MAX_WAITING_CHECKS = 256;
export const PROVE_PEERS = 3;
/** One overall deadline for a pair check's parallel sources (peers and the log's proof API). */
export const CHECK_DEADLINE_MS = 2 * SYNC_TIMEOUT_MS;
/** Pair-check results kept (one check per pair, however often it is triggered). */
export const PAIR_CACHE_MAX = 4096;
/** Undecided and suspect results are retried after this long (a proof source may appear). */
export const PAIR_RETRY_MS = 10 * 60_000;

export interface PairCheckDeps {
  view(origin: string): LogView | undefined;
  logKeys(origin: string): VerifierSet | undefined;
  sources?: (origin: string) => LogSource | undefined;
  /** Peers to ask for a `prove` (those subscribed to the checkpoint topic). */
  peers(): PeerId[];
  request(peer: PeerId, req: SyncRequest, signal?: AbortSignal): Promise<SyncResponse>;
  /** Verifies evidence with this node's log keys, stores and gossips it; true if it verified. */
  proven(e: Evidence): Promise<boolean>;
  readonly witness: Pick<Witness, 'noteSuspect'>;
  onResult(origin: string, result: CheckResult, how: string): void;
  readonly logger: { warn(o: object, m: string): void; debug(o: object, m: string): void };
  now(): number;
  readonly checkDelayMs: number;
  track(p: Promise<unknown>): void;
  stopped(): boolean;
}

function sizeOrder(a: ViewEntry, b: ViewEntry): [ViewEntry, ViewEntry] {
  return a.checkpoint.size <= b.checkpoint.size ? [a, b] : [b, a];
}

const ref = (e: ViewEntry) => ({ note: e.logNote, checkpoint: e.checkpoint });

export class PairChecks {
  /** Checks waiting for their time, by origin + text hash (the entry may leave the view meanwhile). */
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; entry: ViewEntry }>();
  private readonly results = new Map<string, { result: CheckResult; at: number }>();
  private readonly inflight = new Map<string, Promise<CheckResult>>();
  /** Checks waiting for a free slot (MAX_RUNNING_CHECKS), by pair key. */
  private readonly waiting = new Map<string, ViewEntry>();
  /** Counters for tests and metrics: checks that waited, and that were dropped from a full queue. */
  readonly stats = { waited: 0, dropped: 0 };
  private readonly latestCache = new Map<string, { at: number; cp: { note: ReturnType<typeof openNote>; checkpoint: Checkpoint } }>();

  constructor(private readonly d: PairCheckDeps) {}

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.waiting.clear();
  }

  schedule(e: ViewEntry): void {
    const view = this.d.view(e.origin)!;
    const r = view.reference(e);
    if (!r || view.knownConsistent(r, e)) {
      e.checked = true;
      return;
    }
    const key = `${e.origin}\n${e.textHash}`;
    if (this.pending.has(key) || this.pending.size >= MAX_PENDING_CHECKS) return;
    // A checkpoint ahead of our own: our own witness may simply not have been told yet. Give it a moment.
    const delay = e.checkpoint.size > r.checkpoint.size && r.own ? this.d.checkDelayMs : 0;
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.d.track(this.run(e));
    }, delay);
    timer.unref();
    this.pending.set(key, { timer, entry: e });
  }

  /** Checks that waited for our own witness to catch up run now. */
  runPending(origin: string): void {
    for (const [key, p] of this.pending) {
      if (!key.startsWith(origin + '\n')) continue;
      clearTimeout(p.timer);
      this.pending.delete(key);
      this.d.track(this.run(p.entry));
    }
  }

  /** Tries to decide whether e is consistent with this node's chain; proven evidence if not. */
  async run(e: ViewEntry): Promise<void> {
    if (this.d.stopped()) return;
    // The entry may have left the view (a small, old checkpoint): it is still checked.
    const view = this.d.view(e.origin);
    if (!view || e.checked) return;
    const r = view.reference(e);
    if (!r || view.knownConsistent(r, e)) {
      e.checked = true;
      return;
    }
    if (r.checkpoint.size === e.checkpoint.size) return; // a conflict: handled when observed
    const [small, large] = sizeOrder(r, e);
    // One check per pair however often it is triggered (replayed or re-evicted messages).
    const key = `${e.origin}\n${small.checkpoint.size}\n${toHex(small.checkpoint.root)}\n${large.checkpoint.size}\n${toHex(large.checkpoint.root)}`;
    const cached = this.results.get(key);
    if (cached && (cached.result === 'consistent' || cached.result === 'evidence' || this.d.now() - cached.at < PAIR_RETRY_MS)) {
      if (cached.result === 'consistent') e.checked = true;
      return;
    }
    let p = this.inflight.get(key);
    if (!p && this.inflight.size >= MAX_RUNNING_CHECKS) {
      this.wait(key, e);
      return;
    }
    if (!p) {
      p = this.check(small, large).finally(() => {
        this.inflight.delete(key);
        this.next();
      });
      this.inflight.set(key, p);
      const result = await p;
      this.results.delete(key);
      this.results.set(key, { result, at: this.d.now() });
      if (this.results.size > PAIR_CACHE_MAX) this.results.delete(this.results.keys().next().value!);
      if (result === 'consistent') e.checked = true;
      return;
    }
    if ((await p) === 'consistent') e.checked = true;
  }

  /** Queues a check for a free slot; a full queue drops the smallest checkpoint's check. */
  private wait(key: string, e: ViewEntry): void {
    if (this.waiting.has(key)) return;
    this.stats.waited++;
    if (this.waiting.size >= MAX_WAITING_CHECKS) {
      let smallest: [string, ViewEntry] | undefined;
      for (const w of this.waiting) if (!smallest || w[1].checkpoint.size < smallest[1].checkpoint.size) smallest = w;
      const dropped = smallest![1].checkpoint.size >= e.checkpoint.size ? e : smallest![1];
      this.dropped(dropped);
      if (dropped === e) return;
      this.waiting.delete(smallest![0]);
    }
    this.waiting.set(key, e);
  }

  /** A check dropped from a full queue: counted as undecided (metrics, events), and said at warn once a minute. */
  private dropped(e: ViewEntry): void {
    this.stats.dropped++;
    this.d.onResult(e.origin, 'undecided', 'dropped: the pair-check queue is full');
    const now = this.d.now();
    if (now - this.lastDropWarn < 60_000) return;
    this.lastDropWarn = now;
    this.d.logger.warn({ origin: e.origin, size: e.checkpoint.size.toString(), running: this.inflight.size, waiting: this.waiting.size }, 'pair checks dropped: too many gossiped checkpoints to check at once (a peer may be sending many old ones); the smallest are left unchecked');
  }
  private lastDropWarn = -Infinity;

  /** Starts the waiting check of the largest checkpoint, if any. */
  private next(): void {
    if (this.d.stopped() || this.waiting.size === 0) return;
    let best: [string, ViewEntry] | undefined;
    for (const w of this.waiting) if (!best || w[1].checkpoint.size > best[1].checkpoint.size) best = w;
    this.waiting.delete(best![0]);
    this.d.track(this.run(best![1]));
  }

  /** Decides one pair with the prover: tiles first, then peers and the proof API at once. */
  private async check(small: ViewEntry, large: ViewEntry): Promise<CheckResult> {
    const origin = small.origin;
    const verifiers = this.d.logKeys(origin);
    if (!verifiers) return 'undecided';
    const source = this.d.sources?.(origin);
    const first: ProofSource[] = source?.tiles ? [this.tilesSource(origin, source, verifiers)] : [];
    const parallel: ProofSource[] = [this.peersSource()];
    if (source && !source.tiles) parallel.push(this.proofApiSource(source));
    const r = await provePairFrom(ref(small), ref(large), { first, parallel, deadlineMs: CHECK_DEADLINE_MS, accept: (ev) => this.d.proven(ev) });
    if (r.result === 'suspect') await this.recordSuspect(small, large, r.reason);
    if (r.result === 'undecided') this.d.logger.debug({ origin, sizes: [small.checkpoint.size.toString(), large.checkpoint.size.toString()] }, 'gossiped checkpoint could not be checked (no proof source)');
    this.d.onResult(origin, r.result, r.how);
    return r.result;
  }

  /** The log's tiles: h and the proof straight from the tree (provePair from the feeders). */
  private tilesSource(origin: string, source: LogSource, verifiers: VerifierSet): ProofSource {
    return {
      name: 'tiles',
      prove: async (small, large): Promise<SourceAnswer> => {
        const current = await this.latestVerified(origin, source, verifiers);
        const note = (x: typeof small) => logSignedNote({ logNote: x.note });
        const v = await provePair({ held: note(small), submitted: note(large) }, current, source.tiles!, verifiers, AbortSignal.timeout(SYNC_TIMEOUT_MS));
        return v.kind === 'evidence' || v.kind === 'consistent' ? (v.kind === 'evidence' ? { kind: 'evidence', evidence: v.evidence } : { kind: 'consistent' }) : undefined;
      },
    };
  }

  /** The log's proof API (Rekor-style). It gives h itself only when m is not a power of two. */
  private proofApiSource(source: LogSource): ProofSource {
    return {
      name: 'proof-api',
      prove: async (small, large, signal): Promise<SourceAnswer> => {
        try {
          const m = small.checkpoint.size;
          const n = large.checkpoint.size;
          const sig = AbortSignal.any([signal, AbortSignal.timeout(SYNC_TIMEOUT_MS)]);
          const attempt = await source.proof(m, large.checkpoint, { signal: sig });
          const ok = verifyConsistency(m, n, small.checkpoint.root, large.checkpoint.root, attempt.proof);
          attempt.settle(ok);
          if (ok) return { kind: 'consistent' };
          let h = hFromProof(m, n, attempt.proof, large.checkpoint.root);
          if (!h && m >= 4n && (m & (m - 1n)) === 0n) {
            // The API omits h for m a power of two (RFC 6962; Rekor and Sigsum too): the proof
            // from m-1 to m yields a candidate, used only if (m, h) -> B verifies.
            const inner = await source.proof(m - 1n, small.checkpoint, { signal: sig });
            const cand = candidateHFromPrefixProof(m, inner.proof);
            const good = cand !== undefined && verifyConsistency(m, n, cand, large.checkpoint.root, attempt.proof);
            inner.settle(good);
            if (good) h = cand;
          }
          const v = h ? verdictFromConsistency(small, large, h, attempt.proof) : undefined;
          if (v?.kind === 'evidence') return v;
          return { kind: 'refused', reason: 'the log\'s consistency proof does not verify and does not prove a split view' };
        } catch (err) {
          return { kind: 'refused', reason: `proof API: ${(err as Error).message}` };
        }
      },
    };
  }

  /** Up to PROVE_PEERS peers at once ("prove"); the first verified answer decides. */
  private peersSource(): ProofSource {
    return {
      name: 'peer',
      prove: async (small, large, signal): Promise<SourceAnswer> => {
        const note = logSignedNote({ logNote: large.note });
        const askOne = async (peer: PeerId): Promise<SourceAnswer> => {
          let res: SyncResponse;
          try {
            res = await this.d.request(peer, { type: 'prove', origin: small.checkpoint.origin, size: small.checkpoint.size, note }, signal);
          } catch {
            return undefined;
          }
          if (res.type !== 'prove' || signal.aborted) return undefined;
          const v = verdictFromConsistency(small, large, res.h, res.proof);
          if (v?.kind === 'evidence' && !(await this.d.proven(v.evidence))) return undefined;
          return v;
        };
        const answers = this.d.peers().slice(0, PROVE_PEERS).map(askOne);
        return new Promise<SourceAnswer>((resolve) => {
          let left = answers.length;
          if (left === 0) resolve(undefined);
          for (const a of answers) void a.then((v) => (v ? resolve(v) : --left === 0 && resolve(undefined)), () => --left === 0 && resolve(undefined));
        });
      },
    };
  }

  /** The log's latest checkpoint, verified, cached for a second (tiles are read against it). */
  async latestVerified(origin: string, source: LogSource, verifiers: VerifierSet): Promise<{ note: ReturnType<typeof openNote>; checkpoint: Checkpoint }> {
    const cached = this.latestCache.get(origin);
    if (cached && this.d.now() - cached.at < 1000) return cached.cp;
    const raw = await source.latest(AbortSignal.timeout(SYNC_TIMEOUT_MS));
    const note = openNote(raw, verifiers);
    const cp = { note, checkpoint: parseCheckpoint(note.text) };
    if (cp.checkpoint.origin !== origin) throw new Error('the log served a checkpoint of another origin');
    this.latestCache.set(origin, { at: this.d.now(), cp });
    return cp;
  }

  /** Through the witness core, the only writer of suspect records (it dedupes pairs and rate-limits). */
  private async recordSuspect(small: ViewEntry, large: ViewEntry, reason: string): Promise<void> {
    const outcome = await this.d.witness.noteSuspect({
      origin: small.origin,
      receivedAt: this.d.now(),
      held: logSignedNote(small),
      submitted: logSignedNote(large),
      oldSize: small.checkpoint.size,
      proof: [],
      reason: `gossip: ${reason}`,
    });
    if (outcome === 'recorded') this.d.logger.warn({ origin: small.origin, sizes: [small.checkpoint.size.toString(), large.checkpoint.size.toString()], reason }, 'suspect: gossiped checkpoint could not be proven consistent');
  }
}

