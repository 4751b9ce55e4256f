// Real node PROCESSES on 127.0.0.1, started by the launcher from one network config: a local log
// equivocates toward one witness by push, another toward one witness by pull (tlog-tiles); every
// honest node ends with verified evidence (GET /evidence, checked with `evidence verify`
// semantics), and the time from the fork to evidence at each node is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, parseNetworkConfig, type LaunchedNetwork } from '../../src/launcher/index.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/keys.js';
import { originHash } from '../../src/checkpoint/checkpoint.js';
import { waitFor } from './helpers.js';

const NETWORK = `
logs:
  - { name: pushed, interval: 100ms, forkAt: 6 }
  - { name: pulled, interval: 100ms, forkAt: 6 }
  - { name: uneven, interval: 100ms, forkAt: 6 }
witnesses:
  - { name: w0, pull: [pulled, uneven], pullInterval: 100ms }
  - { name: w1, pull: [pulled, uneven], pullInterval: 100ms }
  - { name: w2, pull: [pulled, uneven], pullInterval: 100ms, sees: { pulled: b, uneven: b } }
  - { name: w3, pull: [pulled, uneven], pullInterval: 100ms, sees: { pushed: b } }
`;

let net: LaunchedNetwork | undefined;
beforeAll(async () => {
  net = await launch({ network: parseNetworkConfig(NETWORK), ...(process.env.GW_LOG_LEVEL ? { logLevel: process.env.GW_LOG_LEVEL } : {}) });
}, 60_000);
afterAll(async () => {
  await net?.stop();
}, 30_000);

async function sizeAt(url: string, origin: string): Promise<bigint> {
  const r = await fetch(`${url}/${originHash(origin)}/checkpoint`);
  if (r.status !== 200) return 0n;
  return BigInt((await r.text()).split('\n')[1]);
}

async function evidenceAt(url: string, origin: string): Promise<{ id: string }[]> {
  const r = await fetch(`${url}/evidence?origin=${encodeURIComponent(origin)}`);
  return r.status === 200 ? ((await r.json()) as { id: string }[]) : [];
}

describe('gossip between node processes (launcher)', () => {
  it('a log equivocating toward one witness (by push, and by pull) is proven at every node', async () => {
    const n = net!;
    for (const name of ['pushed', 'pulled'] as const) {
      const { log, origin, vkey } = n.logs.get(name)!;
      // The shared history: every witness cosigns size 6 on the one branch there is.
      await log.append(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
      await log.publish();
      await waitFor(async () => (await Promise.all(n.witnesses.map((w) => sizeAt(w.url, origin)))).every((s) => s === 6n), `${name}: every witness at size 6`, 15_000);
      // The fork: the next entries go to both branches, so each branch gets its own root.
      const t0 = Date.now();
      await log.append(['e6', 'e7']);
      await log.publish();
      const at = new Map<string, number>();
      await waitFor(async () => {
        for (const w of n.witnesses) if (!at.has(w.name) && (await evidenceAt(w.url, origin)).length > 0) at.set(w.name, Date.now() - t0);
        return at.size === n.witnesses.length;
      }, `${name}: evidence at every witness`, 20_000);
      console.log(`fork -> evidence (${name === 'pushed' ? 'push' : 'pull via tiles, 100 ms polling'}), 4 node processes: ${[...at].map(([w, ms]) => `${w} ${ms} ms`).join(', ')}`);
      // Verify each node's evidence as `gossip-witness evidence verify --vkey <log vkey>` does.
      const keys = [parseVkey(vkey)];
      for (const w of n.witnesses) {
        const [{ id }] = await evidenceAt(w.url, origin);
        const bytes = new Uint8Array(await (await fetch(`${w.url}/evidence/${id}`)).arrayBuffer());
        const v = verifyEvidence(bytes, () => keys);
        expect(v.ok, `${w.name}: ${v.ok ? "" : v.reason}`).toBe(true);
      }
      // Alerted once, at error level, at each node.
      for (const w of n.witnesses) expect(w.lines.filter((l) => l.level === 50 && String(l.msg).startsWith('SPLIT VIEW') && l.origin === origin)).toHaveLength(1);
    }
    // The deceived witnesses keep their own branch: cosigning goes on for everyone.
    for (const w of n.witnesses) expect(await sizeAt(w.url, n.logs.get('pushed')!.origin)).toBe(8n);
  }, 60_000);

  it('branches of different sizes: h and the proof come from tiles, or from a peer that reads the larger branch (sync "prove")', async () => {
    const n = net!;
    const { log, origin, vkey } = n.logs.get('uneven')!;
    await log.append(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    await log.publish();
    await waitFor(async () => (await Promise.all(n.witnesses.map((w) => sizeAt(w.url, origin)))).every((s) => s === 6n), 'every witness at size 6', 15_000);
    // Branch b (shown to w2 only) grows by 3, branch a by 2: sizes 9 and 8, never equal.
    const t0 = Date.now();
    await log.append(['b0', 'b1', 'b2'], { branch: 'b' });
    await log.append(['a0', 'a1'], { branch: 'a' });
    await log.publish();
    const at = new Map<string, number>();
    await waitFor(async () => {
      for (const w of n.witnesses) if (!at.has(w.name) && (await evidenceAt(w.url, origin)).length > 0) at.set(w.name, Date.now() - t0);
      return at.size === n.witnesses.length;
    }, 'evidence at every witness', 20_000);
    if (process.env.GW_DEBUG) for (const w of n.witnesses) console.log('metrics', w.name, (await (await fetch(`${w.url}/metrics`)).text()).split('\n').filter((l) => /^gossip_(messages_total|consistency|evidence)/.test(l)).join(' | '));
    if (process.env.GW_DEBUG) for (const w of n.witnesses) console.log(w.name, JSON.stringify(w.lines.filter((l) => (l.component === 'gossip' && l.msg !== 'gossip-triggered add through the witness core') || Number(l.level) >= 40).slice(-12)));
    console.log(`fork -> evidence (different sizes 8 and 9, pull via tiles), 4 node processes: ${[...at].map(([w, ms]) => `${w} ${ms} ms`).join(', ')}`);
    const keys = [parseVkey(vkey)];
    for (const w of n.witnesses) {
      const list = await evidenceAt(w.url, origin);
      for (const { id } of list) {
        const v = verifyEvidence(new Uint8Array(await (await fetch(`${w.url}/evidence/${id}`)).arrayBuffer()), () => keys);
        expect(v.ok, `${w.name}: ${v.ok ? '' : v.reason}`).toBe(true);
        if (v.ok) expect(v.a.size).not.toBe(v.b.size);
      }
    }
  }, 40_000);
});
