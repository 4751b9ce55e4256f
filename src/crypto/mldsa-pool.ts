// A small worker-thread pool for @noble/post-quantum ML-DSA-44, for runtimes without ML-DSA in
// node:crypto (Node < 24.7): noble signs in 4 to 18 ms, which must not block the event loop.
// signAsync and verifyAsync run in the workers; the synchronous methods stay on the calling
// thread (noble). Node only (node:worker_threads); the browser bundle never imports this file.
// On Node >= 24.7 prefer nodeMlDsa44() (mldsa-node.ts): its async calls use the libuv pool.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { nodeMlDsa44 } from './mldsa-node.js';
import { MLDSA44_PUBLIC_KEY_SIZE, MLDSA44_SEED_SIZE, MLDSA44_SIGNATURE_SIZE, makeNobleMlDsa44, provideNobleMlDsa44, type MlDsa44Backend } from './mldsa.js';

// Runs as a CommonJS eval script; loads noble (an ES module) by absolute URL.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const keys = new Map();
const loaded = import(workerData.nobleUrl);
parentPort.on('message', async (m) => {
  let reply;
  try {
    const { ml_dsa44 } = await loaded;
    if (m.op === 'sign') {
      const id = Buffer.from(m.seed).toString('latin1');
      let sk = keys.get(id);
      if (sk === undefined) {
        sk = ml_dsa44.keygen(m.seed).secretKey;
        if (keys.size >= 64) keys.clear();
        keys.set(id, sk);
      }
      reply = { id: m.id, ok: true, value: ml_dsa44.sign(m.msg, sk, workerData.deterministic ? { extraEntropy: false } : {}) };
    } else {
      let ok = false;
      try { ok = ml_dsa44.verify(m.sig, m.msg, m.pub); } catch { ok = false; }
      reply = { id: m.id, ok: true, value: ok };
    }
  } catch (e) {
    reply = { id: m.id, ok: false, error: String((e && e.message) || e) };
  }
  parentPort.postMessage(reply);
});
`;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export interface MlDsa44PoolOptions {
  /** Number of workers; default min(2, availableParallelism() - 1), at least 1. */
  size?: number;
  /** Deterministic signing (tests). Default false (hedged). */
  deterministic?: boolean;
}

export interface MlDsa44Pool extends MlDsa44Backend {
  readonly size: number;
  /** Terminates the workers; pending calls reject. */
  close(): Promise<void>;
}

/**
 * mldsa.ts loads @noble/post-quantum on first use through require(esm); a runtime without it
 * (Node < 20.19 / 22.12) imports it here ahead of time instead (src/platform.ts awaits this).
 */
export function preloadNobleMlDsa44(): Promise<void> {
  if ((process.features as { require_module?: boolean }).require_module) return Promise.resolve();
  return import('@noble/post-quantum/ml-dsa.js').then((m) => provideNobleMlDsa44(m.ml_dsa44));
}

/**
 * The ML-DSA-44 backend for a Node entry point: node:crypto where the runtime has ML-DSA,
 * otherwise noble with async calls on a worker pool (started lazily).
 */
export function nodeDefaultMlDsa44(): MlDsa44Backend {
  return nodeMlDsa44() ?? makeMlDsa44WorkerPool();
}

export function makeMlDsa44WorkerPool(opts: MlDsa44PoolOptions = {}): MlDsa44Pool {
  const size = Math.max(1, opts.size ?? Math.min(2, availableParallelism() - 1));
  const local = makeNobleMlDsa44({ deterministic: opts.deterministic });
  const nobleUrl = pathToFileURL(createRequire(import.meta.url).resolve('@noble/post-quantum/ml-dsa.js')).href;
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (i: number): Slot => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { nobleUrl, deterministic: !!opts.deterministic } });
    worker.unref(); // referenced only while it has work (see call)
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`ML-DSA-44 worker: ${m.error}`));
    });
    const fail = (e: Error) => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      if (!closed && slots[i] === slot) slots[i] = spawn(i);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`ML-DSA-44 worker exited (${code})`)));
    return slot;
  };
  const call = <T>(req: Record<string, unknown>): Promise<T> => {
    if (closed) return Promise.reject(new Error('ML-DSA-44 worker pool is closed'));
    // Workers start on first use: making a pool costs nothing until something is signed.
    while (slots.length < size) slots.push(spawn(slots.length));
    let slot = slots[0];
    for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.ref();
      slot.worker.postMessage({ ...req, id });
    });
  };

  return {
    name: opts.deterministic ? 'noble-pool-deterministic' : 'noble-pool',
    size,
    publicKey: local.publicKey,
    sign: local.sign,
    verify: local.verify,
    async signAsync(seed, msg) {
      if (!(seed instanceof Uint8Array) || seed.length !== MLDSA44_SEED_SIZE) throw new RangeError(`ML-DSA-44 seed must be ${MLDSA44_SEED_SIZE} bytes`);
      const sig = await call<Uint8Array>({ op: 'sign', seed, msg });
      return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
    },
    async verifyAsync(pub, msg, sig) {
      if (pub.length !== MLDSA44_PUBLIC_KEY_SIZE || sig.length !== MLDSA44_SIGNATURE_SIZE) return false;
      return call<boolean>({ op: 'verify', pub, msg, sig });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
