// Hostile-peer benchmark (issue 13): `node --import tsx bench/hostile-peers.bench.ts`
//
// A 10-node honest network (full witness nodes hosted by bench/gossip-worker.ts, 5 per worker
// process) under a steady load: GW_HB_LOGS pushed logs (default 3) each publish one checkpoint per
// second to all 10 witnesses. Two windows of GW_HB_SECONDS (default 30): first without attackers,
// then with 30 attacker identities in this process (6 of each kind, all dialling every node):
//   silent          subscribes, reads sync requests and never answers
//   stream-holding  opens 12 sync streams to every node every 2 s and never writes
//   slot-filling    connects and stays (redials every 2 s), filling connection slots
//   replaying       republishes checkpoints it saw, each with a fresh unknown-key line (ignored)
//   oversize        publishes 100 KiB messages and writes 5 MiB gossipsub frames
// The attackers run in a child process of their own, so that their work neither slows the logs
// (in this process) nor counts in the victims' memory (worker processes).
// Victims run with maxConnections GW_HB_MAX_CONN (default 32): 9 honest peers + 30 attackers exceed
// it, and the 30 attackers compete for the 23 unprotected slots. Reported per window: honest delivery ratio, fork -> evidence at every honest node (a
// pushed log equivocates toward one witness), and the victims' RSS growth.
// Port these attackers to whatever gossip protocol ships next and keep what they assert.
// GW_BENCH_GOSSIP_VERSION=2: victims and attackers speak gossip version 2 (docs/gossip.md); the
// replayers send log-signed checkpoints they fetched (sync "views") as exchange CHECKPOINT frames
// again and again (since 2026-12-07 the same text twice on one stream is a replay: penalised, the
// stream closed, 25 points each, banned at 100 as every penalty), and the oversize attackers
// send exchange frames over the 64 KiB limit.
import '../src/platform.js';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchWorker, deliveryOf, fmt, logLines, now, pct, randomLinks, ROOT, sleep, startTickers, stopWorkers, waitEvidence, witnessKeys, witnessLines, writeNodeConfig, type Tickers } from './lib/network.js';
import { fileURLToPath } from 'node:url';
import { peerIdFromString } from '@libp2p/peer-id';
import { generateKey } from '../src/note/keys.js';
import { formatSignatureLine } from '../src/note/note.js';
import { startLocalLog, type LocalLog } from '../src/logs/local-log/index.js';
import { CHECKPOINT_TOPIC } from '../src/gossip/wire.js';
import { decodeResponse } from '../src/gossip/sync.js';
import { EXCHANGE_PROTOCOL, FRAME, encodeFrame, encodeHello } from '../src/gossip/exchange.js';
import { parseNote } from '../src/note/note.js';
import type { ByteStream } from '../src/gossip/sync.js';
import { ask, attackerHost, dialAll, holdStreams, publish, setAttackerVersion, silentPeer, type Attacker, type AttackerKind } from '../test/gossip/attackers.js';

