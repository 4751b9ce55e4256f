// The libp2p host of a gossip node: TCP, Noise, yamux, identify, ping, gossipsub; a persistent
// peer identity key (separate from the cosigning key); connection limits, a loopback allow-list,
// and gossipsub peer scoring tuned so that rejected messages cost the sender.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readPrivateFile } from '../keys/keyfile.js';
import { dirname } from 'node:path';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream';
import { identify, type Identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { decodeBase64, encodeBase64 } from '../util/bytes.js';
import { messageId, TOPICS } from './wire.js';

export interface P2pOptions {
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  readonly listen: readonly string[];
  /** Multiaddrs to announce instead of the listen addresses (empty: announce what is listened on). */
  readonly announce: readonly string[];
  /** Peers to connect to and keep connected to: multiaddrs ending in /p2p/<peer id>. */
  readonly bootstrap: readonly string[];
  /** Local networks: allow many connections from 127.0.0.0/8 and ::1, and do not score IP colocation there. */
  readonly allowLoopback: boolean;
  readonly maxConnections: number;
  /** gossipsub's target mesh degree D (default 6, the gossipsub standard). */
  readonly meshDegree?: number;
  /** Node-wide cap on inbound sync streams open at once (default 256). */
  readonly maxInboundStreams?: number;
  /** Node-wide cap on the bytes inbound sync streams may hold at once (default 32 MiB). */
  readonly maxInboundStreamBytes?: number;
  /** Connection slots kept for bootstrap peers and bound tracked witnesses (default: one per such peer, at most half of maxConnections). */
  readonly reservedSlots?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 100;
export const DEFAULT_MESH_DEGREE = 6;
export const DEFAULT_MAX_INBOUND_STREAMS = 256;
export const DEFAULT_MAX_INBOUND_STREAM_BYTES = 32 * 1024 * 1024;
/**
 * gossipsub's per-RPC frame limit (it-length-prefixed's default). Far above the topics' message
 * limits, so an oversized message reaches the validator and is rejected (a P4 penalty). A frame
 * beyond it ends the sender's stream and costs it PENALTY.oversized (src/gossip/limits.ts); not a
 * ban on the first one, since an IWANT answer bundles many messages in one frame.
 */
export const MAX_RPC_BYTES = 4 * 1024 * 1024;

/**
 * gossipsub mesh bounds for a target degree D: Dlo = ceil(2D/3), Dhi = 2D, Dscore = Dlo,
 * Dout = min(2, floor(Dlo/2)). D = 6 gives gossipsub's defaults (4, 12, 4, 2). A smaller D sends
 * fewer duplicate copies (less CPU and bandwidth per message), at some cost in redundancy.
 */
export function meshParams(D: number): { D: number; Dlo: number; Dhi: number; Dscore: number; Dout: number } {
  const Dlo = Math.max(1, Math.ceil((2 * D) / 3));
  return { D, Dlo, Dhi: 2 * D, Dscore: Dlo, Dout: Math.min(2, Math.floor(Dlo / 2)) };
}

/**
 * Peer scoring (gossipsub v1.1). Rejected messages (P4) are the only negative topic component:
 * mesh delivery deficits (P3, P3b) are off, because a node that follows other logs delivers less
 * and must never be penalised for it. With weight -10 and counter decay 0.98/s, a peer that had 4
 * messages rejected within a few seconds falls below the graylist threshold (-10·4² = -160 plus at
 * most +10 of positive score), and its messages are dropped unprocessed; the node then hangs up
 * and refuses it for BAN_MS (src/gossip/service.ts).
 */
export const SCORE_THRESHOLDS = {
  gossipThreshold: -25,
  publishThreshold: -50,
  graylistThreshold: -100,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
} as const;

export const TOPIC_SCORE = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.98,
} as const;

/**
 * How often libp2p's connection monitor pings each connection (libp2p's default: 10 s). Nothing
 * here reads the RTTs and a failed ping never closes a connection (see createGossipHost), so a
 * ping a minute is plenty; each one is a new stream (multistream-select, 32 B each way).
 */
export const PING_INTERVAL_MS = 60_000;

/**
 * yamux window updates as go-yamux and hashicorp/yamux send them: only once half of a stream's
 * receive window is consumed (or with a flag). js-yamux 8 answers every data frame with a window
 * update (12 B of header plus 18 B of Noise framing), which doubled the frames on the exchange's
 * streams. The remote may still send at least half a window (128 KiB) without waiting, far
 * more than one tick's frames. Applied once per process, to every yamux stream.
 */
export function lazyYamuxWindowUpdates(): void {
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate(): void; __gwLazyWindow?: boolean };
  if (proto.__gwLazyWindow) return;
  const eager = proto.sendWindowUpdate;
  proto.sendWindowUpdate = function (this: { state: StreamState; recvWindow: number; recvWindowCapacity: number }) {
    if (this.state === StreamState.Established && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return;
    eager.call(this);
  };
  proto.__gwLazyWindow = true;
}

export const LOOPBACK_IPS = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];

