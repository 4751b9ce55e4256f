// Live mode (docs/simulator.md#live-mode): the same scenario as model mode, run with real witness
// node processes (real libp2p, real HTTP, the real local log) on 127.0.0.1 through the launcher
// (src/launcher), on the wall clock. Tens of nodes. Measures the same RunResult:
//   - detection: each node's error-level "SPLIT VIEW" line (pino time) minus the fork time, and
//     the node's stored evidence (GET /evidence) checked at the end;
//   - traffic: gossip message counters from /metrics; bytes from the kernel's per-socket counters of
//     the nodes' libp2p connections (`ss -tinp`);
//   - clients: each client verifies, with the real policy library (src/policy), the cosigned
//     checkpoint its branch of the log serves, with the cosignatures of the witnesses it asks
//     merged in and those witnesses' evidence as known evidence.
// What loopback processes cannot reproduce (latency, loss, partitions, churn, colluders, ...) is
// refused with a clear error, or approximated and listed in RunResult.notes.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { launch, type LaunchedNetwork } from '../../launcher/index.js';
import type { NetworkConfig, NetworkWitness } from '../../launcher/network.js';
import { parsePolicy, verifyCosignedCheckpoint, monitoringUrl } from '../../policy/index.js';
import { encodeBase64 } from '../../util/bytes.js';
import { makeProvenance } from '../provenance.js';
import type { RunResult } from '../result.js';
import { mlDsa44Witnesses, type Scenario } from '../scenario.js';
import { EXCHANGE_TICK_MS } from '../../gossip/exchange.js';
import { Rng } from '../model/prng.js';
import { fetchGossipCounters, SocketMeter, type GossipCounters } from './traffic.js';
import { GossipWitnessError } from '../../errors.js';

export class LiveModeError extends GossipWitnessError {
  constructor(readonly problems: readonly string[]) {
    super({ code: 'BAD_INPUT', message: `live mode cannot run this scenario:\n${problems.map((p) => `  - ${p}`).join('\n')}` });
    this.name = 'LiveModeError';
  }
}

export interface LiveOptions {
  readonly seed?: number;
  readonly scenarioFile?: string | null;
  /** The command line, recorded in the provenance. */
  readonly command?: string;
  readonly onProgress?: (fraction: number, phase: string) => void;
  /** Most node processes allowed (default 40: each is a Node.js process of ~100 MB). */
  readonly maxNodes?: number;
  /** Longest scenario duration allowed, in ms (default 15 minutes of wall time). */
  readonly maxDurationMs?: number;
  readonly logLevel?: string;
  /** Where the launcher keeps keys and data (default: a temporary directory, removed). */
  readonly dir?: string;
  /** Called once the network is up (tests look at the processes). */
  readonly onLaunched?: (net: LaunchedNetwork) => void;
  /** Node processes started at once (default 4). */
  readonly startConcurrency?: number;
}

let cliBundle: Promise<string[] | undefined> | undefined;

/**
 * The command the node processes run. From source, the CLI is bundled once (esbuild, packages left
 * external) into node_modules/.cache: a process then starts in about half the time it takes under
 * tsx, which matters when tens of them start on two cores. From dist, the launcher's default.
 */
function nodeCommand(): Promise<string[] | undefined> {
  return (cliBundle ??= (async () => {
    const here = fileURLToPath(import.meta.url);
    if (!here.endsWith('.ts')) return undefined;
    let root = dirname(here);
    while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
    try {
      const { build } = await import('esbuild');
      const dir = join(root, 'node_modules', '.cache', 'gossip-witness');
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `sim-live-cli.${process.pid}.mjs`);
      await build({ entryPoints: [join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: tmp, logLevel: 'error' });
      const out = join(dir, 'sim-live-cli.mjs');
      renameSync(tmp, out); // atomic: another run may be reading the previous bundle
      return [process.execPath, out];
    } catch {
      return undefined; // no esbuild: tsx, slower
    }
  })());
}

