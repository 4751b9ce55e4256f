// Hostile libp2p peers for tests and bench/hostile-peers.bench.ts. Each is a real libp2p host with
// the node's own stack (createGossipHost), subscribed to both topics, misbehaving in one way.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import { createGossipHost, type GossipHost } from '../../src/gossip/host.js';
import { CHECKPOINT_TOPIC, EVIDENCE_TOPIC, EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } from '../../src/gossip/wire.js';
import { SYNC_PROTOCOL, encodeRequest, encodeResponse, type ByteStream } from '../../src/gossip/sync.js';

/** The wire version attackers speak (sync protocol ID and topics): version 2 nodes refuse version 1 peers. */
let version: 1 | 2 = 1;
export function setAttackerVersion(v: 1 | 2): void {
  version = v;
}
const syncId = () => (version === 2 ? SYNC_PROTOCOL_V2 : SYNC_PROTOCOL);
const topics = () => (version === 2 ? [EVIDENCE_TOPIC_V2] : [CHECKPOINT_TOPIC, EVIDENCE_TOPIC]);

export type AttackerKind = 'silent' | 'stream-holding' | 'slot-filling' | 'replaying' | 'oversize';

export interface Attacker {
  readonly kind: AttackerKind;
  readonly host: GossipHost;
  readonly id: string;
  /** Streams this attacker holds open (silent: inbound requests it never answers; holder: its own). */
  readonly held: ByteStream[];
  stop(): Promise<void>;
}

/** A host with the node's stack; `answerSync` decides what it does with inbound sync streams. */
export async function attackerHost(kind: AttackerKind, answerSync?: (s: ByteStream) => void): Promise<Attacker> {
  const host = await createGossipHost({
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 200 },
    privateKey: await generateKeyPair('Ed25519'),
    isBanned: () => false,
    retainScoreMs: 60_000,
    topics: topics(),
  });
  for (const t of topics()) host.services.pubsub.subscribe(t);
  const held: ByteStream[] = [];
  if (answerSync) await host.handle(syncId(), (stream) => answerSync(stream as unknown as ByteStream), { maxInboundStreams: 1024, maxOutboundStreams: 1024 });
  const a: Attacker = {
    kind,
    host,
    id: host.peerId.toString(),
    held,
    async stop() {
      for (const s of held.splice(0)) s.abort(new Error('stop'));
      await Promise.resolve(host.stop()).catch(() => undefined);
    },
  };
  return a;
}

/** Reads sync requests and never answers (nor closes): "the silent peer" of issue 13 §3. */
export async function silentPeer(): Promise<Attacker> {
  // eslint-disable-next-line prefer-const
  let a: Attacker | undefined;
  a = await attackerHost('silent', (s) => {
    a?.held.push(s);
    void (async () => {
      try {
        for await (const _ of s) {
          // read and ignore
        }
      } catch {
        // aborted
      }
    })();
  });
  return a;
}

/** Answers every sync request with a fixed response (e.g. a copied binding). */
export async function answeringPeer(kind: AttackerKind, response: Parameters<typeof encodeResponse>[0]): Promise<Attacker> {
  return attackerHost(kind, (s) => {
    void (async () => {
      try {
        for await (const _ of s) {
          // wait for the request's end
        }
        s.send(encodeResponse(response));
        await s.close();
      } catch {
        // aborted
      }
    })();
  });
}

/** Opens n sync streams to a peer and never writes or closes them. Returns how many opened. */
export async function holdStreams(a: Attacker, peer: PeerId, n: number): Promise<number> {
  let opened = 0;
  await Promise.allSettled(
    Array.from({ length: n }, async () => {
      const s = (await a.host.dialProtocol(peer, syncId(), { signal: AbortSignal.timeout(5000) })) as unknown as ByteStream;
      a.held.push(s);
      opened++;
    }),
  );
  return opened;
}

/** A one-shot sync request from an attacker (e.g. to fetch a node's public binding). */
export async function ask(a: Attacker, peer: PeerId, req: Parameters<typeof encodeRequest>[0]): Promise<Uint8Array> {
  const s = (await a.host.dialProtocol(peer, syncId(), { signal: AbortSignal.timeout(5000) })) as unknown as ByteStream;
  s.send(encodeRequest(req));
  await s.close();
  const chunks: Uint8Array[] = [];
  for await (const c of s) chunks.push(c instanceof Uint8Array ? c : c.subarray());
  return Buffer.concat(chunks);
}

export async function dialAll(a: Attacker, addrs: readonly string[]): Promise<void> {
  await Promise.allSettled(addrs.map((addr) => a.host.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) })));
}

/** Publishes without caring whether anyone accepts. */
export async function publish(a: Attacker, topic: string, data: Uint8Array): Promise<void> {
  await a.host.services.pubsub.publish(topic, data).catch(() => undefined);
}
