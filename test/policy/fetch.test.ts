import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatherCosignatures, monitoringUrl, parsePolicy, tilesConsistencySource, verifyCosignedCheckpoint, type ConsistencySource } from '../../src/policy/index.js';
import { verifyEvidence, encodeEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/index.js';
import { toHex } from '../../src/util/bytes.js';
import { sha256 } from '../../src/crypto/index.js';
import { TestLog } from '../helpers/fork.js';
import { FakeWitnesses, Network } from './helpers.js';

const ORIGIN = 'example.com/gossip';
const net = new Network(ORIGIN, 3, 10);
const server = new FakeWitnesses();
let policyText = '';
const policy = () => parsePolicy(policyText);
const trusted = (o: string) => (o === ORIGIN ? [parseVkey(net.log.key.vkey)] : undefined);

beforeAll(async () => {
  await server.start();
  policyText = [
    `log ${net.log.key.vkey} ${server.base}/log`,
    ...net.witnesses.map((w, i) => `witness w${i} ${w.vkey} ${server.url(i)}/`),
    'group g 2 w0 w1 w2',
    'quorum g',
  ].join('\n');
});
afterAll(() => server.stop());
beforeEach(() => {
  server.answers.clear();
  server.tiles = undefined;
});

/** Each witness answers with the log's checkpoint cosigned by itself only. */
function serve(i: number, log: TestLog = net.log, size?: bigint): void {
  server.answers.set(i, net.cosigned([i], 1_700_000_000n + BigInt(i), log, size));
}

describe('gathering cosignatures from the policy witnesses', () => {
  it('uses the monitoring path <url>/<hex sha256(origin)>/checkpoint', () => {
    expect(monitoringUrl('https://w.example/prefix/', ORIGIN)).toBe(`https://w.example/prefix/${toHex(sha256(new TextEncoder().encode(ORIGIN)))}/checkpoint`);
  });

  it('agreeing witnesses: cosignatures on the identical checkpoint are merged', async () => {
    for (const i of [0, 1, 2]) serve(i);
    const r = await gatherCosignatures(policy(), ORIGIN, { timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    expect(r.disagreements).toEqual([]);
    expect(r.candidates).toHaveLength(1);
    expect(r.best!.servedBy).toEqual(['w0', 'w1', 'w2']);
    expect(r.best!.verification.cosigners).toEqual(['w0', 'w1']); // stops at 2 of 3
    // The assembled note verifies on its own, with all three cosignatures.
    const v = verifyCosignedCheckpoint(r.best!.note, policy(), { exhaustive: true });
    expect(v.ok).toBe(true);
    expect(v.cosigners).toEqual(['w0', 'w1', 'w2']);
    expect(r.responses.map((x) => x.status)).toEqual(['ok', 'ok', 'ok']);
    expect(r.reason).toMatch(/quorum g satisfied .*\(3 of 3 witnesses answered\)/);
  });

  it('witnesses at different consistent sizes: the best is the largest that satisfies the policy', async () => {
    const longer = net.log.fork(10n).append(5); // the same log, 5 leaves later
    serve(0);
    serve(1);
    serve(2, longer);
    server.tiles = longer.tree;
    const r = await gatherCosignatures(policy(), ORIGIN, { consistency: tilesConsistencySource(`${server.base}/log`) });
    expect(r.ok).toBe(true);
    expect(r.disagreements).toEqual([]);
    expect(r.unchecked).toEqual([]);
    expect(r.candidates.map((c) => c.checkpoint.size)).toEqual([15n, 10n]);
    expect(r.best!.checkpoint.size).toBe(10n); // size 15 has only w2
    // Without a consistency source the pair is reported as unchecked, not as a disagreement.
    const u = await gatherCosignatures(policy(), ORIGIN);
    expect(u.ok).toBe(true);
    expect(u.unchecked).toEqual([{ sizes: [10n, 15n], reason: 'no consistency proof source' }]);
  });

  it('split view at one size: proven evidence', async () => {
    const fork = net.log.fork(4n).append(6, 'evil');
    serve(0);
    serve(1);
    serve(2, fork);
    const r = await gatherCosignatures(policy(), ORIGIN);
    expect(r.ok).toBe(false);
    expect(r.disagreements).toHaveLength(1);
    const d = r.disagreements[0];
    expect(d).toMatchObject({ kind: 'split-view', sizes: [10n, 10n], servedBy: [['w0', 'w1'], ['w2']] });
    expect(verifyEvidence(encodeEvidence(d.evidence!), trusted)).toMatchObject({ ok: true, origin: ORIGIN });
    expect(r.reason).toMatch(/witnesses disagree .*PROVEN split view: two log-signed checkpoints of size 10 with different roots/);
    // The majority side still satisfies the policy, and is reported as best.
    expect(r.best!.servedBy).toEqual(['w0', 'w1']);
  });

  it('inconsistent sizes: proven when the proof leads to the larger root (size not a power of two)', async () => {
    const fork = net.log.fork(6n).append(9, 'evil'); // 15 leaves, agreeing with the main log on the first 6 only
    serve(0);
    serve(1);
    serve(2, fork);
    // The log serves proofs from the fork it is showing w2.
    const fromFork: ConsistencySource = async (_o, m, n) => fork.tree.consistencyProof(m, n);
    const r = await gatherCosignatures(policy(), ORIGIN, { consistency: fromFork });
    expect(r.disagreements).toHaveLength(1);
    const d = r.disagreements[0];
    expect(d).toMatchObject({ kind: 'split-view', sizes: [10n, 15n], servedBy: [['w0', 'w1'], ['w2']] });
    const verdict = verifyEvidence(encodeEvidence(d.evidence!), trusted);
    expect(verdict).toMatchObject({ ok: true });
    expect(r.ok).toBe(false);
    // Tiles from the fork give the same proven evidence.
    server.tiles = fork.tree;
    const t = await gatherCosignatures(policy(), ORIGIN, { consistency: tilesConsistencySource(`${server.base}/log/`) });
    expect(t.disagreements.map((x) => x.kind)).toEqual(['split-view']);
  });

  it('inconsistent sizes: a possible split view when the proof proves nothing', async () => {
    const fork = net.log.fork(3n).append(13, 'evil'); // 16 leaves
    serve(0, net.log, 8n); // size 8, a power of two: the proof omits the old root
    serve(1, net.log, 8n);
    serve(2, fork);
    const fromFork: ConsistencySource = async (_o, m, n) => fork.tree.consistencyProof(m, n);
    const r = await gatherCosignatures(policy(), ORIGIN, { consistency: fromFork });
    expect(r.disagreements).toMatchObject([{ kind: 'possible-split-view', sizes: [8n, 16n] }]);
    expect(r.disagreements[0].evidence).toBeUndefined();
    expect(r.reason).toMatch(/possible split view: the consistency proof from size 8 .* to size 16 .* does not verify/);
    // A proof source that fails leaves the pair unchecked.
    const broken = await gatherCosignatures(policy(), ORIGIN, { consistency: async () => Promise.reject(new Error('log offline')) });
    expect(broken.disagreements).toEqual([]);
    expect(broken.unchecked).toEqual([{ sizes: [8n, 16n], reason: 'consistency proof unavailable: log offline' }]);
  });

  it('bad answers are reported per witness and never counted', async () => {
    const stranger = new TestLog(ORIGIN).append(10); // the origin, but not the policy's key
    const other = new TestLog('example.com/other', net.log.key).append(3); // the policy's key, another origin
    server.answers.set(0, 404);
    server.answers.set(1, stranger.checkpoint());
    server.answers.set(2, other.checkpoint());
    const r = await gatherCosignatures(policy(), ORIGIN);
    expect(r.ok).toBe(false);
    expect(r.responses.map((x) => [x.witness, x.status])).toEqual([
      ['w0', 'http-error'],
      ['w1', 'log-signature'],
      ['w2', 'origin'],
    ]);
    expect(r.reason).toMatch(/no witness returned a checkpoint of "example.com\/gossip" signed by the log/);
    server.answers.set(1, 'garbage\n');
    server.answers.set(2, 'x'.repeat(2000));
    const g = await gatherCosignatures(policy(), ORIGIN, { maxBytes: 1000 });
    expect(g.responses.map((x) => x.status)).toEqual(['http-error', 'malformed', 'network-error']);
    expect(g.responses[2].detail).toMatch(/larger than 1000 bytes/);
  });

  it('one witness short of the quorum: no checkpoint satisfies the policy', async () => {
    serve(0);
    const r = await gatherCosignatures(policy(), ORIGIN);
    expect(r.ok).toBe(false);
    expect(r.best).toBeUndefined();
    expect(r.reason).toMatch(/no checkpoint assembled from 1 witness answer satisfies the policy/);
  });

  it('unreachable witnesses and unknown origins', async () => {
    const dead = parsePolicy(`log ${net.log.key.vkey}\nwitness w0 ${net.witnesses[0].vkey} http://127.0.0.1:9/\nquorum w0\n`);
    const r = await gatherCosignatures(dead, ORIGIN, { timeoutMs: 2000 });
    expect(r.responses[0].status).toBe('network-error');
    const u = await gatherCosignatures(policy(), 'example.com/unknown');
    expect(u).toMatchObject({ ok: false, responses: [] });
    expect(u.reason).toMatch(/the policy has no log for origin "example.com\/unknown"/);
  });

  /** A fetch that answers every URL with one note and records the URLs asked. */
  const recording = () => {
    const seen: string[] = [];
    const note = net.cosigned([0, 1, 2]);
    return { seen, fake: async (url: string) => (seen.push(url), new Response(note)) };
  };

  it('an injected fetch is used (no network at all)', async () => {
    const { seen, fake } = recording();
    const r = await gatherCosignatures(policy(), ORIGIN, { fetch: fake });
    expect(r.ok).toBe(true);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(monitoringUrl(server.url(0), ORIGIN));
  });

  it('witnesses that share a URL (one witness listed once per key) are asked once, each still counted', async () => {
    const { seen, fake } = recording();
    // w1 and w2 listed at w0's URL: one request there answers for all three.
    const shared = policyText.replace(server.url(1), server.url(0)).replace(server.url(2), server.url(0));
    const r = await gatherCosignatures(parsePolicy(shared), ORIGIN, { fetch: fake });
    expect(seen).toEqual([monitoringUrl(server.url(0), ORIGIN)]);
    expect(r.responses.map((x) => [x.witness, x.status])).toEqual([['w0', 'ok'], ['w1', 'ok'], ['w2', 'ok']]);
    expect(r.ok).toBe(true);
  });
});
