// Peers and scoring: bans (graylist), the node's own penalties, connection slots reserved for
// bootstrap peers and tracked witnesses that proved their peer ID (bindings), bootstrap dials.
// docs/gossip.md, "Peer scoring" and "Connection slots and peer bindings".
import type { PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Verifier } from '../note/keys.js';
import { SCORE_THRESHOLDS, type GossipHost, type P2pOptions } from './host.js';
import { BAN_POINTS, PENALTY, PenaltyBook } from './limits.js';
import { verifyBinding } from './binding.js';
import type { GossipMetrics } from './metrics.js';
import { SYNC_TIMEOUT_MS, type SyncRequest, type SyncResponse } from './sync.js';
import type { GossipEvent, GossipLogger, PenaltyReason } from './service.js';

/** How long a peer that fell below the graylist threshold is refused. */
export const BAN_MS = 10 * 60_000;
/** A new, unprotected peer may stay this long past the slot limit while its binding is asked for. */
export const PROBATION_MS = 5000;
export const PROBATION_MAX = 8;

export interface PeersDeps {
  host(): GossipHost | undefined;
  readonly p2p: P2pOptions;
  /** Tracked witnesses by cosignature key label. */
  readonly tracked: Map<string, Verifier>;
  request(peer: PeerId, req: SyncRequest, signal?: AbortSignal): Promise<SyncResponse>;
  /** A peer of the other wire version, not to be redialled yet. */
  refused(peer: string): boolean;
  readonly metrics: GossipMetrics;
  emit(e: GossipEvent): void;
  readonly logger: GossipLogger;
  now(): number;
  track(p: Promise<unknown>): void;
  stopped(): boolean;
}

export class Peers {
  readonly penalties: PenaltyBook;
  private readonly banned = new Map<string, number>();
  /** Bound peers: tracked-witness label -> the newest valid binding's peer and time, and the reverse. */
  private readonly boundByLabel = new Map<string, { peer: string; time: bigint }>();
  private readonly boundPeers = new Map<string, string>();
  readonly bindingAsked = new Map<string, number>();
  readonly bootstrapIds: Set<string>;
  private slotsQueued = false;
  private readonly dialing = new Set<string>();

  constructor(private readonly d: PeersDeps) {
    this.penalties = new PenaltyBook(() => d.now());
    this.bootstrapIds = new Set(d.p2p.bootstrap.map((a) => peerIdOf(a)).filter((x): x is string => !!x));
  }

  /** Connection slots kept for bootstrap peers and bound tracked witnesses. */
  get reservedSlots(): number {
    const max = this.d.p2p.maxConnections;
    return Math.min(this.d.p2p.reservedSlots ?? this.bootstrapIds.size + this.d.tracked.size, Math.floor(max / 2));
  }

  /** A bootstrap peer, or a peer holding a valid binding of a tracked witness: never pruned, has a reserved slot. */
  isProtected(peer: string): boolean {
    return this.bootstrapIds.has(peer) || this.boundPeers.has(peer);
  }

  /** The tracked witness (key label) a peer proved it runs, if any. */
  boundWitness(peer: string): string | undefined {
    return this.boundPeers.get(peer);
  }

  /** Penalty points a peer currently carries (held streams, oversized frames, too many streams). */
  penaltyOf(peer: string): number {
    return this.penalties.get(peer);
  }

  penalise(peer: string, reason: PenaltyReason): void {
    const pts = reason === 'held-stream' ? PENALTY.heldStream : reason === 'too-many-streams' ? PENALTY.tooManyStreams : reason === 'invalid' ? PENALTY.invalid : PENALTY.oversized;
    const total = this.penalties.add(peer, pts);
    this.d.metrics.penalised(reason);
    this.d.emit({ type: 'penalised', peer, reason, points: total });
    this.d.logger.info({ peer, reason, points: Math.round(total) }, 'peer penalised');
  }

  /** gossipsub scores of connected peers (peer id -> score). */
  scores(): Map<string, number> {
    const out = new Map<string, number>();
    const host = this.d.host();
    const ps = host?.services.pubsub as unknown as { getScore(id: string): number } | undefined;
    if (!host || !ps) return out;
    for (const p of host.getPeers()) out.set(p.toString(), ps.getScore(p.toString()));
    return out;
  }

  isBanned(peer: PeerId | string): boolean {
    const id = peer.toString();
    const until = this.banned.get(id);
    if (until === undefined) return false;
    if (until <= this.d.now()) {
      this.banned.delete(id);
      return false;
    }
    return true;
  }

  /** Tags a peer so libp2p's own pruner keeps it too. */
  tag(peer: string): void {
    const host = this.d.host();
    if (!host) return;
    void host.peerStore.merge(peerIdFromString(peer), { tags: { 'gossip-witness-reserved': { value: 100 } } }).catch(() => undefined);
  }

  queueSlotCheck(): void {
    if (this.slotsQueued) return;
    this.slotsQueued = true;
    setImmediate(() => {
      this.slotsQueued = false;
      this.enforceSlots();
    });
  }

