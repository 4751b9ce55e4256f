// Gossip version 2 (docs/gossip.md, "Version 2"): checkpoints and cosignatures over the exchange
// protocol, evidence on /gossip-witness/evidence/2; a version 1 peer is refused, not banned.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Net, push, waitFor } from './helpers.js';

let net: Net | undefined;
afterEach(async () => {
  await net?.stop();
  net = undefined;
});

const spec = (log: TestLog) => ({ origin: log.origin, vkey: log.key.vkey });
const v2 = () => 2 as const;

describe('gossip version 2', () => {
  it('every node merges every cosignature; nothing is pushed over gossipsub but evidence; no penalties', async () => {
    const log = new TestLog('example.com/v2-merge').append(5);
    net = await Net.start(4, { logs: [spec(log)], version: v2 });
    await net.ready();
    for (const n of net.nodes) expect(await push(n.node, log)).toBe('cosigned');
    await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 4), 'all cosignatures merged everywhere');
    log.append(3);
    for (const n of net.nodes) await push(n.node, log);
    await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.checkpoint.size === 8n && n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 4), 'the next checkpoint too');
    for (const n of net.nodes) {
      expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
      expect(n.events.filter((e) => e.type === 'verdict' && e.verdict === 'reject')).toEqual([]);
    }
  });

  it('same size, different root: evidence at every node', async () => {
    const log = new TestLog('example.com/v2-fork').append(8);
    net = await Net.start(4, { logs: [spec(log)], version: v2 });
    await net.ready();
    for (const n of net.nodes) await push(n.node, log);
    const fork = log.fork(8n).append(4, 'evil');
    log.append(4);
    for (const n of net.nodes.slice(0, 3)) await push(n.node, log);
    expect(await push(net.nodes[3].node, fork)).toBe('cosigned');
    await waitFor(async () => {
      for (const n of net!.nodes) if ((await n.node.store.listEvidence(log.origin)).length === 0) return false;
      return true;
    }, 'evidence at every node', 8000);
  });

  it('nodes following different logs and witnesses exchange what they share and never penalise each other', async () => {
    const a = new TestLog('example.com/v2-a').append(3);
    const b = new TestLog('example.com/v2-b').append(3);
    net = await Net.start(4, { logs: (i) => (i % 2 === 0 ? [spec(a), spec(b)] : [spec(a)]), tracks: (i, j) => i !== 1 || j !== 2, version: v2 });
    await net.ready();
    for (const n of net.nodes) await push(n.node, a);
    for (const n of net.nodes.filter((x) => x.index % 2 === 0)) await push(n.node, b);
    // Node 1 does not track node 2: it holds the other two cosignatures and its own.
    await waitFor(() => net!.nodes[1].node.gossip!.viewOf(a.origin)?.head()?.cosignatures.size === 3, 'node 1 holds 3 cosignatures on a');
    await waitFor(() => net!.nodes[0].node.gossip!.viewOf(b.origin)?.head()?.cosignatures.size === 2, 'node 0 holds both cosignatures on b');
    for (const n of net.nodes) expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
  });

  it('a version 1 peer and a version 2 peer that meet: a logged refusal, no penalty, no ban', async () => {
    const log = new TestLog('example.com/v2-v1').append(3);
    // Node 0 is version 1 and node 1 version 2 by their config files (p2p.version).
    net = await Net.start(2, { logs: [spec(log)], p2pExtra: (i) => (i === 1 ? '  version: 2\n' : '  version: 1\n') });
    await waitFor(() => net!.nodes[1].events.some((e) => e.type === 'refused'), 'the version 2 node refuses the version 1 peer');
    for (const n of net.nodes) {
      expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
      expect(n.node.gossip!.isBanned(net.nodes[1 - n.index].node.gossip!.peerId)).toBe(false);
    }
  });
});

