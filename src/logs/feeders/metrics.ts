// Prometheus metrics for the pull feeders, registered on a given prom-client Registry (the node's
// own, src/http/metrics.ts, never the global one). Label values are bounded: `origin` is a
// configured origin, `outcome` one of PollOutcome / ForwardOutcome.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FeederEvent } from './feeder.js';

export interface FeederMetrics {
  /** Pass as (or call from) the feeders' onEvent. */
  onFeederEvent(e: FeederEvent): void;
  /** Creates the log's series an alert reads (consecutive failures) at 0 before its first poll. */
  init(origin: string): void;
}

export function registerFeederMetrics(registry: Registry): FeederMetrics {
  const polls = new Counter({
    name: 'witness_feeder_polls_total',
    help: 'pull feeder polls by log origin and outcome (advanced, unchanged, behind, or the failure reason)',
    labelNames: ['origin', 'outcome'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'witness_feeder_last_success_timestamp_seconds',
    help: 'Unix time of the last successful poll of each log',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const failures = new Gauge({
    name: 'witness_feeder_consecutive_failures',
    help: 'consecutive failed polls of each log (0 after a success)',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const forwards = new Counter({
    name: 'witness_feeder_forwards_total',
    help: 'checkpoints forwarded to other witnesses, by log origin and outcome',
    labelNames: ['origin', 'outcome'] as const,
    registers: [registry],
  });
  const evidence = new Counter({
    name: 'witness_feeder_evidence_total',
    help: 'proven split-view evidence built from a log\'s tiles by its feeder (new records only)',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  return {
    init(origin: string): void {
      failures.set({ origin }, 0);
      evidence.inc({ origin }, 0);
    },
    onFeederEvent(e: FeederEvent): void {
      switch (e.type) {
        case 'poll':
          polls.inc({ origin: e.origin, outcome: e.outcome });
          failures.set({ origin: e.origin }, e.consecutiveFailures);
          if (e.consecutiveFailures === 0) lastSuccess.set({ origin: e.origin }, e.at / 1000);
          break;
        case 'forward':
          forwards.inc({ origin: e.origin, outcome: e.result.outcome });
          break;
        case 'evidence':
          if (e.isNew) evidence.inc({ origin: e.origin });
          break;
      }
    },
  };
}
