// What the gossip benchmarks share (bench/gossip.bench.ts, bench/gossip-wan.bench.ts,
// bench/hostile-peers.bench.ts): the worker processes that host the nodes (bench/gossip-worker.ts,
// driven over IPC), the random graph they dial, the logs' publishing tickers, the delivery and
// evidence measurements, and stopping it all.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalLog } from '../../src/logs/local-log/index.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';
import { generateKey } from '../../src/note/keys.js';
import { keyLabel } from '../../src/note/note.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
export const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export interface WorkerOptions {
  /** Node flags of the worker (default: LOADER_ARGS). */
  readonly execArgv?: readonly string[];
  /** A command to run node under (e.g. `ip netns exec NS`): its first element runs, the rest are its arguments. */
  readonly prefix?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** How long next() waits for a reply by default. */
  readonly timeoutMs?: number;
}

/**
 * The benches run as TypeScript through tsx, or compiled to plain JS by bench/compile-js.sh (tsx
 * minifies each module to one line, so only compiled code gives line-level CPU profiles).
 */
export const COMPILED = import.meta.url.endsWith('.js');
/** Node flags that load this bench's own modules (tsx for TypeScript, none when compiled). */
export const LOADER_ARGS: readonly string[] = COMPILED ? [] : ['--import', 'tsx/esm'];

