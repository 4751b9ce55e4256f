// Shared helpers for the feeder tests: a local HTTP server (127.0.0.1, a free port), a tiled log
// served from a MemoryTree (tlog-tiles or sumdb paths), a witness core on a MemoryStore, and
// waiting for conditions with a deadline (never a fixed sleep).
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { HASH_SIZE } from '../../src/merkle/hash.js';
import { parseSumdbTilePath, parseTilePath, tileWidthAt, TILE_WIDTH } from '../../src/merkle/tiles.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness, type WitnessEvent } from '../../src/witness/witness.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { cosigner, generateKey, parseVkey } from '../../src/note/index.js';
import { waitFor as waitUntil } from '../helpers/wait.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => void | Promise<void>;

export interface TestServer {
  readonly url: string;
  /** Paths (with query) requested, in order. */
  readonly requests: string[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: string[] = [];
  const s: { handler: Handler } = { handler };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(u.pathname + u.search);
    Promise.resolve(s.handler(req, res, u.pathname.replace(/^\/+/, ''), u.searchParams)).catch((e) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get handler() {
      return s.handler;
    },
    set handler(h: Handler) {
      s.handler = h;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function send(res: ServerResponse, status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length) });
  res.end(typeof body === 'string' ? body : Buffer.from(body));
}

/** A never-answering handler (the request hangs until the client gives up). */
export const hang: Handler = () => {};

/** The hashes of tile (level, index), width hashes, from a tree (tile height 8). */
export function tileBytes(tree: MemoryTree, level: number, index: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width * HASH_SIZE);
  for (let i = 0; i < width; i++) out.set(tree.node(level * 8, index * 256n + BigInt(i)), i * HASH_SIZE);
  return out;
}

export interface TiledLogOptions {
  /** 'tiles' (tlog-tiles: /checkpoint, /tile/L/N) or 'sumdb' (/latest, /tile/8/L/N). */
  layout?: 'tiles' | 'sumdb';
  /** Answer a partial-tile request with the full tile when the tree already has it. */
  fullForPartial?: boolean;
  /** 404 on a partial tile when the tree already has the full one (deleted partials). */
  deletePartials?: boolean;
}

/**
 * A tiled log served over HTTP. `tree` holds the leaves; `publish(size)` signs and serves the
 * checkpoint of the first `size` leaves; tiles are served for the published size (and, with the
 * options, full tiles the tree already has). `corrupt` returns tile paths to serve damaged.
 */
export class TiledLogServer {
  server!: TestServer;
  note = '';
  publishedSize = 0n;
  /** Tile requests, by path. */
  readonly tileRequests: string[] = [];
  corrupt: (path: string) => boolean = () => false;
  checkpointOverride: ((res: ServerResponse) => void) | undefined;

  constructor(
    public log: { tree: MemoryTree; checkpoint(size?: bigint): string },
    readonly opts: TiledLogOptions = {},
  ) {}

  static async start(log: { tree: MemoryTree; checkpoint(size?: bigint): string }, opts: TiledLogOptions = {}): Promise<TiledLogServer> {
    const s = new TiledLogServer(log, opts);
    s.server = await startServer((req, res, path) => s.handle(res, path));
    return s;
  }

  get url(): string {
    return this.server.url;
  }

  publish(size: bigint = this.log.tree.size, note?: string): void {
    this.publishedSize = size;
    this.note = note ?? this.log.checkpoint(size);
  }

  private handle(res: ServerResponse, path: string): void {
    const sumdb = this.opts.layout === 'sumdb';
    if (path === (sumdb ? 'latest' : 'checkpoint')) {
      if (this.checkpointOverride) return this.checkpointOverride(res);
      return send(res, 200, this.note);
    }
    const t = sumdb ? parseSumdbTilePath(path) : parseTilePath(path);
    if (!t || ('kind' in t && t.kind !== 'tile') || ('height' in t && (t.height !== 8 || t.level < 0))) return send(res, 404, 'not found\n');
    const level = t.level;
    const index = t.index;
    const width = t.width;
    this.tileRequests.push(path);
    const published = this.publishedSize === 0n ? 0 : tileWidthAt(level, index, this.publishedSize);
    const inTree = this.log.tree.size === 0n ? 0 : tileWidthAt(level, index, this.log.tree.size);
    let serveWidth = 0;
    if (width === TILE_WIDTH) serveWidth = inTree === TILE_WIDTH ? TILE_WIDTH : 0;
    else if (this.opts.deletePartials && inTree === TILE_WIDTH) serveWidth = 0;
    else if (this.opts.fullForPartial && inTree === TILE_WIDTH) serveWidth = TILE_WIDTH;
    else if (width <= published || width <= inTree) serveWidth = width;
    if (serveWidth === 0) return send(res, 404, 'not found\n');
    const body = tileBytes(this.log.tree, level, index, serveWidth);
    if (this.corrupt(path)) body[0] ^= 0xff;
    send(res, 200, body, 'application/octet-stream');
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

export interface LogSpec {
  origin: string;
  vkeys: string[];
  qpd?: number;
}

/** A witness core on a MemoryStore following `logs`. */
export function witnessCore(logs: LogSpec[], name = 'witness.example/w1') {
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: logs.map((l) => ({ origin: l.origin, verifiers: l.vkeys.map((v) => parseVkey(v)), ...(l.qpd ? { qpd: l.qpd } : {}) })) });
  const key = generateKey(name);
  const events: WitnessEvent[] = [];
  const witness = new Witness({ store, logs: registry, cosigners: [cosigner(key)], onEvent: (e) => events.push(e) });
  return { store, registry, key, witness, events };
}

/** waitFor of test/helpers/wait.ts with this folder's argument order (cond, what, timeoutMs). */
export function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<NonNullable<T>> {
  return waitUntil(cond, { what, timeoutMs, intervalMs: 5 });
}

/** Number of active timers (setTimeout/setInterval handles) in this process. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
export const enc = (s: string) => new TextEncoder().encode(s);
