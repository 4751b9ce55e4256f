// Issue 18, second round: several logs forking (adversary.forks), branch assignment of monitors
// (branchB.monitors, monitor ids in nodes), and client-witness latency (fetch.latency), each checked
// against an independent computation written here: the logs' publish schedule, the order statistic
// of the client's answer round trips, the region matrix.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/run.js';
import { scenarioToYamlObject } from '../../src/sim/sweep.js';

function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** P(X_(k:n) <= t) for n iid draws with CDF F: the binomial tail sum_{j>=k} C(n,j) F^j (1-F)^(n-j). */
function orderStatCdf(F: number, k: number, n: number): number {
  let p = 0;
  for (let j = k; j <= n; j++) p += choose(n, j) * F ** j * (1 - F) ** (n - j);
  return p;
}

/** CDF of U1 + U2, Ui ~ Uniform(a, b) (a round trip of two uniform one-way draws): triangular on [2a, 2b]. */
function triangularCdf(t: number, a: number, b: number): number {
  const w = b - a;
  const x = t - 2 * a;
  if (x <= 0) return 0;
  if (x >= 2 * w) return 1;
  return x <= w ? (x * x) / (2 * w * w) : 1 - ((2 * w - x) * (2 * w - x)) / (2 * w * w);
}

const errors = (yaml: string): string => {
  try {
    parseScenario(yaml, 'x.yaml');
    return '';
  } catch (e) {
    return (e as ScenarioError).message;
  }
};

describe('several logs fork (adversary.forks)', () => {
  const yaml = `
name: forks
seed: 3
duration: 8m
network: { nodes: 24, degree: 6, meshDegree: 4, messages: coalesced }
logs: { count: 3, interval: 30s, batch: 4 }
witnesses: { push: 0, pollInterval: 10s }
adversary: { forkAt: 1m, log: 1, branchB: { fraction: 0.25 }, clientsB: 0.3, forks: [{ log: 2, forkAt: 4m }] }
clients: { count: 20, policy: { k: 2, n: 3 } }
signatures: modelled
`;

  it('each listed log forks at its own first publish at or after its forkAt; detection of each counts from its own fork; the honest log has none', async () => {
    const s = parseScenario(yaml, 'forks.yaml');
    const r = await runScenario(s);
    // Independent computation of the schedule: log l publishes at interval*l/L + j*interval.
    const firstPublishAtOrAfter = (l: number, t: number) => {
      const off = (s.logs.intervalMs * l) / s.logs.count;
      return off + Math.ceil((t - off) / s.logs.intervalMs - 1e-9) * s.logs.intervalMs;
    };
    expect(r.forks!.map((f) => f.log)).toEqual([1, 2]);
    expect(r.forks![0].forkAtMs).toBeCloseTo(firstPublishAtOrAfter(1, 60_000), 6);
    expect(r.forks![1].forkAtMs).toBeCloseTo(firstPublishAtOrAfter(2, 240_000), 6);
    expect(r.forkAtMs).toBe(r.forks![0].forkAtMs);
    for (const f of r.forks!) {
      expect(f.fractionDetected).toBe(1);
      // Wilson 95 % interval with every honest node detecting: upper bound 1, lower n / (n + z²).
      const n = f.perNodeMs.length;
      expect(f.fractionDetectedCI[1]).toBeCloseTo(1, 12);
      expect(f.fractionDetectedCI[0]).toBeCloseTo(n / (n + 1.959963984540054 ** 2), 12);
      expect(f.firstMs!).toBeGreaterThan(0);
      expect(f.allMs!).toBeLessThan(60_000);
    }
    // The overall detection is that of the first fork (a node's first evidence, whichever log).
    expect(r.detection.allMs).toBe(r.forks![0].allMs);
  });

  it('a further fork may show its own branch-B witnesses: shown to nobody, it goes undetected while the other is caught', async () => {
    const none = await runScenario(parseScenario(yaml.replace('forkAt: 4m }', 'forkAt: 4m, branchB: { fraction: 0 } }'), 'own0.yaml'));
    expect(none.forks![0].fractionDetected).toBe(1);
    expect(none.forks![1].forkAtMs).not.toBeNull();
    expect(none.forks![1].fractionDetected).toBe(0);
    const one = await runScenario(parseScenario(yaml.replace('forkAt: 4m }', 'forkAt: 4m, branchB: { nodes: [5] } }'), 'own1.yaml'));
    expect(one.forks![1].fractionDetected).toBe(1);
    expect(errors(yaml.replace('forkAt: 4m }', 'forkAt: 4m, branchB: { nodes: [99] } }'))).toContain('adversary.forks.0.branchB.nodes.0: node 99 does not exist');
  });

  it('without adversary.forks only adversary.log forks (the single-fork form is the default); the keys are validated', async () => {
    const r = await runScenario(parseScenario(yaml.replace(', forks: [{ log: 2, forkAt: 4m }]', ''), 'one.yaml'));
    expect(r.forks).toBeUndefined();
    expect(r.detection.fractionDetected).toBe(1);
    expect(errors(yaml.replace('log: 2, forkAt: 4m', 'log: 1'))).toContain('adversary.forks.0.log: log 1 is adversary.log');
    expect(errors(yaml.replace('log: 2, forkAt: 4m', 'log: 5'))).toContain('adversary.forks.0.log: must be a log index below logs.count (3)');
    expect(errors(yaml.replace('forkAt: 4m', 'forkAt: 9m'))).toContain('adversary.forks.0.forkAt: must be before the end of the run');
  });
});

