// The witness's HTTP API (fastify):
//   POST /add-checkpoint             c2sp.org/tlog-witness submission (raw body, any content type)
//   POST /sign-subtree               c2sp.org/tlog-witness subtree cosignature (ML-DSA-44 keys only; else 404)
//   GET  /<hex SHA-256(origin)>/checkpoint   monitoring read path (tlog-witness HEAD)
//   GET  /evidence, /evidence/<id>   proven split-view evidence (list, paged; canonical bytes)
//   GET  /suspects                   failed consistency checks (unproven), bounded per origin, paged
//   GET  /metrics                    Prometheus text
//   GET  /healthz                    liveness: "ok" while the process serves HTTP
//   GET  /readyz                     readiness: 200 "ready", or 503 with why it cannot cosign now
//   GET  /, /status, /status.json    the status page and its data (with a statusSource)
// Every error status comes from one table, STATUS_OF in ./status.ts (codes: src/errors.ts). Bad
// input never yields a 500; an unexpected exception does, and is logged.
import { BlockList, isIPv4, isIPv6, type Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { UNAVAILABLE_RETRY_AFTER, WitnessInternalError, type LogRegistry, type Witness } from '../witness/witness.js';
import type { WitnessStore } from '../witness/store.js';
import { encodeBase64 } from '../util/bytes.js';
import { answerFor, answerForSubtree, textAnswer, HTTP_STATUS, TEXT_PLAIN, type HttpAnswer } from './status.js';
import { MESSAGES } from '../errors.js';
import type { SubtreeSigner } from '../witness/sign-subtree.js';
import { createWitnessMetrics, UNKNOWN_ORIGIN, type WitnessMetrics } from './metrics.js';
import { renderStatusPage } from './status-page.js';
import { readiness, type StatusSource } from './status-data.js';

/** The registry view the server needs: lookups plus the hash → origin map of monitoring GET. */
export interface ServedLogs extends LogRegistry {
  /** The followed origin whose lowercase hex SHA-256 is hash. */
  originForHash(hash: string): string | undefined;
}

export interface WitnessServerTimeouts {
  /** Deadline for receiving a whole request, headers and body, ms (default 30 s): answered 408. */
  requestTimeout?: number;
  /** Socket inactivity timeout, ms (default 120 s). */
  connectionTimeout?: number;
  /** Idle keep-alive socket lifetime, ms (default 65 s: longer than common load-balancer idles). */
  keepAliveTimeout?: number;
}

export interface WitnessServerOptions {
  witness: Witness;
  store: WitnessStore;
  logs: ServedLogs;
  metrics?: WitnessMetrics;
  logger?: FastifyBaseLogger;
  /** add-checkpoint and sign-subtree body limit in bytes (default DEFAULT_BODY_LIMIT, 512 KiB). */
  bodyLimit?: number;
  timeouts?: WitnessServerTimeouts;
  /** Most simultaneous connections (default DEFAULT_MAX_CONNECTIONS); more are closed at once. */
  maxConnections?: number;
  /** Most simultaneous connections from one client address (IPv6: one /64); default maxConnections / 8. Trusted proxies are exempt. */
  maxConnectionsPerClient?: number;
  /** Serves the status page (GET /, /status) and GET /status.json (./status-data.ts). */
  statusSource?: StatusSource;
  /** Answers POST /sign-subtree (src/witness/sign-subtree.ts); without it (or without an ML-DSA-44 key) 404. */
  subtreeSigner?: SubtreeSigner;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For gives the client address (per-client limits). */
  trustProxy?: readonly string[];
}

/**
 * Request body limit in bytes: 512 KiB, so that a checkpoint with 100 signature lines of the
 * largest type fits (an ML-DSA-44 line is about 3.3 KB: 100 of them about 330 KB), with 63 proof lines.
 */
export const DEFAULT_BODY_LIMIT = 512 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** GET /evidence and /suspects pages: ?limit= default and most. */
export const EVIDENCE_PAGE = { default: 100, max: 1000 } as const;
export const SUSPECT_PAGE = { default: 32, max: 100 } as const;
/** After an early answer (413), how long the rest of the body is read and dropped before closing. */
const LINGER_MS = 5_000;
const HASH_PATH = /^[0-9a-f]{64}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The optional ?origin= filter: a well-formed string, or undefined. */
function originFilter(q: unknown): string | undefined | null {
  if (q === undefined) return undefined;
  if (typeof q !== 'string' || LONE_SURROGATE.test(q)) return null;
  return q;
}

/** ?limit=: a decimal in [1, max], default when absent; null when bad. */
function pageLimit(q: unknown, page: { default: number; max: number }): number | null {
  if (q === undefined) return page.default;
  if (typeof q !== 'string' || !/^[1-9][0-9]{0,6}$/.test(q) || Number(q) > page.max) return null;
  return Number(q);
}

/** ?after=: the `next` cursor of the previous page (evidence ids and suspect numbers are short). */
function pageCursor(q: unknown): string | undefined | null {
  if (q === undefined) return undefined;
  if (typeof q !== 'string' || !/^[0-9a-zA-Z_-]{1,128}$/.test(q)) return null;
  return q;
}

/** The Link header of a page with more after it (RFC 8288). */
function nextLink(path: string, origin: string | undefined, limit: number, next: string): string {
  const q = new URLSearchParams();
  if (origin !== undefined) q.set('origin', origin);
  q.set('limit', String(limit));
  q.set('after', next);
  return `<${path}?${q.toString()}>; rel="next"`;
}

/**
 * An answer sent before the request body was read (413): node then closes the socket while the
 * client is still sending, the client gets a reset, and its kernel may drop our answer unread.
 * Instead send FIN after the answer, read and drop what still comes for up to LINGER_MS, then
 * close (a "lingering close", as nginx does). Node calls destroySoon() after the last response.
 */
function lingerOnClose(req: FastifyRequest): void {
  const socket = req.raw.socket as (Socket & { destroySoon?: () => void }) | null;
  if (!socket || socket.destroyed || req.raw.complete) return;
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(timer));
  };
  req.raw.resume();
}

