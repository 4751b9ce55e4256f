// A benchmark worker process: hosts several gossip witness nodes (memory stores, real libp2p on
// 127.0.0.1), driven over IPC by bench/gossip.bench.ts. Records, per node, when each
// (checkpoint text, cosigner) pair was first published / first seen, and when evidence arrived.
import '../src/platform.js';
import { readFileSync } from 'node:fs';
import { loadConfigAsync } from '../src/config.js';
import { startWitnessNode, type WitnessNode } from '../src/node/witness-node.js';
import { MemoryStore } from '../src/store/memory.js';
import type { GossipEvent } from '../src/gossip/service.js';
import { SocketTraffic } from './lib/traffic.js';
import { cryptoBackend, setCryptoBackend } from '../src/crypto/index.js';

// Time every synchronous Ed25519 verification (gossip's checks of log signatures, cosignatures and
// peer bindings run on the main thread), so the bench can report CPU per delivery with and without
// verification, and verifications per delivery (issue 15: "each signature verified at most once
// per node"). The witness core's add-checkpoint checks use the async path (thread pool): counted
// in the process's CPU, not here.
// Wall time from the vDSO clock (about 50 ns a call): process.cpuUsage() is a getrusage syscall
// that counts every thread of the process (GC helpers, the other node's thread pool), and calling
// it twice per verification cost 15 % of the bench's CPU and reported 274 µs per verification.
// A verification descheduled on a loaded machine counts its wait: an upper bound.
const verify = { n: 0, us: 0 };
{
  const inner = cryptoBackend();
  const timed = Object.create(inner) as typeof inner;
  Object.defineProperty(timed, 'ed25519Verify', {
    value: (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
      const t0 = performance.now();
      try {
        return inner.ed25519Verify(pub, msg, sig);
      } finally {
        verify.us += (performance.now() - t0) * 1000;
        verify.n++;
      }
    },
  });
  setCryptoBackend(timed);
}

type Msg =
  | { type: 'start'; nodes: { index: number; configFile: string; ownLabel: string }[] }
  | { type: 'stats' }
  | { type: 'report'; from?: number; to?: number }
  | { type: 'evidence' }
  | { type: 'connect'; links: [number, string][] }
  | { type: 'stop' };

/** GW_BENCH_GOSSIP_VERSION=2 overrides p2p.version with 2; otherwise each node's config decides (the benches write p2p.version). */
const VERSION = Number(process.env.GW_BENCH_GOSSIP_VERSION ?? 1);
const nodes = new Map<number, WitnessNode>();
const traffic = new SocketTraffic();
traffic.start();
const tcpPort = (addr: string) => Number(/\/tcp\/(\d+)/.exec(addr)?.[1] ?? NaN);
/** key "textHash label" -> publication time (at the cosigner's node). */
const published = new Map<string, number>();
/** key -> [node index, first-seen time][] */
const seen = new Map<string, [number, number][]>();
const evidence: [number, string, number][] = [];
const now = () => performance.timeOrigin + performance.now();

function onEvent(index: number, ownLabel: string, e: GossipEvent): void {
  if (e.type === 'checkpoint') {
    const t = now();
    for (const label of e.added) {
      const key = `${e.textHash} ${label}`;
      if (e.via === 'own' && label === ownLabel) published.set(key, t);
      else if (e.via !== 'own') {
        let l = seen.get(key);
        if (!l) seen.set(key, (l = []));
        l.push([index, t]);
      }
    }
  } else if (e.type === 'evidence' && e.isNew) evidence.push([index, e.origin, now()]);
  else if (e.type === 'penalised') penalties[e.reason] = (penalties[e.reason] ?? 0) + 1;
  else if (e.type === 'banned') penalties.banned = (penalties.banned ?? 0) + 1;
}
/** Penalties and bans by reason, over the whole run: every node here is honest, so any is a defect. */
const penalties: Record<string, number> = {};

