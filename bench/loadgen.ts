// Load generator for bench/witness-http.bench.ts, run as a SEPARATE process:
//
//   node --import tsx bench/loadgen.ts SPEC.json
//
// SPEC (JSON): { url, mode: "sequential" | "concurrent", count?, durationMs?, bodiesPerLog,
//               logs: [{ origin, seedHex, start, rngSeed }], witnessVkeys: [...] }
//
// 1. Precomputes, per log, the add-checkpoint bodies: the tree advances by 1-1,000 entries per
//    request from `start` (about 2^24), each with a REAL RFC 6962 consistency proof and a
//    checkpoint signed by the log key (see SyntheticTree). Then it submits `old 0` + the starting
//    checkpoint to the witness (not timed), prints "ready" and waits for "go" on stdin.
// 2. Timed: sequential = one keep-alive connection, one request at a time, `count` requests;
//    concurrent = one keep-alive connection and one client per log, each advancing its log
//    request after request, for `durationMs`. With `ratePerSecond` (concurrent only) the clients
//    are paced instead: log k's request i is due at start + (i + k / logs) * logs / rate, and
//    its latency counts from that due time, not from when it could be sent (a late answer delays
//    the next request, and that wait is counted: no coordinated omission, as wrk2). The client is a minimal HTTP/1.1 client over
//    net.Socket writing precomputed request bytes, so that it costs the 2-core machine as little
//    CPU as possible.
// 3. Prints one JSON line with the results, after checking EVERY response: the status must be
//    200, and every 200's lines must verify with the witness's cosignature vkey over the
//    checkpoint text that was sent (done after the timed phase).
import '../src/platform.js';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { hashChildren, hashLeaf } from '../src/merkle/hash.js';
import { consistencyProof, rootFromHasher, subtreeHasherFromNodes, type SubtreeHasher } from '../src/merkle/proof.js';
import { formatCheckpoint } from '../src/checkpoint/checkpoint.js';
import { ed25519KeyFromSeed, openNote, parseCosignatureVkey, signNote, VerifierSet } from '../src/note/index.js';
import { u64be } from '../src/util/bytes.js';

export interface LoadLog {
  origin: string;
  /** 32-byte Ed25519 seed of the log key (its name is the origin), hex. */
  seedHex: string;
  /** Starting tree size (decimal). */
  start: string;
  rngSeed: number;
}

export interface LoadSpec {
  url: string;
  mode: 'sequential' | 'concurrent';
  count?: number;
  durationMs?: number;
  /** Concurrent mode: offered requests per second over all logs (paced), instead of as fast as possible. */
  ratePerSecond?: number;
  bodiesPerLog: number;
  logs: LoadLog[];
  witnessVkeys: string[];
}

export interface LoadResult {
  mode: string;
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  perSecond: number;
  okPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  verified: number;
  verifyFailures: number;
  /** Clients that ran out of precomputed bodies before the end (concurrent mode). */
  exhausted: number;
  precomputeMs: number;
  errors: string[];
}

// ---------------------------------------------------------------------------------------------
// A synthetic tree of about 2^24 leaves whose subtree hashes are computed lazily.
//
// Leaf i has the hash SHA-256(0x00 || salt || u64be(floor(i / 1024))): the leaves of one aligned
// 1,024-leaf block are equal, blocks differ. So a perfect subtree of up to 2^10 leaves costs at
// most 11 hashes, and a larger one is computed from its two children once and memoised. The
// leaves below 2^24 use one salt shared by all logs (their level-24 subtree is computed once,
// about 200,000 hashes); above it every log has its own salt. It is a genuine RFC 6962 tree: the
// proofs and roots are what any log with these leaves would serve, and the witness verifies
// them in full.

const BLOCK_BITS = 10;
const BASE_BITS = 24;
const sharedMemo = new Map<string, Uint8Array>();

export class SyntheticTree {
  private readonly memo = new Map<string, Uint8Array>();
  private readonly blockChains = new Map<bigint, Uint8Array[]>();
  readonly hasher: SubtreeHasher;

  constructor(private readonly salt: string) {
    this.hasher = subtreeHasherFromNodes((level, index) => this.node(level, index));
  }

  private chain(block: bigint, shared: boolean): Uint8Array[] {
    const key = shared ? -1n - block : block;
    let c = this.blockChains.get(key);
    if (!c) {
      const salt = new TextEncoder().encode(shared ? 'shared-base' : this.salt);
      const data = new Uint8Array(salt.length + 8);
      data.set(salt);
      data.set(u64be(block), salt.length);
      c = [hashLeaf(data)];
      for (let l = 1; l <= BLOCK_BITS; l++) c.push(hashChildren(c[l - 1], c[l - 1]));
      if (this.blockChains.size > 8192) this.blockChains.clear();
      this.blockChains.set(key, c);
    }
    return c;
  }

