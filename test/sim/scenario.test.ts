// Scenario files: defaults, clear errors (`scenario FILE: field.path: reason`), and that every
// ready-made scenario in network-config/scenarios parses.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, parseScenario, ScenarioError, withParameter, readScenarioObject } from '../../src/sim/scenario.js';

const errors = (text: string): string[] => {
  try {
    parseScenario(text, 'x.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message.split('\n');
  }
  throw new Error('expected a ScenarioError');
};

describe('scenario format', () => {
  it('fills defaults', () => {
    const s = parseScenario('name: t\nnetwork: { nodes: 30 }');
    expect(s.seed).toBe(1);
    expect(s.durationMs).toBe(600_000);
    expect(s.network.meshDegree).toBe(6);
    expect(s.network.meshLow).toBe(4);
    expect(s.network.meshHigh).toBe(12);
    expect(s.network.latency).toEqual({ distribution: 'lognormal', medianMs: 50, p99Ms: 300 });
    expect(s.witnesses.knownWitnesses).toBe(29);
    expect(s.adversary).toBeNull();
    expect(s.signatures).toBe('memoised');
  });

  it('parses every field', () => {
    const s = parseScenario(`
name: full
seed: 7
duration: 1h
network:
  nodes: 100
  topology: small-world
  degree: 10
  meshDegree: 8
  heartbeat: 700ms
  latency: { distribution: uniform, min: 10ms, max: 90ms }
  loss: 0.05
  partitions: [{ at: 1m, until: 2m, fraction: 0.3 }, { at: 3m, until: 4m, byBranch: true }]
  churn: { rate: 2, downtime: 30s }
logs: { count: 3, interval: 30s }
witnesses: { pollInterval: 10s, push: all, knownWitnesses: 20 }
adversary:
  forkAt: 5m
  log: 2
  branchB: { nodes: [1, 2, 3] }
  colluding: 2
  eclipse: { target: 9, attackers: 4 }
  droppers: { fraction: 0.1, delay: 1s }
clients: { count: 10, policy: { group: 3-of-5 }, fetch: { witnesses: 4, interval: 2m } }
signatures: real
`);
    expect(s.network.latency).toEqual({ distribution: 'uniform', minMs: 10, maxMs: 90 });
    expect(s.network.partitions[1]).toMatchObject({ atMs: 180_000, untilMs: 240_000, fraction: 0, byBranch: true });
    expect(s.witnesses).toEqual({ pollIntervalMs: 10_000, push: 1, knownWitnesses: 20, mlDsa44: 0 });
    expect(s.adversary?.branchB).toEqual({ nodes: [1, 2, 3] });
    expect(s.adversary?.droppers).toEqual({ fraction: 0.1, dropRate: 1, delayMs: 1000 });
    expect(s.clients.policy).toEqual({ k: 3, n: 5, group: '3-of-5' });
  });

  it('reports every problem with its field path', () => {
    const e = errors(`
name: bad
duration: forever
network: { nodes: 10, latency: { distribution: lognormal, median: 100ms, p99: 50ms } }
adversary: { forkAt: 20m, log: 4, branchB: { nodes: [3, 12] } }
clients: { policy: { k: 6, n: 5 } }
`);
    expect(e).toContain('scenario x.yaml: duration: must be a duration like 500ms, 30s, 10m, 1h (got "forever")');
    expect(e).toContain('scenario x.yaml: network.latency.p99: must be at least median');
    expect(e).toContain('scenario x.yaml: adversary.log: must be a log index below logs.count (1)');
    expect(e).toContain('scenario x.yaml: adversary.branchB.nodes.1: node 12 does not exist (nodes: 10)');
    expect(e).toContain('scenario x.yaml: clients.policy.k: must not exceed n (5)');
  });

  it('rejects unknown fields, wrong types and bad YAML', () => {
    expect(errors('name: x\nnetwork: { nodes: 10, nodez: 3 }')[0]).toMatch(/^scenario x\.yaml: network: .*nodez/);
    expect(errors('name: x\nnetwork: { nodes: ten }')).toEqual(['scenario x.yaml: network.nodes: must be an integer']);
    expect(errors('name: x\nnetwork: { nodes: 10, loss: 2 }')).toEqual(['scenario x.yaml: network.loss: must be between 0 and 1']);
    expect(errors('name: x\nsignatures: fast')).toEqual(['scenario x.yaml: signatures: must be real, memoised or modelled']);
    expect(errors('name: [x\n')[0]).toMatch(/^scenario x\.yaml: YAML: /);
  });

  it('names every unknown key of a mapping in one problem, and refuses a list where a mapping belongs', () => {
    expect(errors('name: x\nnetwork: { nodes: 10, nodez: 3, degre: 4 }')).toEqual(['scenario x.yaml: network: Unrecognized keys: "nodez", "degre"']);
    // In a mapping that is one option of a union ({ k, n } or { group }) too.
    expect(errors('name: x\nclients: { policy: { k: 1, n: 3, q: 1, r: 2 } }')).toEqual(['scenario x.yaml: clients.policy: Unrecognized keys: "q", "r"']);
    // A list is an object in JavaScript: a mapping whose keys are all optional must still refuse one.
    expect(errors('name: x\nwitnesses: []')).toEqual(['scenario x.yaml: witnesses: must be a mapping (pollInterval, push, knownWitnesses, mlDsa44)']);
    expect(errors('name: x\nnetwork: { nodes: 10, regions: { names: [eu], latency: [{ distribution: fixed, median: 5ms }] } }')).toEqual([
      'scenario x.yaml: network.regions.latency: must be a mapping of region pairs to latency models',
    ]);
    expect(errors('- name: x')).toEqual(['scenario x.yaml: must be a mapping with at least a name']);
  });

  it('withParameter sets a YAML path; derived defaults follow', () => {
    const raw = readScenarioObject('name: x\nnetwork: { nodes: 10 }');
    const s = parseScenario(withParameter(raw, 'network.nodes', 50));
    expect(s.network.nodes).toBe(50);
    expect(s.witnesses.knownWitnesses).toBe(49);
    expect(parseScenario(withParameter(raw, 'adversary.forkAt', '1m')).adversary?.forkAtMs).toBe(60_000);
  });

  it('every ready-made scenario parses', () => {
    const dir = join(__dirname, '../../network-config/scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['small.yaml', 'medium.yaml', 'large.yaml', 'collusion.yaml', 'eclipse.yaml', 'lossy.yaml']));
    for (const f of files) expect(loadScenario(join(dir, f)).name).toBeTruthy();
  });
});
