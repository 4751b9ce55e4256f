// The scenario language of issue 18 (docs/simulator.md#stating-an-attack), each feature checked
// against a closed form or an independent computation written here: hypergeometric tails (clients'
// trusted colluders), shortest paths on the engine's own mesh with a region latency matrix
// (flooding, evidence droppers, monitors), the stationary residual life of the clients' fetch
// renewal process (time to accept), and qualitative outcomes where no closed form exists.
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/run.js';
import { ModelEngine } from '../../src/sim/model/engine.js';
import { scenarioToYamlObject } from '../../src/sim/sweep.js';
import { wilson } from '../../src/sim/stats.js';

// ---- small reference computations ----

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(X >= k) for X ~ Hypergeometric(population N, successes c, draws n). */
function hyperTail(N: number, c: number, n: number, k: number): number {
  let p = 0;
  for (let x = k; x <= Math.min(c, n); x++) p += Math.exp(logChoose(c, x) + logChoose(N - c, n - x) - logChoose(N, n));
  return p;
}

/** Multi-source Dijkstra: earliest arrival at each node given start times, over relays allowed to forward. */
function arrival(n: number, start: number[], peers: (u: number) => number[], w: (u: number, v: number) => number, relays: (u: number) => boolean): number[] {
  const d = start.slice();
  const done = new Array(n).fill(false);
  for (;;) {
    let u = -1;
    for (let i = 0; i < n; i++) if (!done[i] && Number.isFinite(d[i]) && (u < 0 || d[i] < d[u])) u = i;
    if (u < 0) return d;
    done[u] = true;
    if (!relays(u)) continue;
    for (const v of peers(u)) if (d[u] + w(u, v) < d[v]) d[v] = d[u] + w(u, v);
  }
}