describe('branch assignment covers monitors', () => {
  const yaml = (b: string) => `
name: monitors
seed: 2
duration: 5m
network: { nodes: 20, degree: 6, meshDegree: 4, messages: coalesced, monitors: { count: 10, pollInterval: 10s } }
logs: { count: 1, interval: 20s }
witnesses: { push: all }
adversary: { forkAt: 1m, branchB: ${b}, clientsB: 0 }
clients: { count: 0 }
signatures: modelled
`;

  it('monitors shown branch B put it into gossip: every honest witness detects though no witness is shown B; without them nobody does', async () => {
    const r = await runScenario(parseScenario(yaml('{ fraction: 0, monitors: 0.5 }')));
    expect(r.monitors!.branch!.filter((b) => b === 1).length).toBe(5);
    expect(r.model!.branchB).toBe(0);
    expect(r.detection.fractionDetected).toBe(1);
    const none = await runScenario(parseScenario(yaml('{ fraction: 0 }')));
    expect(none.forkAtMs).not.toBeNull();
    expect(none.monitors!.branch!.every((b) => b === 0)).toBe(true);
    expect(none.detection.fractionDetected).toBe(0);
  });

  it('monitor ids may be listed in branchB.nodes; monitors without monitors is an error', async () => {
    const r = await runScenario(parseScenario(yaml('{ nodes: [20, 29] }')));
    expect(r.monitors!.branch).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(errors(yaml('{ fraction: 0, monitors: 0.5 }').replace(', monitors: { count: 10, pollInterval: 10s }', ''))).toContain('adversary.branchB.monitors: there are no monitors');
  });
});

