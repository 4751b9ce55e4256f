// One witness node: store + keys + log registry + witness core + metrics + HTTP server, started
// from a validated config. `gossip-witness serve` is a thin wrapper around startWitnessNode().
import { mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_UNWRITABLE_EXIT_AFTER_MS, type WitnessConfig } from '../config.js';
import { cosigner, generateKey, type Signer } from '../note/keys.js';
import { readWitnessKeyFile, witnessVkey, writeKeyFile, type WitnessKey } from '../keys/keyfile.js';
import { Witness, type WitnessEvent } from '../witness/witness.js';
import { SubtreeSigner } from '../witness/sign-subtree.js';
import type { MlDsa44Key } from '../note/mldsa-keys.js';
import type { WitnessStore } from '../witness/store.js';
import { LevelStore } from '../store/level.js';
import { LogRegistryImpl, LogListLoadError } from '../logs/registry.js';
import { createWitnessMetrics, type WitnessMetrics } from '../http/metrics.js';
import { createWitnessServer } from '../http/server.js';
import { createStatusSource, registerAgreementGauge, trackedKeys } from '../http/status-data.js';
import { createFeeders, type FeederSet } from '../logs/feeders/index.js';
import { parseCosignatureVkey } from '../note/keys.js';
import { keyLabel } from '../note/note.js';
import { VerifyMemo } from '../note/verify-memo.js';
import { distributorSource, registerDistributorRoutes } from '../http/distributor.js';
import { Parts, type LifecycleEvent } from './lifecycle.js';
// Types only: the gossip stack (libp2p, gossipsub, noise, yamux) is loaded on demand below, so a
// node without `p2p:` does not pay for importing it at every start.
import type { GossipService, GossipEvent } from '../gossip/service.js';

export interface WitnessKeys {
  /** Ed25519 and ML-DSA-44 keys, in the order of `key:`. */
  readonly keys: WitnessKey[];
  /** Files created because they were missing. */
  readonly created: string[];
}

/**
 * Loads every configured key file, Ed25519 or ML-DSA-44 (told apart by content); a missing one is
 * created (mode 0600) as an Ed25519 key with the configured name (ML-DSA-44 keys are made with
 * `keygen --type ml-dsa-44`). During a rotation the files may hold keys with different names:
 * each key cosigns under its own.
 */
export function loadWitnessKeys(config: Pick<WitnessConfig, 'name' | 'keyFiles'>): WitnessKeys {
  const keys: WitnessKey[] = [];
  const created: string[] = [];
  for (const file of config.keyFiles) {
    if (existsSync(file)) {
      keys.push(readWitnessKeyFile(file));
      continue;
    }
    mkdirSync(dirname(file), { recursive: true });
    const key = generateKey(config.name);
    writeKeyFile(file, key);
    keys.push(key);
    created.push(file);
  }
  return { keys, created };
}

export const isMlDsa44Key = (k: WitnessKey): k is MlDsa44Key => !('cosignatureVkey' in k);

/** The add-checkpoint cosigner of a witness key: cosignature/v1 (Ed25519) or subtree/v1 [0, size) (ML-DSA-44). */
export function witnessCosigner(key: WitnessKey, clock?: () => bigint): Signer {
  return 'cosignatureVkey' in key ? cosigner(key, clock) : key.cosigner(clock);
}

export interface WitnessNodeOptions {
  logger?: Logger;
  /** A store to use instead of opening LevelDB in config.data (tests). Closed by close(). */
  store?: WitnessStore;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
  /**
   * Called once when the store has been unable to write for config.store.unwritableExitAfter
   * (default 5 min): `serve` exits non-zero so a process manager restarts the node. Without it the
   * node only logs.
   */
  onUnwritableTooLong?: (reason: string) => void;
  /** How often the store's health is checked, ms (default 1000; tests). */
  healthCheckMs?: number;
  /** Called as each part starts and stops (src/node/lifecycle.ts; tests). */
  onLifecycle?: (e: LifecycleEvent) => void;
  /** Gossip observers and tuning (tests, benchmarks). */
  gossip?: { onEvent?: (e: GossipEvent) => void; checkDelayMs?: number; /** Gossip wire version, overriding p2p.version (docs/gossip.md "Version 2"). */ version?: 1 | 2 };
}

