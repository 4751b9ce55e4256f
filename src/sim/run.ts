// runScenario: one model-mode run of a scenario (src/sim/model/engine.ts) as a RunResult
// (src/sim/result.ts), with the provenance needed to reproduce it.
import '../platform.js';
import type { Scenario } from './scenario.js';
import type { RunResult } from './result.js';
import { makeProvenance } from './provenance.js';
import { ModelEngine } from './model/engine.js';
import { quantile as q, wilson } from './stats.js';

export interface RunOptions {
  /** Overrides scenario.seed. */
  readonly seed?: number;
  /** The scenario file path, recorded in the provenance. */
  readonly scenarioFile?: string | null;
  /** The command line, recorded in the provenance (reports show it to rerun). */
  readonly command?: string;
  /** Record an event trace in the result (trace). */
  readonly trace?: boolean;
  /** Called every few hundred thousand events and at the end. */
  readonly onProgress?: (fractionDone: number, simTimeMs: number) => void;
}

/** The detection deadlines T (ms) of detection.withinMs. */
export const WITHIN_MS = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000];

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const seed = opts.seed ?? scenario.seed;
  const provenance = makeProvenance({ seed, mode: 'model', scenarioFile: opts.scenarioFile ?? null, scenario, ...(opts.command ? { command: opts.command } : {}) });
  const t0 = performance.now();
  const engine = new ModelEngine(scenario, seed);
  if (opts.trace) engine.enableTrace();
  const out = await engine.run(opts.onProgress);
  const wallMs = performance.now() - t0;
  const fork = out.forkAtMs;
  const perNodeMs = out.honest.map((i) => (fork !== null && out.detectedAt[i] >= 0 ? Math.max(0, out.detectedAt[i] - fork) : null));
  const detected = perNodeMs.filter((x): x is number => x !== null);
  const allDetected = fork !== null && detected.length === perNodeMs.length && perNodeMs.length > 0;
  const allMs = allDetected ? Math.max(...detected) : null;
  const withinMs: Record<string, number> = {};
  if (fork !== null) for (const t of WITHIN_MS) withinMs[String(t)] = allMs !== null && allMs <= t ? 1 : 0;
  const hours = scenario.durationMs / 3_600_000;
  const pc = out.perClient;
  const since = (t: number) => (fork !== null && t >= 0 ? Math.max(0, t - fork) : null);
  const prop = [...out.propagation].sort((a, b) => a - b);
  // Populations that state their logs: one row per (client, log), times from that log's own fork.
  const pcl = out.perClientLog;
  const logFork = new Map(out.forkedLogs.map((f) => [f.log, f.forkAtMs]));
  const sinceLog = (t: number, l: number) => {
    const f = logFork.get(l) ?? null;
    return f !== null && t >= 0 ? Math.max(0, t - f) : null;
  };
  const perClientLog = pcl
    ? {
        client: Array.from(pcl.client),
        log: Array.from(pcl.log),
        branch: Array.from(pcl.branch),
        acceptMs: Array.from(pcl.acceptAt, (t, j) => sinceLog(t, pcl.log[j])),
        acceptLatencyMs: Array.from(pcl.acceptLatency, (x) => (x >= 0 ? x : null)),
        detectMs: Array.from(pcl.detectAt, (t, j) => sinceLog(t, pcl.log[j])),
        falseAccept: Array.from(pcl.falseAccept),
        forkedAccept: Array.from(pcl.forkedAccept),
      }
    : null;
  const perLog = perClientLog ? perLogSummary(perClientLog, logFork) : null;
  return {
    provenance,
    nodes: scenario.network.nodes,
    logs: scenario.logs.count,
    durationMs: scenario.durationMs,
    forkAtMs: fork,
    detection: {
      firstMs: detected.length > 0 ? Math.min(...detected) : null,
      allMs,
      perNodeMs,
      fractionDetected: perNodeMs.length === 0 ? 0 : detected.length / perNodeMs.length,
      withinMs,
      fractionDetectedCI: wilson(detected.length, perNodeMs.length),
    },
    clients: {
      total: out.clientsTotal,
      falseAccepts: out.falseAccepts,
      falseAcceptRate: out.clientsTotal === 0 ? 0 : out.falseAccepts / out.clientsTotal,
      falseAcceptRateCI: wilson(out.falseAccepts, out.clientsTotal),
      perClient: {
        population: Array.from(pc.population, (i) => scenario.clients.populations[i].name),
        branch: Array.from(pc.branch),
        trustedColluders: Array.from(pc.colluders),
        acceptMs: Array.from(pc.acceptAt, since),
        acceptLatencyMs: Array.from(pc.acceptLatency, (x) => (x >= 0 ? x : null)),
        detectMs: Array.from(pc.detectAt, since),
        falseAccept: Array.from(pc.falseAccept),
        forkedAccept: Array.from(pc.forkedAccept),
      },
      ...(perClientLog && perLog
        ? {
            perClientLog,
            perLog,
            anyLog: {
              forkedAcceptRateCI: wilson(out.forkedAccepts, out.clientsTotal),
              protected: Array.from(pc.detectAt).filter((t) => t >= 0).length,
              protectedFractionCI: wilson(Array.from(pc.detectAt).filter((t) => t >= 0).length, out.clientsTotal),
            },
          }
        : {}),
    },
    ...(scenario.network.monitors.count > 0
      ? {
          monitors: {
            count: scenario.network.monitors.count,
            fractionDetected: Array.from(out.monitorsDetectedAt).filter((x) => x >= 0).length / scenario.network.monitors.count,
            fractionDetectedCI: wilson(Array.from(out.monitorsDetectedAt).filter((x) => x >= 0).length, scenario.network.monitors.count),
            perNodeMs: Array.from(out.monitorsDetectedAt, since),
            branch: Array.from(out.monitorBranch),
          },
        }
      : {}),
    ...(scenario.adversary && scenario.adversary.forks.length > 0
      ? {
          forks: out.forkedLogs.map((f) => {
            const per = out.honest.map((i) => (f.forkAtMs !== null && f.detectedAt[i] >= 0 ? Math.max(0, f.detectedAt[i] - f.forkAtMs) : null));
            const got = per.filter((x): x is number => x !== null);
            return { log: f.log, forkAtMs: f.forkAtMs, firstMs: got.length > 0 ? Math.min(...got) : null, allMs: got.length === per.length && per.length > 0 ? Math.max(...got) : null, fractionDetected: per.length === 0 ? 0 : got.length / per.length, fractionDetectedCI: wilson(got.length, per.length), perNodeMs: per };
          }),
        }
      : {}),
    ...(opts.trace ? { trace: [...out.trace] } : {}),
    traffic: {
      messagesPerNodePerHour: out.messages / scenario.network.nodes / hours,
      bytesPerNodePerHour: out.bytes / scenario.network.nodes / hours,
      deliveryRatio: out.deliveryRatio,
      propagationP50Ms: quantile(prop, 0.5),
      propagationP99Ms: quantile(prop, 0.99),
    },
    evidence: out.evidence,
    logVkeys: out.logVkeys,
    model: { ...out.roles, forkedAccepts: out.forkedAccepts, evidenceCount: out.evidenceCount, signatures: scenario.signatures, ...(out.exchange ? { exchange: out.exchange } : {}) },
    perf: { wallMs, peakRssBytes: process.resourceUsage().maxRSS * 1024, signaturesVerified: out.signaturesVerified, events: out.events },
  };
}