function send(reply: FastifyReply, a: HttpAnswer): FastifyReply {
  reply.code(a.status);
  for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
  return reply.send(a.body);
}

function json(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value) + '\n');
}

/** Any Content-Type (or none, or a malformed one) is accepted: the body is parsed as bytes. */
function rawBody(req: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  req.headers['content-type'] = 'application/octet-stream';
  done();
}

/**
 * The client a per-client limit counts: an IPv4 address (IPv4-mapped IPv6 unwrapped), or the /64
 * of an IPv6 address (one host or subscriber holds a whole /64: per-address limits do not bind it).
 */
export function clientKey(ip: string): string {
  const a = ip.split('%')[0];
  if (a.toLowerCase().startsWith('::ffff:') && isIPv4(a.slice(7))) return a.slice(7);
  if (!isIPv6(a)) return a;
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64';
}

/** The default share of http.maxConnections one client may hold. */
export function defaultMaxConnectionsPerClient(maxConnections: number): number {
  return Math.max(1, Math.floor(maxConnections / 8));
}

/** Whether a peer address is one of the trusted proxies (addresses or CIDRs, as http.trustProxy lists them). */
function proxyMatcher(list: readonly string[]): (addr: string) => boolean {
  if (list.length === 0) return () => false;
  const bl = new BlockList();
  for (const e of list) {
    const [a, bits] = e.split('/');
    const type = isIPv6(a) ? 'ipv6' : 'ipv4';
    if (bits === undefined) bl.addAddress(a, type);
    else bl.addSubnet(a, Number(bits), type);
  }
  return (addr) => {
    const a = addr.toLowerCase().startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
    if (isIPv4(a)) return bl.check(a, 'ipv4');
    return isIPv6(a) && bl.check(a, 'ipv6');
  };
}

/** A sign-subtree answer (the client is its IP address, or its /64, for the rate limit); x-cached marks a cache hit. */
async function subtreeAnswer(signer: SubtreeSigner, body: Buffer, req: FastifyRequest): Promise<HttpAnswer> {
  const result = await signer.signSubtree(body, clientKey(req.ip));
  const answer = answerForSubtree(result);
  if (result.kind === 'signed') req.log.debug({ origin: result.origin, cached: result.cached }, 'sign-subtree: signed');
  else req.log.debug({ origin: result.origin, status: answer.status, code: result.code, reason: result.reason }, 'sign-subtree rejected');
  return result.kind === 'signed' && result.cached ? { ...answer, headers: { ...answer.headers, 'x-cached': 'true' } } : answer;
}

