// In-process libp2p networks (3-5 real nodes on 127.0.0.1): cosignatures spread and merge,
// a split view is proven and the evidence reaches every node, catch-up on connect, rollback
// protection from peers.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Net, push, v1, waitFor } from './helpers.js';
import { parseNote } from '../../src/note/index.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { VerifierSet } from '../../src/note/note.js';
import { parseVkey } from '../../src/note/keys.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TiledLogServer } from '../logs/feeders-helpers.js';

let net: Net | undefined;
afterEach(async () => {
  await net?.stop();
  net = undefined;
});

function logSpec(log: TestLog) {
  return { origin: log.origin, vkey: log.key.vkey };
}

describe('gossip network (in-process libp2p)', () => {
  it('each witness publishes its cosigned checkpoint once; every node merges all cosignatures on the same text', async () => {
    const log = new TestLog('example.com/gossip-merge').append(5);
    net = await Net.start(4, { version: v1, logs: [logSpec(log)] });
    await net.ready();
    for (const n of net.nodes) expect(await push(n.node, log)).toBe('cosigned');
    // Every node's view of the checkpoint ends with all 4 cosignatures.
    await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 4), 'all cosignatures merged everywhere');
    for (const n of net.nodes) {
      const published = n.events.filter((e) => e.type === 'published' && e.topic.includes('cosigned'));
      expect(published).toHaveLength(1);
      const head = n.node.gossip!.viewOf(log.origin)!.head()!;
      const msg = parseNote(n.node.gossip!.viewOf(log.origin)!.message(head));
      expect(msg.signatures).toHaveLength(5); // the log + 4 witnesses
    }
    // A re-push of the same checkpoint is re-cosigned by the core but not re-published. Barrier: a
    // new checkpoint pushed after it is published (publications go out in order), so a second
    // publication of the first would be counted by then.
    const published = () => net!.nodes[0].events.filter((e) => e.type === 'published' && e.topic.includes('cosigned')).length;
    expect(await push(net.nodes[0].node, log)).toBe('cosigned');
    log.append(1);
    expect(await push(net.nodes[0].node, log)).toBe('cosigned');
    await waitFor(() => published() >= 2, 'the next checkpoint published');
    expect(published()).toBe(2);
    // Peer scores stay non-negative among honest peers.
    for (const n of net.nodes) for (const s of n.node.gossip!.scores().values()) expect(s).toBeGreaterThanOrEqual(0);
  });

  it('same size, different root: proven evidence at once, verified and stored by every node', async () => {
    const log = new TestLog('example.com/gossip-fork').append(8);
    net = await Net.start(4, { version: v1, logs: [logSpec(log)] });
    await net.ready();
    for (const n of net.nodes) await push(n.node, log);
    const fork = log.fork(8n).append(4, 'evil');
    log.append(4);
    const t0 = Date.now();
    for (const n of net.nodes.slice(0, 3)) await push(n.node, log);
    expect(await push(net.nodes[3].node, fork)).toBe('cosigned'); // the log equivocates toward node 3
    await waitFor(async () => {
      for (const n of net!.nodes) if ((await n.node.store.listEvidence(log.origin)).length === 0) return false;
      return true;
    }, 'evidence at every node', 5000);
    const elapsed = Date.now() - t0;
    console.log(`same-size fork -> evidence at all 4 in-process nodes: ${elapsed} ms`);
    const keys = new VerifierSet([parseVkey(log.key.vkey)]);
    for (const n of net.nodes) {
      const [ev] = await n.node.store.listEvidence(log.origin);
      expect(verifyEvidence(ev.bytes, (o) => (o === log.origin ? keys : undefined)).ok).toBe(true);
      const res = await fetch(`${n.node.url}/evidence`);
      expect(res.status).toBe(200);
    }
    // The forked witness keeps its branch; the others keep theirs (the core refuses the other).
    expect(await push(net.nodes[0].node, fork)).toMatch(/rejected|stale/);
  });

  it('a node that joins later catches up on the views (sync on connect)', async () => {
    const log = new TestLog('example.com/gossip-catchup').append(3);
    net = await Net.start(2, { version: v1, logs: [logSpec(log)] });
    await net.ready();
    await push(net.nodes[0].node, log);
    await push(net.nodes[1].node, log);
    await waitFor(() => net!.nodes[1].node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 2, 'node 1 merged both cosignatures');
    // No new message is published after this point: only the sync on connect can fill its view.
    const late = await net.addNode({});
    await waitFor(() => late.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 2, 'the late node caught up');
    expect(late.events.some((e) => e.type === 'checkpoint' && e.via === 'sync')).toBe(true);
  });

  it('rollback protection: a witness restarted with lost state moves forward to what peers hold with its cosignature, and refuses below it', async () => {
    const log = new TestLog('example.com/gossip-rollback').append(4);
    net = await Net.start(3, { version: v1, logs: [logSpec(log)] });
    await net.ready();
    const victim = net.nodes[2];
    for (const n of net.nodes) await push(n.node, log);
    log.append(6);
    for (const n of net.nodes) await push(n.node, log);
    const label = `${victim.key.name}+${victim.key.cosignatureVkey.split('+')[1]}`;
    await waitFor(() => net!.nodes[0].node.gossip!.viewOf(log.origin)?.latestCosignedBy(label)?.size === 10n, 'peers hold the victim cosignature at 10');
    await net.closeNode(victim);
    // The same witness key, restarted on an empty store (a lost disk, an old backup).
    const again = await net.addNode({ key: victim.key, store: new MemoryStore(), bootstrap: [net.nodes[0].addr, net.nodes[1].addr] });
    expect((await again.node.store.getState(log.origin))?.size).toBe(10n);
    expect(again.events.some((e) => e.type === 'restored' && e.size === 10n)).toBe(true);
    // An equivocating log now tries to get an older, forked view cosigned: refused (stale, 409).
    const fork = log.fork(4n).append(3, 'evil');
    expect(await push(again.node, fork, 7n)).toBe('stale');
  });

  it('a checkpoint learned through gossip ahead of a pulling witness: its feeder polls the log at once (the feeders\' pull path) and cosigns through witness.add', async () => {
    const log = new TestLog('example.com/gossip-pull').append(5);
    const server = await TiledLogServer.start(log);
    try {
      server.publish();
      // An hour between polls: only the gossip can make nodes 1 and 2 move before the test ends.
      const pull = `    pull: { type: tiles, url: "${server.url}/", interval: 1h, timeout: 2s }\n`;
      net = await Net.start(3, { version: v1, logs: [{ ...logSpec(log), extra: pull }] });
      await net.ready(2);
      await waitFor(async () => (await Promise.all(net!.nodes.map((n) => n.node.store.getState(log.origin)))).every((s) => s?.size === 5n), 'the first poll at every node');
      const before = net.nodes[1].node.feeders.get(log.origin)!.stats().polls;
      log.append(300);
      server.publish();
      await net.nodes[0].node.feeders.get(log.origin)!.pollOnce();
      expect((await net.nodes[0].node.store.getState(log.origin))?.size).toBe(305n);
      await waitFor(async () => (await Promise.all(net!.nodes.map((n) => n.node.store.getState(log.origin)))).every((s) => s?.size === 305n), 'nodes 1 and 2 cosigned 305 after polling the log');
      // ... and they published their own cosignatures on the same text: all three merge everywhere.
      await waitFor(() => net!.nodes.every((n) => n.node.gossip!.viewOf(log.origin)?.head()?.cosignatures.size === 3), 'three cosignatures on 305 everywhere');
      // The interval is an hour: every poll after the first is gossip-triggered. The step to 305 took
      // one; one more may have been in flight from start-up (node 0's size 5 gossiped before node 1's
      // first poll ended; a poll counts when it ends). CI on Node 26 saw that once.
      const polls = net.nodes[1].node.feeders.get(log.origin)!.stats().polls - before;
      expect(polls).toBeGreaterThanOrEqual(1);
      expect(polls).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it('different sizes, no tiles of its own: a node gets h and the proof from a peer that reads the larger branch (sync "prove")', async () => {
    const log = new TestLog('example.com/gossip-prove').append(6);
    const fork = log.fork(6n);
    const server = await TiledLogServer.start(fork); // branch b, read by node 2 only
    try {
      server.publish();
      const pull = `    pull: { type: tiles, url: "${server.url}/", interval: 100ms, timeout: 2s }\n`;
      net = await Net.start(3, { version: v1, logs: (i) => [{ ...logSpec(log), ...(i === 2 ? { extra: pull } : {}) }], checkDelayMs: 100 });
      await net.ready(2);
      for (const n of net.nodes.slice(0, 2)) await push(n.node, log);
      await waitFor(async () => (await net!.nodes[2].node.store.getState(log.origin))?.size === 6n, 'node 2 pulled size 6');
      log.append(2); // branch a: 8, pushed to nodes 0 and 1
      for (const n of net.nodes.slice(0, 2)) await push(n.node, log);
      fork.append(3, 'evil'); // branch b: 9, pulled by node 2
      server.publish();
      await waitFor(() => net!.nodes[0].events.some((e) => e.type === 'check' && e.result === 'evidence' && e.how === 'peer'), 'node 0 proves the split with a proof from node 2', 10_000);
      for (const n of net.nodes) await waitFor(async () => (await n.node.store.listEvidence(log.origin)).length > 0, `evidence at node ${n.index}`);
      const [ev] = await net.nodes[0].node.store.listEvidence(log.origin);
      const v = verifyEvidence(ev.bytes, () => new VerifierSet([parseVkey(log.key.vkey)]));
      expect(v.ok && v.a.size !== v.b.size).toBe(true);
    } finally {
      await server.close();
    }
  });
});
