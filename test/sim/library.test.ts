// The scenario library (network-config/scenarios/library/): each file reproduces an attack setting
// from the literature or the field (cited in the file) and states its expected qualitative
// outcome; this test asserts it, with the contrasting variant where the file names one.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, loadScenarioObject, parseScenario, withParameter } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/run.js';
import { readFileSync } from 'node:fs';

const DIR = join(__dirname, '../../network-config/scenarios/library');
const file = (n: string) => join(DIR, `${n}.yaml`);
const variant = (n: string, path: string, value: unknown) => parseScenario(withParameter(loadScenarioObject(file(n)), path, value as never), `${n} (${path}=${JSON.stringify(value)})`);

describe('scenario library', () => {
  it('every file parses, names its source and its expected outcome', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) {
      const text = readFileSync(join(DIR, f), 'utf8');
      expect(() => loadScenario(join(DIR, f)), f).not.toThrow();
      expect(text, f).toMatch(/^# Source: /m);
      expect(text, f).toMatch(/^# Expected /m);
    }
  });

  it('an operator forks several of its logs (CT temporal shards): each fork is detected on its own, after it; the honest log yields none', async () => {
    const r = await runScenario(loadScenario(file('operator-forks-all-shards')));
    expect(r.forks!.map((f) => f.log)).toEqual([0, 2]);
    expect(r.forks![1].forkAtMs!).toBeGreaterThanOrEqual(300_000);
    for (const f of r.forks!) {
      expect(f.fractionDetected).toBe(1);
      expect(f.allMs!).toBeLessThan(60_000);
      expect(f.perNodeMs.every((x) => x !== null && x >= 0)).toBe(true);
    }
    expect(r.monitors!.branch!.filter((b) => b === 1).length).toBe(2);
  });

  it('STH pollination (Nordberg et al.): reporting clients carry the split view across the cut; silent ones do not', async () => {
    const r = await runScenario(loadScenario(file('ct-sth-pollination')));
    expect(r.detection.fractionDetected).toBeGreaterThan(0.9);
    const silent = await runScenario(variant('ct-sth-pollination', 'clients.report', false));
    expect(silent.detection.fractionDetected).toBe(0);
  });

  it('targeted fork with gossip (Chuat et al.): everyone detects fast, no split view gets through', async () => {
    const r = await runScenario(loadScenario(file('chuat-targeted-fork')));
    expect(r.detection.fractionDetected).toBe(1);
    expect(r.detection.allMs!).toBeLessThan(60_000);
    expect(r.clients.falseAccepts).toBe(0);
  });

  it('CoSi attacker (Syta et al.): colluders meeting the threshold fool every victim; one fewer fools none', async () => {
    const r = await runScenario(loadScenario(file('cosi-compromised-witnesses')));
    expect(r.clients.falseAccepts).toBe(r.clients.total);
    expect(r.detection.fractionDetected).toBe(0);
    const fewer = await runScenario(variant('cosi-compromised-witnesses', 'adversary.colluding', 2));
    expect(fewer.model!.forkedAccepts).toBe(0);
    expect(fewer.clients.falseAccepts).toBe(0);
  });

  it('Rekor threat model: monitors and witnesses catch a late, other-size branch; refusing proofs delays it to the first common size', async () => {
    const r = await runScenario(loadScenario(file('rekor-split-view-monitors')));
    expect(r.monitors!.fractionDetected).toBe(1);
    expect(r.detection.fractionDetected).toBe(1);
    expect(r.detection.allMs!).toBeLessThan(60_000);
    const refused = await runScenario(variant('rekor-split-view-monitors', 'adversary.refuseProofs', true));
    // Sizes m + 16a (A) and m + 9b (B) first meet at 144 = lcm(16, 9): B's 16th checkpoint, 15
    // intervals of 10 s after its first (signed at the fork), served 3 s late.
    expect(refused.detection.firstMs!).toBeGreaterThanOrEqual(150_000 + 3000);
    expect(refused.detection.firstMs!).toBeLessThan(150_000 + 3000 + 25_000);
  });

  it('Yeti 2018 outage: no false positive, no accept during the outage', async () => {
    const r = await runScenario(loadScenario(file('yeti-2018-outage')));
    expect(r.detection.fractionDetected).toBe(0);
    const fork = r.forkAtMs!;
    const accepts = r.clients.perClient!.acceptMs.filter((x): x is number => x !== null).map((x) => x + fork);
    expect(accepts.length).toBeGreaterThan(0);
    expect(accepts.every((t) => t < 150_000 || t >= 480_000)).toBe(true);
  });

  it('a client following several shards of a compromised operator (CT, Chuat et al.): each fork is refused on its own evidence; the honest shard\'s auditors count neither; colluders fool exactly each log\'s victims', async () => {
    const r = await runScenario(loadScenario(file('ct-client-follows-shards')));
    const per = new Map(r.clients.perLog!.map((x) => [x.log, x]));
    const forkAt = new Map(r.forks!.map((f) => [f.log, f.forkAtMs!]));
    const p = r.clients.perClientLog!;
    const pop = r.clients.perClient!.population;
    for (const l of [0, 2]) {
      expect(per.get(l)!.clients, `log ${l}`).toBe(60);
      expect(per.get(l)!.protectedFraction, `log ${l}`).toBe(1);
      expect(per.get(l)!.falseAccepts, `log ${l}`).toBe(0);
      expect(per.get(l)!.forkAtMs).toBe(forkAt.get(l));
    }
    expect(forkAt.get(2)!).toBeGreaterThanOrEqual(300_000);
    // Log 1: browsers and auditors follow it; nobody refuses it or sees a fork of it.
    expect(per.get(1)!.clients).toBe(80);
    expect(per.get(1)!.protected).toBe(0);
    expect(per.get(1)!.forkedAccepts).toBe(0);
    expect(p.log.filter((l, j) => pop[p.client[j]] === 'shard-1-auditors' && l !== 1)).toEqual([]);
    r.clients.perClient!.detectMs.forEach((x, c) => expect(x === null, `client ${c}`).toBe(pop[c] === 'shard-1-auditors'));
    // Colluders at the threshold, no honest witness on B: each forked log's victims (and only they) are fooled.
    const v = await runScenario(parseScenario(withParameter(withParameter(loadScenarioObject(file('ct-client-follows-shards')), 'adversary.colluding', 3), 'adversary.branchB.fraction', 0), 'colluding variant'));
    const vp = v.clients.perClientLog!;
    for (let j = 0; j < vp.log.length; j++) expect(vp.falseAccept[j], `row ${j}`).toBe(vp.branch[j] === 1 ? 1 : 0);
    for (const l of [0, 2]) expect(v.clients.perLog!.find((x) => x.log === l)!.falseAccepts, `log ${l}`).toBe(18);
    expect(v.clients.perLog!.find((x) => x.log === 1)!.falseAccepts).toBe(0);
    expect(v.clients.falseAccepts).toBeGreaterThan(18);
    expect(v.clients.falseAccepts).toBeLessThanOrEqual(36);
  });

  it('eclipse with healing (Heilman et al.): the victim detects only after the eclipse heals', async () => {
    const r = await runScenario(loadScenario(file('eclipse-heal')));
    const fork = r.forkAtMs!;
    const victim = r.detection.perNodeMs[0]!;
    expect(victim + fork).toBeGreaterThanOrEqual(360_000);
    expect(victim + fork).toBeLessThan(360_000 + 61_000);
    expect(Math.max(...(r.detection.perNodeMs.slice(1) as number[]))).toBeLessThan(10_000);
  });
});
