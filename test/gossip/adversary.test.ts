// Peer scoring in a live in-process network: a node sending forged cosignatures, forged evidence
// and junk is rejected, graylisted and disconnected, while delivery among the honest nodes goes on;
// a node that follows a different set of logs is never penalised.
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { TestLog } from '../helpers/fork.js';
import { Net, push, v1, waitFor } from './helpers.js';
import { holdsFor } from '../helpers/wait.js';
import { createGossipHost, type GossipHost } from '../../src/gossip/host.js';
import { CHECKPOINT_TOPIC, EVIDENCE_TOPIC } from '../../src/gossip/wire.js';
import { formatSignatureLine } from '../../src/note/note.js';
import { parseCosignatureVkey } from '../../src/note/keys.js';
import { encodeEvidence } from '../../src/witness/evidence.js';
import { generateKey, signNote } from '../../src/note/index.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';

let net: Net | undefined;
const hosts: GossipHost[] = [];
afterEach(async () => {
  await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
  await net?.stop();
  net = undefined;
});

async function attacker(): Promise<GossipHost> {
  const h = await createGossipHost({
    p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 },
    privateKey: await generateKeyPair('Ed25519'),
    isBanned: () => false,
    retainScoreMs: 60_000,
  });
  hosts.push(h);
  h.services.pubsub.subscribe(CHECKPOINT_TOPIC);
  h.services.pubsub.subscribe(EVIDENCE_TOPIC);
  return h;
}

describe('gossip peer scoring', () => {
  it('a forger (bad cosignatures by known keys, junk, forged evidence) is graylisted and disconnected; honest delivery goes on', async () => {
    const log = new TestLog('example.com/scored').append(5);
    net = await Net.start(3, { version: v1, logs: [{ origin: log.origin, vkey: log.key.vkey }] });
    await net.ready();
    const evil = await attacker();
    for (const n of net.nodes) await evil.dial(multiaddr(n.addr));
    await waitFor(() => net!.nodes.every((n) => n.node.gossip!.libp2p.services.pubsub.getSubscribers(CHECKPOINT_TOPIC).some((p) => p.equals(evil.peerId))), 'the attacker is subscribed at every honest node');
    // And the other way round: the forger's floodPublish only reaches peers it knows are subscribed.
    await waitFor(() => net!.nodes.every((n) => evil.services.pubsub.getSubscribers(CHECKPOINT_TOPIC).some((p) => p.toString() === n.node.gossip!.peerId)), 'every honest node is subscribed at the forger');
    const victimKey = parseCosignatureVkey(net.nodes[0].key.cosignatureVkey);
    const send = async (topic: string, data: Uint8Array) => {
      await evil.services.pubsub.publish(topic, data).catch(() => {});
    };
    for (let i = 0; i < 12; i++) {
      // A real log-signed checkpoint with a forged cosignature line of a witness everyone tracks.
      const sig = new Uint8Array(72);
      sig[7] = i + 1;
      await send(CHECKPOINT_TOPIC, new TextEncoder().encode(log.checkpoint() + formatSignatureLine(victimKey.name, victimKey.keyId, sig)));
      // Junk.
      await send(CHECKPOINT_TOPIC, new TextEncoder().encode(`junk ${i}\n`));
      // Forged evidence: the second note claims the log's key but is signed by another key.
      const other = generateKey(log.key.name);
      const fake = signNote(formatCheckpoint({ origin: log.origin, size: 5n, root: new Uint8Array(32).fill(i + 1) }), [{ ...other, keyId: log.key.keyId }]);
      await send(EVIDENCE_TOPIC, encodeEvidence({ origin: log.origin, a: log.checkpoint(), b: fake }));
    }
    await waitFor(() => net!.nodes.every((n) => n.events.some((e) => e.type === 'banned' && e.peer === evil.peerId.toString())), 'every honest node bans the forger', 30_000);
    await waitFor(() => evil.getPeers().length === 0, 'the forger is disconnected');
    for (const n of net.nodes) {
      const rejects = n.events.filter((e) => e.type === 'verdict' && e.verdict === 'reject');
      expect(rejects.length).toBeGreaterThan(0);
      expect(await n.node.store.listEvidence()).toHaveLength(0);
      // Honest peers' scores are unaffected.
      for (const [peer, s] of n.node.gossip!.scores()) if (peer !== evil.peerId.toString()) expect(s).toBeGreaterThanOrEqual(0);
    }
    // A reconnect attempt by the forger is refused (the honest side's gater closes it at once).
    await evil.dial(multiaddr(net.nodes[0].addr), { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    await waitFor(() => evil.getPeers().length === 0, 'the reconnect is refused', 10_000);
    expect(net.nodes[0].node.gossip!.libp2p.getPeers().some((p) => p.equals(evil.peerId))).toBe(false);
    // Delivery among the honest nodes goes on.
    log.append(3);
    await push(net.nodes[0].node, log);
    await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.checkpoint.size === 8n), 'the next checkpoint reaches every honest node');
  }, 90_000);

  it('a node following a different set of logs (and tracking other witnesses) is never penalised', async () => {
    const shared = new TestLog('example.com/shared').append(4);
    const onlyOdd = new TestLog('example.com/only-node-2').append(4);
    const stranger = generateKey('stranger.example');
    net = await Net.start(3, {
      version: v1,
      logs: (i) => (i === 2 ? [{ origin: onlyOdd.origin, vkey: onlyOdd.key.vkey }, { origin: shared.origin, vkey: shared.key.vkey }] : [{ origin: shared.origin, vkey: shared.key.vkey }]),
      // Node 2 tracks a witness the others do not know; the others do not track node 2 at all.
      tracks: (i, j) => !(j === 2 && i !== 2),
      extraWitnesses: [stranger.cosignatureVkey],
    });
    await net.ready(2);
    for (let round = 0; round < 5; round++) {
      onlyOdd.append(1);
      shared.append(1);
      await push(net.nodes[2].node, onlyOdd);
      for (const n of net.nodes) await push(n.node, shared);
    }
    await waitFor(() => net!.nodes.slice(0, 2).every((n) => n.node.gossip!.viewOf(shared.origin)?.head()?.checkpoint.size === 9n), 'shared checkpoints delivered');
    const node2 = net.nodes[2].node.gossip!.peerId;
    // gossipsub caches a peer's score for one heartbeat (1 s) and no event says it was recomputed:
    // node 2's score must stay non-negative across a window longer than that.
    await holdsFor(() => net!.nodes.slice(0, 2).every((n) => (n.node.gossip!.scores().get(node2) ?? -1) >= 0), {
      what: "node 2's score at nodes 0 and 1 non-negative",
      windowMs: 1200,
      intervalMs: 50,
      why: 'a penalty shows only once the cached score expires (heartbeat 1 s)',
    });
    for (const n of net.nodes.slice(0, 2)) {
      const ignored = n.events.filter((e) => e.type === 'verdict' && e.verdict === 'ignore' && e.from === node2);
      expect(ignored.length).toBeGreaterThan(0); // it did send things these nodes cannot judge
      expect(n.events.filter((e) => e.type === 'verdict' && e.verdict === 'reject')).toHaveLength(0);
      expect(n.node.gossip!.scores().get(node2)).toBeGreaterThanOrEqual(0);
    }
    for (const n of net.nodes) expect(n.events.filter((e) => e.type === 'banned')).toHaveLength(0);
  });
});
