// Client populations following several logs (clients.populations[].logs, victims: same | per-log;
// docs/simulator.md#client-populations-following-several-logs): state per (client, log), per-log and
// any-log metrics, tidy rows per (client, log). Checked against an independent computation (a
// client falsely accepts log l exactly when it is a victim on l and trusts >= k colluders), the
// hypergeometric tail, and one-log runs of the same setting.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerSimulate } from '../../src/cli/simulate.js';
import { parseScenario, ScenarioError } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/run.js';
import { flatMetrics } from '../../src/sim/report/index.js';
import { metricInfo } from '../../src/sim/report/metrics.js';
import { scenarioToYamlObject } from '../../src/sim/sweep.js';
import { stringify } from 'yaml';

const dir = mkdtempSync(join(tmpdir(), 'gw-sim-multilog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

/** The rows of one log in perClientLog. */
function rowsOf(r: Awaited<ReturnType<typeof runScenario>>, l: number): number[] {
  const p = r.clients.perClientLog!;
  return p.log.flatMap((x, j) => (x === l ? [j] : []));
}

describe('scenario keys', () => {
  it('logs and victims parse; absent, the parsed form is as before (no new keys, same hash)', () => {
    const s = parseScenario(`
name: keys
logs: { count: 3 }
adversary: { forkAt: 1m }
clients:
  populations:
    - { count: 5, logs: all, victims: per-log }
    - { count: 5, logs: [2, 0] }
    - { count: 5 }
`);
    expect(s.clients.populations.map((p) => p.logs)).toEqual([[0, 1, 2], [2, 0], undefined]);
    expect(s.clients.populations.map((p) => p.victims)).toEqual(['per-log', undefined, undefined]);
    expect(Object.keys(s.clients.populations[2])).not.toContain('logs');
    // The YAML form spells them back (sweeps rebuild scenarios from it).
    const again = parseScenario(stringify(scenarioToYamlObject(s)));
    expect(again.clients.populations.map((p) => p.logs)).toEqual([[0, 1, 2], [2, 0], undefined]);
    expect(again.clients.populations[0].victims).toBe('per-log');
  });

  it('bad values get path-qualified errors', () => {
    const bad = (clients: string) => {
      try {
        parseScenario(`name: bad\nlogs: { count: 2 }\nclients: ${clients}\n`, 'bad.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('{ populations: [{ count: 1, logs: [0, 2] }] }')).toMatch(/clients\.populations\.0\.logs\.1: must be a log index below logs\.count \(2\)/);
    expect(bad('{ populations: [{ count: 1, logs: [1, 1] }] }')).toMatch(/clients\.populations\.0\.logs\.1: log 1 is listed twice/);
    expect(bad('{ count: 1, logs: some }')).toMatch(/clients\.logs: must be "all" or a list of log indices/);
    expect(bad('{ count: 1, victims: everyone }')).toMatch(/clients\.victims: must be same or per-log/);
  });
});

describe('detection per log', () => {
  // Logs 0 and 1 fork (at 1 m and 3 m); log 2 stays honest. Witnesses gossip both branches.
  const yaml = (pops: string) => `
name: two-forks
seed: 5
duration: 7m
network: { nodes: 30, degree: 6, meshDegree: 4, messages: coalesced }
logs: { count: 3, interval: 20s, batch: 8 }
witnesses: { push: 0, pollInterval: 10s }
adversary: { forkAt: 1m, log: 0, branchB: { fraction: 0.3 }, clientsB: 0.5, forks: [{ log: 1, forkAt: 3m }] }
clients:
  populations:
${pops}
signatures: modelled
`;

  it('a population following both forked logs refuses each on its own evidence; one following the honest log never counts the forks', async () => {
    const r = await runScenario(
      parseScenario(
        yaml(`    - { name: both, count: 30, policy: { k: 2, n: 3 }, fetch: { interval: 20s }, logs: [0, 1] }
    - { name: honest, count: 20, policy: { k: 2, n: 3 }, fetch: { interval: 20s }, logs: [2] }`),
      ),
    );
    const p = r.clients.perClientLog!;
    expect(p.log.length).toBe(30 * 2 + 20);
    const per = new Map(r.clients.perLog!.map((x) => [x.log, x]));
    expect([...per.keys()]).toEqual([0, 1, 2]);
    expect(per.get(0)!.clients).toBe(30);
    expect(per.get(2)!.clients).toBe(20);
    // Both forks are caught by every client following them, each after its own fork.
    for (const l of [0, 1]) {
      expect(per.get(l)!.protectedFraction, `log ${l}`).toBe(1);
      for (const j of rowsOf(r, l)) {
        expect(p.detectMs[j], `log ${l} row ${j}`).not.toBeNull();
        expect(p.detectMs[j]!).toBeGreaterThanOrEqual(0);
      }
    }
    const fork1 = r.forks!.find((f) => f.log === 1)!.forkAtMs!;
    expect(fork1).toBeGreaterThanOrEqual(180_000);
    expect(per.get(1)!.forkAtMs).toBe(fork1);
    // The honest log: nothing to refuse, nothing forked, its clients accepted checkpoints normally.
    const honest = per.get(2)!;
    expect(honest.protected).toBe(0);
    expect(honest.forkedAccepts).toBe(0);
    expect(honest.forkAtMs).toBeNull();
    for (const j of rowsOf(r, 2)) expect(p.branch[j]).toBe(0);
    // Any-log aggregates: the population following the forks is protected, the other is not.
    const pc = r.clients.perClient!;
    pc.population.forEach((name, c) => expect(pc.detectMs[c] !== null, `client ${c}`).toBe(name === 'both'));
    expect(r.clients.anyLog!.protected).toBe(30);
    // Per-log metrics exist with units and meanings; the any-log ones keep their names.
    const m = flatMetrics(r);
    expect(m['clients.log.1.protectedFraction']).toBe(1);
    expect(m['clients.log.2.protectedFraction']).toBe(0);
    expect(m['clients.protectedFraction']).toBeCloseTo(30 / 50, 12);
    for (const k of Object.keys(m).filter((x) => x.startsWith('clients.log.'))) expect(metricInfo(k), k).not.toBeNull();
    expect(metricInfo('clients.log.7.falseAcceptRate')!.text).toBe('log 7 false accepts / clients following log 7');
  });

  it('clients following only a log that forks later are not protected by evidence against another log (per-log evidence)', async () => {
    // One population follows log 1 only: before log 1 forks (3 m) witnesses already hold evidence
    // against log 0 (forked at 1 m), which must not make these clients refuse log 1.
    const r = await runScenario(parseScenario(yaml(`    - { name: one, count: 20, policy: { k: 2, n: 3 }, fetch: { interval: 20s }, logs: [1] }`)));
    const p = r.clients.perClientLog!;
    expect(new Set(p.log)).toEqual(new Set([1]));
    const fork0 = r.forkAtMs!;
    const fork1 = r.forks!.find((f) => f.log === 1)!.forkAtMs!;
    expect(fork1 - fork0).toBeGreaterThan(100_000);
    expect(r.forks!.find((f) => f.log === 0)!.firstMs!).toBeLessThan(60_000);
    // Every client refuses log 1, each after log 1's fork (absolute times; perClient counts from the first fork).
    const pc = r.clients.perClient!;
    expect(pc.detectMs.every((x) => x !== null && x + fork0 > fork1)).toBe(true);
    // The one-log default keeps the old rule (evidence against any forked log): clients following
    // log 1 that way (adversary.log 1 at 3 m, log 0 forking at 1 m) refuse it before it forks.
    const legacy = await runScenario(
      parseScenario(
        yaml(`    - { name: old, count: 20, policy: { k: 2, n: 3 }, fetch: { interval: 20s } }`)
          .replace('forkAt: 1m, log: 0', 'forkAt: 3m, log: 1')
          .replace('forks: [{ log: 1, forkAt: 3m }]', 'forks: [{ log: 0, forkAt: 1m }]'),
      ),
    );
    expect(legacy.clients.perClientLog).toBeUndefined();
    const lf1 = legacy.forks!.find((f) => f.log === 1)!.forkAtMs!;
    expect(lf1).toBeGreaterThanOrEqual(180_000);
    const early = legacy.clients.perClient!.detectMs.filter((x) => x !== null && x + legacy.forkAtMs! < lf1).length;
    expect(early).toBeGreaterThan(0);
  });
});

describe('victims on several logs (hypergeometric, independent computation)', () => {
  // c colluders among N witnesses (trusted at random), no honest witness shown B, two forked logs:
  // a client falsely accepts log l exactly when it is a victim on l and trusts >= k colluders.
  const N = 30;
  const c = 6;
  const k = 2;
  const n = 5;
  const scenario = (clients: string, advLog = 0, seed = 1) =>
    parseScenario(`
name: victims
seed: ${seed}
duration: 4m
network: { nodes: ${N}, topology: full, latency: { distribution: fixed, median: 10ms } }
logs: { count: 2, interval: 30s }
witnesses: { push: all }
adversary: { forkAt: 1m, log: ${advLog}, branchB: { fraction: 0 }, clientsB: 0.5, colluding: ${c}, collusion: { trust: random }, forks: [{ log: ${1 - advLog}, forkAt: 1m }] }
clients: ${clients}
signatures: modelled
`);
  const C = 1600;

  it('per (client, log): false accept = victim on that log and >= k trusted colluders; per-log rates match the tail; victims: same repeats them, per-log draws them again', async () => {
    const perLog = await runScenario(scenario(`{ count: ${C}, policy: { k: ${k}, n: ${n} }, fetch: { interval: 20s }, logs: [0, 1], victims: per-log }`));
    const same = await runScenario(scenario(`{ count: ${C}, policy: { k: ${k}, n: ${n} }, fetch: { interval: 20s }, logs: [0, 1], victims: same }`));
    const tail = hyperTail(N, c, n, k);
    for (const r of [perLog, same]) {
      const p = r.clients.perClientLog!;
      const pc = r.clients.perClient!;
      for (let j = 0; j < p.log.length; j++) expect(p.falseAccept[j], `row ${j}`).toBe(p.branch[j] === 1 && pc.trustedColluders[p.client[j]] >= k ? 1 : 0);
      for (const l of [0, 1]) {
        const rows = rowsOf(r, l);
        expect(rows.filter((j) => p.branch[j] === 1).length).toBe(C / 2);
        const x = r.clients.perLog!.find((y) => y.log === l)!;
        const q = tail / 2;
        expect(Math.abs(x.falseAcceptRate - q), `log ${l}`).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / C));
        expect(x.falseAcceptRateCI[0]).toBeLessThanOrEqual(x.falseAcceptRate);
        expect(x.falseAcceptRateCI[1]).toBeGreaterThanOrEqual(x.falseAcceptRate);
      }
      // Any log: the OR of a client's rows.
      for (let cl = 0; cl < C; cl++) expect(pc.falseAccept[cl]).toBe(p.falseAccept[2 * cl] | p.falseAccept[2 * cl + 1]);
    }
    // same: one victim set on both logs; any-log rate = per-log rate.
    const sp = same.clients.perClientLog!;
    for (let cl = 0; cl < C; cl++) expect(sp.branch[2 * cl]).toBe(sp.branch[2 * cl + 1]);
    expect(same.clients.falseAccepts).toBe(same.clients.perLog![0].falseAccepts);
    // per-log: independent draws of C/2 victims per log; a client is a victim on some log with
    // probability 1 - (1/2)^2 = 3/4 (up to the without-replacement draw), so any-log = 3/4 of the tail.
    const pp = perLog.clients.perClientLog!;
    const both = Array.from({ length: C }, (_, cl) => pp.branch[2 * cl] === 1 && pp.branch[2 * cl + 1] === 1).filter(Boolean).length;
    expect(Math.abs(both / C - 0.25)).toBeLessThan(4 * Math.sqrt((0.25 * 0.75) / C));
    const qa = 0.75 * tail;
    expect(Math.abs(perLog.clients.falseAcceptRate - qa)).toBeLessThan(4 * Math.sqrt((qa * (1 - qa)) / C));
  });

  it('one population following two logs (per-log victims) gives the per-log rates of two one-log populations', async () => {
    const multi = await runScenario(scenario(`{ count: ${C}, policy: { k: ${k}, n: ${n} }, fetch: { interval: 20s }, logs: [0, 1], victims: per-log }`));
    // Two one-log populations, each the default (it follows adversary.log) in its own run with its
    // own seed: log 0, then log 1. No honest witness is shown B, so no evidence exists to mix in.
    const one = `{ count: ${C}, policy: { k: ${k}, n: ${n} }, fetch: { interval: 20s } }`;
    const one0 = await runScenario(scenario(one, 0, 2));
    const one1 = await runScenario(scenario(one, 1, 3));
    for (const [l, one] of [
      [0, one0],
      [1, one1],
    ] as const) {
      const a = multi.clients.perLog!.find((x) => x.log === l)!.falseAcceptRate;
      const b = one.clients.falseAcceptRate;
      const pbar = (a + b) / 2;
      // Two-proportion bound: 4 standard errors of the difference.
      expect(Math.abs(a - b), `log ${l}: ${a} vs ${b}`).toBeLessThan(4 * Math.sqrt((2 * pbar * (1 - pbar)) / C) + 1e-9);
    }
  });

  it('real signatures: the real policy check per log agrees with the count (cosignature lines kept for every followed log)', async () => {
    const r = await runScenario(
      parseScenario(`
name: real-multi
duration: 3m
network: { nodes: 12, topology: full, latency: { distribution: fixed, median: 10ms } }
logs: { count: 2, interval: 30s }
witnesses: { push: all }
adversary: { forkAt: 1m, log: 0, branchB: { fraction: 0 }, clientsB: 0.5, colluding: 3, collusion: { trust: random }, forks: [{ log: 1, forkAt: 1m }] }
clients: { count: 60, policy: { k: 2, n: 4 }, fetch: { interval: 20s }, logs: all, victims: per-log }
signatures: real
`),
    );
    const p = r.clients.perClientLog!;
    const pc = r.clients.perClient!;
    for (let j = 0; j < p.log.length; j++) expect(p.falseAccept[j], `row ${j}`).toBe(p.branch[j] === 1 && pc.trustedColluders[p.client[j]] >= 2 ? 1 : 0);
    // Accepts happen on both logs (the real check passes on each log's own policy).
    for (const l of [0, 1]) expect(rowsOf(r, l).filter((j) => p.acceptMs[j] !== null).length, `log ${l}`).toBeGreaterThan(0);
    expect(r.clients.falseAccepts).toBeGreaterThan(0);
  });
});

describe('tidy output', () => {
  it('clients.csv has one row per client and log (log column), rates.csv per-log rates with Wilson intervals', async () => {
    const file = join(dir, 'ml.yaml');
    writeFileSync(
      file,
      `name: ml
duration: 3m
network: { nodes: 12, degree: 4, meshDegree: 3, messages: coalesced }
logs: { count: 2, interval: 30s }
witnesses: { push: 0.5, pollInterval: 20s }
adversary: { forkAt: 1m, branchB: { fraction: 0.3 }, colluding: 1, forks: [{ log: 1, forkAt: 1m }] }
clients:
  populations:
    - { name: both, count: 6, policy: { k: 2, n: 3 }, logs: all }
    - { name: one, count: 4, policy: { k: 2, n: 3 } }
signatures: modelled
`,
    );
    const out = join(dir, 'out');
    const program = new Command().exitOverride();
    registerSimulate(program);
    await program.parseAsync(['node', 'gossip-witness', 'simulate', file, '--sweep', 'adversary.colluding=0,1', '--seeds', '2', '--out', out]);
    const clients = readFileSync(join(out, 'clients.csv'), 'utf8').trimEnd().split('\n');
    const head = clients[0].split(',');
    expect(head[head.length - 1]).toBe('log');
    // 2 points x 2 seeds x (6 clients x 2 logs + 4 clients x 1 log); the default population follows adversary.log (0).
    expect(clients.length).toBe(1 + 2 * 2 * (6 * 2 + 4));
    const rows = clients.slice(1).map((l) => l.split(','));
    const col = (name: string) => head.indexOf(name);
    expect(rows.filter((r) => r[col('population')] === 'one').every((r) => r[col('log')] === '0')).toBe(true);
    expect(new Set(rows.filter((r) => r[col('population')] === 'both').map((r) => r[col('log')]))).toEqual(new Set(['0', '1']));
    const rates = readFileSync(join(out, 'rates.csv'), 'utf8');
    expect(rates).toMatch(/^0,0,clientsProtected\.log\.1,\d+,12,/m);
    expect(rates).toMatch(/^0,0,falseAcceptRate\.log\.0,\d+,20,/m);
    const points = readFileSync(join(out, 'points.csv'), 'utf8');
    expect(points).toMatch(/^0,0,clients\.log\.1\.protectedFraction,/m);
    // A single run's report: one client CDF curve per log; metrics.csv has the per-log metrics.
    const one = join(dir, 'one');
    const p2 = new Command().exitOverride();
    registerSimulate(p2);
    await p2.parseAsync(['node', 'gossip-witness', 'simulate', file, '--out', one]);
    const svg = readFileSync(join(one, 'client-detect-cdf.svg'), 'utf8');
    expect(svg).toContain('log 0');
    expect(svg).toContain('log 1');
    expect(readFileSync(join(one, 'metrics.csv'), 'utf8')).toMatch(/^clients\.log\.1\.protectedFraction,/m);
  });
});