  /**
   * Keeps unprotected peers within maxConnections - reservedSlots, so that bootstrap peers and bound
   * tracked witnesses always find a slot, and the total within maxConnections. Protected peers are
   * never closed. Among unprotected peers the lowest gossipsub score goes first, then the newest;
   * a peer that connected in the last PROBATION_MS and has not answered our binding request yet is
   * spared (at most PROBATION_MAX of them), since it may be a tracked witness.
   */
  enforceSlots(): void {
    const host = this.d.host();
    if (!host || this.d.stopped()) return;
    const max = this.d.p2p.maxConnections;
    const openedAt = new Map<string, number>();
    for (const c of host.getConnections()) {
      const id = c.remotePeer.toString();
      openedAt.set(id, Math.min(openedAt.get(id) ?? Infinity, c.timeline.open));
    }
    const unprotected = [...openedAt.keys()].filter((p) => !this.isProtected(p));
    const excess = Math.max(unprotected.length - (max - this.reservedSlots), openedAt.size - max);
    if (excess <= 0) return;
    const scores = this.scores();
    const now = Date.now();
    let probation = 0;
    const inProbation = new Set<string>();
    for (const p of unprotected.sort((a, b) => openedAt.get(b)! - openedAt.get(a)!)) {
      const asked = this.bindingAsked.get(p);
      if (this.d.tracked.size > 0 && now - openedAt.get(p)! < PROBATION_MS && asked !== -1 && probation < PROBATION_MAX) {
        inProbation.add(p);
        probation++;
      }
    }
    const order = unprotected
      .filter((p) => !inProbation.has(p))
      .sort((a, b) => (scores.get(a) ?? 0) - (scores.get(b) ?? 0) || openedAt.get(b)! - openedAt.get(a)!);
    for (const p of order.slice(0, excess)) {
      this.d.emit({ type: 'pruned', peer: p });
      this.d.logger.debug({ peer: p }, 'connection slots full: closing an unprotected peer');
      this.d.track(host.hangUp(peerIdFromString(p)));
    }
  }

  /** Asks a peer for its bindings; a valid one for a tracked witness gives it that witness's reserved slot. */
  async requestBinding(peer: PeerId): Promise<void> {
    const id = peer.toString();
    if (this.bindingAsked.has(id)) return;
    this.bindingAsked.set(id, this.d.now());
    let res: SyncResponse;
    try {
      res = await this.d.request(peer, { type: 'binding' });
    } finally {
      this.bindingAsked.set(id, -1);
    }
    if (res.type !== 'binding') return;
    const nowS = BigInt(Math.floor(this.d.now() / 1000));
    for (const r of res.records) {
      const v = verifyBinding(r, id, this.d.tracked, nowS);
      if (!v.ok) {
        if (this.d.tracked.has(r.key)) this.d.logger.info({ peer: id, witness: r.key, reason: v.reason }, 'peer binding refused');
        continue;
      }
      const prev = this.boundByLabel.get(v.label);
      if (prev && prev.time > r.time) continue; // a newer binding names another peer ID
      if (prev && prev.peer !== id) this.boundPeers.delete(prev.peer);
      this.boundByLabel.set(v.label, { peer: id, time: r.time });
      this.boundPeers.set(id, v.label);
      this.tag(id);
      this.d.emit({ type: 'bound', peer: id, witness: v.label });
      this.d.logger.debug({ peer: id, witness: v.label }, 'peer bound to a tracked witness');
    }
    this.queueSlotCheck();
  }

  async dialBootstrap(): Promise<void> {
    const host = this.d.host();
    if (!host || this.d.stopped()) return;
    const connected = new Set(host.getPeers().map((p) => p.toString()));
    await Promise.allSettled(
      this.d.p2p.bootstrap.map(async (addr) => {
        const id = multiaddr(addr).getComponents().find((c) => c.name === 'p2p')?.value;
        // One dial per peer at a time: overlapping dials could open two connections to one peer.
        if (!id || connected.has(id) || this.dialing.has(id) || this.isBanned(id) || this.d.refused(id) || id === host.peerId.toString()) return;
        this.dialing.add(id);
        try {
          await host.dial(multiaddr(addr), { signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
        } finally {
          this.dialing.delete(id);
        }
      }),
    );
  }

  checkScores(): void {
    const host = this.d.host();
    if (!host || this.d.stopped()) return;
    // Per-peer maps stay bounded however many fresh identities come and go.
    if (this.banned.size > 1024) for (const p of [...this.banned.keys()]) this.isBanned(p);
    const scores = this.scores();
    // Peers that do not speak gossipsub have no gossipsub score: their penalties count directly.
    for (const p of this.penalties.peers()) if (!scores.has(p) && this.penalties.get(p) >= BAN_POINTS) scores.set(p, -this.penalties.get(p));
    for (const [peer, score] of scores) {
      if (score >= SCORE_THRESHOLDS.graylistThreshold || this.isBanned(peer)) continue;
      this.banned.set(peer, this.d.now() + BAN_MS);
      this.d.metrics.banned();
      this.d.emit({ type: 'banned', peer, score });
      this.d.logger.warn({ peer, score }, 'peer fell below the graylist threshold: disconnected and refused');
      this.d.track(host.hangUp(peerIdFromString(peer)));
    }
  }
}

export function peerIdOf(addr: string): string | undefined {
  try {
    return multiaddr(addr).getComponents().find((c) => c.name === 'p2p')?.value;
  } catch {
    return undefined;
  }
}
