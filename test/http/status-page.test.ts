// The status page (GET /, /status) and GET /status.json: rendering is escaped and structurally
// independent of the strings shown; the split-view banner appears exactly when evidence exists;
// the data comes from a real witness server (127.0.0.1, port 0) and from real gossiping nodes.
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { TestLog } from '../helpers/fork.js';
import { addBody, inlineLog } from './helpers.js';
import { Net, push, waitFor } from '../gossip/helpers.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { createWitnessMetrics } from '../../src/http/metrics.js';
import { createWitnessServer } from '../../src/http/server.js';
import { agreementOf, createStatusSource, trackedKeys } from '../../src/http/status-data.js';
import type { LogView } from '../../src/gossip/view.js';
import type { Verifier } from '../../src/note/keys.js';
import { keyLabel } from '../../src/note/note.js';
import { escapeHtml, renderStatusPage, type StatusData } from '../../src/http/status-page.js';
import { cosigner, generateKey, parseCosignatureVkey, parseVkey } from '../../src/note/index.js';
import { formatCheckpoint, originHash } from '../../src/checkpoint/checkpoint.js';
import { verifyEvidence } from '../../src/witness/evidence.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sample(s: { origin: string; keyName: string; peer: string; nodeName: string; evidence: number }): StatusData {
  return {
    node: { name: s.nodeName, vkeys: [`${s.keyName}+01020304+BAAAA`], startedAt: '2026-01-01T00:00:00.000Z', now: '2026-01-01T01:00:00.000Z', uptimeSeconds: 3600 },
    splitView: s.evidence > 0,
    evidenceTotal: s.evidence,
    suspectsTotal: 1,
    gossip: { peerId: s.peer, peerCount: 1, peers: [{ id: s.peer, score: 1.5 }] },
    logs: [
      {
        origin: s.origin,
        disabled: false,
        cosigned: { size: '8', root: 'AAAA', at: '2026-01-01T00:59:00.000Z', ageSeconds: 60, url: `/${originHash(s.origin)}/checkpoint` },
        agreement: {
          agreeing: 1,
          tracked: 2,
          largestSeen: '9',
          witnesses: [
            { name: s.keyName, key: `${s.keyName}+01020304`, status: 'agrees', size: '8' },
            { key: `${s.keyName}+0a0b0c0d`, status: 'conflict', size: '8' },
          ],
        },
        evidence: {
          count: s.evidence,
          items: Array.from({ length: s.evidence }, (_, i) => ({ id: String(i).repeat(64), url: `/evidence/${String(i).repeat(64)}`, receivedAt: '2026-01-01T00:59:30.000Z' })),
          url: `/evidence?origin=${encodeURIComponent(s.origin)}`,
        },
        suspects: { count: 1, url: `/suspects?origin=${encodeURIComponent(s.origin)}` },
      },
    ],
  };
}

const HOSTILE = {
  origin: `evil.example/<script>alert("o")</script>'&amp;`,
  keyName: `"><img/src=x/onerror=alert(1)>`,
  peer: `12D3<iframe src=//x>`,
  nodeName: `</title><script>alert(2)</script>`,
};
const BENIGN = { origin: 'example.com/log', keyName: 'w1.example', peer: '12D3KooWabc', nodeName: 'w0.example' };

/** The sequence of tags and attribute names: what an attacker would have to change. */
function structure(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map((m) => `${m[1]}(${[...m[2].matchAll(/\s([a-z-]+)=/g)].map((a) => a[1]).join(',')})`);
}

