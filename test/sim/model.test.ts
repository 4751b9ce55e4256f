// Model mode (src/sim/model/): determinism, detection, no false positives, the collusion bound
// c >= 2k - n, evidence that verifies, and real signatures giving the memoised outcome.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadScenario, parseScenario, type Scenario } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/run.js';
import type { RunResult } from '../../src/sim/result.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/keys.js';
import { decodeBase64 } from '../../src/util/bytes.js';
import { EventQueue } from '../../src/sim/model/heap.js';
import { Rng } from '../../src/sim/model/prng.js';

const small = loadScenario(join(__dirname, '../../network-config/scenarios/small.yaml'));

/** The result without wall-clock and machine fields. */
function outcome(r: RunResult): unknown {
  const { provenance, perf, ...rest } = r;
  const { startedAt: _s, runtime: _r, ...prov } = provenance;
  return { ...rest, provenance: prov, perf: { signaturesVerified: perf.signaturesVerified, events: perf.events } };
}

/** n witnesses, c colluding, every client trusts all n with k-of-n; the network is cut along the fork for partitionMs. */
function collusion(c: number, k: number, n: number, partitionMs: number): Scenario {
  return parseScenario(`
name: theory
duration: 8m
network:
  nodes: ${n}
  topology: full
  meshDegree: 4
  latency: { distribution: fixed, median: 20ms }
  ${partitionMs > 0 ? `partitions: [{ at: 1m, until: ${60_000 + partitionMs}ms, byBranch: true }]` : ''}
logs: { count: 1, interval: 1m }
witnesses: { pollInterval: 30s, push: all }
adversary: { forkAt: 1m, branchB: { fraction: 0.5 }, clientsB: 0.5, colluding: ${c} }
clients: { count: 40, policy: { k: ${k}, n: ${n} }, fetch: { witnesses: ${n}, interval: 30s } }
signatures: modelled
`);
}

describe('engine building blocks', () => {
  it('the event queue pops in (time, insertion) order', () => {
    const q = new EventQueue();
    const r = new Rng(3);
    const want: [number, number][] = [];
    for (let i = 0; i < 5000; i++) {
      const t = r.int(100);
      q.push(t, 0, i, 0, 0);
      want.push([t, i]);
    }
    want.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const got: [number, number][] = [];
    while (q.pop()) got.push([q.t, q.x]);
    expect(got).toEqual(want);
  });

  it('the PRNG is a fixed sequence per seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    expect(new Rng(43).u32()).not.toBe(xs[0]);
  });
});

