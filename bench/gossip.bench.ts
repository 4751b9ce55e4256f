// Gossip network benchmark: `node --import tsx bench/gossip.bench.ts`
//
// Nodes are real witness nodes (startWitnessNode: witness core, memory store, HTTP server, libp2p
// gossip on 127.0.0.1), hosted GW_BENCH_NODES/GW_BENCH_WORKERS per worker PROCESS
// (bench/gossip-worker.ts); the logs run in this process (src/logs/local-log, in-process).
//   - GW_BENCH_LOGS logs (default 10) each append one entry and publish once per second, pushing
//     each checkpoint to the GW_BENCH_WITNESSES witnesses (default 20; every node tracks their keys);
//   - one more log is pulled over tlog-tiles by those witnesses every 10 s (the polling scenario).
// Measured over GW_BENCH_SECONDS (default 60) after a warm-up: for each cosigned checkpoint a
// witness publishes, when every other node first holds that cosignature; CPU (all workers) per
// published message; bytes read+written per node (from /proc/self/io: loopback sockets, the store
// is in memory); RSS per node. Then fork -> evidence at every node: the pushed log equivocates
// toward one witness (push), and the pulled log toward one witness (10 s polling).
// Writes bench/results/gossip.md.
import '../src/platform.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { generateKey } from '../src/note/keys.js';
import { generateMlDsa44Key } from '../src/note/mldsa-keys.js';
import { startLocalLog, type LocalLog } from '../src/logs/local-log/index.js';
import { branchProxy, freePort, FORK_HEADER } from '../src/launcher/launcher.js';
import { BenchWorker, LOADER_ARGS, deliveryOf, evidenceRow, fmt, logLines, now, pct, randomLinks, ROOT, sleep, startTickers, stopWorkers, waitEvidence, witnessKeys, witnessLines, writeNodeConfig, type Tickers } from './lib/network.js';

const N = Number(process.env.GW_BENCH_NODES ?? 50);
const L = Number(process.env.GW_BENCH_LOGS ?? 10);
const W = Number(process.env.GW_BENCH_WITNESSES ?? 20);
const WORKERS = Number(process.env.GW_BENCH_WORKERS ?? Math.max(1, Math.min(cpus().length, 8)));
const SECONDS = Number(process.env.GW_BENCH_SECONDS ?? 60);
const WARMUP_S = 10;
const POLL = process.env.GW_BENCH_POLL ?? '10s';
/** Each pushed log publishes a checkpoint every PERIOD_MS (default 1000). */
const PERIOD_MS = Number(process.env.GW_BENCH_PERIOD_MS ?? 1000);
const OUT = process.env.GW_BENCH_OUT ?? 'bench/results/gossip.md';
/**
 * Gossip wire version of every node (1 or 2; docs/gossip.md "Version 2"); default 2, the node's
 * default. Written into each node's config (p2p.version): before, an unset variable ran the
 * node's default (2) with version 1's mesh degree and reported "1".
 */
const VERSION = Number(process.env.GW_BENCH_GOSSIP_VERSION ?? 2);
if (VERSION !== 1 && VERSION !== 2) throw new Error(`GW_BENCH_GOSSIP_VERSION=${process.env.GW_BENCH_GOSSIP_VERSION}: must be 1 or 2`);
/** gossipsub mesh degree D of every node (p2p.meshDegree; default the node's: 3 with version 2, 6 with version 1). */
const MESH = Number(process.env.GW_BENCH_MESH_DEGREE ?? (VERSION === 2 ? 3 : 6));
/** GW_BENCH_MLDSA=1: every witness also has an ML-DSA-44 key (0x06 lines, announced, fetched on demand); every node tracks them. */
const MLDSA = process.env.GW_BENCH_MLDSA === '1';
/** Sizes used for the information minimum: a log-signed checkpoint note and one cosignature line (Ed25519). */
const NOTE_BYTES = 250;
const LINE_BYTES = 110;

