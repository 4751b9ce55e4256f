// WAN conditions between gossip nodes, each in its own Linux network namespace (docs/gossip.md,
// "Real networks"). Used by test/gossip/wan.test.ts and bench/gossip-wan.bench.ts.
//
// Layout (10.232.X.0/24, X from this process's id): a bridge in this namespace holds .1 (the logs
// and the test talk HTTP to the nodes from there, without delay or loss) and one relay address
// .(100+i) per node; node i's namespace holds .(10+i) on a veth attached to the bridge.
//   - Delay: node i listens for libp2p on .(10+i):PORT but announces .(100+i):PORT, where a TCP
//     relay in this process forwards to it. The relay knows the dialer from its source address
//     and holds every chunk for rtt(i, j)/2 in each direction; it dials the node from the dialer's
//     own relay address, so every peer keeps a distinct address (gossipsub's IP colocation
//     penalty) and each link carries exactly one delay and one loss point per direction.
//   - Loss: nftables in each namespace drops `lossPct` % of the packets that arrive from relay
//     addresses (`numgen random`); the kernel here has no netem qdisc.
//   - Direct dials to PORT from anything but a relay are refused (TCP reset), so no link bypasses
//     the relay.
//   - Bandwidth (optional): a tbf qdisc on each node's veth limits what it sends.
// Not modelled: jitter and reordering; the TCP handshake's round trip (the dialer's connect
// completes at the relay); loss recovery happens on a sub-millisecond leg (TCP retransmits there,
// then the relay adds the delay), so a lost packet costs less than on a real 100 ms path;
// congestion and flow control on the long path (the relay buffers, up to 4 MiB per direction).
import { execFileSync, spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface WanOptions {
  /** Number of nodes (namespaces), 1..80. */
  readonly count: number;
  /** Round-trip time in ms between node i and node j (i != j), applied by the relay. */
  readonly rttMs: (i: number, j: number) => number;
  /** Packet loss in percent per direction of every gossip link (0..100). */
  readonly lossPct: number;
  /** The libp2p TCP port every node listens on (its namespace's own; relays use the same port). */
  readonly p2pPort: number;
  /** Optional upload limit of every node in Mbit/s (tbf on its veth). */
  readonly rateMbit?: number;
}

export interface Wan {
  /** The prefix of every namespace and link name it creates. */
  readonly tag: string;
  /** The bridge's address in this namespace (where logs listen). */
  readonly hostAddr: string;
  /** Node i's own address (HTTP and libp2p listen here). */
  addr(i: number): string;
  /** The relay address node i announces and peers dial. */
  relayAddr(i: number): string;
  /** The command prefix that runs a program in node i's namespace. */
  prefix(i: number): string[];
  /** Bytes node i sent plus received over gossip links (counted at the relays). */
  bytes(i: number): number;
  /** Relayed connections open now. */
  connections(): number;
  /** The one-way delay the relay applies between i and j. */
  oneWayMs(i: number, j: number): number;
  /** Stops the relays and removes every namespace, link, bridge and rule created. */
  close(): Promise<void>;
}

const MAX_NODES = 80;
const MAX_QUEUED = 4 * 1024 * 1024;

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

/** Why namespaces with loss cannot be built here, or undefined when they can. */
export function wanUnavailable(): string | undefined {
  if (process.env.GW_SKIP_NETNS) return 'GW_SKIP_NETNS is set';
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN)';
  try {
    run('ip', ['netns', 'list']);
  } catch (e) {
    return `ip netns does not work: ${(e as Error).message.split('\n')[0]}`;
  }
  try {
    run('nft', ['--version']);
  } catch {
    return 'nft (Debian package nftables) is missing; .ci/install-netns.sh installs it';
  }
  return undefined;
}