describe('gossip version 2: hostile peers', () => {
  it('forged and oversized exchange frames get the sender penalised and banned; honest nodes keep agreeing', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { multiaddr } = await import('@multiformats/multiaddr');
    const { createGossipHost } = await import('../../src/gossip/host.js');
    const { EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } = await import('../../src/gossip/wire.js');
    const { EXCHANGE_PROTOCOL, FRAME, REF_BYTES, encodeCosigs, encodeFrame, encodeHello, shortLogId } = await import('../../src/gossip/exchange.js');
    const log = new TestLog('example.com/v2-hostile').append(4);
    net = await Net.start(2, { logs: [spec(log)], version: v2 });
    await net.ready();
    const victim = net.nodes[0];
    const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 }, privateKey: await generateKeyPair('Ed25519'), isBanned: () => false, retainScoreMs: 60_000 });
    try {
      host.services.pubsub.subscribe(EVIDENCE_TOPIC_V2);
      const drain = (s: { [Symbol.asyncIterator](): AsyncIterator<unknown> }) => void (async () => { try { for await (const _ of s) { /* read */ } } catch { /* aborted */ } })();
      await host.handle([SYNC_PROTOCOL_V2, EXCHANGE_PROTOCOL], (stream) => drain(stream as never));
      await host.dial(multiaddr(victim.addr));
      await push(victim.node, log);
      const textHash = victim.node.gossip!.viewOf(log.origin)!.head()!.textHash;
      const ref = Uint8Array.from(Buffer.from(textHash.slice(0, 2 * REF_BYTES), 'hex'));
      const hello = encodeHello({ version: 2, logs: [shortLogId(log.origin)], keys: [] });
      const send = async (frames: Uint8Array[]) => {
        const s = await host.dialProtocol(host.getPeers().find((p) => p.toString() === victim.node.gossip!.peerId)!, EXCHANGE_PROTOCOL);
        for (const f of frames) s.send(f);
        drain(s as never);
      };
      // A cosignature by node 1's key (index 1 of the victim's HELLO: its own key comes first) that does not verify.
      await send([hello, encodeCosigs(ref, [{ index: 1, sig: new Uint8Array(72).fill(7) }])]);
      await waitFor(() => victim.events.some((e) => e.type === 'penalised' && e.reason === 'invalid'), 'a forged cosignature penalised');
      // A frame over the limit (its length prefix says so).
      await send([hello, Uint8Array.of(0x80, 0x80, 0x40, FRAME.checkpoint)]); // 1 MiB
      await waitFor(() => victim.events.some((e) => e.type === 'penalised' && e.reason === 'oversized'), 'an oversized frame penalised');
      // Junk (a checkpoint that is not a signed note, a truncated COSIGS) until the score crosses the graylist threshold.
      const banned = () => victim.events.some((e) => e.type === 'banned' && e.peer === host.peerId.toString());
      for (let i = 0; i < 6 && !banned(); i++) {
        const junk = i % 2 === 0 ? encodeFrame(FRAME.checkpoint, new TextEncoder().encode('junk')) : encodeFrame(FRAME.cosigs, Uint8Array.of(1, 2));
        const before = victim.events.filter((e) => e.type === 'penalised').length;
        await send([hello, junk]).catch(() => undefined);
        await waitFor(() => banned() || victim.events.filter((e) => e.type === 'penalised').length > before, 'a junk frame penalised');
      }
      await waitFor(banned, 'the attacker banned');
      // The honest pair still agrees and never penalised each other.
      log.append(2);
      for (const n of net.nodes) await push(n.node, log);
      await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.checkpoint.size === 6n && n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 2), 'honest nodes agree on 6');
      expect(victim.events.filter((e) => (e.type === 'penalised' || e.type === 'banned') && e.peer === net!.nodes[1].node.gossip!.peerId)).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});

describe('gossip version 2: replays', () => {
  it('a replayed checkpoint gets the sender penalised and its stream closed; each pair is checked once; the honest pair is untouched', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { multiaddr } = await import('@multiformats/multiaddr');
    const { createGossipHost } = await import('../../src/gossip/host.js');
    const { EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } = await import('../../src/gossip/wire.js');
    const { EXCHANGE_PROTOCOL, FRAME, encodeFrame, encodeHello, shortLogId } = await import('../../src/gossip/exchange.js');
    const log = new TestLog('example.com/v2-replay').append(10);
    net = await Net.start(2, { logs: [spec(log)], version: v2, checkDelayMs: 50 });
    await net.ready();
    for (const n of net.nodes) await push(n.node, log);
    const victim = net.nodes[0];
    const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 }, privateKey: await generateKeyPair('Ed25519'), isBanned: () => false, retainScoreMs: 60_000 });
    try {
      host.services.pubsub.subscribe(EVIDENCE_TOPIC_V2);
      const drain = (s: { [Symbol.asyncIterator](): AsyncIterator<unknown> }) => void (async () => { try { for await (const _ of s) { /* read */ } } catch { /* aborted */ } })();
      await host.handle([SYNC_PROTOCOL_V2, EXCHANGE_PROTOCOL], (stream) => drain(stream as never));
      await host.dial(multiaddr(victim.addr));
      log.append(40);
      const sizes = Array.from({ length: 40 }, (_, i) => BigInt(11 + i));
      const s = await host.dialProtocol(host.getPeers().find((p) => p.toString() === victim.node.gossip!.peerId)!, EXCHANGE_PROTOCOL);
      drain(s as never);
      s.send(encodeHello({ version: 2, logs: [shortLogId(log.origin)], keys: [] }));
      // 40 sizes, then the same 40 again: the view keeps 32 entries, so without the replay rule old
      // ones would come back as new text (and cost a verification each).
      for (let round = 0; round < 2; round++) for (const size of sizes) s.send(encodeFrame(FRAME.checkpoint, new TextEncoder().encode(log.checkpoint(size))));
      await waitFor(() => victim.events.filter((e) => e.type === 'check' && e.origin === log.origin).length >= sizes.length, 'one check per pair', 60_000);
      const attacker = host.peerId.toString();
      await waitFor(() => victim.events.some((e) => e.type === 'penalised' && e.peer === attacker), 'the replayer penalised', 30_000);
      expect(victim.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([{ type: 'penalised', peer: attacker, reason: 'invalid', points: expect.any(Number) }]);
      expect(victim.events.filter((e) => e.type === 'check' && e.origin === log.origin)).toHaveLength(sizes.length);
      for (const n of net.nodes.slice(1)) expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
    } finally {
      await host.stop();
    }
  }, 120_000);
});