describe('scenario language: validation', () => {
  it('new keys are validated with path-qualified errors', () => {
    const bad = `
name: bad
network: { nodes: 10, regions: { names: [eu, us], latency: { eu-eu: { distribution: fixed, median: 5ms } } }, behaviours: [{ drop: evidence }] }
adversary: { forkAt: 1m, branches: [{ nodes: [12] }], targeting: eclipse, collusion: { behaviour: loud } }
clients: { populations: [{ count: 5, policy: { k: 4, n: 3 } }] }
`;
    let err: ScenarioError | undefined;
    try {
      parseScenario(bad, 'bad.yaml');
    } catch (e) {
      err = e as ScenarioError;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect(err!.message).toContain('scenario bad.yaml: adversary.collusion.behaviour: must be silent, selective or leak');
    const fixed = bad.replace('behaviour: loud', 'behaviour: leak');
    const msg = (() => {
      try {
        parseScenario(fixed, 'bad.yaml');
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(msg).toContain('network.regions.latency: missing the pair eu-us');
    expect(msg).toContain('network.behaviours.0: needs one of fraction or nodes');
    expect(msg).toContain('adversary.branches.0.nodes.0: node 12 does not exist');
    expect(msg).toContain('adversary.targeting: eclipse targeting needs adversary.eclipse or adversary.eclipses');
    expect(msg).toContain('clients.populations.0.policy.k: must not exceed n (3)');
  });

  it('every new key survives the round trip through scenarioToYamlObject (sweeps re-parse it)', () => {
    const s = parseScenario(`
name: all
duration: 10m
network:
  nodes: 30
  regions: { names: [eu, us], fractions: [0.5, 0.5], latency: { eu-eu: { distribution: fixed, median: 5ms }, eu-us: { distribution: uniform, min: 40ms, max: 60ms }, us-us: { distribution: fixed, median: 8ms } }, logRegion: us }
  behaviours: [{ fraction: 0.1, drop: evidence, dropRate: 0.5, delay: 1s }, { nodes: [9], drop: none, pollInterval: 45s, push: false }]
  monitors: { count: 3, pollInterval: 20s }
  partitions: [{ at: 1m, until: 2m, groups: [[0, 1], [2, 3]] }, { at: 1m, until: 3m, nodes: [4], kind: log-witness }, { at: 0ms, until: 1m, fraction: 0.5, kind: client-witness }]
adversary:
  forkAt: 2m
  branchB: { fraction: 0.2, until: 6m, batch: 7, lag: 2s }
  branches: [{ nodes: [5, 6], clients: 0.1, at: 3m }]
  targeting: trusted
  collusion: { behaviour: selective, trust: random }
  colluding: 2
  refuseProofs: true
  offline: [{ at: 7m, until: 8m }]
  eclipses: [{ targets: [7], attackers: 2, at: 1m, until: 4m }]
clients:
  populations:
    - { name: browsers, count: 20, policy: { k: 2, n: 3 }, fetch: { interval: 30s, delay: 1s }, witnessSets: { popular: 3, zipf: 1.2 } }
    - { name: auditors, count: 5, policy: { k: 3, n: 5 }, report: true }
`);
    expect(parseScenario(scenarioToYamlObject(s))).toEqual(s);
    expect(s.clients.count).toBe(25);
    expect(s.adversary!.branchSchedule).toEqual({ atMs: 120_000, untilMs: 360_000, batch: 7, lagMs: 2000 });
  });
});

describe('clients and colluders (hypergeometric)', () => {
  // c colluders among N witnesses, no honest witness shown B, every client shown B and trusting n
  // witnesses drawn at random (collusion.trust: random), k-of-n, asking all n: a client accepts
  // branch B (with branch A also certified) exactly when at least k of its n are colluders.
  const base = (extra: string) =>
    parseScenario(`
name: hyper
duration: 5m
network: { nodes: 30, topology: full, latency: { distribution: fixed, median: 10ms } }
logs: { count: 1, interval: 30s }
witnesses: { push: all }
adversary: { forkAt: 1m, branchB: { fraction: 0 }, clientsB: ${extra.includes('targeting') ? 0.2 : 1}, colluding: 6, collusion: { trust: random } ${extra} }
clients: { count: 2000, policy: { k: 2, n: 5 }, fetch: { interval: 20s } }
signatures: modelled
`);

  it('false accepts are exactly the clients with >= k colluders; their rate matches the hypergeometric tail', async () => {
    const r = await runScenario(base(''));
    const pc = r.clients.perClient!;
    for (let c = 0; c < pc.branch.length; c++) expect(pc.falseAccept[c], `client ${c}`).toBe(pc.trustedColluders[c] >= 2 ? 1 : 0);
    const p = hyperTail(30, 6, 5, 2); // 0.2562...
    const n = r.clients.total;
    const sd = Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(r.clients.falseAcceptRate - p)).toBeLessThan(4 * sd);
    // The whole distribution of trusted colluders: each count within 4 sd of Hypergeometric(30, 6, 5).
    for (let x = 0; x <= 5; x++) {
      const px = hyperTail(30, 6, 5, x) - hyperTail(30, 6, 5, x + 1);
      const got = pc.trustedColluders.filter((y) => y === x).length / n;
      expect(Math.abs(got - px), `x=${x}`).toBeLessThan(4 * Math.sqrt((px * (1 - px)) / n) + 1e-9);
    }
    const [lo, hi] = r.clients.falseAcceptRateCI!;
    expect(lo).toBeLessThan(r.clients.falseAcceptRate);
    expect(hi).toBeGreaterThan(r.clients.falseAcceptRate);
  });

  it('trusted targeting picks the victims whose witnesses the attacker controls: min(victims, clients with >= k colluders)', async () => {
    const targeted = await runScenario(base(', targeting: trusted'));
    const random = await runScenario(base(', targeting: random'));
    const pc = targeted.clients.perClient!;
    const exposed = pc.trustedColluders.filter((x) => x >= 2).length;
    expect(targeted.clients.falseAccepts).toBe(Math.min(400, exposed));
    // Random victims: about the tail probability of the 400.
    expect(random.clients.falseAccepts).toBeLessThan(targeted.clients.falseAccepts);
    // Victims are the ones with most colluders: every victim has at least as many as every non-victim.
    const victims = pc.trustedColluders.filter((_, c) => pc.branch[c] === 1);
    const others = pc.trustedColluders.filter((_, c) => pc.branch[c] === 0);
    expect(Math.min(...victims)).toBeGreaterThanOrEqual(Math.max(...others));
  });

  it('popular shared sets: few distinct witness sets, shares by Zipf weight', async () => {
    const s = parseScenario(`
name: popular
duration: 3m
network: { nodes: 40, topology: full }
logs: { count: 1, interval: 30s }
witnesses: { push: all }
adversary: { forkAt: 1m, branchB: { fraction: 0 }, clientsB: 1, colluding: 10, collusion: { trust: random } }
clients: { count: 3000, policy: { k: 1, n: 4 }, witnessSets: { popular: 2, zipf: 1 } }
signatures: modelled
`);
    const r = await runScenario(s);
    const pc = r.clients.perClient!;
    const distinct = new Set(pc.trustedColluders);
    expect(distinct.size).toBeLessThanOrEqual(2);
    // Weights 1 and 1/2: 2/3 of the clients share the first set. When the two sets differ in
    // colluder count, the shares are visible; else every client has the same count.
    if (distinct.size === 2) {
      const counts = [...distinct].map((d) => pc.trustedColluders.filter((x) => x === d).length / pc.trustedColluders.length).sort();
      expect(Math.abs(counts[1] - 2 / 3)).toBeLessThan(4 * Math.sqrt((2 / 9) / 3000));
    }
  });
});

// Non-metric latencies: eu -> ap directly is slower than through us.
const REGIONS = parseScenario(`
name: regions
duration: 3m
network:
  nodes: 24
  topology: random-regular
  degree: 6
  meshDegree: 4
  messages: coalesced
  gossipLazy: 0          # no IHAVE gossip: every copy travels the mesh (the reference's graph)
  gossipFactor: 0
  regions:
    names: [eu, us, ap]
    fractions: [0.4, 0.4, 0.2]
    logRegion: eu
    latency:
      eu-eu: { distribution: fixed, median: 5ms }
      us-us: { distribution: fixed, median: 7ms }
      ap-ap: { distribution: fixed, median: 3ms }
      eu-us: { distribution: fixed, median: 40ms }
      us-ap: { distribution: fixed, median: 50ms }
      eu-ap: { distribution: fixed, median: 200ms }
  behaviours: [{ nodes: [3, 4, 5], drop: evidence }]
  monitors: { count: 3 }
logs: { count: 1, interval: 1m }
witnesses: { push: all }
adversary: { forkAt: 30s, branchB: { nodes: [0, 1] } }
signatures: modelled
`);

describe('latency by region, mesh distances, evidence droppers and monitors (shortest paths)', () => {
  it('every detection time is the earliest arrival over the engine mesh with the region latency matrix', async () => {
    for (const seed of [1, 2, 3, 4]) await check(seed);
  });

  async function check(seed: number): Promise<void> {
    const s = REGIONS;
    const eng = new ModelEngine(s, seed);
    const region = eng.regions();
    const G = region.length;
    const mesh = Array.from({ length: G }, (_, u) => eng.meshOf(u));
    const out = await eng.run();
    const r = await runScenario(s, { seed });
    const M = [
      [5, 40, 200],
      [40, 7, 50],
      [200, 50, 3],
    ];
    const L = (u: number, v: number) => M[region[u]][region[v]];
    const fork = r.forkAtMs!;
    const isB = (v: number) => v === 0 || v === 1;
    const INF = Infinity;
    // Texts: witnesses get their branch's checkpoint from the log (eu) by push; everyone relays texts.
    const fromLog = (b: boolean) => Array.from({ length: G }, (_, v) => (v < 24 && isB(v) === b ? fork + M[0][region[v]] : INF));
    const tA = arrival(G, fromLog(false), (u) => mesh[u], L, () => true);
    const tB = arrival(G, fromLog(true), (u) => mesh[u], L, () => true);
    // Evidence: made by each node when it holds both; droppers of evidence (3, 4, 5) do not relay it.
    const made = tA.map((a, v) => Math.max(a, tB[v]));
    const ev = arrival(G, made, (u) => mesh[u], L, (u) => u < 3 || u > 5);
    const honest = out.honest;
    expect(honest).not.toContain(3);
    r.detection.perNodeMs.forEach((ms, i) => expect(ms, `node ${honest[i]}`).toBeCloseTo(ev[honest[i]] - fork, 6));
    r.monitors!.perNodeMs.forEach((ms, i) => expect(ms, `monitor ${24 + i}`).toBeCloseTo(ev[24 + i] - fork, 6));
    expect(r.monitors!.fractionDetected).toBe(1);
    expect(r.monitors!.fractionDetectedCI).toEqual(wilson(r.monitors!.count, r.monitors!.count));
  }
});

describe('fetch renewal process (time to accept)', () => {
  it('mean time to accept = stationary residual fetch time 13/24 I (+ fetch delay)', async () => {
    // Every witness is shown B (no conflict, no evidence), every client B: a client accepts at its
    // first fetch after the fork. Fetch gaps are I*U(0.5,1.5): the stationary residual life has
    // mean E[X^2]/(2E[X]) = 13/24 I and variance 0.1233 I^2.
    const I = 60_000;
    const mk = (delay: string) =>
      parseScenario(`
name: renewal
duration: 40m
network: { nodes: 10, topology: full, latency: { distribution: fixed, median: 10ms } }
logs: { count: 1, interval: 10m }
witnesses: { push: all }
adversary: { forkAt: 25m, branchB: { fraction: 1 }, clientsB: 1 }
clients: { count: 3000, policy: { k: 2, n: 3 }, fetch: { interval: 1m, delay: ${delay} } }
signatures: modelled
`);
    const se = (0.3511 * I) / Math.sqrt(3000);
    for (const [delay, d] of [
      ['0ms', 0],
      ['5s', 5000],
    ] as const) {
      const r = await runScenario(mk(delay));
      const xs = r.clients.perClient!.acceptMs.filter((x): x is number => x !== null);
      expect(xs.length).toBe(3000);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(Math.abs(mean - ((13 / 24) * I + d))).toBeLessThan(4 * se + 20);
      expect(r.detection.fractionDetected).toBe(0); // nobody saw a conflict
    }
  });
});

describe('behaviour classes with their own poll interval and push (network.behaviours[].pollInterval, .push)', () => {
  const mk = (witnesses: string, behaviours: string) =>
    parseScenario(`
name: per-node-polling
duration: 20m
network: { nodes: 40, degree: 6, meshDegree: 4, latency: { distribution: fixed, median: 20ms }${behaviours} }
logs: { count: 1, interval: 2m }
witnesses: ${witnesses}
adversary: { forkAt: 3m, branchB: { fraction: 0.3 } }
signatures: modelled
`);
  const all = `[${Array.from({ length: 40 }, (_, i) => i).join(', ')}]`;

  it('a class that sets them for every node gives exactly the run with the global settings (same draws, same results)', async () => {
    for (const seed of [1, 2]) {
      const pushed = await runScenario(mk('{ push: all }', ''), { seed });
      const byClass = await runScenario(mk('{ push: 0 }', `, behaviours: [{ nodes: ${all}, drop: none, push: true }]`), { seed });
      expect(byClass.detection.perNodeMs).toEqual(pushed.detection.perNodeMs);
      const polled = await runScenario(mk('{ push: 0, pollInterval: 20s }', ''), { seed });
      const byClassPoll = await runScenario(mk('{ push: 0, pollInterval: 5m }', `, behaviours: [{ nodes: ${all}, drop: none, pollInterval: 20s }]`), { seed });
      expect(byClassPoll.detection.perNodeMs).toEqual(polled.detection.perNodeMs);
      // And the settings matter: polling every 20 s detects later than being pushed to.
      expect(polled.detection.allMs!).toBeGreaterThan(pushed.detection.allMs!);
    }
  });

  it('a class of nodes that never poll (push: false, a poll interval beyond the run) is never shown a checkpoint: no evidence without gossip from others', async () => {
    const r = await runScenario(mk('{ push: all }', `, behaviours: [{ nodes: ${all}, drop: none, push: false, pollInterval: 100h }]`), { seed: 3 });
    expect(r.detection.fractionDetected).toBe(0);
  });

  it('validates them with their paths', () => {
    const message = (behaviours: string): string => {
      try {
        mk('{ push: all }', behaviours);
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message(', behaviours: [{ nodes: [1], drop: none, push: maybe }]')).toContain('network.behaviours.0.push: must be true or false');
    expect(message(', behaviours: [{ nodes: [1], drop: none, pollInterval: 10ms }]')).toContain('network.behaviours.0.pollInterval: must be at least 100ms');
  });
});

describe('forks, logs, colluders, cuts (qualitative)', () => {
  const net = `network: { nodes: 30, degree: 6, meshDegree: 4, latency: { distribution: fixed, median: 20ms } }
logs: { count: 1, interval: 1m }
witnesses: { push: all }`;

  it('a branch at other sizes is caught through a proof request; a log that refuses proofs is not caught', async () => {
    const mk = (refuse: boolean) =>
      parseScenario(`
name: sizes
duration: 7m
${net}
adversary: { forkAt: 2m, branchB: { fraction: 0.3, batch: 7 }, refuseProofs: ${refuse} }
signatures: modelled
`);
    const caught = await runScenario(mk(false));
    const hidden = await runScenario(mk(true));
    expect(caught.detection.fractionDetected).toBe(1);
    // No same-size pair exists: the first evidence needs a proof from the log (a round trip, 2 x 20 ms, after the gossip hop).
    expect(caught.detection.firstMs!).toBeGreaterThanOrEqual(60);
    expect(hidden.detection.fractionDetected).toBe(0);
  });

  it('a third branch, late: evidence pairs appear for it too', async () => {
    const s = parseScenario(`
name: three
duration: 8m
${net}
adversary: { forkAt: 2m, branchB: { fraction: 0.2 }, branches: [{ fraction: 0.2, clients: 0.2, at: 4m }], clientsB: 0.2 }
clients: { count: 50, policy: { k: 2, n: 3 } }
signatures: modelled
`);
    const r = await runScenario(s, { trace: true });
    expect(r.trace!.some((l) => l.includes('signs branch C'))).toBe(true);
    expect(r.trace!.filter((l) => l.includes('signs branch C')).every((l) => Number(/t=(\d+)/.exec(l)![1]) >= 240_000)).toBe(true);
    expect(r.model!.evidenceCount).toBeGreaterThan(1);
    expect(r.detection.fractionDetected).toBe(1);
  });

  it('colluders: silent and selective hide branch B, leaking at rate 1 exposes it', async () => {
    const mk = (behaviour: string) =>
      parseScenario(`
name: colluders
duration: 6m
${net}
adversary: { forkAt: 2m, branchB: { fraction: 0 }, colluding: 4, collusion: { behaviour: ${behaviour}, leakRate: 1 } }
signatures: modelled
`);
    expect((await runScenario(mk('silent'))).detection.fractionDetected).toBe(0);
    expect((await runScenario(mk('selective'))).detection.fractionDetected).toBe(0);
    expect((await runScenario(mk('leak'))).detection.fractionDetected).toBe(1);
  });

  it('a scheduled eclipse delays its target until it heals; group partitions heal too', async () => {
    const s = parseScenario(`
name: eclipses
duration: 9m
${net}
adversary: { forkAt: 2m, branchB: { nodes: [1, 2, 3] }, eclipses: [{ targets: [0], attackers: 3, at: 0ms, until: 5m }] }
signatures: modelled
`);
    const r = await runScenario(s);
    expect(r.model!.attackers).toBe(3);
    const fork = r.forkAtMs!;
    expect(r.detection.perNodeMs[0]!).toBeGreaterThanOrEqual(300_000 - fork);
    expect(r.detection.perNodeMs[0]!).toBeLessThan(300_000 - fork + 61_000);
    expect(Math.max(...(r.detection.perNodeMs.slice(1) as number[]))).toBeLessThan(5000);
    const g = parseScenario(`
name: groups
duration: 9m
${net}
network: { nodes: 30, degree: 6, meshDegree: 4, latency: { distribution: fixed, median: 20ms }, partitions: [{ at: 0ms, until: 5m, groups: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]] }] }
adversary: { forkAt: 2m, branchB: { nodes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } }
signatures: modelled
`.replace(`${net}\n`, 'logs: { count: 1, interval: 1m }\nwitnesses: { push: all }\n'));
    const rg = await runScenario(g);
    expect(rg.detection.firstMs!).toBeGreaterThanOrEqual(300_000 - rg.forkAtMs!);
    expect(rg.detection.fractionDetected).toBe(1);
  });

  it('reporting clients carry branch B across a partition that stops gossip (STH pollination)', async () => {
    const mk = (report: boolean) =>
      parseScenario(`
name: pollination
duration: 8m
network: { nodes: 30, degree: 6, meshDegree: 4, partitions: [{ at: 0ms, until: 8m, byBranch: true }] }
logs: { count: 1, interval: 1m }
witnesses: { push: all }
adversary: { forkAt: 2m, branchB: { fraction: 0.3 }, clientsB: 0.5 }
clients: { count: 40, policy: { k: 2, n: 3 }, fetch: { interval: 30s }, report: ${report} }
signatures: modelled
`);
    const silent = await runScenario(mk(false));
    const pollinated = await runScenario(mk(true));
    expect(silent.detection.fractionDetected).toBe(0);
    expect(pollinated.detection.fractionDetected).toBeGreaterThan(0.5);
    expect(pollinated.clients.perClient!.detectMs.some((x) => x !== null)).toBe(true);
  });

  it('client-witness and log-witness cuts, a transient fork and an offline log', async () => {
    const cut = await runScenario(
      parseScenario(`
name: cut
duration: 5m
${net}
network: { nodes: 30, degree: 6, meshDegree: 4, partitions: [{ at: 0ms, until: 5m, fraction: 1, kind: client-witness }] }
adversary: { forkAt: 2m }
clients: { count: 20, policy: { k: 1, n: 3 } }
signatures: modelled
`.replace(`${net}\n`, 'logs: { count: 1, interval: 1m }\nwitnesses: { push: all }\n')),
    );
    expect(cut.clients.perClient!.acceptMs.every((x) => x === null)).toBe(true);
    // The log cannot reach the branch-B witnesses: nobody cosigns B, nobody detects.
    const logCut = await runScenario(
      parseScenario(`
name: logcut
duration: 6m
network: { nodes: 30, degree: 6, meshDegree: 4, partitions: [{ at: 0ms, until: 6m, nodes: [0, 1, 2], kind: log-witness }] }
logs: { count: 1, interval: 1m }
witnesses: { push: all }
adversary: { forkAt: 2m, branchB: { nodes: [0, 1, 2] } }
signatures: modelled
`),
    );
    expect(logCut.detection.fractionDetected).toBe(0);
    // A transient fork (B for one publish) is still caught; branch-B clients return to A after it.
    const transient = await runScenario(
      parseScenario(`
name: transient
duration: 8m
${net}
adversary: { forkAt: 2m, branchB: { fraction: 0.3, until: 150s }, clientsB: 1 }
clients: { count: 30, policy: { k: 1, n: 3 }, fetch: { interval: 20s } }
signatures: modelled
`),
      { trace: true },
    );
    expect(transient.trace!.filter((l) => l.includes('signs branch B')).length).toBe(1);
    expect(transient.detection.fractionDetected).toBe(1);
    // Offline from the start: the log never publishes, so it never forks and no client accepts.
    const offline = await runScenario(
      parseScenario(`
name: offline
duration: 5m
${net}
adversary: { forkAt: 2m, offline: [{ at: 0ms, until: 5m }] }
clients: { count: 10 }
signatures: modelled
`),
    );
    expect(offline.forkAtMs).toBeNull();
    expect(offline.clients.perClient!.acceptMs.every((x) => x === null)).toBe(true);
  });
});

describe('Wilson interval', () => {
  it('matches the closed form and known values', () => {
    // x = 0 of n: upper bound z^2/(n + z^2).
    const z = 1.959963984540054;
    expect(wilson(0, 10)[1]).toBeCloseTo((z * z) / (10 + z * z), 12);
    expect(wilson(0, 10)[0]).toBe(0);
    // 5 of 10: 0.2366 .. 0.7634 (standard tables).
    expect(wilson(5, 10)[0]).toBeCloseTo(0.2366, 4);
    expect(wilson(5, 10)[1]).toBeCloseTo(0.7634, 4);
    expect(wilson(3, 0)).toEqual([0, 1]);
  });
});

describe('peer scoring (gossipsub v1.1 as the node configures it)', () => {
  it('a peer sending invalid messages is pruned, then graylisted at the heartbeat the P4 formula gives', async () => {
    // One invalid message per second to every peer; P4 = -10 * c^2 with c decaying 0.98/s; the
    // positive terms are within [0, 11] (topic cap 10, P1 cap 1). Find the heartbeat k at which
    // the score is surely below -100 and at k-1 surely not.
    let c = 0;
    let k = 0;
    for (;;) {
      k++;
      c = c * 0.98 + 1;
      if (-10 * c * c + 11 < -100) break;
    }
    const prev = k - 1 === 0 ? 0 : Array.from({ length: k - 1 }, (_, i) => 0.98 ** i).reduce((a, b) => a + b, 0);
    expect(-10 * prev * prev).toBeGreaterThan(-100); // unambiguous
    const s = parseScenario(`
name: scoring
duration: 2m
network: { nodes: 30, degree: 6, meshDegree: 4, scoring: {}, behaviours: [{ nodes: [5], drop: none, invalidRate: 1 }] }
logs: { count: 1, interval: 30s }
witnesses: { push: all }
signatures: modelled
`);
    const eng = new ModelEngine(s, 1);
    eng.enableTrace();
    await eng.run();
    const gray = eng.traceLines.filter((l) => / graylists 5 /.test(l));
    expect(gray.length).toBeGreaterThan(0);
    for (const l of gray) expect(Number(/t=(\d+)/.exec(l)![1]), l).toBe(k * 1000);
    // Nobody else is graylisted; node 5 is in no mesh at the end and grafts nobody.
    expect(eng.traceLines.filter((l) => / graylists (?!5 )/.test(l))).toEqual([]);
    for (let v = 0; v < 30; v++) expect(eng.meshOf(v)).not.toContain(5);
    expect(eng.meshOf(5)).toEqual([]);
  });

  it('without P3 (as the node ships) droppers keep their mesh places; with P3 on they are pruned', async () => {
    const mk = (w: number) =>
      parseScenario(`
name: p3
duration: 3m
network: { nodes: 30, degree: 8, meshDegree: 4, messages: coalesced, heartbeat: 1s, scoring: { meshDeliveryWeight: ${w}, meshDeliveryThreshold: 0.5, meshDeliveryDecay: 0.99, activation: 10s }, behaviours: [{ nodes: [1, 2, 3], drop: all }] }
logs: { count: 6, interval: 5s }
witnesses: { push: 0.3, pollInterval: 5s }
signatures: modelled
`);
    const pruned = async (w: number) => {
      const eng = new ModelEngine(mk(w), 2);
      eng.enableTrace();
      await eng.run();
      return eng.traceLines.filter((l) => / prunes [123] /.test(l)).length;
    };
    expect(await pruned(0)).toBe(0);
    expect(await pruned(-1)).toBeGreaterThan(0);
  });
});
