// The gossip service of a witness node, a libp2p service built the js-libp2p way: a factory given
// its components, `gossipWitness(init)(components)`, with start() and stop() (src/node/lifecycle.ts).
// See docs/gossip.md ("Shape of the code"). The service is split by job:
//
//   topics.ts        topics and validation: parse + verify (wire.ts) ─► view (view.ts) ─► verdict;
//                    same size, other root ─► evidence at once; other size ─► pair check
//                    (pair-checks.ts: tiles, peers' "prove", the log's proof API; one per pair)
//   publish.ts       own witness cosigns ─► publish once per checkpoint; evidence published once
//   sync-service.ts  the sync protocol (catch-up, rollback protection, bindings, proofs)
//   peers.ts         bans, penalties, connection slots, peer bindings (scoring: host.ts)
//   advance.ts       ahead of our witness + a pull source ─► the feeders' pull path (never cosigned
//                    on the gossip alone)
//   exchange.ts      version 2's exchange protocol
//
// The witness core is the only writer of witness state: evidence (verified first), suspect records
// and rollback restores all go through `witness`; the store is only read.
import { join } from 'node:path';
import type { PeerId } from '@libp2p/interface';
import type { Registry } from 'prom-client';
import { multiaddr } from '@multiformats/multiaddr';
import type { TopicValidatorResult } from '@libp2p/gossipsub';
import { keyLabel, VerifierSet as VerifierSetImpl } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { MLDSA44 } from '../note/sigtypes/mldsa44.js';
import type { Witness, WitnessEvent, LogRegistry } from '../witness/witness.js';
import type { WitnessStore } from '../witness/store.js';
import type { Evidence } from '../evidence/split-view.js';
import type { LogSource } from '../logs/feeders/source.js';
import { createGossipHost, loadOrCreatePeerKey, type GossipHost, type P2pOptions } from './host.js';
import { EVIDENCE_SEEN_MAX, MAX_INBOUND_PER_PEER, MAX_OUTBOUND_PER_PEER } from './limits.js';
import { BoundedSet } from '../util/bounded-set.js';
import { signBinding, type BindingKey } from './binding.js';
import { CHECKPOINT_TOPIC, EVIDENCE_TOPIC, EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2, VerifiedLines, type Verdict } from './wire.js';
import { LogView } from './view.js';
import { PairChecks } from './pair-checks.js';
import { Peers, BAN_MS } from './peers.js';
import { Exchange, EXCHANGE_PROTOCOL, EXCHANGE_PROTOCOL_PREFIX, EXCHANGE_VERSION, helloKeyEntry, refHexOf, shortLogIds } from './exchange.js';
import type { HeldCheckpoint } from '../http/distributor.js';
import { NO_METRICS, registerGossipMetrics } from './metrics.js';
import { SYNC_PROTOCOL, SYNC_TIMEOUT_MS, type ByteStream } from './sync.js';
import type { GossipContext } from './context.js';
import type { Lifecycle } from '../node/lifecycle.js';
import { Topics } from './topics.js';
import { Publisher } from './publish.js';
import { SyncPeer } from './sync-service.js';
import { Advancer, ADVANCE_GAP_MS } from './advance.js';

export { BAN_MS, ADVANCE_GAP_MS };
export const DEFAULT_CHECK_DELAY_MS = 1000;
export const DEFAULT_STARTUP_SYNC_MS = 5000;
const BOOTSTRAP_INTERVAL_MS = 2000;
const SCORE_CHECK_INTERVAL_MS = 1000;

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
  /** Read only: the witness core is the only writer of witness state (restores, suspects and evidence go through `witness`). */
  readonly store: Pick<WitnessStore, 'getState'>;
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

/**
 * What the service is given (js-libp2p's components): the libp2p node it runs on. Absent, the
 * service creates its own node from `identityFile` and `p2p` at start and stops it at stop; a
 * caller that passes one owns it (creates it with `hostHooks(service)`, starts and stops it).
 */
export interface GossipComponents {
  readonly libp2p: GossipHost;
}

/** The libp2p service factory: `gossipWitness(init)(components)`. */
export function gossipWitness(init: GossipServiceOptions): (components: GossipComponents) => GossipService {
  return (components) => new GossipService(init, components);
}

/** The connection gater and application score a libp2p node running this service must use. */
export function hostHooks(service: () => GossipService | undefined): { isBanned: (p: PeerId) => boolean; appScore: (p: string) => number; retainScoreMs: number } {
  return { isBanned: (p) => service()?.isBanned(p) ?? false, appScore: (p) => service()?.appScore(p) ?? 0, retainScoreMs: BAN_MS };
}