describe('client-witness latency (fetch.latency)', () => {
  // Every witness cosigns each checkpoint the moment it is signed (push: all, zero log latency), so
  // when a client's first post-fork fetch is answered, all n of its witnesses have cosigned it:
  // time to accept = fetch.delay + the k-th smallest of n round trips.
  const yaml = (latency: string, extra = '') => `
name: latency
seed: 5
duration: 4m
network: { nodes: 12, degree: 4, meshDegree: 3, messages: coalesced, latency: { distribution: fixed, median: 0ms }${extra} }
logs: { count: 1, interval: 1m }
witnesses: { push: all }
adversary: { forkAt: 1m, branchB: { fraction: 0 }, clientsB: 0 }
clients: { count: 1500, policy: { k: 3, n: 5 }, fetch: { witnesses: 5, interval: 30s, delay: 200ms, latency: ${latency} } }
signatures: modelled
`;

  it('time to accept follows the k-th order statistic of the n round trips (uniform one-way draws: triangular round trips)', async () => {
    const r = await runScenario(parseScenario(yaml('{ distribution: uniform, min: 10ms, max: 100ms }')));
    const xs = r.clients.perClient!.acceptLatencyMs!.filter((x): x is number => x !== null).sort((a, b) => a - b);
    expect(xs.length).toBeGreaterThan(1400);
    // Kolmogorov-Smirnov distance to P(200 + X_(3:5) <= t), X ~ Uniform(10,100) + Uniform(10,100).
    let ks = 0;
    xs.forEach((x, i) => {
      const F = orderStatCdf(triangularCdf(x - 200, 10, 100), 3, 5);
      ks = Math.max(ks, Math.abs(F - i / xs.length), Math.abs(F - (i + 1) / xs.length));
    });
    // 1.63/sqrt(n) is the 1 % critical value.
    expect(ks).toBeLessThan(1.63 / Math.sqrt(xs.length));
    // The accept time is the fetch's time plus that latency: at least fetch.delay + 3 fastest round trips after the fork.
    for (const a of r.clients.perClient!.acceptMs) if (a !== null) expect(a).toBeGreaterThanOrEqual(200 + 20);
  });

  it('fixed latency gives exactly delay + one round trip; without fetch.latency answers are instant (delay only)', async () => {
    const fixed = await runScenario(parseScenario(yaml('{ distribution: fixed, median: 30ms }')));
    expect(new Set(fixed.clients.perClient!.acceptLatencyMs!.filter((x) => x !== null))).toEqual(new Set([260]));
    const instant = await runScenario(parseScenario(yaml('{ distribution: fixed, median: 30ms }').replace(', latency: { distribution: fixed, median: 30ms }', '')));
    expect(new Set(instant.clients.perClient!.acceptLatencyMs!.filter((x) => x !== null))).toEqual(new Set([200]));
  });

  it('"network" uses the region matrix: round trips are 2x the one-way latency of the client-witness region pair', async () => {
    const regions = `, regions: { names: [eu, us], latency: { eu-eu: { distribution: fixed, median: 10ms }, us-us: { distribution: fixed, median: 10ms }, eu-us: { distribution: fixed, median: 100ms } } }`;
    const r = await runScenario(parseScenario(yaml('network', regions)));
    const seen = new Set(r.clients.perClient!.acceptLatencyMs!.filter((x) => x !== null));
    // The 3rd fastest of 5 round trips is 20 ms (same region) or 200 ms (across): both occur.
    expect(seen).toEqual(new Set([220, 400]));
  });
});

describe('a further fork with its own branch-B schedule (adversary.forks[i].until, batch, lag)', () => {
  // Log 1 forks with branch B at 9 leaves per checkpoint against A's 16, and the log refuses
  // consistency proofs: its fork can only be caught at the first size both branches reach: B's
  // 16th checkpoint (the first is signed at the fork) has 16·9 = 9·16 new leaves, as A's 9th, so 15
  // intervals after its fork; log 0 (same sizes)
  // is caught at once. Without the override log 1 is caught at once too.
  const yaml = (fork: string) => `
name: fork-schedule
duration: 4m
network: { nodes: 30, degree: 6, latency: { distribution: fixed, median: 20ms } }
logs: { count: 2, interval: 10s, batch: 16 }
witnesses: { push: all }
adversary:
  forkAt: 30s
  branchB: { fraction: 0.3 }
  refuseProofs: true
  forks: [{ log: 1, forkAt: 40s${fork} }]
signatures: modelled
`;

  it('parses, refuses an until before the fork, and round-trips through the sweep YAML', () => {
    const s = parseScenario(yaml(', batch: 9, until: 3m, lag: 2s'), 'f.yaml');
    expect(s.adversary!.forks[0].schedule).toEqual({ untilMs: 180_000, batch: 9, lagMs: 2000 });
    expect(parseScenario(yaml(''), 'f.yaml').adversary!.forks[0].schedule).toBeNull();
    expect(errors(yaml(', until: 20s'))).toContain('adversary.forks.0.until: must be after this log\'s forkAt');
    expect(parseScenario(scenarioToYamlObject(s), 'again.yaml').adversary!.forks).toEqual(s.adversary!.forks);
  });

  it('other sizes on one forked log only: that log is caught at the first common size, the other at once', async () => {
    const own = await runScenario(parseScenario(yaml(', batch: 9'), 'f.yaml'));
    const shared = await runScenario(parseScenario(yaml(''), 'f.yaml'));
    const [l0, l1] = own.forks!;
    expect(l0.log).toBe(0);
    expect(l0.allMs!).toBeLessThan(2000);
    // Log 1 publishes at 5 s + 10 s·j: its fork is the publish at 45 s; sizes meet 15 intervals later.
    expect(l1.forkAtMs).toBeCloseTo(45_000, 6);
    expect(l1.firstMs!).toBeGreaterThanOrEqual(15 * 10_000);
    expect(l1.firstMs!).toBeLessThan(15 * 10_000 + 2000);
    expect(shared.forks![1].allMs!).toBeLessThan(2000);
  });
});
