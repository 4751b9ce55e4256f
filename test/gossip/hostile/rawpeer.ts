// A raw libp2p peer speaking the exchange by hand (for the hostile-input tests of test/gossip/hostile).
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { createGossipHost, type GossipHost } from '../../../src/gossip/host.js';
import { EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } from '../../../src/gossip/wire.js';
import { EXCHANGE_PROTOCOL, FrameReader, FRAME, decodeHello } from '../../../src/gossip/exchange.js';
import { waitFor } from '../helpers.js';

export interface RawPeer {
  host: GossipHost;
  id: string;
  got: { type: number; payload: Uint8Array }[];
  send(frame: Uint8Array): void;
  victimKeys(): readonly string[];
  stop(): Promise<void>;
}

export async function rawPeer(victimAddr: string, victimId: string): Promise<RawPeer> {
  const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 }, privateKey: await generateKeyPair('Ed25519'), isBanned: () => false, retainScoreMs: 60_000 });
  const got: { type: number; payload: Uint8Array }[] = [];
  host.services.pubsub.subscribe(EVIDENCE_TOPIC_V2);
  await host.handle(SYNC_PROTOCOL_V2, (stream) => void (async () => { try { for await (const _ of stream as never as AsyncIterable<unknown>) { /* read */ } } catch { /* aborted */ } })());
  await host.handle(EXCHANGE_PROTOCOL, (stream) => void (async () => {
    const r = new FrameReader();
    try {
      for await (const c of stream as never as AsyncIterable<Uint8Array | { subarray(): Uint8Array }>) got.push(...r.push(c instanceof Uint8Array ? c : c.subarray()));
    } catch { /* aborted */ }
  })());
  await host.dial(multiaddr(victimAddr));
  const s = await host.dialProtocol(host.getPeers().find((p) => p.toString() === victimId)!, EXCHANGE_PROTOCOL);
  void (async () => { try { for await (const _ of s as never as AsyncIterable<unknown>) { /* read */ } } catch { /* aborted */ } })();
  await waitFor(() => got.some((f) => f.type === FRAME.hello), "the victim's HELLO");
  return {
    host,
    id: host.peerId.toString(),
    got,
    send: (f) => void s.send(f),
    victimKeys: () => decodeHello(got.find((f) => f.type === FRAME.hello)!.payload).keys,
    stop: async () => { await host.stop(); },
  };
}
