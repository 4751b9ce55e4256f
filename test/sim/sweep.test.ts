// Sweeps: the t-interval on known data, dotted-path validation with clear errors, and a sweep over
// synthetic runs (one run per value x seed, summaries per point).
import { describe, expect, it } from 'vitest';
import { checkParameter, runSweep, scenarioWith, scenarioToYamlObject, summarise, SweepError } from '../../src/sim/sweep.js';
import { ksTest, quantile, tCritical95, tInterval, ecdf } from '../../src/sim/stats.js';
import { parseScenario, readScenarioObject } from '../../src/sim/scenario.js';
import { SCENARIO, syntheticRun } from './synthetic.js';

describe('statistics', () => {
  it('95% t-interval of [1,2,3,4,5] is 3 ± 2.776·√2.5/√5', () => {
    const ci = tInterval([1, 2, 3, 4, 5]);
    expect(ci.mean).toBe(3);
    expect(ci.n).toBe(5);
    expect(ci.lo).toBeCloseTo(3 - 2.776 * Math.sqrt(2.5 / 5), 9);
    expect(ci.hi).toBeCloseTo(1.0367 + 3.9266, 3); // 4.9633
    expect(ci.lo).toBeCloseTo(1.0367, 3);
  });

  it('t critical values: table, interpolation, limit', () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(10)).toBe(2.228);
    expect(tCritical95(30)).toBe(2.042);
    expect(tCritical95(60)).toBe(2.0);
    expect(tCritical95(45)).toBeGreaterThan(2.0);
    expect(tCritical95(45)).toBeLessThan(2.021);
    expect(tCritical95(1e9)).toBeCloseTo(1.96, 3);
    expect(() => tCritical95(0)).toThrow(RangeError);
  });

  it('one value: zero-width interval; none: NaN', () => {
    expect(tInterval([4])).toEqual({ mean: 4, lo: 4, hi: 4, n: 1 });
    expect(tInterval([]).n).toBe(0);
    expect(tInterval([]).mean).toBeNaN();
  });

  it('quantiles, ECDF with never-detected nodes, Kolmogorov–Smirnov', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([5, 1, 3], 0.9)).toBeCloseTo(4.6, 9);
    expect(ecdf([3, 1, null, 1])).toEqual([
      { t: 1, p: 0.5 },
      { t: 3, p: 0.75 },
    ]);
    expect(ksTest([1, 2, 3], [1, 2, 3]).d).toBe(0);
    expect(ksTest([1, 2, 3], [10, 11, 12]).d).toBe(1);
    expect(ksTest([1, 2, 3, 4], [3, 4, 5, 6]).d).toBe(0.5);
    // Same distribution: a large p-value; disjoint samples of 30: tiny.
    const a = Array.from({ length: 30 }, (_, i) => i);
    expect(ksTest(a, a.map((x) => x + 0.5)).p).toBeGreaterThan(0.9);
    expect(ksTest(a, a.map((x) => x + 100)).p).toBeLessThan(1e-6);
  });
});