describe('renderStatusPage', () => {
  it('escapes every string taken from input: hostile strings do not change the page structure', () => {
    for (const evidence of [0, 2]) {
      const hostile = renderStatusPage(sample({ ...HOSTILE, evidence }));
      const benign = renderStatusPage(sample({ ...BENIGN, evidence }));
      expect(structure(hostile)).toEqual(structure(benign));
      expect(hostile).not.toMatch(/<script|<img|<iframe/i);
      expect(hostile).toContain(escapeHtml(HOSTILE.origin));
      expect(hostile).toContain('&lt;script&gt;alert(&quot;o&quot;)&lt;/script&gt;&#39;&amp;amp;');
      expect(hostile).toContain(escapeHtml(HOSTILE.keyName));
      expect(hostile).toContain(escapeHtml(HOSTILE.peer));
      // The only <title> is ours.
      expect(hostile.match(/<title>/g)).toHaveLength(1);
    }
  });

  it('no scripts and no external assets; reloads itself with a meta refresh', () => {
    const html = renderStatusPage(sample({ ...BENIGN, evidence: 1 }));
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=/i);
    expect(html).toMatch(/<meta http-equiv="refresh" content="5">/);
    expect(html.match(/href="([^"]*)"/g)!.every((h) => h.startsWith('href="/'))).toBe(true);
  });

  it('shows the split-view banner exactly when there is evidence', () => {
    const none = renderStatusPage(sample({ ...BENIGN, evidence: 0 }));
    expect(none).not.toContain('SPLIT VIEW');
    expect(none).toContain('No proven split view');
    const some = renderStatusPage(sample({ ...BENIGN, evidence: 2 }));
    expect(some).toContain('SPLIT VIEW: evidence of log misbehaviour');
    expect(some).toMatch(/<title>SPLIT VIEW/);
    expect(some).toContain(`href="/evidence/${'1'.repeat(64)}"`);
    expect(some).toContain('1 of 2</b> cosigned the same tree');
    expect(some).toContain('CONFLICTING ROOT at 8');
  });
});

/** A witness with a status source behind a real HTTP listener on 127.0.0.1. */
async function serveWitness(origins: TestLog[], tracked: { name?: string; vkey: string }[] = []) {
  const key = generateKey('w0.example');
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: origins.map((l) => inlineLog({ origin: l.origin, vkeys: [l.key.vkey] })) });
  const metrics = createWitnessMetrics({ defaultMetrics: false });
  const witness = new Witness({ store, logs: registry, cosigners: [cosigner(key)], onEvent: metrics.onWitnessEvent });
  const statusSource = createStatusSource({
    name: key.name,
    vkeys: [key.cosignatureVkey],
    witness,
    store,
    logs: registry,
    witnesses: tracked.map((t) => ({ ...(t.name ? { name: t.name } : {}), verifier: parseCosignatureVkey(t.vkey) })),
    cacheMs: 0,
  });
  const app = createWitnessServer({ witness, store, logs: registry, metrics, statusSource });
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    await app.close();
    await store.close();
  });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const post = (body: string) => fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { url, key, post };
}