interface Stats {
  cpu: { user: number; system: number };
  io: number;
  rss: number;
  heap: number;
  nodes: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gossip-bench-'));
  const workers: BenchWorker[] = [];
  const logs: LocalLog[] = [];
  const servers: Server[] = [];
  let tickers: Tickers | undefined;
  try {
    console.log(`gossip bench: ${N} nodes in ${WORKERS} worker processes, ${L} pushed logs at 1 checkpoint per ${PERIOD_MS} ms, ${W} witnesses, +1 log pulled every ${POLL}, ${SECONDS} s`);
    const { keys, labels } = witnessKeys(N, 'bench');
    const pqKeys = MLDSA ? Array.from({ length: W }, (_, i) => generateMlDsa44Key(`n${i}.bench`)) : [];
    const logKeys = Array.from({ length: L }, (_, i) => generateKey(`bench.example/log${i}`));
    const polledKey = generateKey('bench.example/polled');
    // The polled log and its branch-b proxy exist before the nodes (their configs name the URLs).
    const polled = await startLocalLog({ origin: 'bench.example/polled', key: polledKey, host: '127.0.0.1', port: 0, intervalMs: 0, forkHeader: FORK_HEADER });
    logs.push(polled);
    const proxyPort = await freePort();
    servers.push(await branchProxy(polled.url, 'b', proxyPort));
    const deceivedPoll = W - 2; // the witness the polled log deceives
    const deceivedPush = W - 1; // the witness a pushed log deceives

    const configs: { index: number; configFile: string; ownLabel: string }[] = [];
    for (let i = 0; i < N; i++) {
      const pullUrl = i === deceivedPoll ? `http://127.0.0.1:${proxyPort}/` : `${polled.url}/`;
      configs.push(
        writeNodeConfig(dir, i, {
          keys: [{ file: 'w.key', key: keys[i] }, ...(pqKeys[i] ? [{ file: 'pq.key', key: pqKeys[i] }] : [])],
          ownLabel: labels[i],
          http: '127.0.0.1:0',
          logs:
            logLines(logKeys) +
            `  - origin: "bench.example/polled"\n    vkeys: ["${polledKey.vkey}"]\n` +
            (i < W ? `    pull: { type: tiles, url: "${pullUrl}", interval: ${POLL}, timeout: 5s, maxBackoff: 10s }\n` : ''),
          witnesses: witnessLines([...keys.slice(0, W).filter((_, j) => j !== i).map((k) => k.cosignatureVkey), ...pqKeys.filter((_, j) => j !== i).map((k) => k.vkey)]),
          p2p: `  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: 0s\n  meshDegree: ${MESH}\n  version: ${VERSION}\n`,
        }),
      );
    }
    const execArgv = [...LOADER_ARGS, ...(process.env.GW_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.GW_BENCH_PROF] : [])];
    for (let k = 0; k < WORKERS; k++) workers.push(new BenchWorker({ execArgv }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const t0Start = now();
    const started = await Promise.all(workers.map((w, k) => w.ask({ type: 'start', nodes: configs.filter((c) => c.index % WORKERS === k) }, 'started')));
    if (started.some((s) => s.type === 'error')) throw new Error('a worker failed to start its nodes');
    const urls: Record<number, string> = Object.assign({}, ...started.map((s) => s.urls));
    const addrs: Record<number, string> = Object.assign({}, ...started.map((s) => s.addrs));
    // A random connected graph: node i dials up to 4 earlier nodes.
    const links = randomLinks(N, (j) => addrs[j]);
    const conn = await Promise.all(workers.map((w, k) => w.ask({ type: 'connect', links: links.filter(([i]) => i % WORKERS === k) }, 'connected')));
    const failed = conn.reduce((s, c) => s + (c.failed ?? 0), 0);
    if (failed > 0) console.log(`  ${failed} of ${links.length} dials failed, e.g. ${conn.find((c) => c.firstError)?.firstError}`);
    console.log(`  ${N} nodes started in ${fmt((now() - t0Start) / 1000, 1)} s`);

    for (let i = 0; i < L; i++) {
      logs.push(
        await startLocalLog({
          origin: logKeys[i].name,
          key: logKeys[i],
          host: '127.0.0.1',
          port: 0,
          intervalMs: 0,
          witnesses: Array.from({ length: W }, (_, j) => ({ url: urls[j], vkey: keys[j].cosignatureVkey })),
        }),
      );
    }
    const pushed = logs.slice(1);
    // Every log appends one entry and publishes once per period (the polled log once per second),
    // staggered over at most 5 s (a 10-minute period would otherwise take 10 minutes to start).
    tickers = await startTickers(logs, { period: (log) => (log === polled ? 1000 : PERIOD_MS), stagger: Math.min(PERIOD_MS, 5000) / logs.length, tickAtOnce: true });
    await sleep(WARMUP_S * 1000);
    const statsA: Stats[] = await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')));
    const degrees = statsA.flatMap((x: any) => x.degree as number[]);
    console.log(`  connections per node: min ${Math.min(...degrees)}, mean ${fmt(degrees.reduce((a, b) => a + b, 0) / degrees.length, 1)}, max ${Math.max(...degrees)}`);
    const loadStart = loadavg();
    const winStart = now();
    const monoStart = process.hrtime.bigint() / 1000n;
    await sleep(SECONDS * 1000);
    const winEnd = now();
    // The V8 profiles' timestamps are this monotonic clock (µs): a profile can be cut to the window.
    if (process.env.GW_BENCH_PROF) console.log(`  profile window (monotonic µs): ${monoStart} ${process.hrtime.bigint() / 1000n}`);
    const statsB: Stats[] = await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')));
    const loadEnd = loadavg();

    // Fork by push: log 0 shows branch b to one witness.
    const pushLog = pushed[0];
    const pushFork = { t0: 0 };
    {
      // Hold the ticker, after its own tick (if any) finished: forking at a size read while an append
      // was in flight forked below the witnesses' state, so the deceived witness refused branch b
      // and no evidence could ever appear (the "none within 30 s" of earlier runs).
      await tickers.hold(pushLog);
      const size = pushLog.size('a');
      pushLog.forkAt(size);
      pushLog.setWitnessBranch(urls[deceivedPush], 'b');
      pushFork.t0 = now();
      await pushLog.append(['fork entry']);
      await pushLog.publish();
      tickers.release(pushLog);
    }
    const pushEvidence = await waitEvidence(workers, logKeys[0].name, pushFork.t0, N, 30_000, 500);
    // Fork by polling: the polled log shows branch b to one witness (over the proxy).
    const pollFork = { t0: 0 };
    {
      await tickers.hold(polled);
      polled.forkAt(polled.size('a'));
      pollFork.t0 = now();
      await polled.append(['fork entry']);
      await polled.publish();
      tickers.release(polled);
    }
    const pollEvidence = await waitEvidence(workers, 'bench.example/polled', pollFork.t0, N, 45_000, 500);

    tickers.stop();
    // Delivery is counted once what was published in the window had time to arrive: until every
    // publication reached every node, or 15 s (the fork phases above may take less than a
    // publication's time to reach all nodes).
    const settleUntil = now() + 15_000;
    let reports: any[];
    for (;;) {
      reports = await Promise.all(workers.map((w) => w.ask({ type: 'report', from: winStart, to: winEnd }, 'report', 300_000)));
      const d = deliveryOf(reports, N, winStart, winEnd);
      if (d.delivered >= d.pairs || now() > settleUntil) break;
      await sleep(1000);
    }
    const { pubs, pairs, delivered, reachAll, perDelivery, texts } = deliveryOf(reports, N, winStart, winEnd);
    const statsEnd: Stats[] = await Promise.all(workers.map((w) => w.ask({ type: 'stats' }, 'stats')));
    const windowS = (winEnd - winStart) / 1000;
    // Information minimum per node: each checkpoint text once and each cosignature once (received).
    const minimumMBh = ((texts.size * NOTE_BYTES + pubs * LINE_BYTES) / windowS) * 3600 / 1e6;
    const cpuUs = statsB.reduce((s, b, k) => s + (b.cpu.user - statsA[k].cpu.user) + (b.cpu.system - statsA[k].cpu.system), 0);
    const ioBytes = statsB.reduce((s, b, k) => s + (b.io - statsA[k].io), 0);
    const exchangeOut = statsB.reduce((s, b: any, k) => s + ((b.exchangeOut ?? 0) - ((statsA[k] as any).exchangeOut ?? 0)), 0);
    const perH = (bytes: number) => fmt((bytes / N / windowS) * 3600 / 1e6, 1);
    const diff = (f: (x: any) => number) => statsB.reduce((s, b: any, k) => s + (f(b) ?? 0) - (f(statsA[k]) ?? 0), 0);
    const sock = (k: string) => diff((x) => x.sockets?.[k] ?? 0);
    const exchangeIn = diff((x) => x.exchangeIn ?? 0);
    const frameKinds = [...new Set(statsB.flatMap((b: any) => Object.keys(b.byFrame ?? {})))];
    const byFrame = frameKinds.map((f) => `${f} ${perH(2 * diff((x) => x.byFrame?.[f] ?? 0))}`).join(', ');
    const sockTotal = sock('p2p') + sock('httpIn') + sock('httpOut') + sock('other');
    const breakdown =
      `libp2p connections ${perH(sock('p2p'))} (exchange frames read+written ${perH(exchangeOut + exchangeIn)}: ${byFrame}, ${fmt(diff((x) => x.exchangeWrites ?? 0) / N / windowS, 1)} writes per node per s; items received ${fmt(diff((x) => x.itemsIn ?? 0) / N / windowS, 1)} per node per s, of which duplicates ${fmt(diff((x) => x.dupIn ?? 0) / N / windowS, 1)}; WANT entries ${fmt(diff((x) => x.wantOut ?? 0) / N / windowS, 1)} per node per s; items taken from lazy links ${fmt(diff((x) => x.lazyIn ?? 0) / N / windowS, 1)} per node per s; grafts / prunes in the window ${diff((x) => x.grafts ?? 0)} / ${diff((x) => x.prunes ?? 0)} (before it ${statsA.reduce((t: number, x: any) => t + (x.grafts ?? 0), 0)} / ${statsA.reduce((t: number, x: any) => t + (x.prunes ?? 0), 0)}); WANT wait at window end min / max ${fmt(Math.min(...statsB.flatMap((b: any) => b.wantDelayMs ?? [])))} / ${fmt(Math.max(...statsB.flatMap((b: any) => b.wantDelayMs ?? [])))} ms; the rest is libp2p upkeep, sync, gossipsub, yamux and Noise framing), ` +
      `HTTP served (the logs' add-checkpoint pushes) ${perH(sock('httpIn'))}, HTTP asked (tile polls) ${perH(sock('httpOut'))}, other sockets ${perH(sock('other'))}, not sockets (files, IPC, /proc) ${perH(ioBytes - sockTotal)} MB`;
    const rss = statsB.reduce((s, b) => s + b.rss, 0);
    const heap = statsB.reduce((s, b) => s + b.heap, 0);
    const rows: [string, string][] = [
      ['nodes / worker processes', `${N} / ${WORKERS} (CPU cores: ${cpus().length})`],
      ['machine load average (1 min) at window start / end', `${fmt(loadStart[0], 1)} / ${fmt(loadEnd[0], 1)}`],
      ['gossip wire version', `${VERSION}`],
      ['ML-DSA-44 witness keys (GW_BENCH_MLDSA)', MLDSA ? `yes: ${W} (0x06 lines announced, not pushed)` : 'no'],
      ['gossipsub mesh degree D', `${MESH}`],
      ['pushed logs × rate, witnesses', `${L} × 1 per ${PERIOD_MS / 1000} s, ${W}`],
      ['cosigned-checkpoint messages published (window)', `${pubs} in ${fmt(windowS, 1)} s (${fmt(pubs / windowS, 1)}/s)`],
      ['delivery ratio (publication × other node)', `${fmt((100 * delivered) / Math.max(1, pairs), 2)} %`],
      ['time to reach ALL nodes p50 / p99', `${fmt(pct(reachAll, 50))} / ${fmt(pct(reachAll, 99))} ms (of ${reachAll.length} fully delivered)`],
      ['per-delivery latency p50 / p99', `${fmt(pct(perDelivery, 50))} / ${fmt(pct(perDelivery, 99))} ms`],
      ['CPU per published message (all nodes)', `${fmt(cpuUs / 1000 / Math.max(1, pubs), 2)} ms (${fmt((cpuUs / 1000 / Math.max(1, delivered)) * 1000, 0)} µs per delivery)`],
      ['CPU per delivery excluding / spent in synchronous Ed25519 verification', `${fmt(((cpuUs - diff((x) => x.verifyUs ?? 0)) / Math.max(1, delivered)), 0)} / ${fmt(diff((x) => x.verifyUs ?? 0) / Math.max(1, delivered), 0)} µs (${fmt(diff((x) => x.verifyN ?? 0) / Math.max(1, delivered), 2)} verifications per delivery, ${fmt(diff((x) => x.verifyUs ?? 0) / Math.max(1, diff((x) => x.verifyN ?? 0)), 0)} µs each)`],
      ['CPU load (all workers)', `${fmt(cpuUs / 1e6 / windowS, 2)} cores`],
      ['bytes per node per hour (read+written)', `${fmt((ioBytes / N / windowS) * 3600 / 1e6, 0)} MB`],
      ...(VERSION === 2 ? [['of which exchange frames (written, ×2 for read+written)', `${fmt((2 * exchangeOut / N / windowS) * 3600 / 1e6, 0)} MB`] as [string, string]] : []),
      ['traffic by kind, MB per node per hour (the read+written bytes above, split)', breakdown],
      ['information minimum per node per hour (each checkpoint and cosignature received once) / ratio', `${fmt(minimumMBh, 1)} MB / ${fmt((ioBytes / N / windowS) * 3600 / 1e6 / minimumMBh, 1)}`],
      ['memory per node (RSS / heap)', `${fmt(rss / N / 1e6, 1)} / ${fmt(heap / N / 1e6, 1)} MB`],
      ['penalties and bans among these honest nodes (whole run, by reason; anything but "none" is a defect)', penaltiesRow(statsEnd)],
      ['fork -> evidence at every node, push', evidenceRow(pushEvidence, N)],
      [`fork -> evidence at every node, ${POLL} polling`, evidenceRow(pollEvidence, N)],
    ];
    const w1 = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([a, b]) => `  ${a.padEnd(w1)}  ${b}`).join('\n'));
    const md =
      `# Gossip benchmark\n\n\`node --import tsx bench/gossip.bench.ts\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPU cores: ${cpus()[0]?.model ?? '?'}).\n\n` +
      `Nodes are full witness nodes (witness core, memory store, HTTP server, libp2p gossip on 127.0.0.1) hosted ${Math.ceil(N / WORKERS)} per worker **process** (${WORKERS} processes); the logs (src/logs/local-log) run in the orchestrating process and push over HTTP. ` +
      `Every node tracks the ${W} witnesses' keys; the ${L} pushed logs each publish one checkpoint every ${PERIOD_MS} ms to those ${W} witnesses, each of which publishes one gossip message per checkpoint. ` +
      `Latencies are from the cosigning witness's publication to the first time another node holds that cosignature (any message carrying it counts). Bytes are /proc/self/io read+write of the workers (loopback TCP; the store is in memory), divided by the number of nodes. ` +
      `Every node has its own verification caches (one Ed25519 verification per signature line per checkpoint text per node); nodes sharing a worker share nothing but node:crypto's parsed public-key objects.\n\n` +
      `| metric | value |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`;
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(resolve(ROOT, OUT), md);
    console.log(`  wrote ${OUT}`);
  } finally {
    tickers?.stop();
    await stopWorkers(workers);
    await Promise.allSettled(logs.map((l) => l.stop()));
    await Promise.allSettled(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/** Penalties and bans the workers' nodes reported, summed by reason. */
function penaltiesRow(stats: any[]): string {
  const sum: Record<string, number> = {};
  for (const b of stats) for (const [k, v] of Object.entries((b.penalties ?? {}) as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
  const parts = Object.entries(sum).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}