/** One bench/gossip-worker.ts process: send it a message, wait for the reply of a type. */
export class BenchWorker {
  readonly child: ChildProcess;
  private waiters: { type: string; resolve: (m: any) => void }[] = [];
  private readonly timeoutMs: number;
  constructor(o: WorkerOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 120_000;
    const execArgv = [...(o.execArgv ?? LOADER_ARGS)];
    this.child = fork(join(ROOT, COMPILED ? 'bench/gossip-worker.js' : 'bench/gossip-worker.ts'), [], {
      ...(o.prefix ? { execPath: o.prefix[0], execArgv: [...o.prefix.slice(1), process.execPath, ...execArgv] } : { execArgv }),
      ...(o.env ? { env: o.env } : {}),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: any) => {
      if (m.type === 'error') {
        console.error('worker error:', m.message);
        for (const w of this.waiters.splice(0)) w.resolve({ type: 'error', message: m.message });
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(m);
    });
  }
  next(type: string, ms = this.timeoutMs): Promise<any> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker: no ${type} within ${ms} ms`)), ms);
      this.waiters.push({ type, resolve: (m) => (clearTimeout(t), resolve(m)) });
    });
  }
  async ask(msg: object, reply: string, ms?: number): Promise<any> {
    const p = this.next(reply, ms);
    this.child.send(msg);
    return p;
  }
}

/** Asks every worker to stop its nodes, then waits for each to exit (SIGKILL after 15 s). */
export async function stopWorkers(workers: readonly BenchWorker[]): Promise<void> {
  await Promise.allSettled(workers.map((w) => w.ask({ type: 'stop' }, 'stopped', 30_000)));
  await Promise.all(
    workers.map((w) =>
      w.child.exitCode !== null || w.child.signalCode !== null
        ? undefined
        : new Promise<void>((res) => {
            const t = setTimeout(() => (w.child.kill('SIGKILL'), res()), 15_000);
            w.child.once('exit', () => (clearTimeout(t), res()));
          }),
    ),
  );
}

/** A random connected graph: node i dials up to `fanout` distinct earlier nodes (their addresses). */
export function randomLinks(n: number, addrOf: (j: number) => string, fanout = 4): [number, string][] {
  const links: [number, string][] = [];
  for (let i = 1; i < n; i++) {
    const boot = new Set<number>();
    while (boot.size < Math.min(fanout, i)) boot.add(Math.floor(Math.random() * i));
    for (const j of boot) links.push([i, addrOf(j)]);
  }
  return links;
}

export interface Tickers {
  readonly timers: NodeJS.Timeout[];
  /** Waits until the log's ticker is idle and keeps it from running (until release). */
  hold(log: LocalLog): Promise<void>;
  release(log: LocalLog): void;
  stop(): void;
}

/**
 * Every log appends one entry and publishes once per period(log), staggered by
 * stagger(log) ms before each starts; a tick is skipped while the previous one runs.
 */
export async function startTickers(logs: readonly LocalLog[], o: { period: (log: LocalLog) => number; stagger: number; tickAtOnce: boolean }): Promise<Tickers> {
  let seq = 0;
  const busy = new Set<LocalLog>();
  const timers: NodeJS.Timeout[] = [];
  for (const log of logs) {
    const tick = async () => {
      if (busy.has(log)) return;
      busy.add(log);
      try {
        await log.append([`entry ${seq++}`]);
        await log.publish();
      } catch {
        // stopping
      } finally {
        busy.delete(log);
      }
    };
    await sleep(o.stagger);
    if (o.tickAtOnce) void tick();
    timers.push(setInterval(() => void tick(), o.period(log)));
  }
  return {
    timers,
    async hold(log) {
      while (busy.has(log)) await sleep(1);
      busy.add(log); // no await since the check: the ticker sees it and skips
    },
    release: (log) => void busy.delete(log),
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}

export interface Delivery {
  /** Publications counted (in [from, to - settleMs]). */
  pubs: number;
  /** publication × other node pairs, and those delivered. */
  pairs: number;
  delivered: number;
  /** Per publication delivered to all other nodes: ms until the last one held it. */
  reachAll: number[];
  /** Per delivery: ms from publication. */
  perDelivery: number[];
  /** Checkpoint text hashes of the counted publications. */
  texts: Set<string>;
}

/** Delivery of the workers' reports ("textHash label" -> publication and sightings) over n nodes. */
export function deliveryOf(reports: readonly any[], n: number, from: number, to: number, settleMs = 0): Delivery {
  const published = new Map<string, number>();
  const seen = new Map<string, [number, number][]>();
  for (const r of reports) {
    for (const [k, t] of r.published as [string, number][]) published.set(k, t);
    for (const [k, l] of r.seen as [string, [number, number][]][]) seen.set(k, [...(seen.get(k) ?? []), ...l]);
  }
  const d: Delivery = { pubs: 0, pairs: 0, delivered: 0, reachAll: [], perDelivery: [], texts: new Set() };
  for (const [k, t] of published) {
    if (t < from || t > to - settleMs) continue;
    d.pubs++;
    d.texts.add(k.split(' ')[0]);
    const got = new Map<number, number>();
    for (const [i, ts] of seen.get(k) ?? []) if (!got.has(i) || got.get(i)! > ts) got.set(i, ts);
    d.pairs += n - 1;
    d.delivered += got.size;
    for (const ts of got.values()) d.perDelivery.push(ts - t);
    if (got.size >= n - 1) d.reachAll.push(Math.max(...got.values()) - t);
  }
  return d;
}

/** Milliseconds from t0 to each node's first new evidence for origin (polls the workers' reports). */
export async function waitEvidence(workers: readonly BenchWorker[], origin: string, t0: number, n: number, ms: number, pollMs: number): Promise<number[]> {
  const deadline = now() + ms;
  for (;;) {
    const reports = await Promise.all(workers.map((w) => w.ask({ type: 'evidence' }, 'evidence', 60_000)));
    const first = new Map<number, number>();
    for (const r of reports) for (const [i, o, t] of r.evidence as [number, string, number][]) if (o === origin && t >= t0 && (!first.has(i) || first.get(i)! > t)) first.set(i, t);
    if (first.size >= n || now() > deadline) return [...first.values()].map((t) => t - t0);
    await sleep(pollMs);
  }
}

export function evidenceRow(times: number[], n: number): string {
  if (times.length === 0) return 'no node held evidence before the deadline';
  return `${times.length}/${n} nodes; first ${fmt(Math.min(...times))} ms, p50 ${fmt(pct(times, 50))} ms, last ${fmt(Math.max(...times))} ms`;
}

/** n witness keys named n<i>.<domain>, and the `name+keyid` labels the workers report cosignatures by. */
export function witnessKeys(n: number, domain: string) {
  const keys = Array.from({ length: n }, (_, i) => generateKey(`n${i}.${domain}`));
  const labels = keys.map((k) => keyLabel(k.name, Number.parseInt(k.cosignatureVkey.split('+')[1], 16)));
  return { keys, labels };
}

/** `logs:` entries of a node config, one per log key. */
export const logLines = (logKeys: readonly { name: string; vkey: string }[]) => logKeys.map((k) => `  - { origin: "${k.name}", vkeys: ["${k.vkey}"] }\n`).join('');
/** `witnesses:` entries of a node config, one per verifier key. */
export const witnessLines = (vkeys: readonly string[]) => vkeys.map((v) => `  - { vkey: "${v}" }\n`).join('');

/**
 * Writes node i's directory under dir (data/, its key files, w.yaml) and returns what a worker's
 * `start` message takes. `logs`, `witnesses` and `p2p` are the YAML lines of those blocks.
 */
export function writeNodeConfig(
  dir: string,
  i: number,
  o: { keys: readonly { file: string; key: Parameters<typeof writeKeyFile>[1] & { name: string } }[]; ownLabel: string; http: string; logs: string; witnesses: string; p2p: string },
): { index: number; configFile: string; ownLabel: string } {
  const d = join(dir, `n${i}`);
  mkdirSync(join(d, 'data'), { recursive: true });
  for (const k of o.keys) writeKeyFile(join(d, k.file), k.key);
  const key = o.keys.length === 1 ? o.keys[0].file : `[${o.keys.map((k) => k.file).join(', ')}]`;
  const yaml = `name: ${o.keys[0].key.name}\nkey: ${key}\ndata: data\nhttp: { listen: "${o.http}" }\nlogs:\n${o.logs}witnesses:\n${o.witnesses}p2p:\n${o.p2p}`;
  writeFileSync(join(d, 'w.yaml'), yaml);
  return { index: i, configFile: join(d, 'w.yaml'), ownLabel: o.ownLabel };
}