describe('model mode', () => {
  it('identical seeds give identical results; different seeds differ', async () => {
    const a = await runScenario(small, { seed: 5 });
    const b = await runScenario(small, { seed: 5 });
    const c = await runScenario(small, { seed: 6 });
    expect(JSON.stringify(outcome(a))).toBe(JSON.stringify(outcome(b)));
    expect(JSON.stringify(outcome(a))).not.toBe(JSON.stringify(outcome(c)));
    expect(a.provenance).toMatchObject({ seed: 5, mode: 'model', version: expect.any(String) });
    expect(a.provenance.scenario).toEqual(small);
  });

  it('a fork shown to half the witnesses is detected by every honest node, and the evidence verifies', async () => {
    const r = await runScenario(small);
    expect(r.model?.branchB).toBe(10);
    expect(r.forkAtMs).toBeGreaterThanOrEqual(180_000);
    expect(r.detection.fractionDetected).toBe(1);
    expect(r.detection.perNodeMs.every((x) => x !== null)).toBe(true);
    expect(r.detection.allMs).not.toBeNull();
    expect(r.detection.firstMs!).toBeLessThanOrEqual(r.detection.allMs!);
    expect(r.evidence).not.toBeNull();
    const keys = r.logVkeys!.map((v) => parseVkey(v));
    const v = verifyEvidence(decodeBase64(r.evidence!)!, () => keys);
    expect(v.ok).toBe(true);
    // A forged copy does not verify.
    const forged = decodeBase64(r.evidence!)!;
    forged[forged.length - 10] ^= 1;
    expect(verifyEvidence(forged, () => keys).ok).toBe(false);
  });

  it('no fork: no evidence, no false accepts', async () => {
    const s = parseScenario({ ...JSON.parse(JSON.stringify({ name: 'honest', duration: '10m', network: { nodes: 20, degree: 6, meshDegree: 4 }, logs: { count: 2 }, clients: { count: 30, policy: { k: 2, n: 3 } } })) });
    const r = await runScenario(s);
    expect(r.forkAtMs).toBeNull();
    expect(r.evidence).toBeNull();
    expect(r.detection.firstMs).toBeNull();
    expect(r.detection.fractionDetected).toBe(0);
    expect(r.clients.falseAccepts).toBe(0);
    expect(r.traffic.deliveryRatio).toBe(1);
    expect(r.traffic.messagesPerNodePerHour).toBeGreaterThan(0);
  });

  it('below c = 2k - n no split view gets through a k-of-n policy; at and above it, with detection delayed, it does', async () => {
    // n = 10, k = 6: the line is c = 2.
    for (const seed of [1, 2, 3]) {
      for (const c of [0, 1]) {
        const r = await runScenario(collusion(c, 6, 10, 5 * 60_000), { seed });
        expect(r.clients.falseAccepts, `c=${c} seed=${seed}`).toBe(0);
      }
    }
    let above = 0;
    for (const seed of [1, 2, 3]) {
      for (const c of [2, 3]) {
        const r = await runScenario(collusion(c, 6, 10, 5 * 60_000), { seed });
        above += r.clients.falseAccepts;
      }
    }
    expect(above).toBeGreaterThan(0);
    // Above the line but with prompt detection (no partition): the clients learn the evidence first.
    const prompt = await runScenario(collusion(3, 6, 10, 0));
    expect(prompt.detection.fractionDetected).toBe(1);
    expect(prompt.clients.falseAccepts).toBeLessThan(prompt.clients.total / 2);
  });

  it('real signatures give the same detection outcome as memoised', async () => {
    const base = { ...small, durationMs: 6 * 60_000, clients: { ...small.clients, count: 10 } };
    const mem = await runScenario({ ...base, signatures: 'memoised' });
    const real = await runScenario({ ...base, signatures: 'real' });
    expect(real.detection).toEqual(mem.detection);
    expect(real.clients).toEqual(mem.clients);
    expect(real.traffic).toEqual(mem.traffic);
    expect(real.perf.signaturesVerified).toBeGreaterThan(mem.perf.signaturesVerified);
  });

  it('clients: the real policy code (real signatures) and the k-of-n counter agree, false accepts included', async () => {
    const s = collusion(2, 6, 10, 5 * 60_000);
    const counted = await runScenario(s);
    const real = await runScenario({ ...s, signatures: 'real' });
    expect(counted.clients.falseAccepts).toBeGreaterThan(0);
    expect(real.clients).toEqual(counted.clients);
    expect(real.model?.forkedAccepts).toBe(counted.model?.forkedAccepts);
  });

  it('per-witness messages cost more than coalesced floods; both detect the fork', async () => {
    const per = await runScenario(small);
    const co = await runScenario({ ...small, network: { ...small.network, messages: 'coalesced' } });
    expect(small.network.messages).toBe('per-witness');
    expect(per.detection.fractionDetected).toBe(1);
    expect(co.detection.fractionDetected).toBe(1);
    expect(per.traffic.messagesPerNodePerHour).toBeGreaterThan(2 * co.traffic.messagesPerNodePerHour);
  });

  it('witnesses that track few others do not forward messages carrying cosignatures they cannot check', async () => {
    const all = await runScenario(small);
    const few = await runScenario({ ...small, witnesses: { ...small.witnesses, knownWitnesses: 3 } });
    expect(few.traffic.messagesPerNodePerHour).toBeLessThan(all.traffic.messagesPerNodePerHour);
  });

  it('modelled signatures apply the same witness rule as the real witness core', async () => {
    const mem = await runScenario(small);
    const mod = await runScenario({ ...small, signatures: 'modelled' });
    expect(mod.detection).toEqual(mem.detection);
    expect(mod.clients).toEqual(mem.clients);
    expect(mod.traffic).toEqual(mem.traffic);
  });

  it('an eclipsed witness never detects; everyone else does', async () => {
    const s = parseScenario(`
name: eclipse
duration: 8m
network: { nodes: 40, degree: 6, meshDegree: 4 }
logs: { count: 1 }
witnesses: { push: all }
adversary: { forkAt: 2m, branchB: { fraction: 0.5 }, eclipse: { target: 0, attackers: 4 } }
signatures: modelled
`);
    const r = await runScenario(s);
    expect(r.model?.attackers).toBe(4);
    expect(r.detection.perNodeMs[0]).toBeNull();
    expect(r.detection.perNodeMs.slice(1).every((x) => x !== null)).toBe(true);
    expect(r.detection.allMs).toBeNull();
  });
});
