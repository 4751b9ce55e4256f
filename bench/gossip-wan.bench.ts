// Gossip over WAN-like links: `node --import tsx/esm bench/gossip-wan.bench.ts` (root; Linux).
//
// Every node is a full witness node (bench/gossip-worker.ts, one node per worker PROCESS) in its
// own network namespace; every gossip link has a round-trip time in GW_BENCH_RTT_MS (default
// 40-150) and GW_BENCH_LOSS_PCT packet loss per direction (default 1), made by scripts/wan-netns.ts
// (a delaying TCP relay per node in this process, nftables loss; docs/gossip.md "Real networks").
// The logs run in this process and push to the witnesses over HTTP without delay or loss.
// Load as bench/gossip.bench.ts: GW_BENCH_LOGS logs (default 10) publish one checkpoint every
// GW_BENCH_PERIOD_MS (default 4000) each, pushed to GW_BENCH_WITNESSES witnesses (default 20), every
// node tracks their keys. Run once per gossip version in GW_BENCH_GOSSIP_VERSION (default "1,2",
// written as p2p.version). Measured over GW_BENCH_SECONDS (default 60) after a warm-up: delivery,
// time to reach all nodes, bytes per node (gossip bytes at the relays; /proc/self/io of the node's
// process, which adds the logs' HTTP pushes); then fork -> evidence at every node (push).
// Writes bench/results/gossip-wan.md (GW_BENCH_OUT).
import '../src/platform.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateKey } from '../src/note/keys.js';
import { startLocalLog, type LocalLog } from '../src/logs/local-log/index.js';
import { BenchWorker, deliveryOf, evidenceRow, fmt, logLines, now, pct, randomLinks, ROOT, sleep, startTickers, stopWorkers, waitEvidence, witnessKeys, witnessLines, writeNodeConfig, type Tickers } from './lib/network.js';
import { accessDelays, extremePair, parseRttRange, probeLink, startWan, wanUnavailable, type Wan } from '../scripts/wan-netns.js';

function intEnv(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${v}: must be an integer in ${min}..${max}`);
  return n;
}
function numEnv(name: string, dflt: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name}=${v}: must be a number in ${min}..${max}`);
  return n;
}

const N = intEnv('GW_BENCH_NODES', 20, 2, 80);
const L = intEnv('GW_BENCH_LOGS', 10, 1, 100);
const W = intEnv('GW_BENCH_WITNESSES', Math.min(20, N), 2, N);
const SECONDS = intEnv('GW_BENCH_SECONDS', 60, 5, 3600);
const WARMUP_S = intEnv('GW_BENCH_WARMUP_S', 15, 0, 600);
const PERIOD_MS = intEnv('GW_BENCH_PERIOD_MS', 4000, 100, 600_000);
const [RTT_MIN, RTT_MAX] = parseRttRange(process.env.GW_BENCH_RTT_MS ?? '40-150');
const LOSS = numEnv('GW_BENCH_LOSS_PCT', 1, 0, 50);
const RATE = process.env.GW_BENCH_RATE_MBIT ? numEnv('GW_BENCH_RATE_MBIT', 0, 0.1, 10_000) : undefined;
const MESH = process.env.GW_BENCH_MESH_DEGREE ? intEnv('GW_BENCH_MESH_DEGREE', 0, 1, 20) : undefined;
const VERSIONS = (process.env.GW_BENCH_GOSSIP_VERSION ?? '1,2').split(',').map((v) => {
  if (v.trim() !== '1' && v.trim() !== '2') throw new Error(`GW_BENCH_GOSSIP_VERSION=${process.env.GW_BENCH_GOSSIP_VERSION}: a comma-separated list of 1 and 2`);
  return Number(v) as 1 | 2;
});
const OUT = process.env.GW_BENCH_OUT ?? 'bench/results/gossip-wan.md';
const P2P_PORT = 4001;
/** Nice value of this process (the relays) once the nodes run; GW_BENCH_RELAY_NICE, default -10. */
const RELAY_NICE = intEnv('GW_BENCH_RELAY_NICE', -10, -20, 19);
const NOTE_BYTES = 250;
const LINE_BYTES = 110;