/** T values (ms) for "every honest node detected within T". */
export const WITHIN_MS = [1000, 5000, 10_000, 30_000, 60_000];

/** Origins of the scenario's logs, as in model mode. */
export const originOf = (i: number) => `sim.example/log${i}`;

/**
 * What live mode refuses (errors) and approximates (notes) for a scenario. Throws LiveModeError
 * listing every unsupported feature at once.
 */
export function checkLiveSupport(s: Scenario, o: { maxNodes?: number; maxDurationMs?: number } = {}): string[] {
  const problems: string[] = [];
  const notes: string[] = [];
  const maxNodes = o.maxNodes ?? 40;
  const maxDur = o.maxDurationMs ?? 15 * 60_000;
  const n = s.network;
  if (n.nodes > maxNodes) problems.push(`network.nodes: ${n.nodes} node processes is more than live mode runs here (at most ${maxNodes}); use model mode for large networks`);
  if (s.durationMs > maxDur) problems.push(`duration: ${s.durationMs} ms of wall time is longer than ${maxDur} ms`);
  if (n.loss > 0) problems.push('network.loss: loopback TCP does not lose messages; set loss: 0');
  if (n.partitions.length > 0) problems.push('network.partitions: not supported in live mode');
  if (n.churn.rate > 0) problems.push('network.churn: not supported in live mode');
  if (n.regions) problems.push('network.regions: loopback has no regions; use model mode');
  if (n.behaviours.length > 0) problems.push('network.behaviours: not supported in live mode');
  if (n.monitors.count > 0) problems.push('network.monitors: not supported in live mode');
  if (n.scoring) problems.push('network.scoring: the live nodes score peers with their own configuration; remove it (model mode only)');
  if (n.exchangeTickMs !== EXCHANGE_TICK_MS) problems.push(`network.exchangeTick: the nodes write every ${EXCHANGE_TICK_MS} ms (EXCHANGE_TICK_MS, not configurable); model mode only`);
  const a = s.adversary;
  if (a) {
    if (a.colluding > 0) problems.push('adversary.colluding: real witness nodes do not collude (cosign both branches); use model mode');
    if (a.eclipse) problems.push('adversary.eclipse: not supported in live mode');
    if (a.droppers) problems.push('adversary.droppers: not supported in live mode');
    if (a.branches.length > 0) problems.push('adversary.branches: the local log shows two branches only; use model mode');
    const bs = a.branchSchedule;
    if (bs.atMs !== a.forkAtMs || bs.untilMs !== null || bs.batch !== s.logs.batch || bs.lagMs > 0) problems.push('adversary.branchB: at, until, batch and lag are model mode only');
    if (a.targeting !== 'random') problems.push('adversary.targeting: model mode only');
    if (a.refuseProofs || a.offline.length > 0) problems.push('adversary.refuseProofs, adversary.offline: model mode only');
    if (a.eclipses.length > 0) problems.push('adversary.eclipses: not supported in live mode');
    if (a.forks.length > 0) problems.push('adversary.forks: the local setup forks one log; use model mode');
  }
  const pops = s.clients.populations;
  if (pops.length > 1 || pops.some((p) => p.witnessSets.kind !== 'uniform' || p.report || p.fetch.delayMs > 0 || p.fetch.latency !== null)) problems.push('clients: populations, witnessSets, report, fetch.delay and fetch.latency are model mode only');
  if (pops.some((p) => p.logs !== undefined || p.victims !== undefined)) problems.push('clients.logs, clients.victims: clients following several logs are model mode only');
  if (problems.length > 0) throw new LiveModeError(problems);
  notes.push(`latency: loopback TCP between processes on one machine (the scenario's ${n.latency.distribution} latency model is not applied)`);
  notes.push(`topology ${n.topology}: approximated by whom each node dials at start (bootstrap); libp2p may add connections`);
  notes.push(`gossip version ${n.version} (p2p.version) and meshDegree ${n.meshDegree} (p2p.meshDegree) are set in each node's config`);
  if (n.heartbeatMs !== 1000 || n.gossipFactor !== 0.25) notes.push('gossipsub heartbeat and gossipFactor: the nodes run their defaults (heartbeat 1 s), not the scenario\'s');
  if (s.witnesses.mlDsa44 > 0) notes.push(`witness keys: ${mlDsa44Witnesses(s).size} of ${n.nodes} witnesses have ML-DSA-44 keys (0x06 cosignatures)`);
  if (n.version === 2) notes.push('version 2: delivery ratio not measured (the exchange\'s frames are not in /metrics); messages are those published and the evidence messages validated');
  if (s.witnesses.push < 1) notes.push('polling witnesses poll at exactly witnesses.pollInterval (no ±50% jitter)');
  notes.push('signatures: real (every node verifies every signature)');
  return notes;
}