const N = 10;
const WORKERS = 2;
const L = Number(process.env.GW_HB_LOGS ?? 3);
const SECONDS = Number(process.env.GW_HB_SECONDS ?? 30);
const MAX_CONN = Number(process.env.GW_HB_MAX_CONN ?? 32);
const PER_KIND = 6;
/** Gossip wire version of victims (workers read the same variable) and attackers. */
const VERSION = Number(process.env.GW_BENCH_GOSSIP_VERSION ?? 1) === 2 ? 2 : 1;
const WARMUP_S = 10;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Starts the 30 attackers and their behaviour loops; returns a stop function and counters. */
async function startAttackers(addrs: string[]) {
  setAttackerVersion(VERSION);
  const kinds: AttackerKind[] = ['silent', 'stream-holding', 'slot-filling', 'replaying', 'oversize'];
  const all: Attacker[] = [];
  for (const kind of kinds) for (let i = 0; i < PER_KIND; i++) all.push(kind === 'silent' ? await silentPeer() : await attackerHost(kind));
  const counts = { streamsOpened: 0, replayed: 0, oversize: 0, connectedAtEnd: 0, byKind: {} as Record<string, number>, cpuCores: 0 };
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const seen: string[] = [];
  for (const a of all.filter((x) => x.kind === 'replaying')) {
    a.host.services.pubsub.addEventListener('message', (e) => {
      if (e.detail.topic === CHECKPOINT_TOPIC && seen.length < 2000) seen.push(new TextDecoder().decode(e.detail.data));
    });
  }
  const peers = addrs.map((a) => peerIdFromString(a.split('/p2p/')[1]));
  let stopped = false;
  const loops: Promise<void>[] = [];
  const every = (ms: number, f: () => Promise<void>) =>
    loops.push(
      (async () => {
        while (!stopped) {
          const t = Date.now();
          await f().catch(() => undefined);
          await sleep(Math.max(0, ms - (Date.now() - t)));
        }
      })(),
    );
  for (const a of all) every(2000, () => dialAll(a, addrs)); // every kind keeps (re)connecting
  for (const a of all.filter((x) => x.kind === 'stream-holding')) {
    every(2000, async () => {
      for (const p of peers) counts.streamsOpened += await holdStreams(a, p, 12);
    });
  }
  const junk = generateKey('junk.example');
  let k = 0;
  if (VERSION === 2) {
    // Log-signed checkpoints (text and the log's line, the first line of a views note), fetched from the victims.
    for (const a of all.filter((x) => x.kind === 'replaying')) {
      every(2000, async () => {
        const res = decodeResponse(await ask(a, peers[Math.floor(Math.random() * peers.length)], { type: 'views', origins: [] }));
        if (res.type !== 'views') return;
        for (const n of res.notes) {
          const p = parseNote(n);
          const line = n.slice(p.text.length + 1).split('\n')[0];
          if (seen.length < 2000) seen.push(p.text + '\n' + line + '\n');
        }
      });
      const streams = new Map<string, { send(b: Uint8Array): boolean }>();
      every(50, async () => {
        if (seen.length === 0) return;
        const p = peers[Math.floor(Math.random() * peers.length)];
        let st = streams.get(p.toString());
        if (!st) {
          const x = (await a.host.dialProtocol(p, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(2000) })) as unknown as { send(b: Uint8Array): boolean; addEventListener(t: string, f: () => void): void };
          x.send(encodeHello({ version: 2, logs: [], keys: [] }));
          x.addEventListener('close', () => streams.delete(p.toString()));
          streams.set(p.toString(), (st = x));
        }
        st.send(encodeFrame(FRAME.checkpoint, new TextEncoder().encode(seen[Math.floor(Math.random() * seen.length)])));
        counts.replayed++;
      });
    }
    for (const a of all.filter((x) => x.kind === 'oversize')) {
      every(1000, async () => {
        for (const p of peers) {
          try {
            const s = (await a.host.dialProtocol(p, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(2000) })) as unknown as ByteStream;
            s.send(encodeHello({ version: 2, logs: [], keys: [] }));
            s.send(Uint8Array.from([...varint(5 * 1024 * 1024), ...new Uint8Array(1024).fill(66)]));
            counts.oversize++;
          } catch {
            // refused (banned) or closed
          }
        }
      });
    }
  }
  for (const a of all.filter((x) => x.kind === 'replaying' && VERSION === 1)) {
    every(50, async () => {
      if (seen.length === 0) return;
      const old = seen[Math.floor(Math.random() * seen.length)];
      const line = formatSignatureLine(junk.name, junk.keyId, new Uint8Array(64).fill(++k % 251));
      await publish(a, CHECKPOINT_TOPIC, new TextEncoder().encode(old + line));
      counts.replayed++;
    });
  }
  for (const a of all.filter((x) => x.kind === 'oversize' && VERSION === 1)) {
    every(1000, async () => {
      await publish(a, CHECKPOINT_TOPIC, new Uint8Array(100 * 1024 + (++k % 1000)).fill(65));
      for (const p of peers) {
        try {
          const s = (await a.host.dialProtocol(p, '/meshsub/1.1.0', { signal: AbortSignal.timeout(2000) })) as unknown as ByteStream;
          s.send(Uint8Array.from([...varint(5 * 1024 * 1024), ...new Uint8Array(1024).fill(66)]));
          counts.oversize++;
        } catch {
          // refused (banned) or closed
        }
      }
    });
  }
  return {
    all,
    counts,
    async stop() {
      const cpu = process.cpuUsage(cpu0);
      counts.cpuCores = (cpu.user + cpu.system) / 1e3 / (Date.now() - t0);
      counts.connectedAtEnd = all.reduce((s, a) => s + a.host.getPeers().length, 0);
      for (const a of all) counts.byKind[a.kind] = (counts.byKind[a.kind] ?? 0) + a.host.getPeers().length;
      stopped = true;
      await Promise.allSettled(loops);
      await Promise.allSettled(all.map((a) => a.stop()));
    },
  };
}