async function runVersion(version: 1 | 2, rtt: (i: number, j: number) => number): Promise<[string, string][]> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gossip-wan-'));
  const workers: BenchWorker[] = [];
  const logs: LocalLog[] = [];
  let tickers: Tickers | undefined;
  let wan: Wan | undefined;
  const lag = monitorEventLoopDelay({ resolution: 5 });
  try {
    wan = await startWan({ count: N, rttMs: rtt, lossPct: LOSS, p2pPort: P2P_PORT, ...(RATE !== undefined ? { rateMbit: RATE } : {}) });
    const w = wan;
    const far = extremePair(N, rtt, true);
    const near = extremePair(N, rtt, false);
    const probeFar = await probeLink(w, far[0], far[1], P2P_PORT);
    const probeNear = await probeLink(w, near[0], near[1], P2P_PORT);
    console.log(`gossip-wan bench, version ${version}: ${N} nodes in ${N} namespaces, RTT ${RTT_MIN}-${RTT_MAX} ms (probed ${fmt(probeNear.rttMs, 1)} / ${fmt(probeFar.rttMs, 1)} ms), ${LOSS} % loss, ${L} logs × 1 per ${PERIOD_MS} ms, ${W} witnesses, ${SECONDS} s`);
    const { keys, labels } = witnessKeys(N, 'bench');
    const logKeys = Array.from({ length: L }, (_, i) => generateKey(`bench.example/wan-log${i}`));
    const configs: { index: number; configFile: string; ownLabel: string }[] = [];
    for (let i = 0; i < N; i++) {
      configs.push(
        writeNodeConfig(dir, i, {
          keys: [{ file: 'w.key', key: keys[i] }],
          ownLabel: labels[i],
          http: `${w.addr(i)}:0`,
          logs: logLines(logKeys),
          witnesses: witnessLines(keys.slice(0, W).filter((_, j) => j !== i).map((k) => k.cosignatureVkey)),
          p2p:
            `  listen: [/ip4/${w.addr(i)}/tcp/${P2P_PORT}]\n  announce: [/ip4/${w.relayAddr(i)}/tcp/${P2P_PORT}]\n  allowLoopback: false\n  startupSync: 0s\n  version: ${version}\n` +
            (MESH !== undefined ? `  meshDegree: ${MESH}\n` : ''),
        }),
      );
    }
    const t0Start = now();
    // Start in batches: twenty processes loading at once on a small shared machine is slow.
    for (let b = 0; b < N; b += 5) {
      // One node per process, started inside its namespace: `ip netns exec NS node ...` keeps the IPC fd.
      const batch = Array.from({ length: Math.min(5, N - b) }, (_, k) => new BenchWorker({ prefix: w.prefix(b + k), env: { ...process.env, GW_BENCH_GOSSIP_VERSION: String(version) }, timeoutMs: 180_000 }));
      workers.push(...batch);
      await Promise.all(batch.map((x) => x.next('ready')));
    }
    const started = await Promise.all(workers.map((x, i) => x.ask({ type: 'start', nodes: [configs[i]] }, 'started')));
    if (started.some((s) => s.type === 'error')) throw new Error('a worker failed to start its node');
    const urls: Record<number, string> = Object.assign({}, ...started.map((s) => s.urls));
    const peerIds: Record<number, string> = Object.fromEntries(started.map((s, i) => [i, String(s.addrs[i]).split('/p2p/')[1]]));
    // A random connected graph, as bench/gossip.bench.ts: node i dials up to 4 earlier nodes, at their relay addresses.
    const links = randomLinks(N, (j) => `/ip4/${w.relayAddr(j)}/tcp/${P2P_PORT}/p2p/${peerIds[j]}`);
    const conn = await Promise.all(workers.map((x, i) => x.ask({ type: 'connect', links: links.filter(([k]) => k === i) }, 'connected')));
    const failed = conn.reduce((s, c) => s + (c.failed ?? 0), 0);
    if (failed > 0) console.log(`  ${failed} of ${links.length} dials failed, e.g. ${conn.find((c) => c.firstError)?.firstError}`);
    console.log(`  ${N} nodes started in ${fmt((now() - t0Start) / 1000, 1)} s`);
    // The relays stand for the network: on a loaded machine their event loop must not wait behind the
    // nodes. Raised only now, after the workers were forked (children inherit it); reported below.
    try {
      setPriority(RELAY_NICE);
    } catch {
      // not permitted: the row says so
    }

    for (let i = 0; i < L; i++) {
      logs.push(
        await startLocalLog({
          origin: logKeys[i].name,
          key: logKeys[i],
          host: w.hostAddr,
          port: 0,
          intervalMs: 0,
          witnesses: Array.from({ length: W }, (_, j) => ({ url: urls[j], vkey: keys[j].cosignatureVkey })),
        }),
      );
    }
    tickers = await startTickers(logs, { period: () => PERIOD_MS, stagger: PERIOD_MS / logs.length, tickAtOnce: true });
    await sleep(WARMUP_S * 1000);
    const statsA = await Promise.all(workers.map((x) => x.ask({ type: 'stats' }, 'stats')));
    const degrees = statsA.flatMap((x: any) => x.degree as number[]);
    console.log(`  connections per node: min ${Math.min(...degrees)}, mean ${fmt(degrees.reduce((a, b) => a + b, 0) / degrees.length, 1)}, max ${Math.max(...degrees)}`);
    const relayA = Array.from({ length: N }, (_, i) => w.bytes(i));
    const cpuA = process.cpuUsage();
    const loadStart = loadavg();
    lag.enable();
    const winStart = now();
    await sleep(SECONDS * 1000);
    const winEnd = now();
    lag.disable();
    const cpuMain = process.cpuUsage(cpuA);
    const relayB = Array.from({ length: N }, (_, i) => w.bytes(i));
    const statsB = await Promise.all(workers.map((x) => x.ask({ type: 'stats' }, 'stats')));
    const loadEnd = loadavg();

    // Fork by push: log 0 shows branch b to one witness (the last tracked one).
    const pushLog = logs[0];
    await tickers.hold(pushLog);
    pushLog.forkAt(pushLog.size('a'));
    pushLog.setWitnessBranch(urls[W - 1], 'b');
    const forkT0 = now();
    await pushLog.append(['fork entry']);
    await pushLog.publish();
    tickers.release(pushLog);
    const evidence = await waitEvidence(workers, logKeys[0].name, forkT0, N, 30_000, 250);
    tickers.stop();

    const reports = await Promise.all(workers.map((x) => x.ask({ type: 'report', from: winStart, to: winEnd }, 'report', 300_000)));
    const { pubs, pairs, delivered, reachAll, perDelivery, texts } = deliveryOf(reports, N, winStart, winEnd);
    const windowS = (winEnd - winStart) / 1000;
    const minimumMBh = (((texts.size * NOTE_BYTES + pubs * LINE_BYTES) / windowS) * 3600) / 1e6;
    const perHour = (bytes: number) => ((bytes / N / windowS) * 3600) / 1e6;
    const relayBytes = relayB.reduce((s, b, i) => s + b - relayA[i], 0);
    const relayPerNode = relayB.map((b, i) => ((b - relayA[i]) / windowS) * 3600 / 1e6);
    const ioBytes = statsB.reduce((s: number, b: any, k) => s + (b.io - statsA[k].io), 0);
    const cpuUs = statsB.reduce((s: number, b: any, k) => s + (b.cpu.user - statsA[k].cpu.user) + (b.cpu.system - statsA[k].cpu.system), 0);
    const rows: [string, string][] = [
      ['gossip wire version', `${version}${MESH !== undefined ? ` (mesh degree ${MESH})` : ' (its default mesh degree)'}`],
      ['nodes (one process and one network namespace each)', `${N} (CPU cores: ${cpus().length})`],
      ['machine load average (1 min) at window start / end', `${fmt(loadStart[0], 1)} / ${fmt(loadEnd[0], 1)}`],
      ['link RTT configured / probed (fastest, slowest pair)', `${RTT_MIN}-${RTT_MAX} ms / ${fmt(probeNear.rttMs, 1)}, ${fmt(probeFar.rttMs, 1)} ms`],
      ['packet loss per direction; upload limit', `${LOSS} %; ${RATE !== undefined ? `${RATE} Mbit/s (tbf)` : 'none'}`],
      ['relay event-loop delay p50 / p99 (adds to every hop; relay process nice value)', `${fmt(lag.percentile(50) / 1e6, 1)} / ${fmt(lag.percentile(99) / 1e6, 1)} ms (nice ${getPriority()})`],
      ['connections per node at window start', `min ${Math.min(...degrees)}, mean ${fmt(degrees.reduce((a, b) => a + b, 0) / degrees.length, 1)}, max ${Math.max(...degrees)}`],
      ['pushed logs × rate, witnesses', `${L} × 1 per ${PERIOD_MS / 1000} s, ${W}`],
      ['cosigned-checkpoint messages published (window)', `${pubs} in ${fmt(windowS, 1)} s (${fmt(pubs / windowS, 1)}/s)`],
      ['delivery ratio (publication × other node)', `${fmt((100 * delivered) / Math.max(1, pairs), 2)} %`],
      ['time to reach ALL nodes p50 / p99', `${fmt(pct(reachAll, 50))} / ${fmt(pct(reachAll, 99))} ms (of ${reachAll.length} fully delivered)`],
      ['per-delivery latency p50 / p99', `${fmt(pct(perDelivery, 50))} / ${fmt(pct(perDelivery, 99))} ms`],
      ['bytes per node per hour (gossip links, sent+received, at the relays)', `${fmt(perHour(relayBytes), 1)} MB (min ${fmt(Math.min(...relayPerNode), 1)}, max ${fmt(Math.max(...relayPerNode), 1)})`],
      ['bytes per node per hour (read+written, /proc/self/io: gossip + HTTP from the logs)', `${fmt(perHour(ioBytes), 1)} MB`],
      ['information minimum per node per hour / ratio (gossip bytes)', `${fmt(minimumMBh, 1)} MB / ${fmt(perHour(relayBytes) / minimumMBh, 1)}`],
      ['CPU: nodes / relay process', `${fmt(cpuUs / 1e6 / windowS, 2)} / ${fmt((cpuMain.user + cpuMain.system) / 1e6 / windowS, 2)} cores (${fmt(cpuUs / Math.max(1, delivered), 0)} µs per delivery)`],
      ['fork -> evidence at every node, push', evidenceRow(evidence, N)],
    ];
    const w1 = Math.max(...rows.map((r) => r[0].length));
    console.log(rows.map(([a, b]) => `  ${a.padEnd(w1)}  ${b}`).join('\n'));
    return rows;
  } finally {
    tickers?.stop();
    lag.disable();
    try {
      setPriority(0);
    } catch {
      // lowering back needs no privilege beyond what raised it; ignore if refused
    }
    await stopWorkers(workers);
    await Promise.allSettled(logs.map((l) => l.stop()));
    await wan?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const why = wanUnavailable();
  if (why) throw new Error(`gossip-wan bench needs network namespaces: ${why}`);
  const d = accessDelays(N, RTT_MIN, RTT_MAX, 7);
  const rtt = (i: number, j: number) => 2 * (d[i] + d[j]);
  const results: { version: 1 | 2; rows: [string, string][] }[] = [];
  for (const v of VERSIONS) results.push({ version: v, rows: await runVersion(v, rtt) });
  const names = results[0].rows.map((r) => r[0]);
  const md =
    `# Gossip over WAN links (network namespaces)\n\n` +
    `\`GW_BENCH_NODES=${N} GW_BENCH_LOGS=${L} GW_BENCH_WITNESSES=${W} GW_BENCH_PERIOD_MS=${PERIOD_MS} GW_BENCH_SECONDS=${SECONDS} GW_BENCH_RTT_MS=${RTT_MIN}-${RTT_MAX} GW_BENCH_LOSS_PCT=${LOSS}` +
    `${RATE !== undefined ? ` GW_BENCH_RATE_MBIT=${RATE}` : ''} GW_BENCH_GOSSIP_VERSION=${VERSIONS.join(',')} node --import tsx/esm bench/gossip-wan.bench.ts\` ` +
    `(${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} CPU cores: ${cpus()[0]?.model ?? '?'}).\n\n` +
    `Each node is a full witness node (bench/gossip-worker.ts: witness core, memory store, HTTP, libp2p) in its own process and network namespace. ` +
    `Gossip links go through scripts/wan-netns.ts: a TCP relay per node (in the bench process) holds each chunk for RTT/2 per direction, ` +
    `with RTT(i, j) = 2 (d_i + d_j) from per-node access delays d spread over the range (two nodes at each end); nftables drops the given share of packets per direction. ` +
    `What this does not model is in docs/gossip.md, "Real networks". The logs push over HTTP without delay or loss. ` +
    `Bytes "at the relays" are the libp2p bytes each node sent and received; the /proc/self/io row also counts the logs' HTTP pushes (comparable to bench/gossip.bench.ts's row). ` +
    `One run per version, one after the other, on a machine shared with other work (load average in the table).\n\n` +
    `| metric | ${results.map((r) => `version ${r.version}`).join(' | ')} |\n|---|${results.map(() => '---').join('|')}|\n` +
    names.map((name, k) => `| ${name} | ${results.map((r) => r.rows[k]?.[1] ?? '').join(' | ')} |`).join('\n') +
    '\n';
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(resolve(ROOT, OUT), md);
  console.log(`  wrote ${OUT}`);
}

await main();
