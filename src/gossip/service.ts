// The gossip service of a witness node: a libp2p host (src/gossip/host.ts) plus the logic that
// turns what peers say into views, verdicts and proven evidence. See docs/gossip.md.
//
//   own witness cosigns ─► publish once per checkpoint (own + merged cosignatures)
//   peer message ─► parse + verify (wire.ts) ─► view (view.ts) ─► verdict accept/ignore/reject
//                                                  ├─ same size, other root ─► evidence at once
//                                                  ├─ other size, no shared cosigner ─► pair check:
//                                                  │    log tiles, then peers (sync "prove") and the log's
//                                                  │    proof API at once, one check per pair (cached)
//                                                  │    ─► evidence | consistent | suspect | undecided
//                                                  └─ ahead of our witness + a pull source ─► fetch a
//                                                       proof from the log, witness.add (never cosigned
//                                                       on the gossip alone)
//   evidence message ─► verify against our log keys ─► witness.storeEvidence ─► accept (forwarded)
//
// A checkpoint learned only through gossip is never cosigned on that basis.
//
// Hostile peers (issue 13): every sync exchange has deadlines both ways; inbound streams are capped
// per peer and node-wide (limits.ts) and holding them is penalised; connection slots are kept for
// bootstrap peers and tracked witnesses that prove their peer ID (binding.ts); what is sent is
// capped to what peers accept.
import { join } from 'node:path';
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import type { PeerId, Connection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { TopicValidatorResult } from '@libp2p/gossipsub';
import { keyLabel, VerifierSet as VerifierSetImpl } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { consistencyProofAsync } from '../merkle/proof.js';
import { tileSubtreeHasher } from '../merkle/tiles.js';
import { equalBytes, utf8 } from '../util/bytes.js';
import type { Witness, WitnessEvent, LogRegistry } from '../witness/witness.js';
import type { LogState, WitnessStore } from '../witness/store.js';
import { encodeEvidence, evidenceId, verifyEvidence, type Evidence } from '../evidence/split-view.js';
import type { LogSource } from '../logs/feeders/source.js';
import { createGossipHost, loadOrCreatePeerKey, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_INBOUND_STREAM_BYTES, type GossipHost, type P2pOptions } from './host.js';
import { Deadline, KeyedLimiter, MAX_INBOUND_PER_PEER, MAX_OUTBOUND_PER_PEER, StreamCounter } from './limits.js';
import { signBinding, type BindingKey, type BindingRecord } from './binding.js';
import { CHECKPOINT_TOPIC, EVIDENCE_TOPIC, EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2, logSignedNote, parseCheckpointMessage, parseEvidenceMessage, VerifiedLines, type CheckpointMessage, type Trust, type Verdict } from './wire.js';
import { LogView, sameSizeEvidence, type ViewEntry } from './view.js';
import { PairChecks } from './pair-checks.js';
import { Peers, BAN_MS } from './peers.js';
import { Exchange, EXCHANGE_PROTOCOL, EXCHANGE_VERSION, shortLogId, type Item, type ItemVerdict } from './exchange.js';
import type { SignatureLine } from '../note/note.js';
import type { HeldCheckpoint } from '../http/distributor.js';
import { NO_METRICS, registerGossipMetrics, type GossipMetrics } from './metrics.js';
import {
  SYNC_PROTOCOL,
  SYNC_TIMEOUT_MS,
  MAX_NOTES,
  MAX_ORIGINS,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  readAll,
  writeAll,
  ByteBudget,
  type ByteStream,
  type SyncRequest,
  type SyncResponse,
} from './sync.js';

export { BAN_MS };
export const DEFAULT_CHECK_DELAY_MS = 1000;
export const DEFAULT_STARTUP_SYNC_MS = 5000;
const BOOTSTRAP_INTERVAL_MS = 2000;
/** The shortest time between two gossip-triggered polls of one log. */
export const ADVANCE_GAP_MS = 2000;
const SCORE_CHECK_INTERVAL_MS = 1000;
const VIEWS_MIN_INTERVAL_MS = 10_000;
const RESPONSE_BUDGET = MAX_RESPONSE_BYTES - 64 * 1024;

export interface GossipLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

const SILENT: GossipLogger = { error() {}, warn() {}, info() {}, debug() {} };

export type GossipEvent =
  /** Something new about a checkpoint: its text, and/or cosignatures (key labels) new to this node. */
  | { type: 'checkpoint'; origin: string; size: bigint; textHash: string; via: 'gossip' | 'sync' | 'own'; newText: boolean; added: string[]; at: number }
  | { type: 'verdict'; topic: string; verdict: Verdict; reason?: string; from?: string }
  | { type: 'evidence'; origin: string; id: string; via: 'detected' | 'gossip' | 'sync'; isNew: boolean; at: number }
  | { type: 'check'; origin: string; result: 'consistent' | 'evidence' | 'suspect' | 'undecided'; how: string }
  | { type: 'banned'; peer: string; score: number }
  | { type: 'penalised'; peer: string; reason: PenaltyReason; points: number }
  | { type: 'bound'; peer: string; witness: string }
  | { type: 'pruned'; peer: string }
  | { type: 'refused'; peer: string; reason: 'other-version' }
  | { type: 'restored'; origin: string; size: bigint; from: string }
  | { type: 'published'; topic: string; origin: string };

export type PenaltyReason = 'held-stream' | 'too-many-streams' | 'oversized' | 'invalid';

export interface GossipServiceOptions {
  /** Wire version: 2 (default: the exchange protocol, docs/gossip.md "Version 2") or 1 (gossipsub topics /1, sync/1.0.0). */
  readonly version?: 1 | 2;
  readonly p2p: P2pOptions;
  /** The libp2p identity key file (created 0600 when missing). */
  readonly identityFile: string;
  readonly witness: Witness;
  readonly store: WitnessStore;
  readonly logs: LogRegistry & { origins(): string[] };
  /** This node's cosignature verifiers (one per key). */
  readonly ownKeys: readonly Verifier[];
  /** Cosignature verifiers of the other witnesses this node tracks. */
  readonly witnesses: readonly Verifier[];
  /** The pull source of a log, if the node pulls it (tiles give proofs for evidence). */
  readonly sources?: (origin: string) => LogSource | undefined;
  /** Polls a pulled log now through its feeder (the feeders' pull path); resolves to the outcome. */
  readonly advance?: (origin: string) => Promise<unknown> | undefined;
  readonly metricsRegistry?: Registry;
  readonly logger?: GossipLogger;
  readonly onEvent?: (e: GossipEvent) => void;
  readonly now?: () => number;
  /** Grace before checking a gossiped checkpoint ahead of this node's own (default 1 s). */
  readonly checkDelayMs?: number;
  /** How long start() waits for peers' copies of this node's cosignatures (default 5 s). */
  readonly startupSyncMs?: number;
  /** This node's witness keys, to sign its peer bindings (src/gossip/binding.ts); without them it presents none. */
  readonly bindingKeys?: readonly BindingKey[];
}

export class GossipService {
  private host: GossipHost | undefined;
  private readonly trust: Trust;
  private readonly ownLabels: Set<string>;
  private readonly views = new Map<string, LogView>();
  private readonly verified = new VerifiedLines();
  private readonly published = new Map<string, Set<string>>();
  private readonly evidenceSeen = new Set<string>();
  private readonly checks: PairChecks;
  /** The wire version this node speaks. */
  readonly version: 1 | 2;
  private readonly syncProtocol: string;
  private readonly evidenceTopic: string;
  private exchange: Exchange | undefined;
  /** REF (16 hex) -> origin and text hash, for version 2 cosignatures. */
  private readonly refs = new Map<string, { origin: string; textHash: string }>();
  /** Peers of the other wire version: refused (not banned) until then. */
  private readonly otherVersion = new Map<string, number>();
  private readonly advancing = new Set<string>();
  private readonly lastAdvance = new Map<string, number>();
  private readonly advanceTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastViewsAt = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly metrics: GossipMetrics;
  private readonly logger: GossipLogger;
  private readonly now: () => number;
  private readonly checkDelayMs: number;
  private readonly startupSyncMs: number;
  private stopped = false;
  private readonly peers: Peers;
  private readonly inbound: StreamCounter;
  private readonly inboundBytes: ByteBudget;
  private readonly outbound = new KeyedLimiter(MAX_OUTBOUND_PER_PEER);
  /** Tracked witnesses by cosignature key label. */
  private readonly tracked = new Map<string, Verifier>();
  private ownBindings: BindingRecord[] = [];

  constructor(private readonly opts: GossipServiceOptions) {
    const witnessKeys = new VerifierSetImpl();
    const seen = new Set<string>();
    for (const v of [...opts.ownKeys, ...opts.witnesses]) {
      const l = keyLabel(v.name, v.keyId);
      if (seen.has(l)) continue;
      seen.add(l);
      witnessKeys.add(v);
    }
    this.ownLabels = new Set(opts.ownKeys.map((v) => keyLabel(v.name, v.keyId)));
    this.trust = {
      logKeys: (origin) => {
        const l = opts.logs.get(origin);
        return l && !l.disabled ? l.verifiers : undefined;
      },
      witnessKeys,
    };
    this.metrics = opts.metricsRegistry ? registerGossipMetrics(opts.metricsRegistry) : NO_METRICS;
    this.logger = opts.logger ?? SILENT;
    this.now = opts.now ?? Date.now;
    this.checkDelayMs = opts.checkDelayMs ?? DEFAULT_CHECK_DELAY_MS;
    this.startupSyncMs = opts.startupSyncMs ?? DEFAULT_STARTUP_SYNC_MS;
    this.inbound = new StreamCounter(opts.p2p.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS, MAX_INBOUND_PER_PEER);
    this.inboundBytes = new ByteBudget(opts.p2p.maxInboundStreamBytes ?? DEFAULT_MAX_INBOUND_STREAM_BYTES);
    for (const v of opts.witnesses) this.tracked.set(keyLabel(v.name, v.keyId), v);
    this.peers = new Peers({
      host: () => this.host,
      p2p: opts.p2p,
      tracked: this.tracked,
      request: (peer, req, signal) => this.request(peer, req, signal),
      refused: (id) => (this.otherVersion.get(id) ?? 0) > this.now(),
      metrics: this.metrics,
      emit: (e) => this.emit(e),
      logger: this.logger,
      now: () => this.now(),
      track: (p) => this.track(p),
      stopped: () => this.stopped,
    });
    this.version = opts.version ?? 2;
    this.syncProtocol = this.version === 2 ? SYNC_PROTOCOL_V2 : SYNC_PROTOCOL;
    this.evidenceTopic = this.version === 2 ? EVIDENCE_TOPIC_V2 : EVIDENCE_TOPIC;
    this.checks = new PairChecks({
      view: (o) => this.views.get(o),
      logKeys: (o) => this.trust.logKeys(o),
      ...(opts.sources ? { sources: opts.sources } : {}),
      peers: () => this.host?.services.pubsub.getSubscribers(this.version === 2 ? this.evidenceTopic : CHECKPOINT_TOPIC) ?? [],
      request: (peer, req, signal) => this.request(peer, req, signal),
      proven: (ev) => this.proven(ev, 'detected'),
      witness: opts.witness,
      onResult: (origin, result, how) => {
        this.metrics.check(result);
        this.emit({ type: 'check', origin, result, how });
      },
      logger: this.logger,
      now: () => this.now(),
      checkDelayMs: this.checkDelayMs,
      track: (p) => this.track(p),
      stopped: () => this.stopped,
    });
  }

  /** Connection slots kept for bootstrap peers and bound tracked witnesses. */
  get reservedSlots(): number {
    return this.peers.reservedSlots;
  }

  /** A bootstrap peer, or a peer holding a valid binding of a tracked witness: never pruned, has a reserved slot. */
  isProtected(peer: string): boolean {
    return this.peers.isProtected(peer);
  }

  /** The tracked witness (key label) a peer proved it runs, if any. */
  boundWitness(peer: string): string | undefined {
    return this.peers.boundWitness(peer);
  }

  /** Penalty points a peer currently carries (held streams, oversized frames, too many streams). */
  penaltyOf(peer: string): number {
    return this.peers.penaltyOf(peer);
  }

  private penalise(peer: string, reason: PenaltyReason): void {
    this.peers.penalise(peer, reason);
  }

  /** gossipsub scores of connected peers (peer id -> score). */
  scores(): Map<string, number> {
    return this.peers.scores();
  }

  isBanned(peer: PeerId | string): boolean {
    return this.peers.isBanned(peer);
  }

  /** Closes unprotected peers beyond the slot limits (also run every second). */
  enforceSlots(): void {
    this.peers.enforceSlots();
  }

  /** Inbound sync streams open right now (node-wide). */
  get inboundStreams(): number {
    return this.inbound.open;
  }

  /** The peer ID (after start). */
  get peerId(): string {
    return this.requireHost().peerId.toString();
  }

  /** Dialable addresses, each ending in /p2p/<peer id> (after start). */
  get multiaddrs(): string[] {
    return this.requireHost().getMultiaddrs().map((m) => m.toString());
  }

  get libp2p(): GossipHost {
    return this.requireHost();
  }

  private requireHost(): GossipHost {
    if (!this.host) throw new Error('gossip service not started');
    return this.host;
  }

  private emit(e: GossipEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // observers must not break the node
    }
  }

  /** Runs a background task, tracked so stop() can wait for it. */
  private track<T>(p: Promise<T>): void {
    const q = p.catch((e) => this.logger.warn({ err: (e as Error).message }, 'gossip background task failed')).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** Version 2 exchange counters (frames and bytes written, frames read, duplicates, early cosignatures). */
  get exchangeStats(): Exchange['stats'] | undefined {
    return this.exchange?.stats;
  }

  /** The checkpoints in the view of a log with their verified cosignatures (the distributor reads). */
  heldCheckpoints(origin: string): HeldCheckpoint[] {
    return (this.views.get(origin)?.all() ?? []).map((e) => ({ size: e.checkpoint.size, text: e.logNote.text, logLines: e.logNote.verified, cosignatures: [...e.cosignatures.values()], fetchPq: (ms) => this.fetchPqLines(e.textHash, ms) }));
  }

  /**
   * Fetches the ML-DSA-44 lines peers announced on a checkpoint text this node holds (version 2:
   * WANT over the exchange), waiting at most ms. Resolves either way; the caller reads the view.
   */
  async fetchPqLines(textHash: string, ms = 2000): Promise<void> {
    const ref = textHash.slice(0, 16);
    if (this.exchange?.wantPq(ref)) await this.exchange.settled(ref, ms);
  }

  viewOf(origin: string): LogView | undefined {
    return this.views.get(origin);
  }

  private view(origin: string): LogView {
    let v = this.views.get(origin);
    if (!v) this.views.set(origin, (v = new LogView(origin)));
    return v;
  }

  // ---------------------------------------------------------------- version 2 (exchange)

  private indexRef(e: ViewEntry): void {
    const ref = e.textHash.slice(0, 16);
    if (this.refs.has(ref)) return;
    this.refs.set(ref, { origin: e.origin, textHash: e.textHash });
    if (this.refs.size > 65_536) this.refs.delete(this.refs.keys().next().value!);
    // Cosignatures that came before the text (by any path: exchange, sync, our own witness) apply now.
    this.exchange?.applyEarly(ref);
  }

  private offerText(e: ViewEntry, from?: string): void {
    this.indexRef(e);
    const item: Item = { kind: 'checkpoint', origin: e.origin, textHash: e.textHash, note: utf8(logSignedNote(e)) };
    this.exchange?.offer(item, from);
  }

  private offerCosig(e: ViewEntry, label: string, line: SignatureLine, from?: string): void {
    this.exchange?.offer({ kind: 'cosig', origin: e.origin, textHash: e.textHash, label, sig: line.sig }, from);
  }

  /** What this node follows and tracks, for its peers (version 2 HELLO): its own keys first. */
  private hello(): { version: number; logs: string[]; keys: string[] } {
    const keys = [...this.ownLabels, ...[...this.tracked.keys()].filter((l) => !this.ownLabels.has(l))];
    return { version: EXCHANGE_VERSION, logs: this.opts.logs.origins().filter((o) => this.trust.logKeys(o)).map(shortLogId), keys };
  }

  /**
   * A peer of the other wire version: a clear log line and a hang-up, never a penalty or a ban;
   * not redialled for BAN_MS. True if refused.
   */
  private refuseOtherVersion(peer: PeerId, protocols: readonly string[]): boolean {
    const speaks1 = protocols.includes(SYNC_PROTOCOL);
    const speaks2 = protocols.includes(SYNC_PROTOCOL_V2) || protocols.includes(EXCHANGE_PROTOCOL);
    const other = this.version === 2 ? speaks1 && !speaks2 : speaks2 && !speaks1;
    if (!other) return false;
    const id = peer.toString();
    if ((this.otherVersion.get(id) ?? 0) <= this.now()) {
      this.logger.warn({ peer: id, ours: this.version, theirs: this.version === 2 ? 1 : 2 }, `peer speaks gossip version ${this.version === 2 ? 1 : 2} only; this node speaks version ${this.version}: not exchanging (upgrade the older one)`);
    }
    this.otherVersion.set(id, this.now() + BAN_MS);
    if (this.otherVersion.size > 1024) for (const [p, t] of this.otherVersion) if (t <= this.now()) this.otherVersion.delete(p);
    this.emit({ type: 'refused', peer: id, reason: 'other-version' });
    this.track(this.requireHost().hangUp(peer));
    return true;
  }

  /** A log-signed checkpoint from the exchange: verified like gossip; it carries no cosignatures. */
  private onExchangeCheckpoint(note: Uint8Array, from: string): ItemVerdict {
    const r = parseCheckpointMessage(note, this.trust, this.verified);
    if (!r.ok) return r.verdict;
    if (r.message.cosignatures.length > 0) return 'reject';
    const before = this.views.get(r.message.origin)?.get(r.message.textHash);
    if (before) {
      // Only what this node verified is ever forwarded: the text and the log's verified lines.
      this.offerText(before, from);
      return 'dup';
    }
    this.ingest(r.message, 'gossip', from);
    return 'new';
  }

  /** A cosignature from the exchange on a text this node holds: verified once, then merged and offered on. */
  private onExchangeCosig(ref: string, line: SignatureLine, from: string): ItemVerdict | 'unknown-ref' {
    const at = this.refs.get(ref);
    const entry = at ? this.views.get(at.origin)?.get(at.textHash) : undefined;
    if (!entry) return 'unknown-ref'; // not arrived yet (held back), or left the view
    const label = keyLabel(line.name, line.keyId);
    if (entry.cosignatures.has(label)) {
      this.offerCosig(entry, label, line, from);
      return 'dup';
    }
    let v;
    try {
      v = this.trust.witnessKeys.lookup(line.name, line.keyId);
    } catch {
      return 'ignore';
    }
    if (!v) return 'ignore';
    if (!this.verified.has(entry.textHash, line)) {
      if (!v.verify(entry.logNote.textBytes, line.sig)) return 'reject';
      this.verified.add(entry.textHash, line);
    }
    const res = this.view(entry.origin).observe({ origin: entry.origin, checkpoint: entry.checkpoint, textHash: entry.textHash, logNote: entry.logNote, cosignatures: [line] }, this.now(), false);
    if (res.added.length > 0) {
      this.emit({ type: 'checkpoint', origin: entry.origin, size: entry.checkpoint.size, textHash: entry.textHash, via: 'gossip', newText: false, added: [label], at: this.now() });
      this.offerCosig(entry, label, line, from);
    }
    return 'new';
  }

  /**
   * Starts the host, subscribes, loads this node's own state into the views, dials the bootstrap
   * peers, and (rollback protection) moves the stored state forward to the latest checkpoint
   * peers hold with this node's cosignature, waiting at most startupSyncMs for them.
   */
  async start(): Promise<void> {
    const { key, created } = await loadOrCreatePeerKey(this.opts.identityFile);
    if (created) this.logger.info({ file: this.opts.identityFile }, 'created a new libp2p identity key');
    const host = await createGossipHost({ topics: this.version === 2 ? [EVIDENCE_TOPIC_V2] : undefined, p2p: this.opts.p2p, privateKey: key, isBanned: (p) => this.isBanned(p), retainScoreMs: BAN_MS, appScore: (p) => this.peers.penalties.score(p) });
    this.host = host;
    const pubsub = host.services.pubsub;
    // A gossipsub frame over the RPC limit ends that peer's stream unread: make it cost the sender.
    const ps = pubsub as unknown as { handlePeerReadStreamError(err: Error, peer: PeerId): void };
    const onReadError = ps.handlePeerReadStreamError.bind(pubsub);
    ps.handlePeerReadStreamError = (err, peer) => {
      if (err?.name === 'InvalidDataLengthError' || err?.name === 'InvalidDataLengthLengthError') this.penalise(peer.toString(), 'oversized');
      onReadError(err, peer);
    };
    const nowS = BigInt(Math.floor(this.now() / 1000));
    this.ownBindings = (this.opts.bindingKeys ?? []).map((k) => signBinding(k, host.peerId.toString(), nowS));
    for (const id of this.peers.bootstrapIds) this.peers.tag(id);
    // TopicValidatorResult's values are exactly the Verdict strings.
    pubsub.topicValidators.set(this.evidenceTopic, async (peer, msg) => (await this.validateEvidence(msg.data, peer.toString())) as TopicValidatorResult);
    pubsub.subscribe(this.evidenceTopic);
    if (this.version === 1) {
      pubsub.topicValidators.set(CHECKPOINT_TOPIC, (peer, msg) => this.validateCheckpoint(msg.data, peer.toString()) as TopicValidatorResult);
      pubsub.subscribe(CHECKPOINT_TOPIC);
    } else {
      const ex = new Exchange({
        host,
        selfId: host.peerId.toString(),
        hello: () => this.hello(),
        onCheckpoint: (note, from) => this.onExchangeCheckpoint(note, from),
        onCosig: (ref, line, from) => this.onExchangeCosig(ref, line, from),
        penalise: (peer, reason, detail) => {
          this.logger.debug({ peer, reason, detail }, 'exchange frame refused');
          this.penalise(peer, reason);
        },
        logger: this.logger,
      });
      this.exchange = ex;
      await host.handle(EXCHANGE_PROTOCOL, (stream, connection) => this.track(ex.serve(stream, connection)), { maxInboundStreams: 2, maxOutboundStreams: 2 });
      ex.start();
    }
    // libp2p's per-connection limit is a backstop; the node-wide and per-peer caps are serveSync's.
    await host.handle(this.syncProtocol, (stream, connection) => this.track(this.serveSync(stream as unknown as ByteStream, connection)), { maxInboundStreams: 2 * MAX_INBOUND_PER_PEER, maxOutboundStreams: 2 * MAX_OUTBOUND_PER_PEER });
    host.addEventListener('peer:identify', (evt) => {
      const { peerId, protocols } = evt.detail;
      if (this.refuseOtherVersion(peerId, protocols)) return;
      if (!protocols.includes(this.syncProtocol)) return;
      if (this.exchange && protocols.includes(EXCHANGE_PROTOCOL)) this.track(this.exchange.open(peerId));
      this.track(this.requestViews(peerId));
      if (this.tracked.size > 0) this.track(this.peers.requestBinding(peerId));
    });
    host.addEventListener('connection:open', () => {
      this.metrics.setPeers(host.getPeers().length);
      this.peers.queueSlotCheck();
    });
    host.addEventListener('connection:close', () => this.metrics.setPeers(host.getPeers().length));
    host.addEventListener('peer:disconnect', (evt) => {
      const id = evt.detail.toString();
      this.peers.bindingAsked.delete(id);
      this.exchange?.peerGone(id);
    });
    for (const origin of this.opts.logs.origins()) {
      const s = await this.opts.store.getState(origin);
      if (s) this.observeOwnState(origin, s, false);
    }
    this.logger.info({ peerId: host.peerId.toString(), addrs: this.multiaddrs }, 'gossip listening');
    // Not awaited: an address that never answers would hold start() for the dial timeout on top of
    // startupSync; restoreOwnState waits for the bootstrap peers within its own deadline.
    // With startupSync, the dials run within its deadline (restoreOwnState asks each peer as soon
    // as it connects): an address that never answers must not hold start() for the dial timeout.
    const started = this.now();
    const dialing = this.peers.dialBootstrap();
    this.track(dialing);
    if (this.startupSyncMs <= 0 || this.opts.p2p.bootstrap.length === 0) await raceTimeout(dialing, SYNC_TIMEOUT_MS);
    this.timers.push(setInterval(() => void this.peers.dialBootstrap(), BOOTSTRAP_INTERVAL_MS));
    this.timers.push(
      setInterval(() => {
        // Per-peer maps stay bounded however many fresh identities come and go.
        if (this.lastViewsAt.size > 1024) for (const [p, t] of this.lastViewsAt) if (this.now() - t >= VIEWS_MIN_INTERVAL_MS) this.lastViewsAt.delete(p);
        this.peers.checkScores();
        this.enforceSlots();
      }, SCORE_CHECK_INTERVAL_MS),
    );
    for (const t of this.timers) t.unref();
    await this.restoreOwnState(Math.max(0, this.startupSyncMs - (this.now() - started)));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.checks.stop();
    for (const t of this.advanceTimers.values()) clearTimeout(t);
    this.exchange?.stop();
    await this.host?.stop();
    await Promise.allSettled([...this.inflight]);
  }

  /** Connects to a peer (multiaddr with /p2p/<id>). */
  async dial(addr: string): Promise<void> {
    await this.requireHost().dial(multiaddr(addr), { signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
  }

  // ---------------------------------------------------------------- own checkpoints

  /** Feed every WitnessEvent of this node's witness here (the node does). */
  onWitnessEvent(e: WitnessEvent): void {
    if (this.stopped || !this.host) return;
    if (e.type === 'cosigned') this.track(this.publishOwn(e.origin));
    // Evidence found outside the gossip layer (the witness core on a same-size push, a pull
    // feeder proving a suspect from tiles) is gossiped too, once, after verifying it here.
    if (e.type === 'evidence' && !this.evidenceSeen.has(e.id)) {
      const v = verifyEvidence(e.evidence, (o) => this.trust.logKeys(o));
      if (!v.ok) return;
      this.evidenceSeen.add(e.id);
      this.track(this.publish(this.evidenceTopic, encodeEvidence(e.evidence), e.origin));
    }
  }

  private observeOwnState(origin: string, s: LogState, publish: boolean): ViewEntry | undefined {
    const r = parseCheckpointMessage(utf8(s.cosigned), this.trust, this.verified);
    if (!r.ok) {
      this.logger.warn({ origin, reason: r.reason }, 'own stored checkpoint does not verify (keys changed?)');
      return undefined;
    }
    const res = this.view(origin).observe(r.message, this.now(), true);
    this.indexRef(res.entry);
    this.emit({ type: 'checkpoint', origin, size: r.message.checkpoint.size, textHash: r.message.textHash, via: 'own', newText: res.isNewText, added: res.added.map((l) => keyLabel(l.name, l.keyId)), at: this.now() });
    for (const c of res.conflicts) this.track(this.proven(sameSizeEvidence(res.entry, c), 'detected'));
    if (publish) this.publishEntry(res.entry);
    // Checks that were waiting for our own witness to catch up can run now.
    if (res.isNewText) this.checks.runPending(origin);
    return res.entry;
  }

  private async publishOwn(origin: string): Promise<void> {
    const s = await this.opts.store.getState(origin);
    if (!s || this.stopped) return;
    this.observeOwnState(origin, s, true);
  }

  /** At most one message per log per checkpoint: its text, the log lines, every known cosignature. */
  private publishEntry(e: ViewEntry): void {
    let set = this.published.get(e.origin);
    if (!set) this.published.set(e.origin, (set = new Set()));
    if (set.has(e.textHash)) return;
    if (set.size >= 256) set.clear();
    set.add(e.textHash);
    if (this.exchange) {
      // Version 2: the checkpoint once, then every cosignature held on it, each an item of its own.
      this.offerText(e);
      for (const [label, line] of e.cosignatures) this.offerCosig(e, label, line);
      this.metrics.published(EXCHANGE_PROTOCOL);
      this.emit({ type: 'published', topic: EXCHANGE_PROTOCOL, origin: e.origin });
      return;
    }
    const data = this.views.get(e.origin)!.message(e, this.ownLabels);
    this.track(this.publish(CHECKPOINT_TOPIC, data, e.origin));
  }

  private async publish(topic: string, data: Uint8Array, origin: string): Promise<void> {
    if (!this.host || this.stopped) return;
    await this.host.services.pubsub.publish(topic, data);
    this.metrics.published(topic);
    this.emit({ type: 'published', topic, origin });
  }

  // ---------------------------------------------------------------- incoming checkpoints

  private verdict(topic: string, v: Verdict, reason: string | undefined, from: string | undefined): Verdict {
    this.metrics.message(topic, v);
    this.emit({ type: 'verdict', topic, verdict: v, ...(reason ? { reason } : {}), ...(from ? { from } : {}) });
    if (v === 'reject') this.logger.debug({ topic, from, reason }, 'gossip message rejected');
    return v;
  }

  /** gossipsub validator for the checkpoint topic. */
  validateCheckpoint(data: Uint8Array, from?: string): Verdict {
    const r = parseCheckpointMessage(data, this.trust, this.verified);
    if (!r.ok) return this.verdict(CHECKPOINT_TOPIC, r.verdict, r.reason, from);
    const { news } = this.ingest(r.message, 'gossip');
    if (r.message.cosignatures.length === 0) return this.verdict(CHECKPOINT_TOPIC, 'ignore', 'no cosignature by a witness this node tracks', from);
    if (r.message.unknownLines > 0) return this.verdict(CHECKPOINT_TOPIC, 'ignore', 'carries lines by keys this node does not know (not forwarded)', from);
    return this.verdict(CHECKPOINT_TOPIC, news ? 'accept' : 'ignore', news ? undefined : 'nothing new', from);
  }

  /** Adds a verified message to the view and starts what follows from it. */
  private ingest(m: CheckpointMessage, via: 'gossip' | 'sync', from?: string): { news: boolean } {
    const view = this.view(m.origin);
    const res = view.observe(m, this.now(), false);
    this.indexRef(res.entry);
    if (this.exchange) {
      if (res.isNewText) this.offerText(res.entry, from);
      for (const line of res.added) this.offerCosig(res.entry, keyLabel(line.name, line.keyId), line, from);
    }
    if (res.isNewText || res.added.length > 0) {
      this.emit({ type: 'checkpoint', origin: m.origin, size: m.checkpoint.size, textHash: m.textHash, via, newText: res.isNewText, added: res.added.map((l) => keyLabel(l.name, l.keyId)), at: this.now() });
    }
    for (const c of res.conflicts) this.track(this.proven(sameSizeEvidence(res.entry, c), 'detected'));
    if (res.isNewText && !res.entry.own && res.conflicts.length === 0) this.checks.schedule(res.entry);
    if (res.isNewText) this.maybeAdvance(res.entry);
    return { news: res.isNewText || res.added.length > 0 };
  }

  /**
   * A gossiped checkpoint ahead of this witness: with a pull feeder, poll the log now, through the
   * feeder's own path (its proof, witness.add). Never cosigned on the gossip alone.
   */
  private maybeAdvance(e: ViewEntry): void {
    const advance = this.opts.advance;
    // Only logs this node pulls (a pushed log has no feeder to poll).
    if (!advance || !this.opts.sources?.(e.origin) || this.advancing.has(e.origin) || this.stopped) return;
    // At most one gossip-triggered poll per log per ADVANCE_GAP_MS (a log publishing every second
    // would otherwise be polled every second by every node, whatever its interval); the latest
    // checkpoint seen meanwhile gets one poll at the end of the gap.
    const wait = ADVANCE_GAP_MS - (this.now() - (this.lastAdvance.get(e.origin) ?? -Infinity));
    if (wait > 0) {
      if (!this.advanceTimers.has(e.origin)) {
        const t = setTimeout(() => {
          this.advanceTimers.delete(e.origin);
          const head = this.views.get(e.origin)?.head();
          if (head) this.maybeAdvance(head);
        }, wait);
        t.unref();
        this.advanceTimers.set(e.origin, t);
      }
      return;
    }
    this.lastAdvance.set(e.origin, this.now());
    this.advancing.add(e.origin);
    this.track(
      (async () => {
        try {
          const state = await this.opts.store.getState(e.origin);
          if (e.checkpoint.size <= (state?.size ?? 0n)) return;
          const r = await advance(e.origin);
          this.logger.debug({ origin: e.origin, size: e.checkpoint.size.toString(), result: r }, 'gossip-triggered poll of the log');
        } finally {
          this.advancing.delete(e.origin);
        }
      })(),
    );
  }

  // ---------------------------------------------------------------- evidence

  /** Verifies evidence with this node's log keys; stores, gossips and alerts. True if it verified. */
  async proven(evidence: Evidence, via: 'detected' | 'gossip' | 'sync', bytes?: Uint8Array): Promise<boolean> {
    const v = verifyEvidence(evidence, (o) => this.trust.logKeys(o));
    if (!v.ok) {
      this.logger.warn({ origin: evidence.origin, reason: v.reason }, 'evidence did not verify; dropped');
      return false;
    }
    const enc = bytes ?? encodeEvidence(evidence);
    const id = evidenceId(enc);
    const isNew = await this.opts.witness.storeEvidence(evidence.origin, evidence);
    if (isNew) this.metrics.evidence(via);
    this.emit({ type: 'evidence', origin: evidence.origin, id, via, isNew, at: this.now() });
    // The error-level alert (once per incident) is the node's, on the witness's evidence event.
    if (isNew) this.logger.info({ origin: evidence.origin, evidence: id, via, sizes: [v.a.size.toString(), v.b.size.toString()] }, 'verified split-view evidence stored');
    if (!this.evidenceSeen.has(id)) {
      this.evidenceSeen.add(id);
      // Received evidence is forwarded by gossipsub itself (accept); only our own is published.
      if (via !== 'gossip') this.track(this.publish(this.evidenceTopic, enc, evidence.origin));
    }
    return true;
  }

  /** gossipsub validator for the evidence topic. */
  async validateEvidence(data: Uint8Array, from?: string): Promise<Verdict> {
    const r = parseEvidenceMessage(data, this.trust);
    if (!r.ok) return this.verdict(this.evidenceTopic, r.verdict, r.reason, from);
    const id = evidenceId(r.bytes);
    if (this.evidenceSeen.has(id)) return this.verdict(this.evidenceTopic, 'ignore', 'evidence already held', from);
    this.evidenceSeen.add(id);
    await this.proven(r.evidence, 'gossip', r.bytes);
    return this.verdict(this.evidenceTopic, 'accept', undefined, from);
  }

  // ---------------------------------------------------------------- sync protocol

  /**
   * One exchange with a peer, under one deadline (SYNC_TIMEOUT_MS) for the dial, the write and the
   * read; `signal` can end it sooner. At most MAX_OUTBOUND_PER_PEER requests to one peer at once,
   * so an honest node never reaches a peer's per-peer stream cap.
   */
  private async request(peer: PeerId, req: SyncRequest, signal?: AbortSignal): Promise<SyncResponse> {
    const host = this.requireHost();
    const deadline = new Deadline(SYNC_TIMEOUT_MS);
    const sig = signal ? AbortSignal.any([deadline.signal, signal]) : deadline.signal;
    const id = peer.toString();
    let stream: ByteStream | undefined;
    try {
      await this.outbound.acquire(id, sig);
    } catch (e) {
      deadline.clear();
      this.metrics.sync(req.type, 'out', 'failed');
      throw e;
    }
    try {
      stream = (await host.dialProtocol(peer, this.syncProtocol, { signal: sig })) as unknown as ByteStream;
      await writeAll(stream, encodeRequest(req), sig);
      const res = decodeResponse(await readAll(stream, MAX_RESPONSE_BYTES, { signal: sig }));
      this.metrics.sync(req.type, 'out', res.type === 'error' ? res.code : 'ok');
      return res;
    } catch (e) {
      this.metrics.sync(req.type, 'out', deadline.signal.aborted ? 'timeout' : 'failed');
      stream?.abort(e as Error);
      throw e;
    } finally {
      deadline.clear();
      this.outbound.release(id);
    }
  }

  /**
   * Answers one inbound request. Node-wide and per-peer stream caps, a memory cap on what requests
   * hold while they are read, and a deadline on the read and on the write: a peer that opens
   * streams and never finishes its request (or never reads the answer) is penalised.
   */
  private async serveSync(stream: ByteStream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const slot = this.inbound.acquire(peer);
    if (slot !== 'ok') {
      this.metrics.sync('any', 'in', 'busy');
      if (slot === 'peer-full') this.penalise(peer, 'too-many-streams');
      else this.logger.debug({ peer, open: this.inbound.open }, 'inbound sync stream refused: node-wide cap reached');
      stream.abort(new Error('busy'));
      return;
    }
    let res: SyncResponse;
    let type = 'invalid';
    try {
      const readDeadline = new Deadline(SYNC_TIMEOUT_MS);
      try {
        const req = decodeRequest(await readAll(stream, MAX_REQUEST_BYTES, { signal: readDeadline.signal, budget: this.inboundBytes }));
        type = req.type;
        res = await this.answer(req);
      } catch (e) {
        if (readDeadline.signal.aborted) {
          this.metrics.sync(type, 'in', 'timeout');
          if (readDeadline.firedOnTime) this.penalise(peer, 'held-stream');
          stream.abort(e as Error);
          return;
        }
        res = { type: 'error', code: (e as Error).message.includes('memory cap') ? 'busy' : 'bad-request', reason: (e as Error).message };
      } finally {
        readDeadline.clear();
      }
      this.metrics.sync(type, 'in', res.type === 'error' ? res.code : 'ok');
      const writeDeadline = new Deadline(SYNC_TIMEOUT_MS);
      try {
        await writeAll(stream, encodeResponse(res), writeDeadline.signal);
      } catch (e) {
        if (writeDeadline.firedOnTime) this.penalise(peer, 'held-stream');
        stream.abort(e as Error);
      } finally {
        writeDeadline.clear();
      }
    } finally {
      this.inbound.release(peer);
    }
  }

  private async answer(req: SyncRequest): Promise<SyncResponse> {
    switch (req.type) {
      case 'views': {
        const wanted = req.origins.length > 0 ? req.origins : this.opts.logs.origins();
        const notes: string[] = [];
        let bytes = 0;
        for (const origin of wanted) {
          const v = this.views.get(origin);
          if (!v) continue;
          for (const e of new Set([v.ownHead(), v.head()])) {
            if (!e) continue;
            const m = v.message(e, this.ownLabels);
            // Stay well inside the response limit (JSON escaping adds a little).
            if (notes.length >= MAX_NOTES || bytes + m.length > RESPONSE_BUDGET) return { type: 'views', notes };
            bytes += m.length;
            notes.push(new TextDecoder().decode(m));
          }
        }
        return { type: 'views', notes };
      }
      case 'cosigned-by': {
        const notes: string[] = [];
        let bytes = 0;
        for (const v of this.views.values()) {
          const r = v.latestCosignedBy(req.key);
          if (!r) continue;
          const m = formatLines(r.logNote, [r.line]);
          if (notes.length >= MAX_NOTES || bytes + m.length > RESPONSE_BUDGET) break;
          bytes += m.length;
          notes.push(new TextDecoder().decode(m));
        }
        return { type: 'cosigned-by', notes };
      }
      case 'prove':
        return this.answerProve(req);
      case 'binding':
        return { type: 'binding', records: this.ownBindings };
    }
  }

  /** Root of the first m leaves of the tree of NOTE, and the proof to NOTE's root, from this node's tiles of the log. */
  private async answerProve(req: { origin: string; size: bigint; note: string }): Promise<SyncResponse> {
    const verifiers = this.trust.logKeys(req.origin);
    if (!verifiers) return { type: 'error', code: 'unknown-log', reason: 'this node does not follow that log' };
    const r = parseCheckpointMessage(utf8(req.note), this.trust, this.verified);
    if (!r.ok || r.message.origin !== req.origin) return { type: 'error', code: 'bad-request', reason: r.ok ? 'origin mismatch' : r.reason };
    const n = r.message.checkpoint.size;
    const m = req.size;
    if (m === 0n || m >= n) return { type: 'error', code: 'bad-request', reason: 'size must be in (0, tree size)' };
    const source = this.opts.sources?.(req.origin);
    if (!source?.tiles) return { type: 'error', code: 'unavailable', reason: 'this node does not read this log\'s tiles' };
    const current = await this.checks.latestVerified(req.origin, source, verifiers).catch(() => undefined);
    if (!current || current.checkpoint.size < n) return { type: 'error', code: 'unavailable', reason: 'the log does not serve a tree that large to this node' };
    const session = source.tiles.session(n, current.checkpoint.size, { signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
    try {
      const hasher = tileSubtreeHasher(n, session.fetchTile, source.tiles.height);
      const root = await hasher(0n, n);
      if (!equalBytes(root, r.message.checkpoint.root)) {
        session.settle(false);
        return { type: 'error', code: 'unavailable', reason: 'the tiles this node is served do not hash to that root' };
      }
      const h = await hasher(0n, m);
      const proof = await consistencyProofAsync(m, n, hasher);
      session.settle(true);
      return { type: 'prove', h, proof };
    } catch (e) {
      session.settle(false);
      return { type: 'error', code: 'unavailable', reason: (e as Error).message };
    }
  }

  /** Catch-up: ask a (re)connected peer for its latest views and take them in like gossip. */
  private async requestViews(peer: PeerId): Promise<void> {
    const id = peer.toString();
    const last = this.lastViewsAt.get(id) ?? -Infinity;
    if (this.now() - last < VIEWS_MIN_INTERVAL_MS || this.stopped) return;
    this.lastViewsAt.set(id, this.now());
    // Cap what is sent: a list over the request limits would only earn an error, so ask for all.
    let origins = this.opts.logs.origins();
    if (origins.length > MAX_ORIGINS || encodeRequest({ type: 'views', origins }).length > MAX_REQUEST_BYTES - 1024) origins = [];
    const res = await this.request(peer, { type: 'views', origins });
    if (res.type !== 'views') return;
    for (const note of res.notes) {
      const r = parseCheckpointMessage(utf8(note), this.trust, this.verified);
      if (r.ok) this.ingest(r.message, 'sync');
    }
  }

  /**
   * Rollback protection: ask connected peers for the latest checkpoints they hold cosigned by this
   * node's own keys. Such a checkpoint is log-signed and was cosigned by us, so when it is ahead of
   * the stored state it becomes the stored state (compare-and-set, forward only), and the witness
   * core then refuses anything below it. Waits at most startupSyncMs for the bootstrap peers.
   */
  async restoreOwnState(budgetMs = this.startupSyncMs): Promise<void> {
    const host = this.requireHost();
    if (this.opts.p2p.bootstrap.length === 0 || this.startupSyncMs <= 0) return;
    // One deadline for the whole wait, whatever peers do: every peer is asked at once, and what has
    // not answered by then is abandoned (its request aborted).
    const stop = new AbortController();
    setMaxListeners(Infinity, stop.signal); // one listener per request in flight
    const timer = setTimeout(() => stop.abort(new Error('startup sync deadline')), budgetMs);
    timer.unref();
    const asked = new Set<string>();
    const answered = new Set<string>();
    const pending = new Set<Promise<void>>();
    const wanted = this.peers.bootstrapIds;
    const ask = async (p: PeerId): Promise<void> => {
      for (const label of this.ownLabels) {
        try {
          const res = await this.request(p, { type: 'cosigned-by', key: label }, stop.signal);
          if (stop.signal.aborted) return;
          if (res.type === 'cosigned-by') for (const note of res.notes) await this.restoreFrom(note, p.toString());
        } catch (e) {
          this.logger.debug({ peer: p.toString(), err: (e as Error).message }, 'cosigned-by request failed');
          return;
        }
      }
      answered.add(p.toString());
    };
    try {
      while (!this.stopped && !stop.signal.aborted) {
        for (const p of host.getPeers()) {
          if (asked.has(p.toString())) continue;
          asked.add(p.toString());
          const q: Promise<void> = ask(p).finally(() => pending.delete(q));
          pending.add(q);
        }
        if ([...wanted].every((w) => asked.has(w)) && pending.size === 0) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          stop.signal.addEventListener('abort', () => {
            clearTimeout(t);
            r();
          }, { once: true });
        });
        if (!stop.signal.aborted && ![...wanted].every((w) => asked.has(w))) void this.peers.dialBootstrap();
      }
    } finally {
      clearTimeout(timer);
      stop.abort(new Error('startup sync over'));
      await Promise.allSettled([...pending]);
    }
    if (![...wanted].every((w) => answered.has(w))) this.logger.warn({ answered: [...wanted].filter((w) => answered.has(w)).length, bootstrap: wanted.size, waitedMs: this.startupSyncMs }, 'startup: not every bootstrap peer answered about our own cosignatures before the deadline');
  }

  /**
   * A checkpoint a peer holds with this node's cosignature: handed to the witness core
   * (restoreFromOwnCosignature), which moves the stored state forward through compare-and-set,
   * never backward, and records same-size conflicts as evidence.
   */
  private async restoreFrom(note: string, from: string): Promise<void> {
    const r = parseCheckpointMessage(utf8(note), this.trust, this.verified);
    if (!r.ok) return;
    const m = r.message;
    if (!m.cosignatures.some((c) => this.ownLabels.has(keyLabel(c.name, c.keyId)))) return;
    const res = await this.opts.witness.restoreFromOwnCosignature(note, `gossip peer ${from}`);
    if (res.kind !== 'advanced') {
      if (res.kind === 'ignored') this.logger.debug({ origin: m.origin, from, reason: res.reason }, 'rollback protection: peer\'s copy not used');
      return;
    }
    this.metrics.restored();
    this.emit({ type: 'restored', origin: m.origin, size: res.to, from });
    this.logger.warn({ origin: m.origin, from, size: res.to.toString(), stored: res.from.toString() }, 'rollback protection: a peer holds a newer checkpoint cosigned by this witness; stored state moved forward to it');
    const next = await this.opts.store.getState(m.origin);
    if (next) this.observeOwnState(m.origin, next, false);
  }
}

function formatLines(logNote: { text: string; verified: readonly { name: string; base64: string }[] }, extra: readonly { name: string; base64: string }[]): Uint8Array {
  return utf8(logNote.text + '\n' + [...logNote.verified, ...extra].map((s) => `\u2014 ${s.name} ${s.base64}\n`).join(''));
}

/** Waits for p, or ms at most (p goes on). */
async function raceTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}


/** The identity key file for a node whose LevelDB directory is dataDir. */
export function identityFileFor(dataDir: string): string {
  return join(dataDir, 'p2p-identity.key');
}