describe('GET /status.json, /, /status on a witness server', () => {
  it('reports sizes, evidence with working links, and the banner once the log equivocates; hostile origins stay escaped', async () => {
    const log = new TestLog(`example.com/<b>bold</b>"log"`).append(5);
    const other = new TestLog('example.com/quiet');
    const peer = generateKey('w1.example');
    const w = await serveWitness([log, other], [{ name: 'w1', vkey: peer.cosignatureVkey }]);
    expect((await w.post(addBody(0, [], log.checkpoint()))).status).toBe(200);

    const r = await fetch(`${w.url}/status.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const d = (await r.json()) as StatusData;
    expect(d.node.name).toBe('w0.example');
    expect(d.node.vkeys).toEqual([w.key.cosignatureVkey]);
    expect(d.node.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(d.splitView).toBe(false);
    expect(d.evidenceTotal).toBe(0);
    expect(d.gossip).toBeUndefined();
    expect(d.logs.map((l) => l.origin)).toEqual([log.origin, other.origin]);
    const [l0, l1] = d.logs;
    expect(l0.cosigned).toMatchObject({ size: '5', url: `/${originHash(log.origin)}/checkpoint` });
    expect(l0.cosigned!.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(new Date(l0.cosigned!.at).getTime()).not.toBeNaN();
    expect(l0.agreement).toBeUndefined();
    expect(l0.evidence).toEqual({ count: 0, items: [], url: `/evidence?origin=${encodeURIComponent(log.origin)}` });
    expect(l0.suspects.count).toBe(0);
    expect(l1.cosigned).toBeUndefined();
    // The checkpoint link is the monitoring path and works.
    expect((await fetch(w.url + l0.cosigned!.url)).status).toBe(200);

    for (const path of ['/', '/status']) {
      const p = await fetch(w.url + path);
      expect(p.status).toBe(200);
      expect(p.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(p.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await p.text();
      expect(html).toContain('example.com/&lt;b&gt;bold&lt;/b&gt;&quot;log&quot;');
      expect(html).not.toContain('<b>bold');
      expect(html).not.toContain('SPLIT VIEW');
      expect(html).toContain('nothing cosigned yet');
    }

    // The log shows the witness another tree of the same size: proven evidence.
    const fork = log.fork(3n).append(2, 'evil');
    expect((await w.post(addBody(5, [], fork.checkpoint()))).status).toBe(422);
    const d2 = (await (await fetch(`${w.url}/status.json`)).json()) as StatusData;
    expect(d2.splitView).toBe(true);
    expect(d2.evidenceTotal).toBe(1);
    expect(d2.logs[0].evidence.count).toBe(1);
    expect(d2.logs[1].evidence.count).toBe(0);
    const item = d2.logs[0].evidence.items[0];
    expect(item.url).toBe(`/evidence/${item.id}`);
    const bytes = new Uint8Array(await (await fetch(w.url + item.url)).arrayBuffer());
    expect(verifyEvidence(bytes, () => [parseVkey(log.key.vkey)]).ok).toBe(true);
    const listed = (await (await fetch(w.url + d2.logs[0].evidence.url)).json()) as { id: string }[];
    expect(listed.map((e) => e.id)).toEqual([item.id]);
    const html = await (await fetch(`${w.url}/`)).text();
    expect(html).toContain('SPLIT VIEW: evidence of log misbehaviour');
    expect(html).toContain(`href="/evidence/${item.id}"`);
  });
});

describe('status of gossiping nodes (startWitnessNode, in-process libp2p)', () => {
  it('shows peers, who cosigned the same tree, a conflicting witness, and counts agreement in gossip_log_agreeing_witnesses', async () => {
    const log = new TestLog('example.com/status-gossip').append(6);
    const net = await Net.start(3, { logs: [{ origin: log.origin, vkey: log.key.vkey }] });
    cleanups.push(() => net.stop());
    await net.ready();
    const [n0, n1, n2] = net.nodes;
    const json = async () => (await (await fetch(`${n0.node.url}/status.json`)).json()) as StatusData;
    for (const n of net.nodes) expect(await push(n.node, log)).toBe('cosigned');
    // Agreement spreads through gossip (status answers are cached for 1 s: wait, do not assume).
    await waitFor(async () => (await json()).logs[0].agreement?.agreeing === 2, 'both peers cosigned the same tree at node 0');
    let d = await json();
    expect(d.gossip!.peerId).toBe(n0.node.gossip!.peerId);
    expect(d.gossip!.peerCount).toBeGreaterThan(0);
    expect(d.gossip!.peers.map((p) => p.id)).toContain(n1.node.gossip!.peerId);
    expect(d.logs[0].agreement).toMatchObject({ agreeing: 2, tracked: 2, largestSeen: '6' });
    expect(d.logs[0].agreement!.witnesses.map((w) => [w.key.split('+')[0], w.status])).toEqual([
      ['w1.example', 'agrees'],
      ['w2.example', 'agrees'],
    ]);
    const metric = async () => (await (await fetch(`${n0.node.url}/metrics`)).text()).split('\n').find((l) => l.startsWith('gossip_log_agreeing_witnesses{'));
    expect(await metric()).toBe(`gossip_log_agreeing_witnesses{origin="${log.origin}"} 2`);

    // The log equivocates toward node 2 at size 8.
    const fork = log.fork(6n).append(2, 'evil');
    log.append(2);
    await push(n0.node, log);
    await push(n1.node, log);
    expect(await push(n2.node, fork)).toBe('cosigned');
    await waitFor(async () => {
      const x = await json();
      return x.splitView && x.logs[0].agreement!.witnesses.some((w) => w.status === 'conflict');
    }, 'evidence and the conflicting witness at node 0');
    d = await json();
    expect(d.logs[0].cosigned!.size).toBe('8');
    expect(d.logs[0].evidence.count).toBeGreaterThan(0);
    const byName = Object.fromEntries(d.logs[0].agreement!.witnesses.map((w) => [w.key.split('+')[0], w]));
    expect(byName['w2.example']).toMatchObject({ status: 'conflict', size: '8' });
    await waitFor(async () => (await json()).logs[0].agreement!.agreeing === 1, 'node 1 agrees at size 8');
    await waitFor(async () => (await metric()) === `gossip_log_agreeing_witnesses{origin="${log.origin}"} 1`, 'the gauge follows');
    const html = await (await fetch(`${n0.node.url}/status`)).text();
    expect(html).toContain('SPLIT VIEW: evidence of log misbehaviour');
    expect(html).toContain('w2.example: CONFLICTING ROOT at 8');
    expect(html).toContain('w1.example: same tree');
    expect(html).toMatch(/Peers: [12] connected/);
  });
});

describe('agreement counts witnesses, not keys (a witness with an Ed25519 and an ML-DSA-44 key)', () => {
  const root = (b: number) => new Uint8Array(32).fill(b);
  const state = { size: 8n, root: root(1), note: '', cosigned: '', updatedAt: 0 };
  const key = (name: string, keyId: number, type: number) => ({ name, keyId, type }) as unknown as Verifier;
  const label = (name: string, keyId: number) => keyLabel(name, keyId);
  /** A view where the given labels cosigned our tree, and `conflicting` cosigned size 8 with another root. */
  const view = (agreeing: string[], conflicting: string[] = []) =>
    ({
      all: () => [{ checkpoint: { size: 8n, root: root(1) }, cosignatures: new Map(agreeing.map((l) => [l, {}])) }],
      latestCosignedBy: (l: string) =>
        conflicting.includes(l) ? { size: 8n, logNote: { text: formatCheckpoint({ origin: 'example.com/log', size: 8n, root: root(2), extensions: [] }) } } : undefined,
    }) as unknown as LogView;
  const tracked = trackedKeys([
    { name: 'w2', verifier: key('w2.example', 0x01020304, 0x04) },
    { name: 'w2', verifier: key('w2.example', 0x0a0b0c0d, 0x06) },
    { verifier: key('w3.example', 0x11111111, 0x04) },
    { verifier: key('w3.example', 0x22222222, 0x06) },
    { name: 'w4', verifier: key('w4.example', 0x33333333, 0x04) },
  ]);

  it('both keys of one witness on the same tree count once; unnamed keys group by key name', () => {
    const a = agreementOf(view([label('w2.example', 0x01020304), label('w2.example', 0x0a0b0c0d), label('w3.example', 0x11111111), label('w3.example', 0x22222222)]), state, tracked);
    expect(a).toMatchObject({ agreeing: 2, tracked: 3 });
    expect(a.witnesses).toHaveLength(5);
    expect(a.witnesses.map((w) => [w.witness, w.keyType, w.status])).toEqual([
      ['w2', 'Ed25519', 'agrees'],
      ['w2', 'ML-DSA-44', 'agrees'],
      ['w3.example', 'Ed25519', 'agrees'],
      ['w3.example', 'ML-DSA-44', 'agrees'],
      ['w4', 'Ed25519', 'unseen'],
    ]);
  });

  it('one key seen is enough for its witness; the page shows one line per witness with each key', () => {
    const a = agreementOf(view([label('w2.example', 0x01020304)], [label('w3.example', 0x22222222)]), state, tracked);
    expect(a).toMatchObject({ agreeing: 1, tracked: 3 });
    const data = sample({ origin: 'example.com/log', keyName: 'w1.example', peer: '12D3KooW', nodeName: 'w1', evidence: 0 });
    const html = renderStatusPage({ ...data, logs: [{ ...data.logs[0]!, agreement: a }] });
    expect(html).toContain('<b>1 of 3</b> cosigned the same tree');
    const items = [...html.matchAll(/<li class="(\w+)" title="[^"]*">(.*?)<\/li>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '')]);
    expect(items).toEqual([
      ['agrees', 'w2 (w2.example): same tree (Ed25519: same tree; ML-DSA-44: not seen)'],
      // A conflict by any key of a witness is what its line shows.
      ['conflict', 'w3.example: CONFLICTING ROOT at 8 (Ed25519: not seen; ML-DSA-44: CONFLICTING ROOT at 8)'],
      ['unseen', 'w4 (w4.example): not seen'],
    ]);
  });
});
