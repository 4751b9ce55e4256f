// Version 2 is the default (p2p.version 2, meshDegree 3). A version 1 peer and a version 2 peer that
// meet are refused with a clear warn line, in either direction, without a penalty or a ban;
// honest version 2 peers that follow different logs or witnesses never penalise each other.
import { describe, it, expect, afterEach } from 'vitest';
import { keyLabel } from '../../src/note/note.js';
import { parseCosignatureVkey } from '../../src/note/keys.js';
import { TestLog } from '../helpers/fork.js';
import { Net, push, waitFor, type NetNode } from './helpers.js';

let net: Net | undefined;
afterEach(async () => {
  await net?.stop();
  net = undefined;
});

const spec = (log: TestLog) => ({ origin: log.origin, vkey: log.key.vkey });
const labelOf = (n: NetNode) => keyLabel(n.key.name, parseCosignatureVkey(n.key.cosignatureVkey).keyId);
const connected = (a: NetNode, b: NetNode) => a.node.gossip!.libp2p.getPeers().some((p) => p.toString() === b.node.gossip!.peerId);
const refusalLine = (n: NetNode, ours: 1 | 2) =>
  n.logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40 && l.msg === `peer speaks gossip version ${3 - ours} only; this node speaks version ${ours}: not exchanging (upgrade the older one)`);