function ioBytes(): number {
  try {
    const t = readFileSync('/proc/self/io', 'utf8');
    const r = Number(/rchar: (\d+)/.exec(t)?.[1] ?? 0);
    const w = Number(/wchar: (\d+)/.exec(t)?.[1] ?? 0);
    return r + w;
  } catch {
    return 0;
  }
}

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.type) {
      case 'start': {
        await Promise.all(
          m.nodes.map(async (n) => {
            const config = await loadConfigAsync(n.configFile);
            const node = await startWitnessNode(config, { store: new MemoryStore(), gossip: { onEvent: (e) => onEvent(n.index, n.ownLabel, e), ...(VERSION === 2 ? { version: 2 as const } : {}) } });
            nodes.set(n.index, node);
          }),
        );
        for (const n of nodes.values()) {
          traffic.httpPorts.add(Number(new URL(n.url).port));
          for (const a of n.gossip!.multiaddrs) traffic.p2pPorts.add(tcpPort(a));
        }
        process.send!({
          type: 'started',
          urls: Object.fromEntries([...nodes].map(([i, n]) => [i, n.url])),
          addrs: Object.fromEntries([...nodes].map(([i, n]) => [i, n.gossip!.multiaddrs[0]])),
        });
        break;
      }
      case 'connect': {
        // Keep the links up, like the node's bootstrap loop does for configured peers.
        const links = m.links;
        for (const [, addr] of links) traffic.p2pPorts.add(tcpPort(addr));
        const redial = setInterval(() => {
          for (const [i, addr] of links) {
            const node = nodes.get(i);
            const id = addr.split('/p2p/')[1];
            if (node && !node.gossip!.libp2p.getPeers().some((p) => p.toString() === id)) void node.gossip!.dial(addr).catch(() => {});
          }
        }, 2000);
        redial.unref();
        const results = await Promise.allSettled(m.links.map(([i, addr]) => nodes.get(i)!.gossip!.dial(addr)));
        const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason?.message ?? r));
        process.send!({ type: 'connected', failed: failed.length, firstError: failed[0] });
        break;
      }
      case 'stats': {
        const mem = process.memoryUsage();
        const degree = [...nodes.values()].map((n) => n.gossip!.libp2p.getPeers().length);
        const ex = [...nodes.values()].map((n) => n.gossip!.exchangeStats).filter((x) => x !== undefined);
        const exchangeOut = ex.reduce((t, x) => t + x.bytesOut, 0);
        const exchangeIn = ex.reduce((t, x) => t + x.bytesIn, 0);
        const exchangeWrites = ex.reduce((t, x) => t + x.writes, 0);
        const itemsIn = ex.reduce((t, x) => t + x.itemsIn, 0);
        const dupIn = ex.reduce((t, x) => t + x.dupIn, 0);
        const wantOut = ex.reduce((t, x) => t + x.wantOut, 0);
        const lazyIn = ex.reduce((t, x) => t + x.lazyIn, 0);
        const grafts = ex.reduce((t, x) => t + x.grafts, 0);
        const prunes = ex.reduce((t, x) => t + x.prunes, 0);
        const wantDelayMs = ex.map((x) => x.wantDelayMs);
        const byFrame: Record<string, number> = {};
        for (const x of ex) for (const [k, v] of Object.entries(x.bytesOutByFrame)) byFrame[k] = (byFrame[k] ?? 0) + v;
        process.send!({ type: 'stats', cpu: process.cpuUsage(), io: ioBytes(), rss: mem.rss, heap: mem.heapUsed, nodes: nodes.size, at: now(), degree, exchangeOut, exchangeIn, exchangeWrites, itemsIn, dupIn, wantOut, lazyIn, wantDelayMs, byFrame, sockets: traffic.totals(), verifyN: verify.n, verifyUs: verify.us, grafts, prunes, penalties });
        break;
      }
      case 'evidence':
        process.send!({ type: 'evidence', evidence });
        break;
      case 'report': {
        // Only what the measurement window needs: publications in [from, to], sightings after from.
        const from = m.from ?? 0;
        const to = m.to ?? Infinity;
        const pub = [...published].filter(([, t]) => t >= from && t <= to);
        const sn = [...seen].map(([k, l]) => [k, l.filter(([, t]) => t >= from)] as const).filter(([, l]) => l.length > 0);
        process.send!({ type: 'report', published: pub, seen: sn, evidence });
        break;
      }
      case 'stop':
        await Promise.allSettled([...nodes.values()].map((n) => n.close()));
        process.send!({ type: 'stopped' });
        process.exit(0);
    }
  })().catch((e) => {
    process.send!({ type: 'error', message: String((e as Error).stack ?? e) });
  });
});
process.send!({ type: 'ready' });