/** Route schemas are not used here (see schemaController below); a route that adds one fails loudly. */
function noSchemaCompiler(): never {
  throw new Error('gossip-witness HTTP routes use no JSON schemas: fastify\'s schema compilers are not loaded (src/http/server.ts)');
}

export function createWitnessServer(opts: WitnessServerOptions): FastifyInstance {
  const { witness, store, logs } = opts;
  const metrics = opts.metrics ?? createWitnessMetrics();
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const t = opts.timeouts ?? {};
  const requestTimeout = t.requestTimeout ?? 30_000;

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit,
    requestTimeout,
    ...(opts.trustProxy && opts.trustProxy.length > 0 ? { trustProxy: [...opts.trustProxy] } : {}),
    connectionTimeout: t.connectionTimeout ?? 120_000,
    keepAliveTimeout: t.keepAliveTimeout ?? 65_000,
    // Node enforces requestTimeout (and headersTimeout) only when it checks its connections, by
    // default every 30 s, and headers get 60 s: slow bodies lasted ~90 s. Check every second.
    http: { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))), headersTimeout: requestTimeout },
    // close(): stop accepting, close idle keep-alive sockets, let in-flight requests finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Per-request lines are ours (add-checkpoint outcomes), not fastify's incoming/completed pairs.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { caseSensitive: true, maxParamLength: 128 },
    // No route declares a JSON schema (bodies are notes, parsed by our own strict parsers), so
    // fastify's ajv and fast-json-stringify compilers are never needed: giving these factories
    // keeps fastify from loading them (about 3 MiB of heap at idle, issue 14).
    schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
  });

  // Beyond this node closes new connections at once (each costs a socket and its buffers).
  app.server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // One client (an address, or an IPv6 /64) may hold at most a share of the slots, so that one
  // client with idle keep-alive connections cannot lock everyone else out; trusted proxies are exempt.
  const perClientMax = opts.maxConnectionsPerClient ?? defaultMaxConnectionsPerClient(app.server.maxConnections);
  const perClient = new Map<string, number>();
  const isProxy = proxyMatcher(opts.trustProxy ?? []);
  let refusedLoggedAt = 0;
  app.server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? '';
    if (isProxy(addr)) return;
    const k = clientKey(addr);
    const n = (perClient.get(k) ?? 0) + 1;
    if (n > perClientMax) {
      metrics.connectionsRefused.inc();
      const now = Date.now();
      if (now - refusedLoggedAt > 60_000) {
        refusedLoggedAt = now;
        app.log.warn({ client: k, limit: perClientMax }, 'connection refused: this client already holds http.maxConnectionsPerClient connections (behind a reverse proxy, list it in http.trustProxy)');
      }
      return void socket.destroy();
    }
    perClient.set(k, n);
    socket.once('close', () => {
      const m = (perClient.get(k) ?? 1) - 1;
      if (m <= 0) perClient.delete(k);
      else perClient.set(k, m);
    });
  });
  // Expect: 100-continue with a Content-Length over the limit: 413 now, no 100 (the client would upload it all).
  app.server.on('checkContinue', (req, res) => {
    const len = Number(req.headers['content-length']);
    if (Number.isFinite(len) && len > bodyLimit) {
      const a = textAnswer(HTTP_STATUS.bodyTooLarge, `request body too large: the limit is ${bodyLimit} bytes`, { connection: 'close' });
      res.writeHead(a.status, a.headers).end(a.body);
      return;
    }
    res.writeContinue();
    app.server.emit('request', req, res);
  });

  const originLabel = new WeakMap<FastifyRequest, string>();

  // Hooks in callback style: async hooks cost a promise and a microtask turn each, per request
  // (issue 14, server CPU per add-checkpoint). The duration is fastify's own (reply.elapsedTime, ms).
  // Any answer sent before the body was read (413, 404, 405 with a body): the client reads it.
  app.addHook('onSend', (req, _reply, payload, done) => {
    lingerOnClose(req);
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.observeDuration(route, reply.elapsedTime / 1000);
    if (route === '/add-checkpoint' && req.method === 'POST') metrics.countRequest(originLabel.get(req) ?? UNKNOWN_ORIGIN, reply.statusCode);
    done();
  });

  // The add-checkpoint body is raw bytes whatever the Content-Type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      return send(reply, textAnswer(HTTP_STATUS.bodyTooLarge, `request body too large: the limit is ${bodyLimit} bytes`, { connection: 'close' }));
    }
    if (status >= 400 && status < 500) return send(reply, textAnswer(status, err.message || 'bad request'));
    req.log.error({ err, url: req.url, method: req.method }, 'internal error');
    return send(reply, textAnswer(HTTP_STATUS.internal, 'internal error'));
  });
  app.setNotFoundHandler((_req, reply) => send(reply, textAnswer(HTTP_STATUS.notFound, 'not found')));

  app.post(
    '/add-checkpoint',
    { onRequest: rawBody },
    async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) return send(reply, textAnswer(HTTP_STATUS.emptyBody, 'empty request body: expected "old <size>", proof lines, a blank line and a signed checkpoint'));
      let result;
      try {
        result = await witness.addCheckpoint(body);
      } catch (e) {
        // A bug (500): still counted under the request's origin.
        if (e instanceof WitnessInternalError && logs.get(e.origin) !== undefined) originLabel.set(req, e.origin);
        throw e;
      }
      const origin = result.origin;
      if (origin !== undefined && logs.get(origin) !== undefined) originLabel.set(req, origin);
      const answer = answerFor(result);
      // Advances and rejections of a followed log at info; replays, stale sizes and requests for
      // unknown logs or unparseable bodies (anyone can send those) at debug.
      if (result.kind === 'cosigned') req.log[result.advanced ? 'info' : 'debug']({ origin, size: result.checkpoint.size.toString(), advanced: result.advanced }, 'cosigned');
      else if (result.kind === 'stale') req.log.debug({ origin, size: result.size.toString(), status: answer.status }, 'add-checkpoint: stale old size');
      else {
        const known = originLabel.has(req);
        req.log[known ? 'info' : 'debug']({ origin: known ? origin : UNKNOWN_ORIGIN, status: answer.status, code: result.code, reason: result.reason }, 'add-checkpoint rejected');
      }
      return send(reply, answer);
    },
  );
  app.post('/sign-subtree', { onRequest: rawBody }, async (req, reply) => {
    const body = req.body;
    const signer = opts.subtreeSigner;
    const answer =
      signer === undefined || !signer.enabled
        ? textAnswer(HTTP_STATUS.notFound, MESSAGES.subtreeNotEnabled())
        : !Buffer.isBuffer(body) || body.length === 0
          ? textAnswer(HTTP_STATUS.emptyBody, 'empty request body: expected "subtree <start> <end>", the subtree hash, proof lines, a blank line and a cosigned checkpoint')
          : await subtreeAnswer(signer, body, req);
    metrics.countSubtreeRequest(answer.status, answer.headers['x-cached'] === 'true');
    return send(reply, answer);
  });
  for (const url of ['/add-checkpoint', '/sign-subtree']) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
      app.route({
        method,
        url,
        handler: async (_req, reply) => send(reply, textAnswer(HTTP_STATUS.methodNotAllowed, 'use POST', { allow: 'POST' })),
      });
    }
  }

  // Monitoring read path: the latest checkpoint this witness cosigned, with the log's verified
  // signatures and this witness's cosignature(s).
  app.get<{ Params: { hash: string } }>('/:hash/checkpoint', async (req, reply) => {
    const { hash } = req.params;
    if (!HASH_PATH.test(hash)) return send(reply, textAnswer(HTTP_STATUS.notFound, 'not found: expected /<64 lowercase hex SHA-256 of the origin>/checkpoint'));
    const origin = logs.originForHash(hash);
    if (origin === undefined) return send(reply, textAnswer(HTTP_STATUS.notFound, MESSAGES.unknownLog()));
    const state = await store.getState(origin);
    if (!state) return send(reply, textAnswer(HTTP_STATUS.notFound, 'no checkpoint cosigned for this log yet'));
    return reply.code(200).header('content-type', TEXT_PLAIN).send(state.cosigned);
  });

  // Lists page: ?limit= (EVIDENCE_PAGE, SUSPECT_PAGE) and ?after=<cursor>; when more follow,
  // a Link: <...>; rel="next" header carries the next page's URL. The body stays a JSON array.
  app.get<{ Querystring: { origin?: string; limit?: string; after?: string } }>('/evidence', async (req, reply) => {
    const origin = originFilter(req.query.origin);
    if (origin === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('origin filter')));
    const limit = pageLimit(req.query.limit, EVIDENCE_PAGE);
    if (limit === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('limit', EVIDENCE_PAGE.max)));
    const after = pageCursor(req.query.after);
    if (after === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('cursor')));
    let page;
    try {
      page = await store.pageEvidence({ origin, limit, after });
    } catch (e) {
      if (e instanceof TypeError) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('unknown cursor')));
      throw e;
    }
    if (page.next !== undefined) reply.header('link', nextLink('/evidence', origin, limit, page.next));
    return json(
      reply,
      page.items.map((e) => ({ id: e.id, origin: e.origin, receivedAt: new Date(e.receivedAt).toISOString() })),
    );
  });

  app.get<{ Params: { id: string } }>('/evidence/:id', async (req, reply) => {
    const { id } = req.params;
    if (!HASH_PATH.test(id)) return send(reply, textAnswer(HTTP_STATUS.notFound, 'not found: evidence ids are 64 lowercase hex digits'));
    const e = await store.getEvidence(id);
    if (!e) return send(reply, textAnswer(HTTP_STATUS.notFound, 'no such evidence'));
    return reply.code(200).header('content-type', 'application/json').send(Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength));
  });

  app.get<{ Querystring: { origin?: string; limit?: string; after?: string } }>('/suspects', async (req, reply) => {
    const origin = originFilter(req.query.origin);
    if (origin === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('origin filter')));
    const limit = pageLimit(req.query.limit, SUSPECT_PAGE);
    if (limit === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('limit', SUSPECT_PAGE.max)));
    const after = pageCursor(req.query.after);
    if (after === null) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('cursor')));
    let page;
    try {
      page = await store.pageSuspects({ origin, limit, after });
    } catch (e) {
      if (e instanceof TypeError) return send(reply, textAnswer(HTTP_STATUS.badQuery, MESSAGES.badQuery('unknown cursor')));
      throw e;
    }
    if (page.next !== undefined) reply.header('link', nextLink('/suspects', origin, limit, page.next));
    return json(
      reply,
      page.items.map((s) => ({
        origin: s.origin,
        receivedAt: new Date(s.receivedAt).toISOString(),
        reason: s.reason,
        oldSize: s.oldSize.toString(),
        proof: s.proof.map(encodeBase64),
        held: s.held,
        submitted: s.submitted,
      })),
    );
  });

  app.get('/metrics', async (_req, reply) => reply.code(200).header('content-type', metrics.contentType).send(await metrics.text()));

  // Liveness only: a restart does not fix a full disk or a clock set back. Readiness is /readyz.
  app.get('/healthz', async (_req, reply) => reply.code(200).header('content-type', TEXT_PLAIN).send('ok\n'));
  app.get('/readyz', async (_req, reply) => {
    const r = readiness(store, witness);
    if (r.ready) return reply.code(200).header('content-type', TEXT_PLAIN).header('cache-control', 'no-store').send('ready\n');
    return send(reply, textAnswer(HTTP_STATUS.unavailable, `not ready: ${r.reasons.join('; ')}`, { 'retry-after': String(UNAVAILABLE_RETRY_AFTER), 'cache-control': 'no-store' }));
  });

  const status = opts.statusSource;
  if (status) {
    const page = async (_req: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(200)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        // No scripts at all: if escaping ever failed, injected markup still could not run.
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(renderStatusPage(await status.collect()));
    app.get('/', page);
    app.get('/status', page);
    app.get('/status.json', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      return json(reply, await status.collect());
    });
  }

  return app;
}
