// Grid sweeps over any scenario path, shards and merge (src/sim/grid.ts, src/cli/simulate.ts): the
// merged shards give byte-identical tidy files to the unsharded sweep, in-process and with GNU
// parallel running the real CLI as separate processes; tidy CSVs are plain (header + rows).
// Without GNU parallel its test skips with the reason; under INTEROP_REQUIRED=1 (CI) it fails.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerSimulate } from '../../src/cli/simulate.js';
import { gridPoints, parseShard, parseSweepArg, shardRuns } from '../../src/sim/grid.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { SweepError } from '../../src/sim/sweep.js';
import { projectVersion } from '../../src/sim/provenance.js';
import { commandMissing, describeWithTool, tool } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-sim-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = join(__dirname, '../..');

const SCENARIO = join(dir, 'tiny.yaml');
writeFileSync(
  SCENARIO,
  `name: tiny
duration: 3m
network: { nodes: 12, degree: 4, meshDegree: 3, messages: coalesced }
logs: { count: 1, interval: 30s }
witnesses: { push: 0.5, pollInterval: 20s }
adversary: { forkAt: 1m, branchB: { fraction: 0.3 }, colluding: 1, collusion: { trust: random } }
clients: { count: 20, policy: { k: 2, n: 3 } }
signatures: modelled
`,
);
const SWEEP = ['--sweep', 'adversary.colluding=0,2', '--sweep', 'adversary.targeting=random,trusted', '--seeds', '2'];
const TIDY = ['observations.csv', 'nodes.csv', 'clients.csv', 'rates.csv', 'points.csv', 'provenance.json'];

async function simulate(...args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerSimulate(program);
  await program.parseAsync(['node', 'gossip-witness', 'simulate', ...args]);
}

const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');

describe('sweep values and grids', () => {
  it('parses numbers, booleans, strings and JSON lists', () => {
    expect(parseSweepArg('adversary.colluding=0,1,2')).toEqual({ path: 'adversary.colluding', values: [0, 1, 2] });
    expect(parseSweepArg('adversary.targeting=random,trusted').values).toEqual(['random', 'trusted']);
    expect(parseSweepArg('adversary.refuseProofs=true,false').values).toEqual([true, false]);
    expect(parseSweepArg('adversary.branchB.nodes=[[0,1],[2,3,4]]').values).toEqual([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(() => parseSweepArg('nodes')).toThrow(SweepError);
    expect(() => parseSweepArg('a.b=[1,')).toThrow(/not a JSON array/);
  });

  it('a grid is every combination, first parameter slowest; every point validated up front', () => {
    const s = parseScenario(readFileSync(SCENARIO, 'utf8'));
    const pts = gridPoints(s, undefined, [parseSweepArg('adversary.colluding=0,2'), parseSweepArg('clients.policy=[{"k":1,"n":3},{"k":3,"n":3}]'), parseSweepArg('witnesses.pollIntervalMs=5000')]);
    expect(pts.map((p) => p.values)).toEqual([
      [0, { k: 1, n: 3 }, 5000],
      [0, { k: 3, n: 3 }, 5000],
      [2, { k: 1, n: 3 }, 5000],
      [2, { k: 3, n: 3 }, 5000],
    ]);
    expect(pts[3].scenario.adversary!.colluding).toBe(2);
    expect(pts[3].scenario.clients.policy).toEqual({ k: 3, n: 3, group: null });
    expect(pts[3].scenario.witnesses.pollIntervalMs).toBe(5000);
    // Any path of the YAML form, with the scenario's own messages on bad values.
    expect(() => gridPoints(s, undefined, [parseSweepArg('adversary.targeting=random,sideways')])).toThrow(/adversary.targeting: must be random, trusted or eclipse/);
    expect(() => gridPoints(s, undefined, [parseSweepArg('network.nodez=3')])).toThrow(/network: Unrecognized key/i);
  });

  it('shards partition the runs', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('0/3')).toThrow(SweepError);
    expect(() => parseShard('4/3')).toThrow(SweepError);
    const all = [1, 2, 3].flatMap((i) => shardRuns(10, { index: i, count: 3 })).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('shards and merge (in process)', () => {
  it('merged shards give the unsharded tidy files byte for byte', async () => {
    const whole = join(dir, 'whole');
    await simulate(SCENARIO, ...SWEEP, '--out', whole);
    for (const i of [1, 2, 3]) await simulate(SCENARIO, ...SWEEP, '--shard', `${i}/3`, '--out', join(dir, `s${i}`));
    const merged = join(dir, 'merged');
    await simulate('merge', join(dir, 's1'), join(dir, 's2'), join(dir, 's3'), '--out', merged);
    for (const f of TIDY) expect(read(merged, f), f).toBe(read(whole, f));
    // Tidy: a header and rows only, one observation per row, NA for missing values.
    const obs = read(whole, 'observations.csv').trimEnd().split('\n');
    expect(obs[0]).toBe('run,point,adversary.colluding,adversary.targeting,seed,metric,value');
    expect(obs.every((l) => !l.startsWith('#'))).toBe(true);
    const runs = new Set(obs.slice(1).map((l) => l.split(',')[0]));
    expect(runs.size).toBe(8); // 2 x 2 points x 2 seeds
    const clients = read(whole, 'clients.csv').trimEnd().split('\n');
    expect(clients.length).toBe(1 + 8 * 20);
    const rates = read(whole, 'rates.csv').trimEnd().split('\n');
    expect(rates[0]).toBe('point,adversary.colluding,adversary.targeting,rate,successes,trials,estimate,wilson_lo,wilson_hi');
    const prov = JSON.parse(read(whole, 'provenance.json')) as { scenarioHash: string; commit: string | null; version: string };
    expect(prov.scenarioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(prov.version).toBeTruthy();
    // An incomplete set of shards is refused.
    await expect(simulate('merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'bad'))).rejects.toThrow(/runs missing/);
  });
});

// moreutils ships another `parallel` (no --version, other syntax): the probe checks it is GNU's.
const gnuParallel = tool('GNU parallel', commandMissing('parallel', ['--version'], 'Debian: apt-get install -y parallel', /GNU parallel/));

describeWithTool(gnuParallel, 'shards with GNU parallel (separate processes)', () => {
  it('parallel runs shards 1..3 of 3 with the CLI; merge equals the unsharded sweep', async () => {
    const whole = join(dir, 'whole-p');
    await simulate(SCENARIO, ...SWEEP, '--out', whole);
    const cli = join(ROOT, 'src/cli/main.ts');
    const cmd = ['node', '--import', 'tsx', cli, 'simulate', SCENARIO, ...SWEEP, '--shard', '{}/3', '--out', join(dir, 'p{}')].map((a) => (/[^A-Za-z0-9_./{}=,:-]/.test(a) ? `'${a}'` : a)).join(' ');
    // The shards record the code version: pin this process's commit, since other work may commit to the tree meanwhile.
    const env = { ...process.env, GIT_COMMIT: projectVersion().commit ?? '' };
    execFileSync('parallel', ['--will-cite', '-j', '2', '--halt', 'now,fail=1', cmd, ':::', '1', '2', '3'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000, env });
    const merged = join(dir, 'merged-p');
    await simulate('merge', join(dir, 'p1'), join(dir, 'p2'), join(dir, 'p3'), '--out', merged);
    expect(existsSync(join(dir, 'p2', 'shard-2-of-3.json'))).toBe(true);
    for (const f of TIDY) expect(read(merged, f), f).toBe(read(whole, f));
  }, 150_000);
});
