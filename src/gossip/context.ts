// What the parts of the gossip service share. service.ts builds one context and the parts that
// use it: topics.ts (topics, validation, what follows from a verified message), publish.ts
// (publishing), sync-service.ts (the sync protocol, client and server), advance.ts (the feeders'
// pull path), peers.ts (bans, penalties, slots, bindings), pair-checks.ts.
import type { Verifier } from '../note/keys.js';
import type { GossipHost } from './host.js';
import type { LogView } from './view.js';
import type { Trust, VerifiedLines } from './wire.js';
import type { BoundedSet } from '../util/bounded-set.js';
import type { GossipMetrics } from './metrics.js';
import type { Exchange } from './exchange.js';
import type { PairChecks } from './pair-checks.js';
import type { Peers } from './peers.js';
import type { GossipEvent, GossipLogger, GossipServiceOptions } from './service.js';
import type { Topics } from './topics.js';
import type { Publisher } from './publish.js';
import type { SyncPeer } from './sync-service.js';
import type { Advancer } from './advance.js';

export interface GossipContext {
  readonly opts: GossipServiceOptions;
  /** The wire version this node speaks. */
  readonly version: 1 | 2;
  readonly syncProtocol: string;
  readonly evidenceTopic: string;
  readonly trust: Trust;
  /** This node's own cosignature key labels. */
  readonly ownLabels: ReadonlySet<string>;
  /** Tracked witnesses by cosignature key label. */
  readonly tracked: ReadonlyMap<string, Verifier>;
  readonly views: Map<string, LogView>;
  /** The view of a log, created on first use. */
  view(origin: string): LogView;
  /** Signature lines verified once per node (never re-verified). */
  readonly verified: VerifiedLines;
  /** Evidence IDs already published or received (each is published at most once). */
  readonly evidenceSeen: BoundedSet<string>;
  /** Split views (forkKeyOf) already published or received: other encodings of one are not forwarded. */
  readonly forksSeen: BoundedSet<string>;
  readonly metrics: GossipMetrics;
  readonly logger: GossipLogger;
  readonly checkDelayMs: number;
  readonly startupSyncMs: number;
  now(): number;
  emit(e: GossipEvent): void;
  /** Runs a background task, tracked so stop() can wait for it. */
  track(p: Promise<unknown>): void;
  stopped(): boolean;
  host(): GossipHost | undefined;
  requireHost(): GossipHost;
  exchange(): Exchange | undefined;
  // The parts, for each other (set by service.ts before start).
  topics: Topics;
  publisher: Publisher;
  sync: SyncPeer;
  advancer: Advancer;
  checks: PairChecks;
  peers: Peers;
}
