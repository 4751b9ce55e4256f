// Branches of different sizes where the only proof source is a Rekor-style proof API, which omits
// the root of the first m leaves when m is a power of two (RFC 6962; Rekor and Sigsum do too):
//  (a) the node recovers that root from the API's proof from m-1 to m (leaf m-1 with its inclusion
//      proof), checks it against the larger signed root, and stores proven evidence;
//  (b) a log that refuses to answer leaves a SUSPECT record (GET /suspects, metric), never evidence;
//  (c) a peer that reads the larger branch's tiles supplies the root over the sync "prove" request.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Net, push, v1, waitFor, type NetNode } from './helpers.js';
import { startServer, send, hex, TiledLogServer, type TestServer } from '../logs/feeders-helpers.js';
import type { MemoryTree } from '../../src/merkle/memory-tree.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { VerifierSet } from '../../src/note/note.js';
import { parseVkey } from '../../src/note/keys.js';
import { CHECKPOINT_TOPIC } from '../../src/gossip/wire.js';
import { dialAll, silentPeer, type Attacker } from './attackers.js';

let net: Net | undefined;
const closers: (() => Promise<void>)[] = [];
const silent: Attacker[] = [];
afterEach(async () => {
  await Promise.allSettled(silent.splice(0).map((a) => a.stop()));
  await net?.stop();
  net = undefined;
  while (closers.length) await closers.pop()!();
});

/** A Rekor v1-shaped log API: /api/v1/log serves `note`; proofs come from `tree` (hex hashes, RFC 6962: h omitted). */
interface FakeRekor {
  readonly server: TestServer;
  note: string;
  tree: MemoryTree;
  /** Whether to answer a proof request (false: 503), or a tree to answer it from instead of `tree`. */
  answer: (first: bigint, last: bigint) => boolean | MemoryTree;
  readonly proofQueries: [bigint, bigint][];
}

async function fakeRekor(note: string, tree: MemoryTree): Promise<FakeRekor> {
  const r = { note, tree, answer: () => true, proofQueries: [] as [bigint, bigint][] } as unknown as FakeRekor & { server: TestServer };
  r.server = await startServer((_req, res, path, q) => {
    if (path === 'api/v1/log') {
      return send(res, 200, JSON.stringify({ rootHash: hex(new Uint8Array(32)), treeSize: 0, signedTreeHead: r.note, treeID: '1' }), 'application/json');
    }
    if (path === 'api/v1/log/proof') {
      const first = BigInt(q.get('firstSize') ?? '0');
      const last = BigInt(q.get('lastSize') ?? '0');
      r.proofQueries.push([first, last]);
      const a = r.answer(first, last);
      if (a === false) return send(res, 503, 'not now\n');
      const tree = a === true ? r.tree : a;
      if (first < 1n || first >= last || last > tree.size) return send(res, 400, 'bad sizes\n');
      return send(res, 200, JSON.stringify({ rootHash: hex(tree.root(last)), hashes: tree.consistencyProof(first, last).map(hex) }), 'application/json');
    }
    send(res, 404, 'not found\n');
  });
  closers.push(() => r.server.close());
  return r;
}

const rekorPull = (url: string) => `    pull: { type: rekor-v1, url: "${url}/", interval: 1h, timeout: 2s }\n`;

async function stateSize(n: NetNode, origin: string): Promise<bigint | undefined> {
  return (await n.node.store.getState(origin))?.size;
}