interface WindowResult {
  /** CPU of this process (the logs) during the window, in cores. */
  logsCpu: number;
  pubs: number;
  ratio: number;
  p99: number;
  rssStart: number[];
  rss: number[];
  cpuCores: number;
  degreeMax: number;
  degreeMin: number;
  load: [number, number];
  evidence: number[];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-hostile-bench-'));
  const workers: BenchWorker[] = [];
  const logs: LocalLog[] = [];
  let tickers: Tickers | undefined;
  let attackers: AttackerProcess | undefined;
  try {
    console.log(`hostile-peer bench (gossip version ${VERSION}): ${N} nodes in ${WORKERS} worker processes, ${L} pushed logs at 1/s, windows of ${SECONDS} s, maxConnections ${MAX_CONN}, ${PER_KIND * 5} attackers`);
    const { keys, labels } = witnessKeys(N, 'hostile');
    // L logs under load plus one per fork (without / with attackers).
    const logKeys = Array.from({ length: L + 2 }, (_, i) => generateKey(`hostile.example/log${i}`));
    const configs: { index: number; configFile: string; ownLabel: string }[] = [];
    for (let i = 0; i < N; i++) {
      configs.push(
        writeNodeConfig(dir, i, {
          keys: [{ file: 'w.key', key: keys[i] }],
          ownLabel: labels[i],
          http: '127.0.0.1:0',
          logs: logLines(logKeys),
          witnesses: witnessLines(keys.filter((_, j) => j !== i).map((k) => k.cosignatureVkey)),
          p2p: `  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: 0s\n  maxConnections: ${MAX_CONN}\n  version: ${VERSION}\n`,
        }),
      );
    }
    // The same worker protocol as bench/gossip.bench.ts (bench/gossip-worker.ts).
    for (let k = 0; k < WORKERS; k++) workers.push(new BenchWorker({ execArgv: ['--import', 'tsx'] }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const started = await Promise.all(workers.map((w, k) => w.ask({ type: 'start', nodes: configs.filter((c) => c.index % WORKERS === k) }, 'started')));
    if (started.some((s) => s.type === 'error')) throw new Error('a worker failed to start its nodes');
    const urls: Record<number, string> = Object.assign({}, ...started.map((s) => s.urls));
    const addrs: Record<number, string> = Object.assign({}, ...started.map((s) => s.addrs));
    const links = randomLinks(N, (j) => addrs[j]);
    await Promise.all(workers.map((w, k) => w.ask({ type: 'connect', links: links.filter(([i]) => i % WORKERS === k) }, 'connected')));
    for (let i = 0; i < L + 2; i++) {
      logs.push(await startLocalLog({ origin: logKeys[i].name, key: logKeys[i], host: '127.0.0.1', port: 0, intervalMs: 0, witnesses: Array.from({ length: N }, (_, j) => ({ url: urls[j], vkey: keys[j].cosignatureVkey })) }));
    }
    tickers = await startTickers(logs.slice(0, L), { period: () => 1000, stagger: 1000 / L, tickAtOnce: false });
    // The two fork logs get a first checkpoint cosigned everywhere before their window.
    for (const log of logs.slice(L)) {
      await log.append(['first']);
      await log.publish();
    }
    await sleep(WARMUP_S * 1000);

    const window = async (label: string, forkLog: LocalLog, forkOrigin: string): Promise<WindowResult> => {
      const loadStart = loadavg()[0];
      const statsA = await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')));
      const ownCpu0 = process.cpuUsage();
      const from = now();
      await sleep(SECONDS * 1000);
      const to = now();
      const stats = await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')));
      const ownCpu = process.cpuUsage(ownCpu0);
      const cpuUs = stats.reduce((sum: number, b: any, k: number) => sum + (b.cpu.user - statsA[k].cpu.user) + (b.cpu.system - statsA[k].cpu.system), 0);
      const loadEnd = loadavg()[0];
      const reports = await Promise.all(workers.map((w) => w.ask({ type: 'report', from, to }, 'report', 300_000)));
      // A publication in the last 5 s of the window may still be on its way: those are left out.
      const { pubs, pairs, delivered, perDelivery: lat } = deliveryOf(reports, N, from, to, 5000);
      // Fork by push: the log shows branch b to the last witness.
      forkLog.forkAt(forkLog.size('a'));
      forkLog.setWitnessBranch(urls[N - 1], 'b');
      const t0 = now();
      await forkLog.append(['fork entry']);
      await forkLog.publish();
      const evidence = await waitEvidence(workers, forkOrigin, t0, N, 30_000, 200);
      const degrees = stats.flatMap((x: any) => x.degree as number[]);
      console.log(`  ${label}: ${pubs} publications, delivery ${fmt((100 * delivered) / Math.max(1, pairs), 2)} %, evidence at ${evidence.length}/${N} nodes, last ${fmt(Math.max(...evidence))} ms`);
      return { pubs, ratio: delivered / Math.max(1, pairs), p99: pct(lat, 99), rssStart: statsA.map((s: any) => s.rss), rss: stats.map((s: any) => s.rss), cpuCores: cpuUs / 1e6 / ((to - from) / 1000), logsCpu: (ownCpu.user + ownCpu.system) / 1e6 / ((to - from) / 1000), degreeMax: Math.max(...degrees), degreeMin: Math.min(...degrees), load: [loadStart, loadEnd], evidence };
    };

    const quiet = await window('without attackers', logs[L], logKeys[L].name);
    attackers = new AttackerProcess(Object.values(addrs));
    await attackers.started;
    await sleep(5000);
    const hostile = await window('with 30 attackers', logs[L + 1], logKeys[L + 1].name);
    const counts = await attackers.stop();
    attackers = undefined;
    // Memory after they left (issue 13 saw 272 MB of 336 still held six minutes later).
    await sleep(15_000);
    const after = (await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')))).map((x: any) => x.rss as number);

    const rssGrowth = hostile.rss.map((r, k) => (r - quiet.rss[k]) / 1e6);
    const evRow = (ev: number[]) => (ev.length === 0 ? 'none within 30 s' : `${ev.length}/${N} nodes; p50 ${fmt(pct(ev, 50))} ms, last ${fmt(Math.max(...ev))} ms`);
    const rows: [string, string, string][] = [
      ['machine load average (1 min), window start / end', `${fmt(quiet.load[0], 1)} / ${fmt(quiet.load[1], 1)}`, `${fmt(hostile.load[0], 1)} / ${fmt(hostile.load[1], 1)}`],
      ['cosigned-checkpoint publications in the window', `${quiet.pubs}`, `${hostile.pubs}`],
      ['honest delivery ratio (goal ≥ 99 %)', `${fmt(100 * quiet.ratio, 2)} %`, `${fmt(100 * hostile.ratio, 2)} %`],
      ['per-delivery latency p99', `${fmt(quiet.p99)} ms`, `${fmt(hostile.p99)} ms`],
      ['fork -> evidence at every honest node, push (goal < 2 s)', evRow(quiet.evidence), evRow(hostile.evidence)],
      ['CPU: honest nodes (both workers) / logs process / attackers process', `${fmt(quiet.cpuCores, 2)} / ${fmt(quiet.logsCpu, 2)} / — cores`, `${fmt(hostile.cpuCores, 2)} / ${fmt(hostile.logsCpu, 2)} / ${fmt(counts.cpuCores, 2)} cores`],
      ['worker RSS at window start → end (5 nodes each)', quiet.rss.map((r, k) => `${fmt(quiet.rssStart[k] / 1e6)} → ${fmt(r / 1e6)} MB`).join(', '), hostile.rss.map((r, k) => `${fmt(hostile.rssStart[k] / 1e6)} → ${fmt(r / 1e6)} MB`).join(', ')],
      ['victims\' RSS growth vs the end of the quiet window (goal ≤ 50 MB)', '—', `${rssGrowth.map((g) => `${fmt(g, 1)} MB`).join(', ')} per worker, i.e. ${fmt(Math.max(...rssGrowth) / (N / WORKERS), 1)} MB per node at most; 15 s after the attackers left: ${after.map((r) => `${fmt(r / 1e6)} MB`).join(', ')}`],
      ['connections per honest node min / max (maxConnections ' + MAX_CONN + ')', `${quiet.degreeMin} / ${quiet.degreeMax}`, `${hostile.degreeMin} / ${hostile.degreeMax}`],
    ];
    const md =
      `### Hostile peers (issue 13)\n\n\`node --import tsx bench/hostile-peers.bench.ts\` (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} CPU cores: ${cpus()[0]?.model ?? '?'}; the machine was shared with other work, see the load average).\n\n` +
      `${N} full witness nodes, ${N / WORKERS} per worker process, each tracking the other ${N - 1}; ${L} pushed logs at one checkpoint per second to all ${N}; p2p.maxConnections ${MAX_CONN}. ` +
      `Two ${SECONDS}-s windows, the second with ${PER_KIND * 5} attacker identities (${PER_KIND} each: silent, stream-holding, slot-filling, replaying, oversize) dialling every node. ` +
      `During the attack window the attackers opened ${counts.streamsOpened} held streams, replayed ${counts.replayed} messages and wrote ${counts.oversize} oversized frames; at the end they held ${counts.connectedAtEnd} connections to honest nodes in all (${Object.entries(counts.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}).\n\n` +
      `| metric | without attackers | with attackers |\n|---|---|---|\n${rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`).join('\n')}\n`;
    console.log('\n' + md);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, VERSION === 2 ? 'bench/results/hostile-peers-v2.md' : 'bench/results/hostile-peers.md'), md);
  } finally {
    tickers?.stop();
    await attackers?.stop();
    await stopWorkers(workers);
    await Promise.allSettled(logs.map((l) => l.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The attackers in a child process (this file run with --attackers). */
class AttackerProcess {
  private readonly child: ChildProcess;
  readonly started: Promise<void>;
  private counts: Promise<Awaited<ReturnType<typeof startAttackers>>['counts']>;
  constructor(addrs: string[]) {
    this.child = fork(fileURLToPath(import.meta.url), ['--attackers'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.started = new Promise((res) => this.child.once('message', () => res()));
    this.counts = new Promise((res) => this.child.on('message', (m: any) => m.type === 'counts' && res(m.counts)));
    this.child.send({ type: 'start', addrs });
  }
  async stop() {
    if (this.child.connected) this.child.send({ type: 'stop' });
    const none = { streamsOpened: NaN, replayed: NaN, oversize: NaN, connectedAtEnd: NaN, byKind: {} as Record<string, number>, cpuCores: NaN };
    const c = await Promise.race([this.counts, sleep(30_000).then(() => none)]);
    await new Promise<void>((res) => {
      if (this.child.exitCode !== null) return res();
      const t = setTimeout(() => (this.child.kill('SIGKILL'), res()), 15_000);
      this.child.once('exit', () => (clearTimeout(t), res()));
    });
    return c;
  }
}

async function attackerMain(): Promise<void> {
  let a: Awaited<ReturnType<typeof startAttackers>> | undefined;
  process.on('message', (m: any) => {
    void (async () => {
      if (m.type === 'start') {
        a = await startAttackers(m.addrs);
        process.send!({ type: 'started' });
      } else if (m.type === 'stop') {
        await a?.stop();
        process.send!({ type: 'counts', counts: a?.counts });
        process.exit(0);
      }
    })();
  });
}

if (process.argv.includes('--attackers')) await attackerMain();
else await main();