export interface LiveRoles {
  /** Witnesses shown branch B of the adversary's log. */
  readonly branchB: ReadonlySet<number>;
  /** Witnesses the logs push to (the others poll). */
  readonly pushed: ReadonlySet<number>;
  /** Per node, the other witnesses it tracks; null: all. */
  readonly tracks: readonly (readonly number[])[] | null;
  /** Per node, whom it dials at start. */
  readonly bootstrap: readonly (readonly number[])[];
  /** Per client: the n witnesses of its policy and the branch the log shows it. */
  readonly clients: readonly { readonly witnesses: readonly number[]; readonly branch: 'a' | 'b' }[];
}

/** k distinct integers from [0, n), seeded. */
function sample(rng: Rng, n: number, k: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = i + rng.int(n - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, Math.min(k, n)).sort((x, y) => x - y);
}

/** Who is who, from the scenario and the seed (independent streams per purpose). */
export function liveRoles(s: Scenario, seed: number): LiveRoles {
  const root = new Rng(seed);
  const [rB, rPush, rTrack, rTopo, rClients] = [root.fork(), root.fork(), root.fork(), root.fork(), root.fork()];
  const N = s.network.nodes;
  const a = s.adversary;
  const branchB = new Set<number>(a ? ('nodes' in a.branchB ? a.branchB.nodes : sample(rB, N, Math.round(a.branchB.fraction * N))) : []);
  const pushed = new Set(sample(rPush, N, Math.round(s.witnesses.push * N)));
  const tracks = s.witnesses.knownWitnesses >= N - 1 ? null : Array.from({ length: N }, (_, i) => sample(rTrack, N - 1, s.witnesses.knownWitnesses).map((j) => (j >= i ? j + 1 : j)));
  const dial: Set<number>[] = Array.from({ length: N }, () => new Set());
  const edge = (x: number, y: number) => x !== y && dial[Math.max(x, y)].add(Math.min(x, y));
  const d = s.network.degree;
  if (s.network.topology === 'full') for (let i = 1; i < N; i++) for (let j = 0; j < i; j++) edge(i, j);
  else if (s.network.topology === 'small-world') {
    // Watts–Strogatz: a ring with d/2 neighbours each side, each edge rewired with probability `rewire`.
    for (let i = 0; i < N; i++) for (let k = 1; k <= Math.max(1, Math.floor(d / 2)); k++) edge(i, rTopo.float() < s.network.rewire ? rTopo.int(N) : (i + k) % N);
    for (let i = 1; i < N; i++) if (dial[i].size === 0) edge(i, rTopo.int(i)); // keep it connected
  } else {
    // random-regular, approximated: each node dials about d/2 random earlier nodes (mean degree ~d).
    for (let i = 1; i < N; i++) for (const j of sample(rTopo, i, Math.max(1, Math.ceil(d / 2)))) edge(i, j);
  }
  const { count, policy } = s.clients;
  const nB = a ? Math.round(a.clientsB * count) : 0;
  const clients = Array.from({ length: count }, (_, c) => ({ witnesses: sample(rClients, N, policy.n), branch: (c < nB ? 'b' : 'a') as 'a' | 'b' }));
  return { branchB, pushed, tracks, bootstrap: dial.map((x) => [...x].sort((p, q) => p - q)), clients };
}