describe('sweep parameters (dotted paths)', () => {
  it('sets a numeric field and re-validates through parseScenario', () => {
    const s = scenarioWith(SCENARIO, 'adversary.colluding', 3);
    expect(s.adversary!.colluding).toBe(3);
    expect(SCENARIO.adversary!.colluding).toBe(1); // not mutated
    expect(scenarioWith(SCENARIO, 'adversary.branchB.fraction', 0.5).adversary!.branchB).toEqual({ fraction: 0.5 });
    // Durations: the parsed name (pollIntervalMs) maps to the YAML one (pollInterval: "Nms").
    expect(scenarioWith(SCENARIO, 'witnesses.pollIntervalMs', 5000).witnesses.pollIntervalMs).toBe(5000);
    expect(scenarioWith(SCENARIO, 'network.latency.medianMs', 80).network.latency).toEqual({ distribution: 'lognormal', medianMs: 80, p99Ms: 300 });
  });

  it('network.nodes re-derives what was derived from it (knownWitnesses: all)', () => {
    const s = scenarioWith(SCENARIO, 'network.nodes', 40);
    expect(s.network.nodes).toBe(40);
    expect(s.witnesses.knownWitnesses).toBe(39);
    // From the file's own YAML object too.
    const raw = readScenarioObject('name: r\nnetwork: { nodes: 10 }\nwitnesses: { knownWitnesses: all }\n');
    expect(scenarioWith(parseScenario(raw as object), 'network.nodes', 30, raw).witnesses.knownWitnesses).toBe(29);
  });

  it('the YAML object of a parsed scenario parses back to the same scenario', () => {
    expect(parseScenario(scenarioToYamlObject(SCENARIO))).toEqual(SCENARIO);
  });

  it('unknown paths fail with the fields that exist', () => {
    expect(() => checkParameter(SCENARIO, 'network.node')).toThrow(SweepError);
    expect(() => checkParameter(SCENARIO, 'network.node')).toThrow(/unknown field "node" in network \(fields there: nodes, topology/);
    expect(() => checkParameter(SCENARIO, 'adversry.colluding')).toThrow(/unknown field "adversry" in the scenario/);
    expect(() => checkParameter(SCENARIO, 'network.topology')).toThrow(/is string, not a number/);
    expect(() => checkParameter(SCENARIO, 'network.latency')).toThrow(/is object, not a number/);
    expect(() => checkParameter(SCENARIO, 'network..nodes')).toThrow(/expected a dotted path/);
    expect(() => checkParameter(SCENARIO, 'network.nodes.x')).toThrow(/network\.nodes is not an object/);
    const honest = parseScenario({ name: 'h' });
    expect(() => checkParameter(honest, 'adversary.colluding')).toThrow(/adversary is not set in this scenario/);
  });

  it('values the scenario rejects fail with the scenario error', () => {
    expect(() => scenarioWith(SCENARIO, 'adversary.branchB.fraction', 1.5)).toThrow(/adversary\.branchB\.fraction = 1\.5 gives an invalid scenario[\s\S]*must be/);
    expect(() => scenarioWith(SCENARIO, 'clients.policy.k', 9)).toThrow(/clients\.policy\.k: must not exceed n/);
    expect(() => scenarioWith(SCENARIO, 'network.nodes', NaN)).toThrow(/not a finite number/);
  });
});

describe('runSweep', () => {
  it('runs every (value, seed) once, in order, and summarises each point', async () => {
    const calls: [number, number][] = [];
    const progress: number[] = [];
    const r = await runSweep(
      SCENARIO,
      'network.nodes',
      [10, 20],
      [1, 2, 3],
      async (s, seed) => {
        calls.push([s.network.nodes, seed]);
        return syntheticRun(seed, { nodes: s.network.nodes, scenario: s });
      },
      { onProgress: (done, total) => progress.push(done / total) },
    );
    expect(calls).toEqual([
      [10, 1],
      [10, 2],
      [10, 3],
      [20, 1],
      [20, 2],
      [20, 3],
    ]);
    expect(progress.at(-1)).toBe(1);
    expect(r.parameter).toBe('network.nodes');
    expect(r.provenance.seeds).toEqual([1, 2, 3]);
    expect(r.provenance).not.toHaveProperty('seed');
    expect(r.points.map((p) => p.value)).toEqual([10, 20]);
    // bytes = 1e5·nodes + seed: mean 1e5·nodes + 2, sd 1.
    const b = r.points[1].summary.bytesPerNodePerHour;
    expect(b.mean).toBe(2e6 + 2);
    expect(b.hi - b.mean).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 9);
    // Every node within 2 s: always at 10 nodes (last at 1000 + seed ms), never at 20 (2000 + seed).
    expect(r.points[0].summary['detection.within.2000']).toEqual({ mean: 1, lo: 1, hi: 1, n: 3 });
    expect(r.points[1].summary['detection.within.2000']).toEqual({ mean: 0, lo: 0, hi: 0, n: 3 });
  });

  it('checks every value before the first run', async () => {
    let ran = 0;
    await expect(runSweep(SCENARIO, 'adversary.branchB.fraction', [0.1, 2], [1], async (_s, seed) => (ran++, syntheticRun(seed)))).rejects.toThrow(SweepError);
    expect(ran).toBe(0);
  });

  it('null metrics (a node never detected) are left out of that metric only', () => {
    const s = summarise([syntheticRun(1, { never: 1 }), syntheticRun(2)]);
    expect(s['detection.allMs'].n).toBe(1);
    expect(s['detection.firstMs'].n).toBe(2);
    expect(s.fractionDetected.mean).toBeCloseTo(0.95, 9);
  });
});
