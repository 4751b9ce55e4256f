// Synthetic RunResults for the report and sweep tests (no engine needed): deterministic from a seed.
import type { RunResult } from '../../src/sim/result.js';
import { parseScenario, type Scenario } from '../../src/sim/scenario.js';

export const SCENARIO: Scenario = parseScenario({
  name: 'synthetic',
  duration: '10m',
  network: { nodes: 10 },
  adversary: { forkAt: '2m', branchB: { fraction: 0.3 }, colluding: 1 },
  clients: { count: 20, policy: { k: 3, n: 5 } },
});

export function syntheticRun(seed: number, o: { nodes?: number; scale?: number; falseAcceptRate?: number; scenario?: Scenario; never?: number } = {}): RunResult {
  const nodes = o.nodes ?? 10;
  const scale = o.scale ?? 1;
  // Detection times 100·(i+1)·scale + seed ms; the last `never` nodes never detect.
  const perNodeMs = Array.from({ length: nodes }, (_, i) => (i >= nodes - (o.never ?? 0) ? null : 100 * (i + 1) * scale + seed));
  const got = perNodeMs.filter((x): x is number => x !== null);
  const far = o.falseAcceptRate ?? 0;
  return {
    provenance: {
      version: '0.1.0',
      commit: 'abc123',
      seed,
      mode: 'model',
      scenarioFile: 'network-config/scenarios/synthetic.yaml',
      scenario: o.scenario ?? SCENARIO,
      startedAt: '2026-01-01T00:00:00.000Z',
      runtime: 'node v20 linux/x64',
    },
    nodes,
    logs: 1,
    durationMs: 600_000,
    forkAtMs: 120_000,
    detection: {
      firstMs: got.length ? Math.min(...got) : null,
      allMs: got.length === nodes ? Math.max(...got) : null,
      perNodeMs,
      fractionDetected: got.length / nodes,
      withinMs: { '2000': got.length === nodes && Math.max(...got) <= 2000 ? 1 : 0 },
    },
    clients: { total: 20, falseAccepts: Math.round(20 * far), falseAcceptRate: Math.round(20 * far) / 20 },
    traffic: { messagesPerNodePerHour: 600 * nodes, bytesPerNodePerHour: 1e5 * nodes + seed, deliveryRatio: 0.99, propagationP50Ms: 120, propagationP99Ms: 400 },
    evidence: null,
    perf: { wallMs: 5, peakRssBytes: 1e8, signaturesVerified: 100, events: 1000 },
  };
}
