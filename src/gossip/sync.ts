// The request/response protocol SYNC_PROTOCOL (docs/gossip.md): one request, one response per
// libp2p stream. The requester writes one UTF-8 JSON object (at most MAX_REQUEST_BYTES) and closes
// its write side; the responder answers with one JSON object (at most MAX_RESPONSE_BYTES) and
// closes. Tree sizes are decimal strings, hashes standard base64.
//
//   {"type":"views","origins":[O...]}             -> {"type":"views","notes":[NOTE...]}
//   {"type":"cosigned-by","key":"NAME+HEX8"}      -> {"type":"cosigned-by","notes":[NOTE...]}
//   {"type":"prove","origin":O,"size":"M","note":NOTE}
//                                                 -> {"type":"prove","h":B64,"proof":[B64...]}
//   {"type":"binding"}                            -> {"type":"binding","records":[REC...]} (src/gossip/binding.ts)
//   any failure                                   -> {"type":"error","code":C,"reason":TEXT}
//
// NOTE is a cosigned-checkpoint message as on the checkpoint topic. Everything received is
// verified exactly as gossip is (src/gossip/wire.ts); a "prove" answer is checked against the
// signed root of NOTE before it is used.
import { decodeBase64, encodeBase64, utf8, decodeUtf8 } from '../util/bytes.js';
import { parseTreeSize } from '../checkpoint/checkpoint.js';
import { decodeBinding, encodeBinding, MAX_BINDINGS, type BindingRecord } from './binding.js';
import { GossipWitnessError } from '../errors.js';

export const SYNC_PROTOCOL = '/gossip-witness/sync/1.0.0';
export const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** At most this many notes in a views / cosigned-by answer, and origins in a views request. */
export const MAX_NOTES = 256;
export const MAX_ORIGINS = 4096;
export const MAX_PROOF_HASHES = 64;
export const SYNC_TIMEOUT_MS = 5_000;

export type SyncRequest =
  | { type: 'views'; origins: string[] }
  | { type: 'cosigned-by'; key: string }
  | { type: 'prove'; origin: string; size: bigint; note: string }
  | { type: 'binding' };

export type SyncResponse =
  | { type: 'views'; notes: string[] }
  | { type: 'cosigned-by'; notes: string[] }
  | { type: 'prove'; h: Uint8Array; proof: Uint8Array[] }
  | { type: 'binding'; records: BindingRecord[] }
  | { type: 'error'; code: 'bad-request' | 'unknown-log' | 'unavailable' | 'busy'; reason: string };

export class SyncError extends GossipWitnessError {
  /** malformed: a peer's message does not parse; UNAVAILABLE: a local cap refused it. */
  constructor(message: string, code: 'malformed' | 'UNAVAILABLE' = 'malformed') {
    super({ code, message });
    this.name = 'SyncError';
  }
}