export class GossipService implements Lifecycle {
  private host: GossipHost | undefined;
  /** The wire version this node speaks. */
  readonly version: 1 | 2;
  private readonly g: GossipContext;
  private exchange: Exchange | undefined;
  /** Peers of the other wire version: refused (not banned) until then. */
  private readonly otherVersion = new Map<string, number>();
  /** Peers on another revision of the exchange protocol: warned about until then. */
  private readonly otherExchange = new Map<string, number>();
  /** shortLogId, remembered: the HELLO is rebuilt every tick (a SHA-256 per log each time was 3 % of an idle node's CPU). */
  private readonly logIdOf = shortLogIds();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly opts: GossipServiceOptions,
    private readonly components?: GossipComponents,
  ) {
    const witnessKeys = new VerifierSetImpl();
    const seen = new Set<string>();
    for (const v of [...opts.ownKeys, ...opts.witnesses]) {
      const l = keyLabel(v.name, v.keyId);
      if (seen.has(l)) continue;
      seen.add(l);
      witnessKeys.add(v);
    }
    const tracked = new Map<string, Verifier>();
    for (const v of opts.witnesses) tracked.set(keyLabel(v.name, v.keyId), v);
    this.version = opts.version ?? 2;
    const views = new Map<string, LogView>();
    const logger = opts.logger ?? SILENT;
    const now = opts.now ?? Date.now;
    const g = {
      opts,
      version: this.version,
      syncProtocol: this.version === 2 ? SYNC_PROTOCOL_V2 : SYNC_PROTOCOL,
      evidenceTopic: this.version === 2 ? EVIDENCE_TOPIC_V2 : EVIDENCE_TOPIC,
      trust: {
        logKeys: (origin: string) => {
          const l = opts.logs.get(origin);
          return l && !l.disabled ? l.verifiers : undefined;
        },
        witnessKeys,
      },
      ownLabels: new Set(opts.ownKeys.map((v) => keyLabel(v.name, v.keyId))),
      tracked,
      views,
      view: (origin: string) => {
        let v = views.get(origin);
        if (!v) views.set(origin, (v = new LogView(origin)));
        return v;
      },
      verified: new VerifiedLines(),
      evidenceSeen: new BoundedSet<string>(EVIDENCE_SEEN_MAX),
      forksSeen: new BoundedSet<string>(EVIDENCE_SEEN_MAX),
      metrics: opts.metricsRegistry ? registerGossipMetrics(opts.metricsRegistry) : NO_METRICS,
      logger,
      checkDelayMs: opts.checkDelayMs ?? DEFAULT_CHECK_DELAY_MS,
      startupSyncMs: opts.startupSyncMs ?? DEFAULT_STARTUP_SYNC_MS,
      now: () => now(),
      emit: (e: GossipEvent) => this.emit(e),
      track: (p: Promise<unknown>) => this.track(p),
      stopped: () => this.stopped,
      host: () => this.host,
      requireHost: () => this.requireHost(),
      exchange: () => this.exchange,
    } as Omit<GossipContext, 'topics' | 'publisher' | 'sync' | 'advancer' | 'checks' | 'peers'> as GossipContext;
    this.g = g;
    g.topics = new Topics(g);
    g.publisher = new Publisher(g);
    g.sync = new SyncPeer(g);
    g.advancer = new Advancer(g);
    g.peers = new Peers({
      host: () => this.host,
      p2p: opts.p2p,
      tracked,
      request: (peer, req, signal) => g.sync.request(peer, req, signal),
      refused: (id) => (this.otherVersion.get(id) ?? 0) > g.now(),
      metrics: g.metrics,
      emit: (e) => this.emit(e),
      logger,
      now: () => g.now(),
      track: (p) => this.track(p),
      stopped: () => this.stopped,
    });
    g.checks = new PairChecks({
      view: (o) => views.get(o),
      logKeys: (o) => g.trust.logKeys(o),
      ...(opts.sources ? { sources: opts.sources } : {}),
      peers: () => this.host?.services.pubsub.getSubscribers(this.version === 2 ? g.evidenceTopic : CHECKPOINT_TOPIC) ?? [],
      request: (peer, req, signal) => g.sync.request(peer, req, signal),
      proven: (ev) => g.topics.proven(ev, 'detected'),
      witness: opts.witness,
      onResult: (origin, result, how) => {
        g.metrics.check(result);
        this.emit({ type: 'check', origin, result, how });
      },
      logger,
      now: () => g.now(),
      checkDelayMs: g.checkDelayMs,
      track: (p) => this.track(p),
      stopped: () => this.stopped,
    });
  }

  /** Connection slots kept for bootstrap peers and bound tracked witnesses. */
  get reservedSlots(): number {
    return this.g.peers.reservedSlots;
  }

  /** A bootstrap peer, or a peer holding a valid binding of a tracked witness: never pruned, has a reserved slot. */
  isProtected(peer: string): boolean {
    return this.g.peers.isProtected(peer);
  }

  /** The tracked witness (key label) a peer proved it runs, if any. */
  boundWitness(peer: string): string | undefined {
    return this.g.peers.boundWitness(peer);
  }

  /** Penalty points a peer currently carries (held streams, oversized frames, too many streams). */
  penaltyOf(peer: string): number {
    return this.g.peers.penaltyOf(peer);
  }

  /** The application-specific gossipsub score of a peer (its penalties, ≤ 0). */
  appScore(peer: string): number {
    return this.g.peers.penalties.score(peer);
  }

  /** gossipsub scores of connected peers (peer id -> score). */
  scores(): Map<string, number> {
    return this.g.peers.scores();
  }

  isBanned(peer: PeerId | string): boolean {
    return this.g.peers.isBanned(peer);
  }

  /** Closes unprotected peers beyond the slot limits (also run every second). */
  enforceSlots(): void {
    this.g.peers.enforceSlots();
  }

  /** Inbound sync streams open right now (node-wide). */
  get inboundStreams(): number {
    return this.g.sync.inbound.open;
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
  private track(p: Promise<unknown>): void {
    const q = p.catch((e) => this.g.logger.warn({ err: (e as Error).message }, 'gossip background task failed')).finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /** Version 2 exchange counters (frames and bytes written, frames read, duplicates, early cosignatures). */
  get exchangeStats(): Exchange['stats'] | undefined {
    return this.exchange?.stats;
  }

  /** The checkpoints in the view of a log with their verified cosignatures (the distributor reads). */
  heldCheckpoints(origin: string): HeldCheckpoint[] {
    return (this.g.views.get(origin)?.all() ?? []).map((e) => ({ size: e.checkpoint.size, text: e.logNote.text, logLines: e.logNote.verified, cosignatures: [...e.cosignatures.values()], fetchPq: (ms) => this.fetchPqLines(e.textHash, ms) }));
  }

  /**
   * Fetches the ML-DSA-44 lines peers announced on a checkpoint text this node holds (version 2:
   * WANT over the exchange), waiting at most ms. Resolves either way; the caller reads the view.
   */
  async fetchPqLines(textHash: string, ms = 2000): Promise<void> {
    const ref = refHexOf(textHash);
    if (this.exchange?.wantPq(ref)) await this.exchange.settled(ref, ms);
  }

  viewOf(origin: string): LogView | undefined {
    return this.g.views.get(origin);
  }

  /** gossipsub validator for the checkpoint topic (version 1; topics.ts). */
  validateCheckpoint(data: Uint8Array, from?: string): Verdict {
    return this.g.topics.validateCheckpoint(data, from);
  }

  /** gossipsub validator for the evidence topic (topics.ts). */
  validateEvidence(data: Uint8Array, from?: string): Promise<Verdict> {
    return this.g.topics.validateEvidence(data, from);
  }

  /** Verifies evidence with this node's log keys; stores it through the witness core, gossips and alerts. True if it verified. */
  proven(evidence: Evidence, via: 'detected' | 'gossip' | 'sync', bytes?: Uint8Array): Promise<boolean> {
    return this.g.topics.proven(evidence, via, bytes);
  }

  /** Rollback protection (sync-service.ts): waits at most budgetMs (default startupSync) for the bootstrap peers. */
  restoreOwnState(budgetMs?: number): Promise<void> {
    return this.g.sync.restoreOwnState(budgetMs);
  }

  /** Feed every WitnessEvent of this node's witness here (the node does; publish.ts). */
  onWitnessEvent(e: WitnessEvent): void {
    this.g.publisher.onWitnessEvent(e);
  }

  /** What this node follows and tracks, for its peers (version 2 HELLO): its own keys first. */
  private hello(): { version: number; logs: string[]; keys: string[]; labels: string[] } {
    const { ownLabels, tracked, trust } = this.g;
    const labels = [...ownLabels, ...[...tracked.keys()].filter((l) => !ownLabels.has(l))];
    if (this.helloEntries === undefined) {
      const byLabel = new Map<string, Verifier>([...tracked.values(), ...this.opts.ownKeys].map((v) => [keyLabel(v.name, v.keyId), v]));
      this.helloEntries = labels.map((l) => helloKeyEntry(byLabel.get(l)!));
    }
    return { version: EXCHANGE_VERSION, logs: this.opts.logs.origins().filter((o) => trust.logKeys(o)).map(this.logIdOf), keys: this.helloEntries, labels };
  }
  /** helloKeyEntry of each HELLO key (the keys come from the config: computed once). */
  private helloEntries: string[] | undefined;

  /**
   * A version 2 peer on another revision of the exchange (2.0.0's 8-byte REFs): no exchange with
   * it, one warn line per peer per BAN_MS; the connection stays (sync and evidence still flow).
   */
  private warnOtherExchange(peer: PeerId, protocols: readonly string[]): void {
    const theirs = protocols.filter((p) => p.startsWith(EXCHANGE_PROTOCOL_PREFIX));
    if (theirs.length === 0) return;
    const id = peer.toString();
    const now = this.g.now();
    if ((this.otherExchange.get(id) ?? 0) > now) return;
    this.otherExchange.set(id, now + BAN_MS);
    if (this.otherExchange.size > 1024) for (const [p, t] of this.otherExchange) if (t <= now) this.otherExchange.delete(p);
    this.g.logger.warn({ peer: id, ours: EXCHANGE_PROTOCOL, theirs }, `peer speaks ${theirs.join(', ')}; this node speaks ${EXCHANGE_PROTOCOL}: no exchange with it (upgrade the older one)`);
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
    const now = this.g.now();
    if ((this.otherVersion.get(id) ?? 0) <= now) {
      this.g.logger.warn({ peer: id, ours: this.version, theirs: this.version === 2 ? 1 : 2 }, `peer speaks gossip version ${this.version === 2 ? 1 : 2} only; this node speaks version ${this.version}: not exchanging (upgrade the older one)`);
    }
    this.otherVersion.set(id, now + BAN_MS);
    if (this.otherVersion.size > 1024) for (const [p, t] of this.otherVersion) if (t <= now) this.otherVersion.delete(p);
    this.emit({ type: 'refused', peer: id, reason: 'other-version' });
    this.track(this.requireHost().hangUp(peer));
    return true;
  }

  /**
   * Starts the host (unless given one), subscribes, loads this node's own state into the views,
   * dials the bootstrap peers, and (rollback protection) moves the stored state forward to the
   * latest checkpoint peers hold with this node's cosignature, waiting at most startupSyncMs.
   */
  async start(): Promise<void> {
    const g = this.g;
    let host = this.components?.libp2p;
    if (!host) {
      const { key, created } = await loadOrCreatePeerKey(this.opts.identityFile);
      if (created) g.logger.info({ file: this.opts.identityFile }, 'created a new libp2p identity key');
      host = await createGossipHost({ topics: this.version === 2 ? [EVIDENCE_TOPIC_V2] : undefined, p2p: this.opts.p2p, privateKey: key, ...hostHooks(() => this) });
    }
    this.host = host;
    const pubsub = host.services.pubsub;
    // A gossipsub frame over the RPC limit ends that peer's stream unread: make it cost the sender.
    const ps = pubsub as unknown as { handlePeerReadStreamError(err: Error, peer: PeerId): void };
    const onReadError = ps.handlePeerReadStreamError.bind(pubsub);
    ps.handlePeerReadStreamError = (err, peer) => {
      if (err?.name === 'InvalidDataLengthError' || err?.name === 'InvalidDataLengthLengthError') g.peers.penalise(peer.toString(), 'oversized');
      onReadError(err, peer);
    };
    const nowS = BigInt(Math.floor(g.now() / 1000));
    g.sync.ownBindings = (this.opts.bindingKeys ?? []).map((k) => signBinding(k, host.peerId.toString(), nowS));
    for (const id of g.peers.bootstrapIds) g.peers.tag(id);
    // TopicValidatorResult's values are exactly the Verdict strings.
    pubsub.topicValidators.set(g.evidenceTopic, async (peer, msg) => (await g.topics.validateEvidence(msg.data, peer.toString())) as TopicValidatorResult);
    pubsub.subscribe(g.evidenceTopic);
    if (this.version === 1) {
      pubsub.topicValidators.set(CHECKPOINT_TOPIC, (peer, msg) => g.topics.validateCheckpoint(msg.data, peer.toString()) as TopicValidatorResult);
      pubsub.subscribe(CHECKPOINT_TOPIC);
    } else {
      const ex = new Exchange({
        host,
        selfId: host.peerId.toString(),
        hello: () => this.hello(),
        pqKeys: new Set([...this.opts.ownKeys, ...this.opts.witnesses].filter((v) => v.type === MLDSA44).map((v) => keyLabel(v.name, v.keyId))),
        onCheckpoint: (note, from) => g.topics.onExchangeCheckpoint(note, from),
        onCosig: (ref, line, from) => g.topics.onExchangeCosig(ref, line, from),
        penalise: (peer, reason, detail) => {
          g.logger.debug({ peer, reason, detail }, 'exchange frame refused');
          g.peers.penalise(peer, reason);
        },
        logger: g.logger,
      });
      this.exchange = ex;
      await host.handle(EXCHANGE_PROTOCOL, (stream, connection) => this.track(ex.serve(stream, connection)), { maxInboundStreams: 2, maxOutboundStreams: 2 });
      ex.start();
    }
    // libp2p's per-connection limit is a backstop; the node-wide and per-peer caps are serveSync's.
    await host.handle(g.syncProtocol, (stream, connection) => this.track(g.sync.serveSync(stream as unknown as ByteStream, connection)), { maxInboundStreams: 2 * MAX_INBOUND_PER_PEER, maxOutboundStreams: 2 * MAX_OUTBOUND_PER_PEER });
    host.addEventListener('peer:identify', (evt) => {
      const { peerId, protocols } = evt.detail;
      if (this.refuseOtherVersion(peerId, protocols)) return;
      if (!protocols.includes(g.syncProtocol)) return;
      if (this.exchange && protocols.includes(EXCHANGE_PROTOCOL)) this.track(this.exchange.open(peerId));
      else if (this.exchange) this.warnOtherExchange(peerId, protocols);
      this.track(g.sync.requestViews(peerId));
      if (g.tracked.size > 0) this.track(g.peers.requestBinding(peerId));
    });
    host.addEventListener('connection:open', () => {
      g.metrics.setPeers(host.getPeers().length);
      g.peers.queueSlotCheck();
    });
    host.addEventListener('connection:close', () => g.metrics.setPeers(host.getPeers().length));
    host.addEventListener('peer:disconnect', (evt) => {
      const id = evt.detail.toString();
      g.peers.bindingAsked.delete(id);
      this.exchange?.peerGone(id);
    });
    for (const origin of this.opts.logs.origins()) {
      const s = await this.opts.store.getState(origin);
      if (s) g.publisher.observeOwnState(origin, s, false);
    }
    g.logger.info({ peerId: host.peerId.toString(), addrs: this.multiaddrs }, 'gossip listening');
    // Not awaited: an address that never answers would hold start() for the dial timeout on top of
    // startupSync; restoreOwnState waits for the bootstrap peers within its own deadline (it asks
    // each peer as soon as it connects).
    const started = g.now();
    const dialing = g.peers.dialBootstrap();
    this.track(dialing);
    if (g.startupSyncMs <= 0 || this.opts.p2p.bootstrap.length === 0) await raceTimeout(dialing, SYNC_TIMEOUT_MS);
    this.timers.push(setInterval(() => void g.peers.dialBootstrap(), BOOTSTRAP_INTERVAL_MS));
    this.timers.push(
      setInterval(() => {
        g.sync.prune();
        g.peers.checkScores();
        this.enforceSlots();
      }, SCORE_CHECK_INTERVAL_MS),
    );
    for (const t of this.timers) t.unref();
    await g.sync.restoreOwnState(Math.max(0, g.startupSyncMs - (g.now() - started)));
  }

  /** Stops timers, checks and the exchange, then the libp2p node if this service created it. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.g.checks.stop();
    this.g.advancer.stop();
    this.exchange?.stop();
    if (this.components) {
      await this.host?.unhandle(this.g.syncProtocol).catch(() => {});
      if (this.exchange) await this.host?.unhandle(EXCHANGE_PROTOCOL).catch(() => {});
    } else await this.host?.stop();
    await Promise.allSettled([...this.inflight]);
  }

  /** Connects to a peer (multiaddr with /p2p/<id>). */
  async dial(addr: string): Promise<void> {
    await this.requireHost().dial(multiaddr(addr), { signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
  }
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