/**
 * One-way access delays d_i (ms) of n nodes, so that rtt(i, j) = 2 (d_i + d_j) spans [minRtt,
 * maxRtt]: two nodes at minRtt/4, two at maxRtt/4 (so both ends are met), the rest evenly between,
 * in a seeded shuffled order. Like hosts at various distances from a common backbone (the triangle
 * inequality holds, unlike independent random pair delays).
 */
export function accessDelays(n: number, minRtt: number, maxRtt: number, seed = 1): number[] {
  if (!(minRtt > 0 && maxRtt >= minRtt)) throw new Error(`RTT range ${minRtt}-${maxRtt} ms: need 0 < min <= max`);
  if (!Number.isInteger(n) || n < 2) throw new Error(`access delays for ${n} nodes: need at least 2`);
  const lo = minRtt / 4;
  const hi = maxRtt / 4;
  const inner = n - 4;
  const d = n < 4 ? [lo, hi, hi].slice(0, n - 1).concat(lo).sort((a, b) => a - b) : [lo, lo, ...Array.from({ length: inner }, (_, k) => lo + ((k + 1) / (inner + 1)) * (hi - lo)), hi, hi];
  let s = seed >>> 0 || 1;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let k = d.length - 1; k > 0; k--) {
    const m = Math.floor(rnd() * (k + 1));
    [d[k], d[m]] = [d[m], d[k]];
  }
  return d;
}

/** The pair (i, j), i < j, with the largest (or smallest) rtt. */
export function extremePair(n: number, rtt: (i: number, j: number) => number, largest: boolean): [number, number] {
  let best: [number, number] = [0, 1];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (largest ? rtt(i, j) > rtt(...best) : rtt(i, j) < rtt(...best)) best = [i, j];
  return best;
}

/** Parses "40-150" (ms). */
export function parseRttRange(s: string): [number, number] {
  const m = /^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!m) throw new Error(`RTT range "${s}": expected MIN-MAX in ms, e.g. 40-150`);
  const r: [number, number] = [Number(m[1]), Number(m[2])];
  if (!(r[0] > 0 && r[1] >= r[0])) throw new Error(`RTT range "${s}": need 0 < MIN <= MAX`);
  return r;
}

/** Sends what `from` reads to `to` after delayMs, in order; counts bytes; ends `to` when `from` ends. */
function delayedPipe(from: Socket, to: Socket, delayMs: number, count: (n: number) => void): void {
  const q: { at: number; buf?: Buffer }[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer || q.length === 0) return;
    timer = setTimeout(flush, Math.max(0, q[0].at - performance.now()));
  };
  const flush = () => {
    timer = undefined;
    const t = performance.now();
    while (q.length > 0 && q[0].at <= t + 0.5) {
      const { buf } = q.shift()!;
      if (!buf) {
        to.end();
        return;
      }
      queued -= buf.length;
      if (!to.destroyed) to.write(buf);
    }
    if (queued < MAX_QUEUED && from.isPaused()) from.resume();
    arm();
  };
  from.on('data', (b: Buffer) => {
    count(b.length);
    q.push({ at: performance.now() + delayMs, buf: b });
    queued += b.length;
    if (queued >= MAX_QUEUED) from.pause();
    arm();
  });
  from.on('end', () => {
    q.push({ at: performance.now() + delayMs });
    arm();
  });
  from.on('close', () => {
    // An abort (reset) is not delayed: the peer learns it at once, as a reset would be fast anyway.
    if (!from.readableEnded) {
      if (timer) clearTimeout(timer);
      to.destroy();
    }
  });
}

