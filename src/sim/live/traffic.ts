// Traffic of live-mode nodes: gossip message counters from each node's /metrics, and TCP bytes sent
// on each node process's libp2p connections from `ss -tinp` (the kernel's per-socket byte counters),
// so that the HTTP pushes and polls of the log are not counted (the model counts gossip only).
import { execFile } from 'node:child_process';

export const CHECKPOINT_TOPIC = '/gossip-witness/cosigned-checkpoint/1';

export interface GossipCounters {
  /** Messages validated, every topic and verdict. */
  received: number;
  /** Messages validated on the checkpoint topic. */
  receivedCheckpoints: number;
  published: number;
  publishedCheckpoints: number;
  rssBytes: number;
}

/** Parses the Prometheus text of one node. */
export function parseGossipCounters(text: string): GossipCounters {
  const c: GossipCounters = { received: 0, receivedCheckpoints: 0, published: 0, publishedCheckpoints: 0, rssBytes: 0 };
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (!m) continue;
    const [, name, labels = '', value] = m;
    const v = Number(value);
    const cp = labels.includes(`topic="${CHECKPOINT_TOPIC}"`);
    if (name === 'gossip_messages_total') {
      c.received += v;
      if (cp) c.receivedCheckpoints += v;
    } else if (name === 'gossip_published_total') {
      c.published += v;
      if (cp) c.publishedCheckpoints += v;
    } else if (name === 'process_resident_memory_bytes') c.rssBytes = v;
  }
  return c;
}

export async function fetchGossipCounters(url: string): Promise<GossipCounters | null> {
  try {
    const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? parseGossipCounters(await r.text()) : null;
  } catch {
    return null;
  }
}

/** One TCP connection's byte counters, keyed by pid and the address pair. */
export interface SocketBytes {
  readonly key: string;
  readonly pid: number;
  readonly local: number;
  readonly remote: number;
  readonly bytes: number;
}

/** Parses `ss -tinpH` output: a socket line (addresses, users:(("node",pid=N,...))) then its info line. */
export function parseSs(text: string): SocketBytes[] {
  const out: SocketBytes[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /(\S+):(\d+)\s+(\S+):(\d+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(lines[i]);
    if (!head) continue;
    const info = lines[i + 1] ?? '';
    const sent = /bytes_sent:(\d+)/.exec(info);
    out.push({
      key: `${head[5]} ${head[1]}:${head[2]} ${head[3]}:${head[4]}`,
      pid: Number(head[5]),
      local: Number(head[2]),
      remote: Number(head[4]),
      // Sent only: both ends are our nodes, and the model counts each transmission once, at its sender.
      bytes: Number(sent?.[1] ?? 0),
    });
  }
  return out;
}

export function readSockets(): Promise<SocketBytes[] | null> {
  return new Promise((res) => {
    execFile('ss', ['-tinpH', 'state', 'established'], { maxBuffer: 64 << 20, timeout: 10_000 }, (err, stdout) => res(err ? null : parseSs(stdout)));
  });
}

/**
 * Accumulates the libp2p bytes of a set of processes over time: each sample keeps the largest
 * counter seen per socket; a socket first seen after the baseline counts from zero. Connections
 * that open and close between two samples are missed (libp2p keeps its connections open).
 */
export class SocketMeter {
  private readonly base = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private baselined = false;
  available = true;

  constructor(
    private readonly pids: () => ReadonlySet<number>,
    private readonly p2pPorts: ReadonlySet<number>,
  ) {}

  async sample(): Promise<void> {
    const socks = await readSockets();
    if (socks === null) {
      this.available = false;
      return;
    }
    const pids = this.pids();
    for (const s of socks) {
      if (!pids.has(s.pid) || !(this.p2pPorts.has(s.local) || this.p2pPorts.has(s.remote))) continue;
      if (!this.baselined) this.base.set(s.key, s.bytes);
      this.last.set(s.key, Math.max(this.last.get(s.key) ?? 0, s.bytes));
    }
    this.baselined = true;
  }

  /** Bytes sent over libp2p connections since the first sample, all processes. */
  total(): number {
    let t = 0;
    for (const [k, v] of this.last) t += v - (this.base.get(k) ?? 0);
    return t;
  }
}
