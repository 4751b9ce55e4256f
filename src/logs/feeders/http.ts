import { GossipWitnessError, type ErrorCode } from '../../errors.js';
// The feeders' HTTP layer: global fetch with a per-request deadline (the body included), an
// external AbortSignal (feeder stop), and a cap on the response size. Every failure becomes a
// FeedError with a bounded reason (used as a metrics label), or a FeedAbortedError on stop.

/**
 * Why a poll failed. Bounded: these are the `outcome` label values of the feeder metrics
 * (together with the success outcomes in feeder.ts).
 */
export type FeedFailure =
  | 'timeout' // no (complete) answer within the per-request deadline
  | 'network' // connection refused, reset, DNS, TLS...
  | 'http' // an HTTP status other than the expected one
  | 'too-large' // the answer exceeded the size cap
  | 'malformed' // the answer does not parse (note, JSON, tile, proof)
  | 'bad-signature' // the checkpoint does not verify with the log's configured keys
  | 'wrong-origin' // the checkpoint is for another origin than the configured one
  | 'not-configured' // the witness does not (or no longer) follow the origin
  | 'inconsistent' // the consistency proof does not verify (the witness refused it)
  | 'rate-limited' // the witness's qpd budget for the log is spent
  | 'stale' // the witness's size kept moving under us
  | 'unavailable' // the witness's store cannot write now (it recovers by itself)
  | 'clock-behind' // the witness's clock is behind a cosignature it already signed
  | 'internal'; // a bug: an unexpected exception (logged with its stack)

/** The error code (src/errors.ts) of each feeder failure. */
const FEED_FAILURE_CODES: Readonly<Record<FeedFailure, ErrorCode>> = {
  timeout: 'NETWORK',
  network: 'NETWORK',
  http: 'NETWORK',
  'too-large': 'malformed',
  malformed: 'malformed',
  'bad-signature': 'bad-signature',
  'wrong-origin': 'bad-signature',
  'not-configured': 'unknown-log',
  inconsistent: 'inconsistent',
  'rate-limited': 'rate-limited',
  stale: 'stale',
  unavailable: 'unavailable',
  'clock-behind': 'clock-behind',
  internal: 'internal',
};

export class FeedError extends GossipWitnessError {
  constructor(
    readonly reason: FeedFailure,
    message: string,
  ) {
    super({ code: FEED_FAILURE_CODES[reason], message });
    this.name = 'FeedError';
  }
}

/** The feeder was stopped while the request was in flight: not a failure of the log. */
export class FeedAbortedError extends GossipWitnessError {
  constructor() {
    super({ code: 'UNAVAILABLE', message: 'stopped' });
    this.name = 'FeedAbortedError';
  }
}

export interface HttpSettings {
  /** Per-request deadline in ms, covering headers and body. */
  readonly timeoutMs: number;
  /** fetch implementation (default: the global fetch). */
  readonly fetch?: typeof fetch;
  /** Extra request headers (e.g. a User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: string | Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Largest accepted response body in bytes. */
  readonly maxBytes: number;
  /** Aborts the request (feeder stop). */
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** The Content-Type header, lowercased, without parameters ('' if absent). */
  readonly mediaType: string;
  readonly body: Uint8Array;
}

export const USER_AGENT = 'gossip-witness-feeder/0.1';

/** The URL without credentials, query or fragment, for messages and logs. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.slice(0, 200);
  }
}

/** `base` (with or without a trailing slash) joined with a relative path. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

function causeMessage(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return (cause ? `${err.message ?? 'fetch failed'}: ${cause}` : (err?.message ?? String(e))).slice(0, 300);
}

/**
 * One HTTP request. Resolves with any status (callers decide what is expected); rejects with
 * FeedError('timeout' | 'network' | 'too-large') or FeedAbortedError. Never leaves a timer behind.
 */
export async function httpRequest(settings: HttpSettings, req: HttpRequest): Promise<HttpResponse> {
  const where = `${req.method ?? 'GET'} ${displayUrl(req.url)}`;
  if (req.signal?.aborted) throw new FeedAbortedError();
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, settings.timeoutMs);
  const onAbort = () => ctl.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const f = settings.fetch ?? fetch;
  try {
    const res = await f(req.url, {
      method: req.method ?? 'GET',
      headers: { 'user-agent': USER_AGENT, ...settings.headers, ...req.headers },
      ...(req.body !== undefined ? { body: typeof req.body === 'string' ? req.body : (req.body as Uint8Array<ArrayBuffer>) } : {}),
      signal: ctl.signal,
      redirect: 'follow',
    });
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > req.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new FeedError('too-large', `${where}: answer of ${declared} bytes exceeds the ${req.maxBytes}-byte cap`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > req.maxBytes) {
          await reader.cancel().catch(() => {});
          throw new FeedError('too-large', `${where}: answer exceeds the ${req.maxBytes}-byte cap`);
        }
        chunks.push(value);
      }
    }
    const body = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      body.set(c, off);
      off += c.length;
    }
    return { status: res.status, mediaType, body };
  } catch (e) {
    if (e instanceof FeedError) throw e;
    if (req.signal?.aborted) throw new FeedAbortedError();
    if (timedOut) throw new FeedError('timeout', `${where}: no complete answer within ${settings.timeoutMs} ms`);
    throw new FeedError('network', `${where}: ${causeMessage(e)}`);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** GET that must answer 200; anything else is FeedError('http'). */
export async function httpGet(settings: HttpSettings, url: string, maxBytes: number, signal?: AbortSignal): Promise<HttpResponse> {
  const res = await httpRequest(settings, { url, maxBytes, signal });
  if (res.status !== 200) throw new FeedError('http', `GET ${displayUrl(url)}: HTTP ${res.status}`);
  return res;
}