/** The launcher's network config for a scenario: w0..wN-1, log0..logL-1 (driven by runLive, no timer). */
export function toNetworkConfig(s: Scenario, roles: LiveRoles): NetworkConfig {
  const logs = Array.from({ length: s.logs.count }, (_, i) => ({ name: `log${i}`, origin: originOf(i), intervalMs: 0 }));
  const names = logs.map((l) => l.name);
  const advLog = s.adversary ? `log${s.adversary.log}` : null;
  const pq = mlDsa44Witnesses(s);
  const witnesses: NetworkWitness[] = Array.from({ length: s.network.nodes }, (_, i) => {
    const pushed = roles.pushed.has(i);
    const boot = roles.bootstrap[i];
    return {
      name: `w${i}`,
      httpPort: 0,
      p2pPort: 0,
      push: pushed ? names : [],
      pull: pushed ? [] : names,
      pullIntervalMs: s.witnesses.pollIntervalMs,
      sees: advLog && roles.branchB.has(i) ? { [advLog]: 'b' } : {},
      logs: names,
      // Given explicitly (w0's is empty): the launcher's default is w0 and the previous node.
      bootstrap: boot.map((j) => `w${j}`),
      ...(roles.tracks ? { tracks: roles.tracks[i].map((j) => `w${j}`) } : {}),
      ...(pq.has(i) ? { keyType: 'ml-dsa-44' as const } : {}),
      gossip: { version: s.network.version, meshDegree: s.network.meshDegree },
    };
  });
  return { logs, witnesses };
}

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`live mode: timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function getText(url: string, timeoutMs = 3000): Promise<string | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

async function evidenceOf(url: string, origin: string): Promise<Uint8Array[]> {
  const list = await getText(`${url}/evidence?origin=${encodeURIComponent(origin)}`);
  if (!list) return [];
  const out: Uint8Array[] = [];
  for (const { id } of JSON.parse(list) as { id: string }[]) {
    try {
      const r = await fetch(`${url}/evidence/${id}`, { signal: AbortSignal.timeout(3000) });
      if (r.ok) out.push(new Uint8Array(await r.arrayBuffer()));
    } catch {
      // counted as absent
    }
  }
  return out;
}

async function treeSize(url: string, origin: string): Promise<bigint> {
  const t = await getText(monitoringUrl(url, origin));
  return t ? BigInt(t.split('\n')[1] ?? '0') : 0n;
}

/** Splits a note into its text (up to and including the blank line) and signature lines. */
function splitNote(note: string): { body: string; sigs: string[] } {
  const i = note.indexOf('\n\n');
  return { body: note.slice(0, i + 2), sigs: note.slice(i + 2).split('\n').filter((l) => l.startsWith('— ')) };
}

/** Runs a scenario live. Every process is stopped before this returns or throws. */
export async function runLive(scenario: Scenario, opts: LiveOptions = {}): Promise<RunResult> {
  const wallStart = Date.now();
  const seed = opts.seed ?? scenario.seed;
  const notes = checkLiveSupport(scenario, opts);
  const progress = opts.onProgress ?? (() => {});
  const roles = liveRoles(scenario, seed);
  const network = toNetworkConfig(scenario, roles);
  const N = scenario.network.nodes;
  const origins = network.logs.map((l) => l.origin);
  const adv = scenario.adversary;
  const advOrigin = adv ? originOf(adv.log) : null;
  progress(0, `starting ${N} node processes`);
  const command = await nodeCommand();
  let net: LaunchedNetwork | undefined;
  // Ports are picked free before the processes bind them: on a busy machine another process may
  // take one meanwhile. launch() stops everything it started when it fails, so try again.
  for (let attempt = 1; !net; attempt++) {
    try {
      net = await launch({
        network,
        logLevel: opts.logLevel ?? 'info',
        startConcurrency: opts.startConcurrency ?? 4,
        ...(command ? { command } : {}),
        ...(opts.dir ? { dir: opts.dir } : {}),
      });
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test((e as Error).message)) throw e;
      progress(0, `a port was taken (${(e as Error).message.split('\n')[0]}); starting again`);
    }
  }
  const timers: NodeJS.Timeout[] = [];
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  try {
    opts.onLaunched?.(net);
    const logs = network.logs.map((l) => net.logs.get(l.name)!);
    // 1. Warm-up (not measured): peers connected, and every witness holds a first cosigned
    //    checkpoint of every log (pollers within a poll interval or two).
    await waitUntil(async () => (await Promise.all(net.witnesses.map((w) => getText(`${w.url}/metrics`)))).every((t) => t !== null && /^gossip_peers [1-9]/m.test(t)), 'libp2p peers at every node', 30_000);
    let seq = 0;
    const entries = () => Array.from({ length: scenario.logs.batch }, () => `entry ${seq++}`);
    for (const l of logs) {
      await l.log.append(entries());
      await l.log.publish();
    }
    progress(0.05, 'waiting for every witness to cosign');
    await waitUntil(
      async () => (await Promise.all(net.witnesses.flatMap((w) => origins.map((o) => treeSize(w.url, o))))).every((x) => x >= BigInt(scenario.logs.batch)),
      'a first cosigned checkpoint at every witness',
      30_000 + 3 * scenario.witnesses.pollIntervalMs,
    );
    const pids = () => new Set(net.witnesses.map((w) => w.process?.pid).filter((p): p is number => p !== undefined));
    const p2pPorts = new Set(net.witnesses.map((w) => Number(/\/tcp\/(\d+)\//.exec(w.p2pAddr)![1])));
    const meter = new SocketMeter(pids, p2pPorts);
    const counters0 = await Promise.all(net.witnesses.map((w) => fetchGossipCounters(w.url)));
    await meter.sample();

    // 2. The measured run: t0 is time 0 of the scenario. As in the model: log l publishes at
    //    l·interval/L + k·interval; the adversary's log forks at its first publish at or after
    //    forkAt; detection counts from forkAt itself.
    const t0 = Date.now();
    const forkWall = adv ? t0 + adv.forkAtMs : null;
    let forked = false;
    const postFork = { a: new Set<string>(), b: new Set<string>() }; // checkpoint texts published after the fork, per branch
    let forkSignedAt: number | null = null;
    // Every tick appends and signs at once; publish() may overlap an earlier one still pushing
    // (the log then pushes the newest checkpoint to a witness once its previous push is done).
    const tick = (i: number) => {
      track(
        (async () => {
          try {
            const l = logs[i].log;
            const isAdv = adv !== null && adv.log === i;
            // A timer may fire a millisecond early by Date.now(): a little slack keeps the fork on its tick.
            const forkNow = isAdv && !forked && Date.now() >= forkWall! - Math.min(50, scenario.logs.intervalMs / 4);
            if (forkNow) {
              l.forkAt(l.size('a'));
              forked = true;
            }
            await l.append(entries(), isAdv && forked ? { branch: 'both' } : undefined);
            const pushed = l.publish();
            if (isAdv && forked) {
              // Signed synchronously by publish(): record the texts before any witness can serve them.
              postFork.a.add(splitNote(l.checkpoint('a')).body);
              postFork.b.add(splitNote(l.checkpoint('b')).body);
              if (forkNow) forkSignedAt = Date.now();
            }
            await pushed;
          } catch {
            // stopping
          }
        })(),
      );
    };
    for (let i = 0; i < logs.length; i++) {
      const start = setTimeout(() => {
        tick(i);
        timers.push(setInterval(() => tick(i), scenario.logs.intervalMs));
      }, Math.round((scenario.logs.intervalMs * i) / logs.length));
      timers.push(start);
    }

    // Clients, as in the model: at a random phase, then every fetch interval ±50%, a client takes
    // the newest checkpoint its branch of the log serves, asks m of its n witnesses (a fresh random
    // choice each time) and verifies it with the real policy library (k of its n witnesses) with
    // the cosignatures of the asked witnesses that hold exactly that checkpoint. Evidence held by
    // any asked witness protects the client from then on. A branch-B checkpoint that verifies is a
    // forked accept; a false accept when branch A also had a quorum of the client's n witnesses.
    const rng = new Rng(seed ^ 0x5eed);
    const clientState = roles.clients.map(() => ({ protected: false, forked: false, falseAccept: false }));
    const advLog = adv ? logs[adv.log] : null;
    const policies = roles.clients.map((c) => {
      const lines = [`log ${(advLog ?? logs[0]).vkey}`];
      for (const w of c.witnesses) lines.push(`witness w${w} ${net.witnesses[w].vkey}`);
      lines.push(`group q ${scenario.clients.policy.k} ${c.witnesses.map((w) => `w${w}`).join(' ')}`, 'quorum q');
      return parsePolicy(lines.join('\n') + '\n');
    });
    const servedBody = async (w: number) => {
      const t = await getText(monitoringUrl(net.witnesses[w].url, advOrigin!));
      return t ? { text: t, ...splitNote(t) } : null;
    };
    const clientFetch = async (ci: number) => {
      const c = roles.clients[ci];
      const st = clientState[ci];
      if (!advLog || !advOrigin || st.protected) return;
      const ws = [...c.witnesses];
      rng.shuffle(ws);
      const asked = ws.slice(0, scenario.clients.fetch.witnesses);
      const branch = c.branch === 'b' && forked ? 'b' : 'a';
      const { body } = splitNote(advLog.log.checkpoint(branch));
      const [evidence, served] = await Promise.all([Promise.all(asked.map((w) => evidenceOf(net.witnesses[w].url, advOrigin))), Promise.all(asked.map(servedBody))]);
      const known = evidence.flat();
      if (known.length > 0) {
        st.protected = true;
        return;
      }
      const sigs = new Set<string>();
      for (const x of served) if (x && x.body === body) for (const line of x.sigs) sigs.add(line);
      if (sigs.size === 0) return;
      const v = verifyCosignedCheckpoint(`${body}${[...sigs].join('\n')}\n`, policies[ci], { knownEvidence: known });
      if (!v.ok || branch !== 'b' || !postFork.b.has(body)) return;
      st.forked = true;
      const all = await Promise.all(c.witnesses.map(servedBody));
      if (all.filter((x) => x && postFork.a.has(x.body)).length >= scenario.clients.policy.k) st.falseAccept = true;
    };
    const every = scenario.clients.fetch.intervalMs;
    const scheduleClient = (ci: number, delay: number) => {
      if (Date.now() + delay - t0 >= scenario.durationMs) return;
      timers.push(
        setTimeout(() => {
          track(clientFetch(ci).catch(() => {}));
          scheduleClient(ci, every * (0.5 + rng.float()));
        }, delay),
      );
    };
    for (let ci = 0; ci < roles.clients.length; ci++) scheduleClient(ci, rng.float() * every);
    const sampler = setInterval(() => track(meter.sample()), 5000);
    timers.push(sampler);
    while (Date.now() - t0 < scenario.durationMs) {
      progress(0.1 + (0.85 * (Date.now() - t0)) / scenario.durationMs, 'running');
      await sleep(Math.min(1000, Math.max(1, scenario.durationMs - (Date.now() - t0))));
    }
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([...inflight]);
    const elapsed = Date.now() - t0;
    await meter.sample();
    const counters1 = await Promise.all(net.witnesses.map((w) => fetchGossipCounters(w.url)));
    progress(0.97, 'collecting results');

    // 3. Detection: the node's SPLIT VIEW alert time, confirmed by evidence it stores.
    const perNodeMs: (number | null)[] = [];
    let evidence: string | null = null;
    const forkTime = forkSignedAt ?? forkWall;
    for (const w of net.witnesses) {
      if (!advOrigin || forkTime === null) break;
      const alert = w.lines.find((l) => String(l.msg).startsWith('SPLIT VIEW') && l.origin === advOrigin);
      const ev = alert ? await evidenceOf(w.url, advOrigin) : [];
      perNodeMs.push(alert && ev.length > 0 ? Math.max(0, Number(alert.time) - forkTime) : null);
      if (evidence === null && ev.length > 0) evidence = encodeBase64(ev[0]);
    }
    const got = perNodeMs.filter((x): x is number => x !== null);
    const allMs = adv && got.length === N ? Math.max(...got) : null;
    const hours = elapsed / 3_600_000;
    const delta = (f: (c: GossipCounters) => number) => counters1.reduce((s, c, i) => s + (c && counters0[i] ? f(c) - f(counters0[i]!) : 0), 0);
    const published = delta((c) => c.publishedCheckpoints);
    notes.push(`machine: ${cpus().length} CPU cores; live.loadAverage is the load at the end of the run`);
    notes.push('fork: detection counts from when the log signed the forked checkpoints (forkAtMs; live.forkLateMs after the scenario\'s forkAt when the machine delays the log\'s timers), as the model\'s fork is its publish');
    if (!meter.available) notes.push('bytes: `ss` (iproute2) is not available, so bytes per node are not measured (0)');
    notes.push('bytes: TCP payload sent on the nodes\' libp2p connections (kernel socket counters: gossipsub framing, control, noise and yamux overhead included), per node');
    notes.push('messages: gossip messages each node validated (first copies only) or published (from /metrics), per node; the model counts every transmission, duplicates and IHAVE/IWANT included');
    const falseAccepts = clientState.filter((c) => c.falseAccept).length;
    const forkedAccepts = clientState.filter((c) => c.forked).length;
    return {
      provenance: makeProvenance({ seed, mode: 'live', scenarioFile: opts.scenarioFile ?? null, scenario, ...(opts.command ? { command: opts.command } : {}) }),
      nodes: N,
      logs: scenario.logs.count,
      durationMs: elapsed,
      forkAtMs: adv ? (forkSignedAt !== null ? forkSignedAt - t0 : adv.forkAtMs) : null,
      detection: {
        firstMs: got.length > 0 ? Math.min(...got) : null,
        allMs,
        perNodeMs: adv ? perNodeMs : [],
        fractionDetected: adv ? got.length / N : 0,
        withinMs: Object.fromEntries(WITHIN_MS.map((t) => [String(t), allMs !== null && allMs <= t ? 1 : 0])),
      },
      clients: { total: roles.clients.length, falseAccepts, falseAcceptRate: roles.clients.length > 0 ? falseAccepts / roles.clients.length : 0 },
      traffic: {
        messagesPerNodePerHour: (delta((c) => c.received) + delta((c) => c.published)) / N / hours,
        bytesPerNodePerHour: meter.available ? meter.total() / N / hours : 0,
        // Version 2 delivers checkpoints over the exchange, which /metrics does not count: NaN (not measured).
        deliveryRatio: scenario.network.version === 2 ? NaN : published > 0 ? Math.min(1, delta((c) => c.receivedCheckpoints) / (published * (N - 1))) : 1,
        propagationP50Ms: null,
        propagationP99Ms: null,
      },
      evidence,
      logVkeys: logs.map((l) => l.vkey),
      live: { nodes: N, branchB: roles.branchB.size, pushed: roles.pushed.size, forkedAccepts, forkLateMs: forkSignedAt !== null ? forkSignedAt - forkWall! : null, loadAverage: loadavg()[0] },
      perf: {
        wallMs: Date.now() - wallStart,
        peakRssBytes: counters1.reduce((s, c) => s + (c?.rssBytes ?? 0), 0) + process.memoryUsage().rss,
        signaturesVerified: 0,
        events: net.witnesses.reduce((s, w) => s + w.lines.length, 0),
      },
      notes,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled([...inflight]);
    await net.stop();
    progress(1, 'stopped');
  }
}