export async function startWan(opts: WanOptions): Promise<Wan> {
  const { count, p2pPort } = opts;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new Error(`WAN: count ${count}: must be 1..${MAX_NODES}`);
  if (!(opts.lossPct >= 0 && opts.lossPct <= 100)) throw new Error(`WAN: loss ${opts.lossPct} %: must be 0..100`);
  if (!Number.isInteger(p2pPort) || p2pPort < 1 || p2pPort > 65535) throw new Error(`WAN: port ${p2pPort}: must be 1..65535`);
  const why = wanUnavailable();
  if (why) throw new Error(`WAN: cannot build network namespaces: ${why}`);
  const id = process.pid % 100_000;
  const subnet = `10.232.${process.pid % 250}`;
  // Every name starts with tag (interface names are at most 15 characters).
  const tag = `gww${id}-`;
  const bridge = `${tag}b`;
  const ns = (i: number) => `${tag}n${i}`;
  const veth = (i: number) => `${tag}v${i}`;
  const addr = (i: number) => `${subnet}.${10 + i}`;
  const relayAddr = (i: number) => `${subnet}.${100 + i}`;
  const cleanup: (() => void)[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const bytes = new Array<number>(count).fill(0);
  const oneWayMs = (i: number, j: number) => opts.rttMs(i, j) / 2;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await Promise.allSettled(servers.map((s) => new Promise((r) => s.close(r))));
    const errors: string[] = [];
    for (const c of cleanup.reverse()) {
      try {
        c();
      } catch (e) {
        errors.push((e as Error).message.split('\n')[0]);
      }
    }
    cleanup.length = 0;
    if (errors.length > 0) throw new Error(`WAN cleanup: ${errors.join('; ')}`);
  };
  try {
    run('ip', ['link', 'add', bridge, 'type', 'bridge']);
    cleanup.push(() => run('ip', ['link', 'del', bridge]));
    run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    for (let i = 0; i < count; i++) run('ip', ['addr', 'add', `${relayAddr(i)}/32`, 'dev', bridge]);
    run('ip', ['link', 'set', bridge, 'up']);
    const rate = opts.rateMbit;
    const lossRule = opts.lossPct > 0 ? `ip saddr ${relayAddr(0)}-${relayAddr(count - 1)} numgen random mod 100000 < ${Math.round(opts.lossPct * 1000)} drop\n` : '';
    for (let i = 0; i < count; i++) {
      run('ip', ['netns', 'add', ns(i)]);
      cleanup.push(() => run('ip', ['netns', 'del', ns(i)]));
      run('ip', ['link', 'add', veth(i), 'type', 'veth', 'peer', 'name', `${veth(i)}p`]);
      cleanup.push(() => {
        try {
          run('ip', ['link', 'del', veth(i)]);
        } catch {
          // gone with its namespace
        }
      });
      run('ip', ['link', 'set', `${veth(i)}p`, 'netns', ns(i)]);
      run('ip', ['link', 'set', veth(i), 'master', bridge]);
      run('ip', ['link', 'set', veth(i), 'up']);
      const inNs = ['netns', 'exec', ns(i)];
      run('ip', [...inNs, 'ip', 'addr', 'add', `${addr(i)}/24`, 'dev', `${veth(i)}p`]);
      run('ip', [...inNs, 'ip', 'link', 'set', `${veth(i)}p`, 'up']);
      run('ip', [...inNs, 'ip', 'link', 'set', 'lo', 'up']);
      run(
        'ip',
        [...inNs, 'nft', '-f', '-'],
        `table inet gwwan {\n chain input {\n  type filter hook input priority 0; policy accept;\n  iifname "lo" accept\n  ${lossRule}` +
          `  ip saddr ${relayAddr(0)}-${relayAddr(count - 1)} tcp dport ${p2pPort} accept\n  tcp dport ${p2pPort} reject with tcp reset\n }\n}\n`,
      );
      if (rate !== undefined) run('ip', [...inNs, 'tc', 'qdisc', 'add', 'dev', `${veth(i)}p`, 'root', 'tbf', 'rate', `${rate}mbit`, 'burst', '32kbit', 'latency', '400ms']);
    }
    const indexOf = (remote: string | undefined): number => {
      const m = remote?.replace(/^::ffff:/, '').split('.');
      if (!m || m.length !== 4 || m.slice(0, 3).join('.') !== subnet) return -1;
      const k = Number(m[3]) - 10;
      return k >= 0 && k < count ? k : -1;
    };
    for (let j = 0; j < count; j++) {
      const server = createServer({ noDelay: true }, (inbound) => {
        const i = indexOf(inbound.remoteAddress);
        if (i < 0 || i === j) {
          inbound.destroy();
          return;
        }
        const outbound = connect({ host: addr(j), port: p2pPort, localAddress: relayAddr(i), noDelay: true });
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        const d = oneWayMs(i, j);
        const tally = (n: number) => {
          bytes[i] += n;
          bytes[j] += n;
        };
        delayedPipe(inbound, outbound, d, tally);
        delayedPipe(outbound, inbound, d, tally);
      });
      servers.push(server);
      await new Promise<void>((res, rej) => {
        server.once('error', rej);
        server.listen(p2pPort, relayAddr(j), () => res());
      });
    }
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
  return {
    tag,
    hostAddr: `${subnet}.1`,
    addr,
    relayAddr,
    prefix: (i) => ['ip', 'netns', 'exec', ns(i)],
    bytes: (i) => bytes[i],
    connections: () => sockets.size / 2,
    oneWayMs,
    close,
  };
}

/**
 * Measures what a link really does before any node runs: an echo server in j's namespace on the
 * p2p port, a client in i's namespace. Returns the smallest of `rounds` echo round trips through
 * j's relay (TCP connect excluded) and how a direct dial to j's own address ended.
 */
export async function probeLink(wan: Wan, i: number, j: number, p2pPort: number, rounds = 3): Promise<{ rttMs: number; direct: string }> {
  const node = (k: number, code: string, args: string[]) =>
    spawn(wan.prefix(k)[0], [...wan.prefix(k).slice(1), process.execPath, '-e', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const echo = node(j, `require('net').createServer((s) => s.pipe(s)).listen(${p2pPort}, process.argv[1], () => console.log('up'))`, [wan.addr(j)]);
  const lines = (c: ReturnType<typeof node>) =>
    new Promise<string>((res, rej) => {
      let out = '';
      let err = '';
      const t = setTimeout(() => (c.kill('SIGKILL'), rej(new Error(`probe: no answer within 20 s: ${err}`))), 20_000);
      c.stdout!.setEncoding('utf8').on('data', (x: string) => {
        out += x;
        if (out.includes('\n')) (clearTimeout(t), res(out.trim()));
      });
      c.stderr!.setEncoding('utf8').on('data', (x: string) => (err += x));
      c.once('exit', (code) => (clearTimeout(t), out.includes('\n') ? res(out.trim()) : rej(new Error(`probe exited ${code}: ${err}`))));
    });
  try {
    if ((await lines(echo)) !== 'up') throw new Error('probe: echo server did not start');
    const client =
      `const s = require('net').connect({ host: process.argv[1], port: ${p2pPort}, noDelay: true }); const r = []; let t;` +
      `s.on('connect', () => { t = performance.now(); s.write('x'); });` +
      `s.on('data', () => { r.push(performance.now() - t); if (r.length < ${rounds}) { t = performance.now(); s.write('x'); } else { console.log(Math.min(...r)); s.destroy(); } });` +
      `s.on('error', (e) => console.log(e.code || e.message));`;
    const viaRelay = await lines(node(i, client, [wan.relayAddr(j)]));
    const direct = await lines(node(i, client, [wan.addr(j)]));
    const rttMs = Number(viaRelay);
    if (!Number.isFinite(rttMs)) throw new Error(`probe: through the relay: ${viaRelay}`);
    return { rttMs, direct };
  } finally {
    echo.kill('SIGKILL');
    await new Promise((r) => (echo.exitCode !== null || echo.signalCode !== null ? r(undefined) : echo.once('exit', r)));
  }
}