function parseJson(bytes: Uint8Array, max: number): Record<string, unknown> {
  if (bytes.length > max) throw new SyncError(`message larger than ${max} bytes`);
  const text = decodeUtf8(bytes);
  if (text === null) throw new SyncError('not UTF-8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SyncError('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SyncError('not a JSON object');
  return v as Record<string, unknown>;
}

function stringList(v: unknown, max: number, what: string): string[] {
  if (!Array.isArray(v) || v.length > max || v.some((x) => typeof x !== 'string')) throw new SyncError(`${what} must be a list of at most ${max} strings`);
  return v as string[];
}

export function encodeRequest(r: SyncRequest): Uint8Array {
  switch (r.type) {
    case 'views':
      return utf8(JSON.stringify({ type: 'views', origins: r.origins }));
    case 'cosigned-by':
      return utf8(JSON.stringify({ type: 'cosigned-by', key: r.key }));
    case 'prove':
      return utf8(JSON.stringify({ type: 'prove', origin: r.origin, size: r.size.toString(), note: r.note }));
    case 'binding':
      return utf8(JSON.stringify({ type: 'binding' }));
  }
}

export function decodeRequest(bytes: Uint8Array): SyncRequest {
  const o = parseJson(bytes, MAX_REQUEST_BYTES);
  switch (o.type) {
    case 'views':
      return { type: 'views', origins: stringList(o.origins ?? [], MAX_ORIGINS, 'origins') };
    case 'cosigned-by':
      if (typeof o.key !== 'string' || o.key.length > 512) throw new SyncError('key must be a string');
      return { type: 'cosigned-by', key: o.key };
    case 'prove': {
      if (typeof o.origin !== 'string' || typeof o.note !== 'string' || typeof o.size !== 'string') throw new SyncError('origin, size and note must be strings');
      const size = parseTreeSize(o.size);
      if (size === null) throw new SyncError('bad size');
      return { type: 'prove', origin: o.origin, size, note: o.note };
    }
    case 'binding':
      return { type: 'binding' };
    default:
      throw new SyncError(`unknown request type ${JSON.stringify(o.type)}`);
  }
}

export function encodeResponse(r: SyncResponse): Uint8Array {
  switch (r.type) {
    case 'views':
    case 'cosigned-by':
      return utf8(JSON.stringify({ type: r.type, notes: r.notes }));
    case 'prove':
      return utf8(JSON.stringify({ type: 'prove', h: encodeBase64(r.h), proof: r.proof.map(encodeBase64) }));
    case 'binding':
      return utf8(JSON.stringify({ type: 'binding', records: r.records.map(encodeBinding) }));
    case 'error':
      return utf8(JSON.stringify({ type: 'error', code: r.code, reason: r.reason }));
  }
}

export function decodeResponse(bytes: Uint8Array): SyncResponse {
  const o = parseJson(bytes, MAX_RESPONSE_BYTES);
  switch (o.type) {
    case 'views':
    case 'cosigned-by':
      return { type: o.type, notes: stringList(o.notes, MAX_NOTES, 'notes') };
    case 'prove': {
      const h = typeof o.h === 'string' ? decodeBase64(o.h) : null;
      const proof = Array.isArray(o.proof) && o.proof.length <= MAX_PROOF_HASHES ? o.proof.map((p) => (typeof p === 'string' ? decodeBase64(p) : null)) : null;
      if (h === null || h.length !== 32 || proof === null || proof.some((p) => p === null || p.length !== 32)) throw new SyncError('h and proof must be base64 of 32-byte hashes');
      return { type: 'prove', h, proof: proof as Uint8Array[] };
    }
    case 'binding': {
      if (!Array.isArray(o.records) || o.records.length > MAX_BINDINGS) throw new SyncError(`records must be a list of at most ${MAX_BINDINGS}`);
      const records = o.records.map(decodeBinding);
      if (records.some((r) => r === null)) throw new SyncError('malformed binding record');
      return { type: 'binding', records: records as BindingRecord[] };
    }
    case 'error': {
      const codes = ['bad-request', 'unknown-log', 'unavailable', 'busy'];
      const code = typeof o.code === 'string' && codes.includes(o.code) ? (o.code as 'bad-request') : 'bad-request';
      return { type: 'error', code, reason: typeof o.reason === 'string' ? o.reason.slice(0, 500) : '' };
    }
    default:
      throw new SyncError(`unknown response type ${JSON.stringify(o.type)}`);
  }
}

/** The minimal libp2p v3 stream surface used here. */
export interface ByteStream extends AsyncIterable<Uint8Array | { subarray(): Uint8Array }> {
  send(data: Uint8Array): boolean;
  close(options?: { signal?: AbortSignal }): Promise<void>;
  abort(err: Error): void;
  onDrain?(options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Shared cap on the bytes that inbound streams may hold at once (node-wide). take() refuses
 * rather than waits: a node that is full answers "busy" instead of queueing memory.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  get inUse(): number {
    return this.used;
  }
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export class SyncTimeoutError extends SyncError {
  constructor(what: string) {
    super(`${what} timed out`);
    this.name = 'SyncTimeoutError';
  }
}

/**
 * Reads the stream to its end (the remote closed its write side), refusing more than max bytes.
 * With a signal, the read is abandoned (and the stream aborted) when it fires: a peer that never
 * sends or never closes cannot hold the caller. With a budget, every chunk is charged against it
 * until the read ends (the caller's memory cap).
 */
export async function readAll(stream: ByteStream, max: number, opts: { signal?: AbortSignal; budget?: ByteBudget } = {}): Promise<Uint8Array> {
  const { signal, budget } = opts;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let charged = 0;
  const onAbort = () => stream.abort(new SyncTimeoutError('read'));
  if (signal?.aborted) {
    onAbort();
    throw new SyncTimeoutError('read');
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const c of stream) {
      const b = c instanceof Uint8Array ? c : c.subarray();
      total += b.length;
      if (total > max) throw new SyncError(`message larger than ${max} bytes`);
      if (budget) {
        if (!budget.take(b.length)) throw new SyncError('node-wide inbound memory cap reached', 'UNAVAILABLE');
        charged += b.length;
      }
      chunks.push(b);
    }
    if (signal?.aborted) throw new SyncTimeoutError('read');
  } catch (e) {
    if (signal?.aborted) throw new SyncTimeoutError('read');
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    budget?.give(charged);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Writes all bytes (in chunks, waiting for drain) and closes the write side; the signal bounds every wait. */
export async function writeAll(stream: ByteStream, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  const CHUNK = 64 * 1024;
  for (let i = 0; i < data.length; i += CHUNK) {
    if (signal?.aborted) throw new SyncTimeoutError('write');
    if (!stream.send(data.subarray(i, i + CHUNK)) && stream.onDrain) await stream.onDrain(signal ? { signal } : {});
  }
  await stream.close(signal ? { signal } : {});
}