describe('gossip versions', () => {
  // Node 1 dials node 0 (its bootstrap peer): first a version 2 node dialling a version 1 node, then the reverse.
  it.each([
    ['a version 2 node dials a version 1 node', [1, 2]],
    ['a version 1 node dials a version 2 node', [2, 1]],
  ] as const)('%s: a logged refusal and a hang-up, no redial; nobody is penalised or banned', async (_, versions) => {
    const log = new TestLog('example.com/versions').append(3);
    net = await Net.start(2, { logs: [spec(log)], version: (i) => versions[i], captureLogs: true });
    const [a, b] = net.nodes;
    expect(a.node.gossip!.version).toBe(versions[0]);
    expect(b.node.gossip!.version).toBe(versions[1]);
    // Whichever side identifies the other first refuses and hangs up (the other may not finish
    // identify before the hang-up); the refusing side logs it at warn, once.
    const refusing = () => net!.nodes.filter((n) => n.events.some((e) => e.type === 'refused' && e.reason === 'other-version'));
    await waitFor(() => refusing().length > 0, 'a node refuses the other version');
    for (const n of refusing()) await waitFor(() => refusalLine(n, n.node.gossip!.version) !== undefined, `node ${n.index} logs the refusal at warn`);
    await waitFor(() => !connected(a, b) && !connected(b, a), 'the connection is closed');
    // The bootstrap redial (every 2 s) skips a refused peer: still apart after a few rounds.
    const at = Date.now();
    await waitFor(() => Date.now() - at > 5000 || connected(a, b) || connected(b, a), 'a redial, or 5 s');
    if (refusing().includes(b)) expect(connected(a, b) || connected(b, a)).toBe(false);
    for (const n of refusing()) expect(n.logLines.filter((l) => l.includes('peer speaks gossip version'))).toHaveLength(1);
    for (const n of net.nodes) {
      const other = net.nodes[1 - n.index];
      expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned')).toEqual([]);
      expect(n.node.gossip!.isBanned(other.node.gossip!.peerId)).toBe(false);
      expect(n.node.gossip!.penaltyOf(other.node.gossip!.peerId)).toBe(0);
      // No message of one version reached the other's validators.
      expect(n.events.filter((e) => e.type === 'verdict')).toEqual([]);
    }
  }, 60_000);

  it('by default (no p2p.version): version 2, mesh degree 3; peers following different logs and witnesses share what they can and never penalise each other', async () => {
    const a = new TestLog('example.com/versions-a').append(4);
    const b = new TestLog('example.com/versions-b').append(4);
    // Node 0 follows a and b and tracks everyone; node 1 follows a and tracks node 0 only; node 2
    // follows b and tracks nobody.
    net = await Net.start(3, { logs: (i) => (i === 0 ? [spec(a), spec(b)] : i === 1 ? [spec(a)] : [spec(b)]), tracks: (i, j) => i === 0 || (i === 1 && j === 0) });
    for (const n of net.nodes) {
      expect(n.node.gossip!.version).toBe(2);
      expect((n.node.gossip!.libp2p.services.pubsub as unknown as { opts: { D: number } }).opts.D).toBe(3);
    }
    const [n0, n1, n2] = net.nodes;
    for (const n of [n0, n1]) expect(await push(n.node, a)).toBe('cosigned');
    for (const n of [n0, n2]) expect(await push(n.node, b)).toBe('cosigned');
    await waitFor(() => n0.node.gossip!.viewOf(a.origin)?.latestCosignedBy(labelOf(n1))?.size === a.tree.size, 'node 0 holds node 1\'s cosignature on a');
    await waitFor(() => n0.node.gossip!.viewOf(b.origin)?.latestCosignedBy(labelOf(n2))?.size === b.tree.size, 'node 0 holds node 2\'s cosignature on b');
    await waitFor(() => n1.node.gossip!.viewOf(a.origin)?.latestCosignedBy(labelOf(n0))?.size === a.tree.size, 'node 1 holds node 0\'s cosignature on a');
    // What a node does not follow never reaches its view.
    expect(n1.node.gossip!.viewOf(b.origin)).toBeUndefined();
    expect(n2.node.gossip!.viewOf(a.origin)).toBeUndefined();
    for (const n of net.nodes) {
      expect(n.events.filter((e) => e.type === 'penalised' || e.type === 'banned' || e.type === 'refused')).toEqual([]);
      expect(n.events.filter((e) => e.type === 'verdict' && e.verdict === 'reject')).toEqual([]);
      for (const m of net.nodes) if (m !== n) expect(n.node.gossip!.penaltyOf(m.node.gossip!.peerId)).toBe(0);
      for (const [, score] of n.node.gossip!.scores()) expect(score).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('a version 2 peer on the older exchange revision (2.0.0, 8-byte REFs): one warn line, no exchange stream, no penalty, the connection stays', async () => {
    const { generateKeyPair } = await import('@libp2p/crypto/keys');
    const { multiaddr } = await import('@multiformats/multiaddr');
    const { createGossipHost } = await import('../../src/gossip/host.js');
    const { EVIDENCE_TOPIC_V2, SYNC_PROTOCOL_V2 } = await import('../../src/gossip/wire.js');
    const { EXCHANGE_PROTOCOL } = await import('../../src/gossip/exchange.js');
    const OLD = '/gossip-witness/exchange/2.0.0';
    expect(EXCHANGE_PROTOCOL).not.toBe(OLD);
    const log = new TestLog('example.com/versions-exchange').append(3);
    net = await Net.start(1, { logs: [spec(log)], captureLogs: true });
    const node = net.nodes[0];
    const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p: { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 50 }, privateKey: await generateKeyPair('Ed25519'), isBanned: () => false, retainScoreMs: 60_000 });
    try {
      let oldStreams = 0;
      await host.handle([SYNC_PROTOCOL_V2, OLD], (stream) => {
        if (stream.protocol === OLD) oldStreams++;
        stream.abort(new Error('test peer'));
      });
      await host.dial(multiaddr(node.addr));
      const line = () => node.logLines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg === `peer speaks ${OLD}; this node speaks ${EXCHANGE_PROTOCOL}: no exchange with it (upgrade the older one)`);
      await waitFor(() => line().length > 0, 'the warn line about the older exchange revision');
      // It asked for the peer's views over sync (the connection is kept), never for an exchange stream.
      expect(oldStreams).toBe(0);
      expect(node.node.gossip!.libp2p.getPeers().map(String)).toContain(host.peerId.toString());
      expect(node.events.filter((e) => e.type === 'penalised' || e.type === 'banned' || e.type === 'refused')).toEqual([]);
      expect(line()).toHaveLength(1);
    } finally {
      await host.stop();
    }
  }, 60_000);
});
