// Pull feeders: the public API the node wires in (see docs/feeders.md).
//
//   const feeders = createFeeders({ logs: config.logs, witness, store, registry, metricsRegistry, logger });
//   feeders.start();            // one independent loop per log with a `pull:` block
//   ...
//   await feeders.stop();       // aborts in-flight requests, waits, leaves no timer
import type { Registry } from 'prom-client';
import type { LogRegistry } from '../../witness/witness.js';
import { Feeder, type FeederEvent, type FeederLogger, type FeederStats, type FeederStore, type FeederWitness } from './feeder.js';
import { ForwardTarget } from './forward.js';
import { parsePullConfig, type PullConfig, type PullProblem } from './config.js';
import { registerFeederMetrics } from './metrics.js';
import { createRekorV1Source, treeIdFromOrigin } from './rekor-v1.js';
import { createSumdbSource } from './sumdb.js';
import { createTilesSource } from './tiles.js';
import type { HttpSettings } from './http.js';
import type { LogSource } from './source.js';
import { GossipWitnessError } from '../../errors.js';

export * from './feeder.js';
export * from './source.js';
export { FeedError, FeedAbortedError, type FeedFailure, type HttpSettings } from './http.js';
export { ForwardTarget, type ForwardOutcome, type ForwardResult, addCheckpointBody } from './forward.js';
export { parsePullConfig, parsePullDuration, type PullConfig, type PullProblem } from './config.js';
export { registerFeederMetrics, type FeederMetrics } from './metrics.js';
export { RekorV1Source, createRekorV1Source, parseLogInfo, parseConsistencyProof, treeIdFromOrigin } from './rekor-v1.js';
export { createSumdbSource, SUMDB_DEFAULT_URL } from './sumdb.js';
export { TiledLogSource, TileCache, createTilesSource, proveFromTiles, rootFromTiles, type ProveResult, type SignedCheckpointRef } from './tiles.js';
export { provePair, type PairVerdict, type SuspectPair } from './evidence.js';

export class PullConfigError extends GossipWitnessError {
  constructor(readonly problems: readonly { origin: string; path: string; reason: string }[]) {
    super({ code: 'CONFIG', message: problems.map((p) => `log ${JSON.stringify(p.origin)}: pull${p.path ? '.' + p.path : ''}: ${p.reason}`).join('\n') });
    this.name = 'PullConfigError';
  }
}

/** The source for a validated pull config. */
export function createSource(origin: string, pull: PullConfig, http: HttpSettings, onTileFetch?: (path: string) => void): LogSource {
  switch (pull.type) {
    case 'tiles':
      return createTilesSource({ url: pull.url, http, cacheEntries: pull.tileCache, ...(onTileFetch ? { onTileFetch } : {}) });
    case 'sumdb':
      return createSumdbSource({ url: pull.url, http, cacheEntries: pull.tileCache, ...(onTileFetch ? { onTileFetch } : {}) });
    case 'rekor-v1': {
      const treeID = pull.treeID ?? treeIdFromOrigin(origin);
      return createRekorV1Source({ url: pull.url, http, ...(treeID !== undefined ? { treeID } : {}) });
    }
  }
}

export interface FeederSetOptions {
  /** The configured logs (src/config.ts ConfiguredLog); those without `pull` or disabled are skipped. */
  readonly logs: readonly { readonly origin: string; readonly pull?: unknown; readonly disabled?: boolean }[];
  readonly witness: FeederWitness;
  readonly store: FeederStore;
  /** The registry the witness uses (the log's keys). */
  readonly registry: LogRegistry;
  /** Registers witness_feeder_* metrics on it (the node's registry). */
  readonly metricsRegistry?: Registry;
  readonly logger?: FeederLogger;
  readonly onEvent?: (e: FeederEvent) => void;
  /** fetch implementation for every request (default: global fetch). */
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Validates every log's `pull:` block; the problems, per origin, if any. */
export function checkPullConfigs(logs: FeederSetOptions['logs']): { origin: string; pull: PullConfig }[] {
  const out: { origin: string; pull: PullConfig }[] = [];
  const problems: { origin: string; path: string; reason: string }[] = [];
  for (const l of logs) {
    if (l.pull === undefined || l.pull === null) continue;
    const r = parsePullConfig(l.pull);
    if (r.ok) out.push({ origin: l.origin, pull: r.value });
    else for (const p of r.problems as PullProblem[]) problems.push({ origin: l.origin, ...p });
  }
  if (problems.length > 0) throw new PullConfigError(problems);
  return out;
}

export class FeederSet {
  constructor(readonly feeders: readonly Feeder[]) {}

  start(signal?: AbortSignal): void {
    for (const f of this.feeders) f.start(signal);
  }

  /** Stops every feeder; resolves when all in-flight work finished. */
  async stop(): Promise<void> {
    await Promise.all(this.feeders.map((f) => f.stop()));
  }

  stats(): FeederStats[] {
    return this.feeders.map((f) => f.stats());
  }

  get(origin: string): Feeder | undefined {
    return this.feeders.find((f) => f.origin === origin);
  }
}

/** Builds (without starting) one feeder per log with a `pull:` block. Throws PullConfigError. */
export function createFeeders(opts: FeederSetOptions): FeederSet {
  const pulls = checkPullConfigs(opts.logs.filter((l) => !l.disabled));
  const metrics = opts.metricsRegistry ? registerFeederMetrics(opts.metricsRegistry) : undefined;
  const onEvent = (e: FeederEvent) => {
    metrics?.onFeederEvent(e);
    opts.onEvent?.(e);
  };
  for (const { origin } of pulls) metrics?.init(origin);
  const feeders = pulls.map(({ origin, pull }) => {
    const http: HttpSettings = { timeoutMs: pull.timeoutMs, ...(opts.fetch ? { fetch: opts.fetch } : {}) };
    return new Feeder({
      origin,
      source: createSource(origin, pull, http),
      witness: opts.witness,
      store: opts.store,
      logs: opts.registry,
      intervalMs: pull.intervalMs,
      maxBackoffMs: pull.maxBackoffMs,
      forward: pull.forward.map((u) => new ForwardTarget(u, http)),
      onEvent,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.random ? { random: opts.random } : {}),
    });
  });
  return new FeederSet(feeders);
}
