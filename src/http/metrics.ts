// Prometheus metrics for one witness node, on a per-node Registry (never prom-client's global one,
// so several nodes can live in one process, e.g. in tests).
//
// Label cardinality is bounded: `origin` is only ever a configured origin (or "unknown"), `status`
// an HTTP status code, `route` a route pattern.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StoreOp, WitnessEvent } from '../witness/witness.js';
import type { StoreHealth } from '../witness/store.js';

export const UNKNOWN_ORIGIN = 'unknown';

export interface WitnessMetrics {
  readonly registry: Registry;
  /** Pass as the Witness's onEvent. */
  onWitnessEvent(e: WitnessEvent): void;
  /** One add-checkpoint request answered (origin must already be bounded: configured or "unknown"). */
  countRequest(origin: string, status: number): void;
  /** One sign-subtree request answered; cached: served from the answer cache. */
  countSubtreeRequest(status: number, cached: boolean): void;
  /** A connection closed on arrival because its client already held http.maxConnectionsPerClient. */
  readonly connectionsRefused: { inc(): void };
  observeDuration(route: string, seconds: number): void;
  setLogSize(origin: string, size: bigint): void;
  /** When the latest checkpoint of a log was cosigned (stored), ms since the epoch. */
  setLogCosignedAt(origin: string, ms: number): void;
  /**
   * What the scrape-time gauges read, and the followed origins: every labelled counter an alert
   * rule reads exists at 0 for each of them from start-up (else increase() misses the first event).
   */
  attach(sources: MetricSources): void;
  /** The Prometheus text exposition. */
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricSources {
  /** The followed origins (read at every scrape: log lists add origins at run time). */
  readonly origins?: () => readonly string[];
  readonly store?: { health(): StoreHealth };
  readonly witness?: { clockBehindSeconds(): number };
  /** The witness's keys (issue 14: every key shown), as vkeys: witness_key_info{name,key_id,type}. */
  readonly vkeys?: readonly string[];
}

/** name, hex key ID and line type of a witness vkey (cosignature/v1 or ML-DSA-44 subtree/v1). */
function keyLabels(vkey: string): { name: string; key_id: string; type: string } {
  const i = vkey.indexOf('+');
  const j = vkey.indexOf('+', i + 1);
  const [name, keyId, b64] = [vkey.slice(0, i), vkey.slice(i + 1, j), vkey.slice(j + 1)];
  const t = Buffer.from(b64.slice(0, 4), 'base64')[0];
  return { name, key_id: keyId, type: t === 0x06 ? 'ml-dsa-44' : t === 0x04 || t === 0x01 ? 'ed25519' : 'other' };
}

const STORE_OPS: readonly StoreOp[] = ['read', 'write'];
/** add-checkpoint statuses an alert reads (5xx), created at 0 per origin. */
const ALERTED_STATUSES = ['500', '503'];

export interface MetricsOptions {
  /** Collect prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Milliseconds since the epoch (the witness's clock; default Date.now). */
  now?: () => number;
}

export function createWitnessMetrics(opts: MetricsOptions = {}): WitnessMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'witness_add_checkpoint_requests_total',
    help: 'add-checkpoint requests by log origin (configured origins only, else "unknown") and HTTP status',
    labelNames: ['origin', 'status'] as const,
    registers: [registry],
    collect() {
      for (const origin of origins()) for (const status of ALERTED_STATUSES) this.inc({ origin, status }, 0);
    },
  });
  const subtreeRequests = new Counter({
    name: 'witness_sign_subtree_requests_total',
    help: 'sign-subtree requests by HTTP status, and whether a 200 came from the answer cache',
    labelNames: ['status', 'cached'] as const,
    registers: [registry],
  });
  const connectionsRefused = new Counter({
    name: 'witness_http_connections_refused_total',
    help: 'connections closed on arrival because their client (an address, or an IPv6 /64) already held http.maxConnectionsPerClient',
    registers: [registry],
  });
  const cosignatures = new Counter({
    name: 'witness_cosignatures_total',
    help: 'checkpoints cosigned, by log origin',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const evidence = new Counter({
    name: 'witness_evidence_total',
    help: 'new split-view evidence records stored, by log origin',
    labelNames: ['origin'] as const,
    registers: [registry],
    collect() {
      zeroPerOrigin(this);
    },
  });
  const suspects = new Counter({
    name: 'witness_suspects_total',
    help: 'log-signed checkpoints that failed a consistency check (suspect, unproven), by log origin',
    labelNames: ['origin'] as const,
    registers: [registry],
    collect() {
      zeroPerOrigin(this);
    },
  });
  const duration = new Histogram({
    name: 'witness_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const logSize = new Gauge({
    name: 'witness_log_size',
    help: 'tree size of the latest checkpoint cosigned for each log',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  // For "a log stopped advancing" alerts: time() minus this. Only the state-advancing cosignature
  // moves it (the stored state changes only then).
  const cosignedAt = new Gauge({
    name: 'witness_log_latest_cosigned_timestamp_seconds',
    help: 'Unix time at which the latest (largest) checkpoint of each log was cosigned and stored',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  const now = opts.now ?? Date.now;
  let sources: MetricSources = {};
  const origins = (): readonly string[] => sources.origins?.() ?? [];
  // Series at 0 for every followed origin, created at scrape time (collect runs before reading).
  const zeroPerOrigin = (c: Counter<'origin'>) => {
    for (const origin of origins()) c.inc({ origin }, 0);
  };
  const storeErrors = new Counter({
    name: 'witness_store_errors_total',
    help: 'store calls that failed (disk full, I/O error, store reopening), by operation (read, write); nothing that depended on them was released',
    labelNames: ['op'] as const,
    registers: [registry],
  });
  for (const op of STORE_OPS) storeErrors.inc({ op }, 0);
  new Gauge({
    name: 'witness_store_writable',
    help: '1 when the store can write now, 0 while it cannot (add-checkpoint answers 503, GET /readyz is not ready)',
    registers: [registry],
    collect() {
      this.set(sources.store ? (sources.store.health().writable ? 1 : 0) : 1);
    },
  });
  new Gauge({
    name: 'witness_key_info',
    help: "1 per witness key: its name, key ID and type (ed25519: cosignature/v1 lines; ml-dsa-44: subtree/v1 lines, and sign-subtree)",
    labelNames: ['name', 'key_id', 'type'] as const,
    registers: [registry],
    collect() {
      for (const v of sources.vkeys ?? []) this.set(keyLabels(v), 1);
    },
  });
  new Gauge({
    name: 'witness_clock_behind_seconds',
    help: 'how far the clock is behind the newest cosignature timestamp this witness signed (0 when not); while above 0 it refuses to cosign',
    registers: [registry],
    collect() {
      this.set(sources.witness?.clockBehindSeconds() ?? 0);
    },
  });
  const suspectRepeats = new Counter({
    name: 'witness_suspect_repeats_total',
    help: 'suspect pairs seen again after being recorded once (counted, not stored again), by log origin',
    labelNames: ['origin'] as const,
    registers: [registry],
    collect() {
      zeroPerOrigin(this);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    connectionsRefused,
    onWitnessEvent(e: WitnessEvent): void {
      switch (e.type) {
        case 'cosigned':
          cosignatures.inc({ origin: e.origin });
          logSize.set({ origin: e.origin }, Number(e.size));
          if (e.advanced) cosignedAt.set({ origin: e.origin }, now() / 1000);
          break;
        case 'evidence':
          if (e.isNew) evidence.inc({ origin: e.origin });
          break;
        case 'suspect':
          suspects.inc({ origin: e.origin });
          if (e.repeat) suspectRepeats.inc({ origin: e.origin });
          break;
        case 'store-error':
          storeErrors.inc({ op: e.op });
          break;
      }
    },
    countSubtreeRequest(status: number, cached: boolean): void {
      subtreeRequests.inc({ status: String(status), cached: String(cached) });
    },
    countRequest(origin: string, status: number): void {
      requests.inc({ origin, status: String(status) });
    },
    observeDuration(route: string, seconds: number): void {
      duration.observe({ route }, seconds);
    },
    setLogSize(origin: string, size: bigint): void {
      logSize.set({ origin }, Number(size));
    },
    setLogCosignedAt(origin: string, ms: number): void {
      cosignedAt.set({ origin }, ms / 1000);
    },
    attach(s: MetricSources): void {
      sources = { ...sources, ...s };
    },
    text: () => registry.metrics(),
  };
}
