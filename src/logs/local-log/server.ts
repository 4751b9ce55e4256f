// The local log's HTTP API (node:http):
//   GET  /checkpoint                    the latest checkpoint of the client's branch, with cosignatures
//   GET  /tile/<L>/<N>[.p/<W>]          hash tiles (c2sp.org/tlog-tiles)
//   GET  /tile/entries/<N>[.p/<W>]      entry bundles (u16be length || entry, concatenated)
//   POST /add[?branch=a|b]              body = one entry; answers {"index": N} once sequenced
//   GET  /healthz                       "ok"
// When the log equivocates, every request is answered from the branch chosen for the client (by
// request header or source address): checkpoint, tiles and entries alike.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTilePath, TILE_WIDTH } from '../../merkle/tiles.js';
import { entryBundle, hashTile, type TileSource } from './tiles.js';
import { AddRefused, type AppendTarget, type BranchName } from './log.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

const TEXT = 'text/plain; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';

function text(status: number, body: string, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { 'content-type': TEXT, ...headers }, body: body.endsWith('\n') ? body : body + '\n' };
}

/**
 * Answers a tlog-tiles GET (`/checkpoint`, `/tile/...`) from a tile source, or null when the path
 * is not a tlog-tiles path. Tiles and bundles beyond the source's size are 404. Usable by any
 * server (the bench serves a synthetic tree with it).
 */
export function answerTlogTiles(pathname: string, source: TileSource, checkpoint: string | undefined): HttpAnswer | null {
  if (pathname === '/checkpoint') {
    if (checkpoint === undefined) return text(404, 'no checkpoint yet');
    return { status: 200, headers: { 'content-type': TEXT, 'cache-control': 'no-cache' }, body: checkpoint };
  }
  if (!pathname.startsWith('/tile/')) return null;
  const ref = parseTilePath(pathname.slice(1));
  if (ref === null) return text(404, 'not a tile path');
  const body = ref.kind === 'tile' ? hashTile(source, ref.level, ref.index, ref.width) : entryBundle(source, ref.index, ref.width);
  if (body === null) return text(404, 'no such tile at this tree size');
  // Full tiles and partial tiles of a given width never change (on an honest log).
  return { status: 200, headers: { 'content-type': 'application/octet-stream', 'cache-control': ref.width === TILE_WIDTH ? IMMUTABLE : 'public, max-age=3600' }, body };
}

/** Strips the IPv4-mapped IPv6 prefix: "::ffff:127.0.0.2" -> "127.0.0.2". */
export function normalizeAddress(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

export interface BranchSelector {
  /** Whether branch b exists (nothing is selected for b before the fork). */
  forked(): boolean;
  /** Request header naming the branch ("b" or "a"), case-insensitive; undefined: not used. */
  header?: string;
  /** Source addresses that are shown branch b. */
  addrs?: ReadonlySet<string>;
}

/**
 * The branch a request is answered from: the fork header when present and set to "a" or "b",
 * else branch b for the listed source addresses, else branch a.
 */
export function selectBranch(req: IncomingMessage, sel: BranchSelector): BranchName {
  if (!sel.forked()) return 'a';
  if (sel.header !== undefined) {
    const v = req.headers[sel.header.toLowerCase()];
    const value = (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase();
    if (value === 'b' || value === 'a') return value;
  }
  if (sel.addrs?.has(normalizeAddress(req.socket.remoteAddress))) return 'b';
  return 'a';
}

export interface LocalLogServerOptions {
  host: string;
  port: number;
  selector: BranchSelector;
  /** The signed checkpoint a branch serves, undefined before the first one. */
  checkpoint(branch: BranchName): string | undefined;
  source(branch: BranchName): TileSource;
  /** Sequences one entry; resolves to its index as seen from `view`. Rejects with a message for 400. */
  add(entry: Uint8Array, target: AppendTarget, view: BranchName): Promise<bigint>;
  maxEntrySize: number;
  onError?(err: unknown): void;
}

export interface LocalLogServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

function send(res: ServerResponse, a: HttpAnswer, head = false): void {
  const body = typeof a.body === 'string' ? Buffer.from(a.body, 'utf8') : a.body;
  res.writeHead(a.status, { ...a.headers, 'content-length': String(body.length) });
  res.end(head ? undefined : body);
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export async function startLocalLogServer(opts: LocalLogServerOptions): Promise<LocalLogServer> {
  const vary = opts.selector.header ? { vary: opts.selector.header } : {};
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const view = selectBranch(req, opts.selector);
    if (url.pathname === '/add') {
      if (req.method !== 'POST') return send(res, text(405, 'use POST', { allow: 'POST' }));
      const q = url.searchParams.get('branch');
      if (q !== null && q !== 'a' && q !== 'b') return send(res, text(400, 'branch must be a or b'));
      const body = await readBody(req, opts.maxEntrySize);
      if (body === null) return send(res, text(413, `entries are at most ${opts.maxEntrySize} bytes`, { connection: 'close' }));
      try {
        const index = await opts.add(body, (q ?? 'both') as AppendTarget, q ?? view);
        return send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: `{"index":${index}}\n` });
      } catch (e) {
        if (e instanceof AddRefused) return send(res, text(400, e.message));
        throw e;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, text(405, 'use GET', { allow: 'GET, HEAD' }));
    if (url.pathname === '/healthz') return send(res, text(200, 'ok'), req.method === 'HEAD');
    const a = answerTlogTiles(url.pathname, opts.source(view), opts.checkpoint(view));
    if (a === null) return send(res, text(404, 'not found'), req.method === 'HEAD');
    Object.assign(a.headers, vary);
    return send(res, a, req.method === 'HEAD');
  };
  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((e) => {
      opts.onError?.(e);
      if (!res.headersSent) send(res, text(500, 'internal error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment; then everything is cut.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closing;
    },
  };
}