  node(level: number, index: bigint): Uint8Array {
    const first = index << BigInt(level);
    const end = (index + 1n) << BigInt(level);
    const shared = end <= 1n << BigInt(BASE_BITS);
    if (level <= BLOCK_BITS) return this.chain(first >> BigInt(BLOCK_BITS), shared)[level];
    const key = `${level}:${index}`;
    const memo = shared ? sharedMemo : this.memo;
    let h = memo.get(key);
    if (!h) {
      h = hashChildren(this.node(level - 1, 2n * index), this.node(level - 1, 2n * index + 1n));
      memo.set(key, h);
    }
    return h;
  }

  root(size: bigint): Uint8Array {
    return rootFromHasher(size, this.hasher);
  }

  proof(a: bigint, b: bigint): Uint8Array[] {
    return consistencyProof(a, b, this.hasher);
  }
}

function prng(seed: number) {
  let a = seed >>> 0;
  return (n: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

interface Prepared {
  origin: string;
  init: Buffer;
  initText: string;
  requests: Buffer[];
  /** The checkpoint text of each request (for verifying the cosignature afterwards). */
  texts: string[];
}

function httpRequest(host: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const head = `POST /add-checkpoint HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nContent-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/** The bodies for one log (deterministic in the log's seeds). */
export function prepareLog(l: LoadLog, n: number, host: string): Prepared {
  const key = ed25519KeyFromSeed(l.origin, Buffer.from(l.seedHex, 'hex'));
  const tree = new SyntheticTree(`log ${l.origin}`);
  const rnd = prng(l.rngSeed);
  const sign = (size: bigint): string => signNote(formatCheckpoint({ origin: l.origin, size, root: tree.root(size) }), [key]);
  let size = BigInt(l.start);
  const first = sign(size);
  const out: Prepared = { origin: l.origin, init: httpRequest(host, `old 0\n\n${first}`), initText: first.slice(0, first.indexOf('\n\n') + 1), requests: [], texts: [] };
  for (let i = 0; i < n; i++) {
    const next = size + 1n + BigInt(rnd(1000));
    const note = sign(next);
    const proof = tree.proof(size, next);
    out.requests.push(httpRequest(host, `old ${size}\n${proof.map((h) => Buffer.from(h).toString('base64') + '\n').join('')}\n${note}`));
    out.texts.push(note.slice(0, note.indexOf('\n\n') + 1));
    size = next;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A minimal keep-alive HTTP/1.1 client (Content-Length or chunked responses).

interface Response {
  status: number;
  body: Buffer;
}

export class Connection {
  private sock: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: Response) => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  private async open(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    s.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
    const fail = (e: Error) => {
      const p = this.pending;
      this.pending = undefined;
      this.sock = undefined;
      p?.reject(e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error('connection closed')));
    this.sock = s;
    this.buf = Buffer.alloc(0);
    return s;
  }

  private parse(): void {
    if (!this.pending) return;
    const headEnd = this.buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = this.buf.subarray(0, headEnd).toString('latin1');
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    let length = -1;
    let chunked = false;
    let close = false;
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(':');
      const name = lines[i].slice(0, c).trim().toLowerCase();
      const value = lines[i].slice(c + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding' && value.includes('chunked')) chunked = true;
      else if (name === 'connection' && value === 'close') close = true;
    }
    let body: Buffer;
    let consumed: number;
    if (chunked) {
      const parts: Buffer[] = [];
      let p = headEnd + 4;
      for (;;) {
        const eol = this.buf.indexOf('\r\n', p);
        if (eol < 0) return;
        const n = parseInt(this.buf.subarray(p, eol).toString('latin1'), 16);
        if (n === 0) {
          if (this.buf.length < eol + 4) return;
          consumed = eol + 4;
          break;
        }
        if (this.buf.length < eol + 2 + n + 2) return;
        parts.push(this.buf.subarray(eol + 2, eol + 2 + n));
        p = eol + 2 + n + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const n = length < 0 ? 0 : length;
      if (this.buf.length < headEnd + 4 + n) return;
      body = Buffer.from(this.buf.subarray(headEnd + 4, headEnd + 4 + n));
      consumed = headEnd + 4 + n;
    }
    this.buf = this.buf.subarray(consumed);
    const p = this.pending;
    this.pending = undefined;
    if (close) {
      this.sock?.removeAllListeners('close');
      this.sock?.destroy();
      this.sock = undefined;
    }
    p.resolve({ status, body });
  }

  async request(req: Buffer): Promise<Response> {
    const s = await this.open();
    return new Promise<Response>((resolve, reject) => {
      this.pending = { resolve, reject };
      s.write(req);
    });
  }

  close(): void {
    this.sock?.removeAllListeners('close');
    this.sock?.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadSpec;
  const url = new URL(spec.url);
  const host = url.host;
  const port = Number(url.port);
  const errors: string[] = [];
  const err = (m: string) => {
    if (errors.length < 20) errors.push(m);
  };

  const t0 = performance.now();
  const perLog = spec.mode === 'sequential' ? (spec.count ?? 1000) : spec.bodiesPerLog;
  const prepared = spec.logs.map((l) => prepareLog(l, perLog, host));
  const precomputeMs = performance.now() - t0;

  // The starting checkpoints (old 0), not timed.
  const conns = prepared.map(() => new Connection(url.hostname, port));
  await Promise.all(
    prepared.map(async (p, i) => {
      const r = await conns[i].request(p.init);
      if (r.status !== 200) throw new Error(`${p.origin}: the starting checkpoint was answered ${r.status}: ${r.body.toString()}`);
    }),
  );

  process.stdout.write('ready\n');
  const rl = createInterface({ input: process.stdin });
  await new Promise<void>((res) => rl.on('line', (l) => l.trim() === 'go' && res()));
  rl.close();

  const maxRequests = prepared.reduce((n, p) => n + p.requests.length, 0);
  const latencies = new Float64Array(maxRequests);
  let nLat = 0;
  const statuses: Record<string, number> = {};
  /** [log index, request index, response body] for each 200, verified afterwards. */
  const oks: [number, number, Buffer][] = [];
  let exhausted = 0;

  const pace = spec.mode === 'concurrent' && spec.ratePerSecond !== undefined && spec.ratePerSecond > 0 ? spec.ratePerSecond : undefined;
  const start = performance.now();
  const deadline = spec.mode === 'concurrent' ? start + (spec.durationMs ?? 20_000) : Infinity;
  await Promise.all(
    prepared.map(async (p, li) => {
      const c = conns[li];
      let i = 0;
      const interval = pace === undefined ? 0 : (prepared.length * 1000) / pace;
      for (; i < p.requests.length && performance.now() < deadline; i++) {
        let t = performance.now();
        if (pace !== undefined) {
          const due = start + (i + li / prepared.length) * interval;
          if (due >= deadline) break;
          if (due > t) await new Promise((r) => setTimeout(r, due - t));
          t = due;
        }
        let r: Response;
        try {
          r = await c.request(p.requests[i]);
        } catch (e) {
          err(`${p.origin} request ${i}: ${(e as Error).message}`);
          statuses.error = (statuses.error ?? 0) + 1;
          break;
        }
        latencies[nLat++] = performance.now() - t;
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) oks.push([li, i, r.body]);
        else {
          err(`${p.origin} request ${i}: ${r.status} ${r.body.toString().slice(0, 200)}`);
          break; // the log's state is now unknown to this client
        }
      }
      if (i === p.requests.length && spec.mode === 'concurrent') exhausted++;
    }),
  );
  const elapsedMs = performance.now() - start;
  for (const c of conns) c.close();

  // Every 200 checked: its lines verify with the witness's cosignature key(s).
  const verifiers = new VerifierSet(spec.witnessVkeys.map((v) => parseCosignatureVkey(v)));
  let verified = 0;
  let verifyFailures = 0;
  for (const [li, i, body] of oks) {
    try {
      const lines = body.toString('utf8');
      const o = openNote(prepared[li].texts[i] + '\n' + lines, verifiers);
      if (o.verified.length !== spec.witnessVkeys.length) throw new Error(`${o.verified.length} cosignatures verified`);
      verified++;
    } catch (e) {
      verifyFailures++;
      err(`cosignature of ${prepared[li].origin} request ${i} does not verify: ${(e as Error).message}`);
    }
  }

  const lat = latencies.subarray(0, nLat).sort();
  const requests = nLat;
  const result: LoadResult = {
    mode: spec.mode,
    requests,
    ok: oks.length,
    statuses,
    elapsedMs,
    perSecond: requests / (elapsedMs / 1000),
    okPerSecond: oks.length / (elapsedMs / 1000),
    p50Ms: percentile(lat, 50),
    p90Ms: percentile(lat, 90),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length ? lat[lat.length - 1] : NaN,
    verified,
    verifyFailures,
    exhausted,
    precomputeMs,
    errors,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e) => {
    process.stderr.write(`loadgen: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