export function scoreParams(allowLoopback: boolean, retainMs: number, appScore: (peer: string) => number = () => 0, topics: readonly string[] = TOPICS) {
  return {
    topics: Object.fromEntries(topics.map((t) => [t, { ...TOPIC_SCORE }])),
    topicScoreCap: 10,
    // The service's own penalties (held streams, oversized frames): see src/gossip/limits.ts.
    appSpecificScore: appScore,
    appSpecificWeight: 1,
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: new Set<string>(allowLoopback ? LOOPBACK_IPS : []),
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 0,
    behaviourPenaltyDecay: 0.2,
    decayInterval: 1000,
    decayToZero: 0.01,
    retainScore: retainMs,
  };
}

/** Loads the libp2p identity key (protobuf, base64, one line) or creates it with mode 0600. */
export async function loadOrCreatePeerKey(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  if (existsSync(file)) {
    const text = readPrivateFile(file, 'p2p identity key').trim(); // type, mode 0600 and size, as the witness key
    const raw = decodeBase64(text);
    if (raw === null) throw new Error(`${file}: not a base64 libp2p private key`);
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(raw);
    } catch (e) {
      throw new Error(`${file}: not a libp2p private key: ${(e as Error).message}`);
    }
    // A flipped byte inside the key material still decodes: check that the key signs for its
    // own public half, so a damaged identity refuses start instead of failing every handshake.
    // Node >= 24 (OpenSSL 3.5) already refuses such a key when signing ("Invalid JWK OKP key"):
    // the same clear error then, on every Node version.
    const probe = new TextEncoder().encode('gossip-witness identity check');
    let matches = false;
    try {
      matches = await key.publicKey.verify(probe, await key.sign(probe));
    } catch {
      matches = false;
    }
    if (!matches) throw new Error(`${file}: damaged libp2p private key (its private and public halves do not match); delete it to get a new peer identity`);
    return { key, created: false };
  }
  const key = await generateKeyPair('Ed25519');
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, encodeBase64(privateKeyToProtobuf(key)) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { key, created: true };
}

export type GossipHost = Libp2p<{ identify: Identify; ping: Ping; pubsub: GossipSub }>;

export interface HostOptions {
  /** gossipsub topics (default: version 1's TOPICS). */
  readonly topics?: readonly string[] | undefined;
  readonly p2p: P2pOptions;
  readonly privateKey: PrivateKey;
  /** Peers refused at dial and at inbound upgrade (the service's ban list). */
  readonly isBanned: (peer: PeerId) => boolean;
  /** How long gossipsub remembers a disconnected peer's score. */
  readonly retainScoreMs: number;
  /** Application penalties (≤ 0) added to a peer's gossipsub score. */
  readonly appScore?: (peer: string) => number;
}

export async function createGossipHost(opts: HostOptions): Promise<GossipHost> {
  const { p2p } = opts;
  lazyYamuxWindowUpdates();
  // No allow list even for loopback: libp2p exempts allow-listed addresses from maxConnections,
  // which let a slot-filler on an allowed address hold more connections than the limit. Local
  // networks get a higher per-address inbound rate instead.
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: [...p2p.listen], ...(p2p.announce.length > 0 ? { announce: [...p2p.announce] } : {}) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: p2p.maxConnections, ...(p2p.allowLoopback ? { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 64 } : {}) },
    // Keep measuring RTTs, but do not drop a connection over one slow ping: a busy event loop
    // (many nodes per process, a CPU spike) otherwise tears the mesh apart. Dead peers are still
    // found by yamux keep-alives and TCP.
    connectionMonitor: { abortConnectionOnPingFailure: false, pingInterval: PING_INTERVAL_MS },
    connectionGater: {
      denyDialPeer: (peer) => opts.isBanned(peer),
      denyInboundEncryptedConnection: (peer) => opts.isBanned(peer),
      denyOutboundEncryptedConnection: (peer) => opts.isBanned(peer),
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        emitSelf: false,
        fallbackToFloodsub: false,
        floodPublish: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        globalSignaturePolicy: 'StrictNoSign',
        ...meshParams(p2p.meshDegree ?? DEFAULT_MESH_DEGREE),
        msgIdFn: (msg) => messageId(msg.data),
        maxInboundDataLength: MAX_RPC_BYTES,
        allowedTopics: [...(opts.topics ?? TOPICS)],
        scoreParams: scoreParams(p2p.allowLoopback, opts.retainScoreMs, opts.appScore, opts.topics ?? TOPICS),
        scoreThresholds: { ...SCORE_THRESHOLDS },
      }),
    },
  }) as unknown as Promise<GossipHost>;
}
