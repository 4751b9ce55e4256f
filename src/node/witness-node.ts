// One witness node: store + keys + log registry + witness core + metrics + HTTP server, started
// from a validated config. `gossip-witness serve` is a thin wrapper around startWitnessNode().
import { mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { WitnessConfig } from '../config.js';
import { cosigner, generateKey, type Ed25519SignerKey } from '../note/keys.js';
import { readKeyFile, writeKeyFile } from '../keys/keyfile.js';
import { Witness, type WitnessEvent } from '../witness/witness.js';
import type { WitnessStore } from '../witness/store.js';
import { LevelStore } from '../store/level.js';
import { LogRegistryImpl, LogListLoadError } from '../logs/registry.js';
import { createWitnessMetrics, type WitnessMetrics } from '../http/metrics.js';
import { createWitnessServer } from '../http/server.js';

export interface WitnessKeys {
  readonly keys: Ed25519SignerKey[];
  /** Files created because they were missing. */
  readonly created: string[];
}

/**
 * Loads every configured key file; a missing one is created (mode 0600) with the configured name.
 * During a rotation the files may hold keys with different names: each key cosigns under its own.
 */
export function loadWitnessKeys(config: Pick<WitnessConfig, 'name' | 'keyFiles'>): WitnessKeys {
  const keys: Ed25519SignerKey[] = [];
  const created: string[] = [];
  for (const file of config.keyFiles) {
    if (existsSync(file)) {
      keys.push(readKeyFile(file));
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

export interface WitnessNodeOptions {
  logger?: Logger;
  /** A store to use instead of opening LevelDB in config.data (tests). Closed by close(). */
  store?: WitnessStore;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
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
  /** Graceful: stop accepting, finish in-flight requests, stop list refresh, close the store. */
  close(): Promise<void>;
}

function urlOf(addr: AddressInfo): string {
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

export async function startWitnessNode(config: WitnessConfig, opts: WitnessNodeOptions = {}): Promise<WitnessNode> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const { keys, created } = loadWitnessKeys(config);
  for (const f of created) logger.info({ keyFile: f, name: config.name }, 'created a new witness key');
  for (const k of keys) if (k.name !== config.name) logger.warn({ keyName: k.name, name: config.name }, 'a key file holds a key with another name than the configured one (rotation?)');
  const vkeys = keys.map((k) => k.cosignatureVkey);

  const store = opts.store ?? (await LevelStore.open(config.data));
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  const fail = async (e: unknown): Promise<never> => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
    throw e;
  };

  try {
    const registry = new LogRegistryImpl({
      inline: config.logs,
      logList: config.logList,
      refreshMs: config.logListRefreshMs,
      // Everything ever learned from the list, so a restart never drops a log the list removed.
      cachePath: config.logList ? `${config.data}.loglist` : undefined,
      logger: logger.child({ component: 'logs' }),
    });
    cleanup.push(() => registry.stop());
    try {
      await registry.start();
    } catch (e) {
      // A list file the operator named must load; a URL may be briefly unreachable.
      if (config.logList?.kind === 'file' || !(e instanceof LogListLoadError)) throw e;
      logger.warn({ err: (e as Error).message }, 'log list not loaded; starting with the logs known so far and retrying later');
    }

    const metrics = createWitnessMetrics();
    for (const origin of registry.origins()) {
      const s = await store.getState(origin);
      if (s) metrics.setLogSize(origin, s.size);
    }
    const onEvent = (e: WitnessEvent) => {
      metrics.onWitnessEvent(e);
      if (e.type === 'evidence' && e.isNew) logger.warn({ origin: e.origin, evidence: e.id }, 'SPLIT VIEW: the log signed two inconsistent checkpoints; evidence recorded');
      else if (e.type === 'suspect' && e.recorded) logger.warn({ origin: e.origin, reason: e.reason }, 'suspect checkpoint recorded (a log-signed checkpoint failed a consistency check)');
    };
    const witness = new Witness({ store, logs: registry, cosigners: keys.map((k) => cosigner(k)), onEvent, ...(opts.now ? { now: opts.now } : {}) });
    const server = createWitnessServer({ witness, store, logs: registry, metrics, logger: logger.child({ component: 'http' }), bodyLimit: config.http.bodyLimit });
    cleanup.push(() => server.close());
    await server.listen({ host: config.http.host, port: config.http.port });
    const url = urlOf(server.server.address() as AddressInfo);

    let closing: Promise<void> | undefined;
    return {
      url,
      vkeys,
      witness,
      store,
      registry,
      metrics,
      server,
      close() {
        closing ??= (async () => {
          registry.stop();
          await server.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    return fail(e);
  }
}