export interface WitnessNode {
  /** The base URL the server listens on (the actual port when the config says 0). */
  readonly url: string;
  /** The witness's cosignature/v1 vkeys, one per key. */
  readonly vkeys: readonly string[];
  readonly witness: Witness;
  readonly store: WitnessStore;
  readonly registry: LogRegistryImpl;
  readonly metrics: WitnessMetrics;
  readonly server: FastifyInstance;
  /** Pull feeders, one per log with a `pull:` block (docs/feeders.md); started with the node. */
  readonly feeders: FeederSet;
  /** The gossip service, when the config has `p2p:` (docs/gossip.md). */
  readonly gossip?: GossipService;
  /** The parts started, in start order (NODE_START_ORDER; close() stops them in reverse). */
  readonly parts: readonly string[];
  /** Graceful: stops every part in reverse start order: the feeders, the HTTP server (finishing in-flight requests), gossip, the store watchdog, list refresh, the store. */
  close(): Promise<void>;
}

function urlOf(addr: AddressInfo): string {
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

/**
 * Watches the store's health: logs when it stops and starts writing again, and calls onTooLong
 * once after exitAfterMs unable to write (0: never). Under systemd, which cannot probe /readyz,
 * exiting is what makes `Restart=` act. Returns a stop function.
 */
function watchStore(store: WitnessStore, exitAfterMs: number, everyMs: number, logger: Logger, onTooLong?: (reason: string) => void): () => void {
  let since: number | undefined;
  let fired = false;
  const timer = setInterval(() => {
    const h = store.health();
    const t = performance.now();
    if (h.writable) {
      if (since !== undefined) logger.info({ unwritableSeconds: Math.round((t - since) / 1000) }, 'store writable again: cosigning resumed');
      since = undefined;
      fired = false;
      return;
    }
    if (since === undefined) {
      since = t;
      logger.error({ reason: h.reason, exitAfterSeconds: exitAfterMs / 1000 }, 'store cannot write: add-checkpoint answers 503 and /readyz is not ready until it can');
    }
    if (!fired && exitAfterMs > 0 && t - since >= exitAfterMs) {
      fired = true;
      logger.fatal({ reason: h.reason, unwritableSeconds: Math.round((t - since) / 1000) }, 'store unable to write for too long: exiting so that the process manager restarts the node');
      onTooLong?.(h.reason);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The node's long-lived parts, in start order (stopped in reverse; src/node/lifecycle.ts). */
export const NODE_START_ORDER = ['store', 'logs', 'store-watchdog', 'gossip', 'http', 'feeders'] as const;

export async function startWitnessNode(config: WitnessConfig, opts: WitnessNodeOptions = {}): Promise<WitnessNode> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const startedAt = (opts.now ?? Date.now)();
  const { keys, created } = loadWitnessKeys(config);
  for (const f of created) logger.info({ keyFile: f, name: config.name }, 'created a new witness key');
  for (const k of keys) if (k.name !== config.name) logger.warn({ keyName: k.name, name: config.name }, 'a key file holds a key with another name than the configured one (rotation?)');
  const vkeys = keys.map(witnessVkey);

  // Every long-lived part starts through `parts`, in NODE_START_ORDER; a failure stops what
  // already started, in reverse, and close() stops everything in reverse.
  const parts = new Parts(NODE_START_ORDER, (e) => {
    if (e.ok) logger.debug({ part: e.part }, e.action === 'start' ? 'node part started' : 'node part stopped');
    else logger.warn({ part: e.part, err: e.error }, e.action === 'start' ? 'node part failed to start; stopping what started' : 'node part failed to stop');
    opts.onLifecycle?.(e);
  });
  const pgConf = config.store?.postgres;
  let store!: WitnessStore;
  await parts.start({
    name: 'store',
    start: async () => {
      // A key that existed before and a data folder that does not: a moved folder, a typo or an
      // unmounted volume start empty and forget what this key signed. Nothing here can tell that
      // from a first start after keygen, so say it loudly (docs/operator-guide.md).
      if (!opts.store && !pgConf && config.data && !existsSync(config.data) && created.length < keys.length) {
        logger.warn({ data: config.data }, 'the data folder does not exist and is created empty, but the witness key existed before: if this key has cosigned anything, its state is elsewhere (a moved folder, a typo in data:, an unmounted volume) and an empty store could cosign a fork of what it signed; stop now unless this is the first start of this key');
      }
      store =
        opts.store ??
        (pgConf
          ? await (await import('../store/postgres.js')).PostgresStore.open({ url: pgConf.url, ...(pgConf.passwordFile ? { passwordFile: pgConf.passwordFile } : {}), ...(pgConf.poolSize ? { poolSize: pgConf.poolSize } : {}), ...(pgConf.timeoutMs ? { statementTimeoutMs: pgConf.timeoutMs, connectTimeoutMs: pgConf.timeoutMs } : {}), onWarning: (m) => logger.warn(m) })
          : await LevelStore.open(config.data!, { onWarning: (m) => logger.warn(m) }));
    },
    stop: () => store.close(),
  });

  let unlistened: FastifyInstance | undefined;
  try {
    // One memo of passed signature checks for this node: feeders, the core, evidence and gossip
    // share it, so no signature is verified twice here (issue 15).
    const verifyMemo = new VerifyMemo();
    const registry = new LogRegistryImpl({
      verifyMemo,
      inline: config.logs,
      logList: config.logList,
      refreshMs: config.logListRefreshMs,
      // Everything ever learned from the list, so a restart never drops a log the list removed.
      cachePath: config.logList && config.data ? `${config.data}.loglist` : undefined,
      logger: logger.child({ component: 'logs' }),
    });
    await parts.start({
      name: 'logs',
      start: async () => {
        try {
          await registry.start();
        } catch (e) {
          // A list file the operator named must load; a URL may be briefly unreachable.
          if (config.logList?.kind === 'file' || !(e instanceof LogListLoadError)) {
            registry.stop();
            throw e;
          }
          logger.warn({ err: (e as Error).message }, 'log list not loaded; starting with the logs known so far and retrying later');
        }
      },
      stop: async () => registry.stop(),
    });

    const metrics = createWitnessMetrics(opts.now ? { now: opts.now } : {});
    for (const origin of registry.origins()) {
      const s = await store.getState(origin);
      if (s) {
        metrics.setLogSize(origin, s.size);
        metrics.setLogCosignedAt(origin, s.updatedAt);
      }
    }
    let gossip: GossipService | undefined;
    const incidents = new Set<string>();
    // Store errors at error level, at most once a minute (a full disk fails every request).
    let storeErrorLoggedAt = -Infinity;
    let storeErrorsUnlogged = 0;
    const onEvent = (e: WitnessEvent) => {
      if (e.type === 'store-error') {
        const t = performance.now();
        if (t - storeErrorLoggedAt >= 60_000) {
          logger.error({ op: e.op, origin: e.origin, reason: e.reason, suppressed: storeErrorsUnlogged }, 'store error: nothing was cosigned; add-checkpoint answers 503 until the store can write again');
          storeErrorLoggedAt = t;
          storeErrorsUnlogged = 0;
        } else storeErrorsUnlogged++;
      } else if (e.type === 'clock') {
        const fields = { now: new Date(e.nowSeconds * 1000).toISOString(), newestSigned: new Date(e.newestSeconds * 1000).toISOString(), behindSeconds: e.newestSeconds - e.nowSeconds };
        if (e.behind) logger.error(fields, 'clock behind: the clock is earlier than the newest cosignature this witness signed; refusing to cosign until it passes it (fix the clock: NTP, RTC)');
        else logger.info(fields, 'clock caught up: cosigning again');
      }
      metrics.onWitnessEvent(e);
      gossip?.onWitnessEvent(e);
      // Error level once per incident (the first evidence for a log); later evidence at info.
      if (e.type === 'evidence' && e.isNew && !incidents.has(e.origin)) {
        incidents.add(e.origin);
        logger.error({ origin: e.origin, evidence: e.id }, 'SPLIT VIEW: the log signed two inconsistent checkpoints; evidence recorded');
      } else if (e.type === 'evidence' && e.isNew) logger.info({ origin: e.origin, evidence: e.id }, 'more split-view evidence recorded');
      else if (e.type === 'restored') logger.error({ origin: e.origin, from: e.from.toString(), to: e.to.toString(), source: e.source }, 'STATE LOST: a checkpoint cosigned by this witness is ahead of its stored state (damaged or restored data folder?); stored state moved forward to it');
      else if (e.type === 'suspect' && e.recorded) logger.warn({ origin: e.origin, reason: e.reason }, 'suspect checkpoint recorded (a log-signed checkpoint failed a consistency check)');
    };
    // The cosignature timestamps come from the same clock as the witness's (tests inject one).
    const now = opts.now;
    const clock = now ? () => BigInt(Math.floor(now() / 1000)) : undefined;
    const witness = new Witness({ store, logs: registry, cosigners: keys.map((k) => witnessCosigner(k, clock)), onEvent, ...(opts.now ? { now: opts.now } : {}) });
    await witness.prepare();
    metrics.attach({ origins: () => registry.origins(), store, witness, vkeys });
    // Duck-typed: an instanceof check would import the PostgreSQL store (and pg) in every node.
    const shared = 'registerMetrics' in store ? (store as unknown as Pick<import('../store/postgres.js').PostgresStore, 'registerMetrics' | 'leadership'>) : undefined;
    shared?.registerMetrics(metrics.registry);
    let stopWatchdog: (() => void) | undefined;
    await parts.start({
      name: 'store-watchdog',
      start: async () => {
        stopWatchdog = watchStore(store, config.store?.unwritableExitAfterMs ?? DEFAULT_UNWRITABLE_EXIT_AFTER_MS, opts.healthCheckMs ?? 1000, logger, opts.onUnwritableTooLong);
      },
      stop: async () => stopWatchdog?.(),
    });
    let feedersRef: FeederSet | undefined;
    // The status page reads the gossip service through a closure: it is created after the server.
    const statusSource = createStatusSource({ name: config.name, vkeys, witness, store, logs: registry, witnesses: config.witnesses ?? [], gossip: () => gossip, feeders: () => feedersRef?.stats() ?? [], startedAt, ...(opts.now ? { now: opts.now } : {}) });
    if (config.p2p) registerAgreementGauge(metrics.registry, statusSource);
    // POST /sign-subtree: signed by the ML-DSA-44 keys (none: 404), for checkpoints any own key cosigned.
    const ownKeys = vkeys.map((v) => verifyMemo.wrap(parseCosignatureVkey(v)));
    const subtreeSigner = new SubtreeSigner({ logs: registry, ownKeys, signers: keys.filter(isMlDsa44Key), ...config.signSubtree, ...(opts.now ? { now: opts.now } : {}) });
    const server = (unlistened = createWitnessServer({ witness, store, logs: registry, metrics, logger: logger.child({ component: 'http' }), bodyLimit: config.http.bodyLimit, maxConnections: config.http.maxConnections, ...(config.http.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: config.http.maxConnectionsPerClient } : {}), statusSource, subtreeSigner, ...(config.http.trustProxy ? { trustProxy: config.http.trustProxy } : {}) }));
    // The distributor reads (src/http/distributor.ts): the store's own checkpoint plus the gossip view.
    // Its N counts witnesses: this node's keys are one, a tracked witness's keys one each (status-data's grouping).
    const witnessGroups = new Map<string, string>();
    for (const k of ownKeys) witnessGroups.set(keyLabel(k.name, k.keyId), 'self');
    for (const t of trackedKeys(config.witnesses ?? [])) witnessGroups.set(t.label, `tracked:${t.witness}`);
    registerDistributorRoutes(server, distributorSource({ store, origins: () => registry.origins(), logKeys: (o) => registry.get(o)?.verifiers, witnesses: [...vkeys, ...(config.witnesses ?? []).map((w) => w.vkey)], witnessOf: (l) => witnessGroups.get(l) ?? l, more: (o) => gossip?.heldCheckpoints(o) ?? [] }));
    if (config.p2p) {
      // Started before the HTTP server and the feeders: rollback protection (peers' copies of our
      // cosignatures) moves the stored state forward before anything can be cosigned.
      const { GossipService, identityFileFor } = await import('../gossip/service.js');
      const g = new GossipService({
        p2p: config.p2p,
        identityFile: config.p2p.identity ?? identityFileFor(config.data!),
        witness,
        store,
        logs: registry,
        ownKeys,
        bindingKeys: keys.filter((k) => 'cosignatureVkey' in k), // Ed25519 keys sign this node's peer bindings (src/gossip/binding.ts)
        witnesses: (config.witnesses ?? []).map((w) => verifyMemo.wrap(w.verifier)),
        sources: (origin) => feedersRef?.get(origin)?.source,
        advance: (origin) => feedersRef?.get(origin)?.pollOnce().then((r) => r.outcome), // the feeders' own pull path
        metricsRegistry: metrics.registry,
        logger: logger.child({ component: 'gossip' }),
        startupSyncMs: config.p2p.startupSyncMs,
        ...(opts.gossip?.onEvent ? { onEvent: opts.gossip.onEvent } : {}),
        ...(opts.gossip?.checkDelayMs !== undefined ? { checkDelayMs: opts.gossip.checkDelayMs } : {}),
        ...(opts.gossip?.version ?? config.p2p.version ? { version: opts.gossip?.version ?? config.p2p.version } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      });
      gossip = g;
      await parts.start({ name: 'gossip', start: () => g.start(), stop: () => g.stop() });
      // Alert rules read increase() of these: the series exist at 0 from start-up.
      const ev = metrics.registry.getSingleMetric('gossip_evidence_total') as { inc?: (l: Record<string, string>, v: number) => void } | undefined;
      for (const via of ['detected', 'gossip', 'sync']) ev?.inc?.({ via }, 0);
    }
    // A server that never listened still closes (fastify's close() works before listen()).
    await parts.start({ name: 'http', start: async () => void (await server.listen({ host: config.http.host, port: config.http.port })), stop: () => server.close() });
    unlistened = undefined;
    const url = urlOf(server.server.address() as AddressInfo);
    // Pull feeders: each submits through witness.add, the same path as POST /add-checkpoint.
    const feeders = createFeeders({ logs: config.logs, witness, store, registry, metricsRegistry: metrics.registry, logger: logger.child({ component: 'feeders' }) });
    let stopLeading: (() => Promise<void> | void) | undefined;
    await parts.start({
      name: 'feeders',
      start: async () => {
        feedersRef = feeders;
        // Instances sharing a database: only the one holding the leader lock runs the feeders.
        if (shared && feeders.feeders.length > 0) {
          stopLeading = shared.leadership((leader) => {
            logger.info({ leader }, leader ? 'feeder leader: running the pull feeders' : 'lost the feeder leader lock: feeders stopped until it is regained');
            if (leader) feeders.start();
            else void feeders.stop();
          });
        } else feeders.start();
      },
      stop: async () => {
        await stopLeading?.();
        await feeders.stop();
      },
    });

    return {
      url,
      vkeys,
      witness,
      store,
      registry,
      metrics,
      server,
      feeders,
      parts: parts.names,
      ...(gossip ? { gossip } : {}),
      close: () => parts.stop(),
    };
  } catch (e) {
    await parts.stop().catch(() => {});
    // Made but not started as a part (a failure before it listened): its hooks and timers go too.
    await unlistened?.close().catch(() => {});
    throw e;
  }
}