async function metric(n: NetNode, line: string): Promise<string | undefined> {
  const text = await (await fetch(`${n.node.url}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(line));
}

/**
 * Node 0 pulls the log over its Rekor-style API and is pushed branch a at size 8 (a power of
 * two); node 1 is pushed branch b at size 11 and gossips it. Both branches share 6 leaves.
 */
async function splitAt8(origin: string, opts: { answer?: FakeRekor['answer']; tilesOfB?: boolean; beforeSplit?: () => Promise<void> } = {}) {
  const log = new TestLog(origin).append(6);
  const rekor = await fakeRekor(log.checkpoint(), log.tree);
  if (opts.answer) rekor.answer = opts.answer;
  const fork = log.fork(6n);
  let tiles: TiledLogServer | undefined;
  if (opts.tilesOfB) {
    tiles = await TiledLogServer.start(fork);
    closers.push(() => tiles!.close());
    tiles.publish();
  }
  const spec = { origin: log.origin, vkey: log.key.vkey };
  net = await Net.start(3, {
    version: v1,
    logs: (i) => [{ ...spec, ...(i === 0 ? { extra: rekorPull(rekor.server.url) } : i === 2 && tiles ? { extra: `    pull: { type: tiles, url: "${tiles.url}/", interval: 100ms, timeout: 2s }\n` } : {}) }],
    checkDelayMs: 100,
  });
  await net.ready(2);
  await waitFor(async () => (await stateSize(net!.nodes[0], origin)) === 6n, 'node 0 pulled the shared size 6');
  if (tiles) await waitFor(async () => (await stateSize(net!.nodes[2], origin)) === 6n, 'node 2 pulled the shared size 6');
  await opts.beforeSplit?.();
  log.append(2); // branch a: 8 leaves
  fork.append(5, 'evil'); // branch b: 11 leaves
  rekor.tree = fork.tree; // the API answers from branch b
  expect(await push(net.nodes[0].node, log)).toBe('cosigned');
  expect(await stateSize(net.nodes[0], origin)).toBe(8n);
  if (tiles) tiles.publish();
  else expect(await push(net.nodes[1].node, fork)).toBe('cosigned');
  return { log, fork, rekor };
}

async function evidenceEverywhere(origin: string): Promise<void> {
  for (const n of net!.nodes) await waitFor(async () => (await n.node.store.listEvidence(origin)).length > 0, `evidence at node ${n.index}`);
}

function checks(n: NetNode, origin: string) {
  return n.events.filter((e): e is Extract<typeof e, { type: 'check' }> => e.type === 'check' && e.origin === origin);
}

describe('different sizes, Rekor-style proof API (h omitted for power-of-two m)', () => {
  it('(a) recovers the root of the first 8 leaves from the proof 7 -> 8, checks it against the signed root of 11, and proves the split', async () => {
    const origin = 'example.com/rekor-pow2';
    const { log, rekor } = await splitAt8(origin);
    const nodes = net!.nodes;
    await waitFor(() => checks(nodes[0], origin).some((c) => c.result !== 'undecided'), 'node 0 decided the pair', 10_000);
    expect(checks(nodes[0], origin).filter((c) => c.result !== 'undecided')).toEqual([{ type: 'check', origin, result: 'evidence', how: 'proof-api' }]);
    // It asked for the proof 8 -> 11 (which omits h) and then 7 -> 8.
    expect(rekor.proofQueries).toContainEqual([8n, 11n]);
    expect(rekor.proofQueries).toContainEqual([7n, 8n]);
    await evidenceEverywhere(origin);
    const keys = new VerifierSet([parseVkey(log.key.vkey)]);
    for (const n of nodes) {
      const [ev] = await n.node.store.listEvidence(origin);
      const v = verifyEvidence(ev.bytes, (o) => (o === origin ? keys : undefined));
      expect(v.ok).toBe(true);
      if (v.ok) expect([v.a.size, v.b.size]).toEqual([8n, 11n]);
    }
    expect(await metric(nodes[0], 'gossip_consistency_checks_total{result="evidence"}')).toMatch(/ 1$/);
  });

  // A third tree sharing nothing with either branch: its 7 -> 8 proof yields a root that is not
  // branch b's, which the check against b's signed root must catch.
  const other = new TestLog('example.com/unrelated').append(8, 'other').tree;
  it.each([
    ['all', 'refuses every proof request', (): boolean | MemoryTree => false],
    ['inner', 'answers 8 -> 11 (without h) but refuses 7 -> 8', (first: bigint): boolean | MemoryTree => first !== 7n],
    ['lies', 'answers 7 -> 8 from another tree', (first: bigint): boolean | MemoryTree => (first === 7n ? other : true)],
  ])('(b) a log that $1: suspect recorded (GET /suspects, metric), not proven', async (tag, _what, answer) => {
    const origin = `example.com/rekor-refuses-${tag}`;
    await splitAt8(origin, { answer });
    const n0 = net!.nodes[0];
    await waitFor(() => checks(n0, origin).some((c) => c.result !== 'undecided'), 'node 0 decided the pair', 10_000);
    expect(checks(n0, origin).filter((c) => c.result !== 'undecided').map((c) => c.result)).toEqual(['suspect']);
    const suspects = (await (await fetch(`${n0.node.url}/suspects?origin=${encodeURIComponent(origin)}`)).json()) as { reason: string; held: string; submitted: string }[];
    // The core is the only writer of suspect records and stores a (held, submitted) pair once,
    // whichever path (the log's push or gossip's pair check) found it first.
    const mine = suspects.filter((s) => s.held.split('\n')[1] === '8' && s.submitted.split('\n')[1] === '11');
    expect(mine).toHaveLength(1);
    expect(mine[0].held.split('\n')[1]).toBe('8');
    expect(mine[0].submitted.split('\n')[1]).toBe('11');
    expect(await metric(n0, 'gossip_consistency_checks_total{result="suspect"}')).toMatch(/ 1$/);
    // The check is over: nothing was proven, anywhere.
    expect(await metric(n0, 'gossip_consistency_checks_total{result="evidence"}')).toBeUndefined();
    for (const n of net!.nodes) expect(await n.node.store.listEvidence(origin)).toEqual([]);
  });

  it('(c) the API refuses, a peer reading branch b\'s tiles supplies h and the proof over sync "prove"', async () => {
    const origin = 'example.com/rekor-peer';
    await splitAt8(origin, { answer: () => false, tilesOfB: true });
    const n0 = net!.nodes[0];
    await waitFor(() => checks(n0, origin).some((c) => c.result !== 'undecided'), 'node 0 decided the pair', 10_000);
    expect(checks(n0, origin).filter((c) => c.result !== 'undecided')).toEqual([{ type: 'check', origin, result: 'evidence', how: 'peer' }]);
    await evidenceEverywhere(origin);
    const suspects = (await (await fetch(`${n0.node.url}/suspects?origin=${encodeURIComponent(origin)}`)).json()) as { reason: string }[];
    expect(suspects.filter((s) => s.reason.startsWith('gossip: '))).toEqual([]);
    expect(await metric(net!.nodes[2], 'gossip_sync_requests_total{type="prove",direction="in",outcome="ok"}')).toMatch(/ [1-9]\d*$/);
  });

  it('(d) silent peers (they read "prove" and never answer) cannot stall the check: the proof API is asked at the same time', async () => {
    const origin = 'example.com/rekor-silent-peers';
    await splitAt8(origin, {
      beforeSplit: async () => {
        for (let i = 0; i < 3; i++) silent.push(await silentPeer());
        const n0 = net!.nodes[0];
        for (const a of silent) await dialAll(a, [n0.addr]);
        await waitFor(() => silent.every((a) => n0.node.gossip!.libp2p.services.pubsub.getSubscribers(CHECKPOINT_TOPIC).some((p) => p.toString() === a.id)), 'silent peers subscribed at node 0');
      },
    });
    const n0 = net!.nodes[0];
    // Without deadlines the check waited on a silent peer for ever and never reached the API.
    await waitFor(() => checks(n0, origin).some((c) => c.result !== 'undecided'), 'node 0 decided the pair', 30_000);
    expect(checks(n0, origin).filter((c) => c.result !== 'undecided')).toEqual([{ type: 'check', origin, result: 'evidence', how: 'proof-api' }]);
    await evidenceEverywhere(origin);
  });
});
