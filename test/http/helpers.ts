// Shared setup for the HTTP tests: a witness on a MemoryStore behind the fastify app (inject only).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { LogRegistryImpl, type InlineLog } from '../../src/logs/registry.js';
import { createWitnessMetrics, type WitnessMetrics } from '../../src/http/metrics.js';
import { createWitnessServer } from '../../src/http/server.js';
import { cosigner, generateKey, parseSkey, parseVkey, type Ed25519SignerKey } from '../../src/note/index.js';

export interface TestLogConfig {
  origin: string;
  vkeys: string[];
  qpd?: number;
  disabled?: boolean;
}

export interface TestWitness {
  app: FastifyInstance;
  store: MemoryStore;
  registry: LogRegistryImpl;
  metrics: WitnessMetrics;
  witness: Witness;
  key: Ed25519SignerKey;
  clock: { ms: number };
  post(body: string | Uint8Array, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  get(url: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function inlineLog(l: TestLogConfig): InlineLog {
  return { origin: l.origin, verifiers: l.vkeys.map((v) => parseVkey(v)), qpd: l.qpd, disabled: l.disabled };
}

/** A witness following `logs`; its key is `witnessKey` (an skey) or a fresh key named `name`. */
export function makeWitness(opts: { logs: TestLogConfig[]; name?: string; witnessSkey?: string; bodyLimit?: number; defaultMetrics?: boolean }): TestWitness {
  const key = opts.witnessSkey ? parseSkey(opts.witnessSkey) : generateKey(opts.name ?? 'witness.example/w1');
  const clock = { ms: Date.UTC(2026, 0, 1) };
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: opts.logs.map(inlineLog) });
  const metrics = createWitnessMetrics({ defaultMetrics: opts.defaultMetrics ?? false });
  const witness = new Witness({
    store,
    logs: registry,
    cosigners: [cosigner(key, () => BigInt(Math.floor(clock.ms / 1000)))],
    onEvent: metrics.onWitnessEvent,
    now: () => clock.ms,
  });
  const app = createWitnessServer({ witness, store, logs: registry, metrics, bodyLimit: opts.bodyLimit });
  return {
    app,
    store,
    registry,
    metrics,
    witness,
    key,
    clock,
    post: (body, headers = { 'content-type': 'text/plain' }) =>
      app.inject({ method: 'POST', url: '/add-checkpoint', payload: typeof body === 'string' ? body : Buffer.from(body), headers }),
    get: (url) => app.inject({ method: 'GET', url }),
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

export function b64(h: Uint8Array): string {
  return Buffer.from(h).toString('base64');
}

/** An add-checkpoint body. */
export function addBody(old: bigint | number | string, proof: Uint8Array[], note: string): string {
  return `old ${old}\n${proof.map((h) => b64(h) + '\n').join('')}\n${note}`;
}