type PerClientLog = NonNullable<RunResult['clients']['perClientLog']>;

/** Per log followed (ascending): clients following it, false / forked accepts and protected clients with Wilson 95 % intervals, time-to-accept and time-to-detect quantiles. */
function perLogSummary(p: PerClientLog, logFork: Map<number, number | null>): NonNullable<RunResult['clients']['perLog']> {
  const logs = [...new Set(p.log)].sort((a, b) => a - b);
  return logs.map((l) => {
    const rows = p.log.flatMap((x, j) => (x === l ? [j] : []));
    const n = rows.length;
    const fa = rows.reduce((t, j) => t + p.falseAccept[j], 0);
    const fo = rows.reduce((t, j) => t + p.forkedAccept[j], 0);
    const acc = rows.flatMap((j) => (p.acceptMs[j] === null ? [] : [p.acceptMs[j]!]));
    const det = rows.flatMap((j) => (p.detectMs[j] === null ? [] : [p.detectMs[j]!]));
    const qq = (xs: number[], x: number) => (xs.length === 0 ? null : q(xs, x));
    return {
      log: l,
      forkAtMs: logFork.get(l) ?? null,
      clients: n,
      falseAccepts: fa,
      falseAcceptRate: n === 0 ? 0 : fa / n,
      falseAcceptRateCI: wilson(fa, n),
      forkedAccepts: fo,
      forkedAcceptRate: n === 0 ? 0 : fo / n,
      forkedAcceptRateCI: wilson(fo, n),
      protected: det.length,
      protectedFraction: n === 0 ? 0 : det.length / n,
      protectedFractionCI: wilson(det.length, n),
      timeToAcceptP50Ms: qq(acc, 0.5),
      timeToAcceptP90Ms: qq(acc, 0.9),
      timeToDetectP50Ms: qq(det, 0.5),
      timeToDetectP90Ms: qq(det, 0.9),
    };
  });
}
