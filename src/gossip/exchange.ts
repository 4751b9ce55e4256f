// Gossip version 2's exchange protocol (docs/gossip.md, "Version 2"): one long-lived stream per
// peer and direction, length-prefixed binary frames, at most one frame per tick per peer. Each
// log-signed checkpoint and each cosignature crosses each eager edge (the gossipsub mesh of the
// evidence topic) at most once, and only what the receiver follows and tracks (its HELLO) is sent.
// Only verified items are ever queued here (the service verifies before it offers).
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { keyLabel, type SignatureLine } from '../note/note.js';
import { sha256 } from '../crypto/index.js';
import { concatBytes, decodeUtf8, encodeBase64, toHex, utf8 } from '../util/bytes.js';

export const EXCHANGE_PROTOCOL = '/gossip-witness/exchange/2.0.0';
export const EXCHANGE_VERSION = 2;
/** How often a node writes to each peer (a frame only when there is something new). */
export const EXCHANGE_TICK_MS = 100;
export const MAX_FRAME_BYTES = 64 * 1024;
/** A signature longer than this (an ML-DSA-44 line, 2.4 KB) is never pushed: fetched on demand. */
export const MAX_PUSHED_SIG_BYTES = 128;
/** REF: the first bytes of SHA-256 of a checkpoint text. */
export const REF_BYTES = 8;
const MAX_HELLO_ITEMS = 4096;
const RECENT_MAX = 65_536;
const KNOWN_MAX = 65_536;

export const FRAME = { hello: 1, checkpoint: 2, cosigs: 3 } as const;

/** The distributor's log ID, shortened: hex of the first 8 bytes of SHA-256("o:" + origin). */
export function shortLogId(origin: string): string {
  return toHex(sha256(utf8('o:' + origin)).subarray(0, 8));
}

export class FrameError extends Error {
  constructor(message: string, readonly oversized = false) {
    super(message);
    this.name = 'FrameError';
  }
}

// ---------------------------------------------------------------- encoding

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function readVarint(b: Uint8Array, pos: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= b.length) throw new FrameError('truncated varint');
    const x = b[pos++];
    n += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [n, pos];
    mul *= 128;
  }
  throw new FrameError('varint too long');
}

export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const body = concatBytes(Uint8Array.of(type), payload);
  if (body.length > MAX_FRAME_BYTES) throw new FrameError('frame too large', true);
  return concatBytes(varint(body.length), body);
}

export interface Hello {
  readonly version: number;
  /** Short log IDs of the logs the sender follows. */
  readonly logs: readonly string[];
  /** Cosignature key labels the sender tracks (its own first). */
  readonly keys: readonly string[];
}

export function encodeHello(h: Hello): Uint8Array {
  return encodeFrame(FRAME.hello, utf8(JSON.stringify({ v: h.version, logs: h.logs, keys: h.keys })));
}

export function decodeHello(payload: Uint8Array): Hello {
  const text = decodeUtf8(payload);
  let o: unknown;
  try {
    o = text === null ? null : JSON.parse(text);
  } catch {
    o = null;
  }
  const r = o as { v?: unknown; logs?: unknown; keys?: unknown } | null;
  if (!r || typeof r.v !== 'number' || !Array.isArray(r.logs) || !Array.isArray(r.keys)) throw new FrameError('bad HELLO');
  if (r.logs.length > MAX_HELLO_ITEMS || r.keys.length > MAX_HELLO_ITEMS) throw new FrameError('HELLO lists too long');
  if (!r.logs.every((x) => typeof x === 'string' && /^[0-9a-f]{16}$/.test(x)) || !r.keys.every((x) => typeof x === 'string' && x.length <= 300)) throw new FrameError('bad HELLO entries');
  return { version: r.v, logs: r.logs as string[], keys: r.keys as string[] };
}

export interface CosigEntry {
  /** Index into the receiver's HELLO key list. */
  readonly index: number;
  /** The signature bytes after the key ID (timestamp and signature for cosignature/v1). */
  readonly sig: Uint8Array;
}

export function encodeCosigs(ref: Uint8Array, items: readonly CosigEntry[]): Uint8Array {
  const parts: Uint8Array[] = [ref, varint(items.length)];
  for (const c of items) parts.push(varint(c.index), varint(c.sig.length), c.sig);
  return encodeFrame(FRAME.cosigs, concatBytes(...parts));
}

export function decodeCosigs(payload: Uint8Array): { ref: Uint8Array; items: CosigEntry[] } {
  if (payload.length < REF_BYTES) throw new FrameError('truncated COSIGS');
  const ref = payload.subarray(0, REF_BYTES);
  let [n, pos] = readVarint(payload, REF_BYTES);
  const items: CosigEntry[] = [];
  for (let i = 0; i < n; i++) {
    let index: number;
    let len: number;
    [index, pos] = readVarint(payload, pos);
    [len, pos] = readVarint(payload, pos);
    if (len > MAX_PUSHED_SIG_BYTES || pos + len > payload.length) throw new FrameError('bad COSIGS entry');
    items.push({ index, sig: payload.subarray(pos, pos + len) });
    pos += len;
  }
  if (pos !== payload.length) throw new FrameError('trailing bytes in COSIGS');
  return { ref, items };
}

/** Splits a byte stream into frames; throws FrameError on an oversized or malformed one. */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);
  push(chunk: Uint8Array): { type: number; payload: Uint8Array }[] {
    this.buf = this.buf.length === 0 ? chunk.slice() : concatBytes(this.buf, chunk);
    const out: { type: number; payload: Uint8Array }[] = [];
    for (;;) {
      let len: number;
      let pos: number;
      try {
        [len, pos] = readVarint(this.buf, 0);
      } catch (e) {
        if ((e as Error).message === 'truncated varint') break;
        throw e;
      }
      if (len > MAX_FRAME_BYTES) throw new FrameError(`frame over ${MAX_FRAME_BYTES} bytes`, true);
      if (len === 0) throw new FrameError('empty frame');
      if (this.buf.length < pos + len) {
        if (this.buf.length > MAX_FRAME_BYTES + 8) throw new FrameError('frame too large', true);
        break;
      }
      out.push({ type: this.buf[pos], payload: this.buf.slice(pos + 1, pos + len) });
      this.buf = this.buf.subarray(pos + len);
    }
    return out;
  }
}

// ---------------------------------------------------------------- sessions

export type Item =
  | { kind: 'checkpoint'; origin: string; textHash: string; note: Uint8Array }
  | { kind: 'cosig'; origin: string; textHash: string; label: string; sig: Uint8Array };

export function itemKey(i: { kind: string; textHash: string; label?: string }): string {
  return i.kind === 'checkpoint' ? `c${i.textHash}` : `s${i.textHash} ${i.label}`;
}

export type ItemVerdict = 'new' | 'dup' | 'ignore' | 'reject';


export interface ExchangeDeps {
  readonly host: {
    dialProtocol(peer: PeerId, protocol: string, opts?: { signal?: AbortSignal }): Promise<unknown>;
    getPeers(): PeerId[];
  };
  /** Peers pushed to (the gossipsub mesh of the evidence topic). */
  eagerPeers(): Set<string>;
  hello(): Hello;
  /** A log-signed checkpoint note from a peer: verified and taken in by the service. */
  onCheckpoint(note: Uint8Array, from: string): ItemVerdict;
  /** A cosignature on a known text (by REF): verified and taken in by the service. */
  onCosig(ref: string, line: SignatureLine, from: string): ItemVerdict | 'unknown-ref';
  /** A protocol violation (malformed or oversized frame, bad index, bad signature). */
  penalise(peer: string, reason: 'oversized' | 'invalid', detail: string): void;
  readonly logger: { debug(o: object, m: string): void; info(o: object, m: string): void };
}

interface Session {
  stream?: Stream;
  opening: boolean;
  /** The peer's HELLO (from its stream to us): what it follows and tracks. */
  hello?: { logs: Set<string>; keyIndex: Map<string, number> };
  /** Items the peer is known to hold (sent to it, or received from it). */
  known: Set<string>;
  /** The last recent-item sequence number considered for this peer. */
  cursor: number;
  lastOpen: number;
}

/** The exchange: queues verified items and pushes each to eager peers that lack it, once per tick. */
export class Exchange {
  private readonly sessions = new Map<string, Session>();
  private readonly recent: { seq: number; item: Item }[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bytes written and frames, for metrics and tests. */
  readonly stats = { framesOut: 0, bytesOut: 0, framesIn: 0, dupIn: 0, early: 0 };
  /** Cosignatures that arrived before their text (another path was faster): applied when it comes. */
  private readonly early = new Map<string, { line: SignatureLine; from: string }[]>();

  constructor(private readonly d: ExchangeDeps) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), EXCHANGE_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sessions.values()) s.stream?.abort(new Error('stopping'));
    this.sessions.clear();
  }

  /** Queues a verified item (this node's own, or one a peer sent: `from` already holds it). */
  offer(item: Item, from?: string): void {
    if (item.kind === 'cosig' && item.sig.length > MAX_PUSHED_SIG_BYTES) return;
    this.recent.push({ seq: ++this.seq, item });
    if (this.recent.length > RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
    if (from) this.session(from).known.add(itemKey(item));
  }

  private session(peer: string): Session {
    let s = this.sessions.get(peer);
    if (!s) this.sessions.set(peer, (s = { opening: false, known: new Set(), cursor: this.seq, lastOpen: 0 }));
    return s;
  }

  peerGone(peer: string): void {
    const s = this.sessions.get(peer);
    s?.stream?.abort(new Error('peer gone'));
    this.sessions.delete(peer);
  }

  /** Opens our stream to a peer that speaks the exchange (after identify). */
  async open(peer: PeerId): Promise<void> {
    const id = peer.toString();
    const s = this.session(id);
    if (s.stream || s.opening || this.stopped) return;
    s.opening = true;
    s.lastOpen = Date.now();
    try {
      const stream = (await this.d.host.dialProtocol(peer, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) })) as Stream;
      if (this.stopped || this.sessions.get(id) !== s) {
        stream.abort(new Error('gone'));
        return;
      }
      s.stream = stream;
      this.write(s, encodeHello(this.d.hello()));
      stream.addEventListener('close', () => {
        if (s.stream === stream) s.stream = undefined;
      });
    } catch (e) {
      this.d.logger.debug({ peer: id, err: (e as Error).message }, 'exchange stream could not be opened');
    } finally {
      s.opening = false;
    }
  }

  private write(s: Session, frame: Uint8Array, frames = 1): void {
    if (!s.stream) return;
    try {
      // false: buffered beyond the high-water mark; the frame is still queued (yamux).
      s.stream.send(frame);
      this.stats.framesOut += frames;
      this.stats.bytesOut += frame.length;
    } catch {
      s.stream.abort(new Error('write failed'));
      s.stream = undefined;
    }
  }

  /** Reads a peer's stream to us until it ends or misbehaves. */
  async serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const s = this.session(peer);
    const reader = new FrameReader();
    let first = true;
    try {
      for await (const chunk of stream) {
        const frames = reader.push(chunk instanceof Uint8Array ? chunk : chunk.subarray());
        for (const f of frames) {
          this.stats.framesIn++;
          if (first !== (f.type === FRAME.hello)) throw new FrameError(first ? 'the first frame must be HELLO' : 'a second HELLO');
          first = false;
          this.handle(s, peer, f.type, f.payload);
        }
      }
    } catch (e) {
      const oversized = e instanceof FrameError && e.oversized;
      if (e instanceof FrameError) this.d.penalise(peer, oversized ? 'oversized' : 'invalid', e.message);
      stream.abort(e as Error);
    }
  }

  private handle(s: Session, peer: string, type: number, payload: Uint8Array): void {
    if (type === FRAME.hello) {
      const h = decodeHello(payload);
      if (h.version !== EXCHANGE_VERSION) throw new FrameError(`version ${h.version}`);
      s.hello = { logs: new Set(h.logs), keyIndex: new Map(h.keys.map((k, i) => [k, i])) };
      if (!s.stream) void this.open(this.peerIdOf(peer)!);
      return;
    }
    if (type === FRAME.checkpoint) {
      const v = this.d.onCheckpoint(payload, peer);
      if (v === 'reject') throw new FrameError('a checkpoint that does not verify');

      if (v === 'dup') this.stats.dupIn++;
      return;
    }
    if (type === FRAME.cosigs) {
      const { ref, items } = decodeCosigs(payload);
      const keys = this.d.hello().keys;
      const refHex = toHex(ref);
      for (const c of items) {
        const label = keys[c.index];
        if (label === undefined) throw new FrameError('key index outside our HELLO');
        const plus = label.lastIndexOf('+');
        const keyId = Number.parseInt(label.slice(plus + 1), 16);
        const name = label.slice(0, plus);
        const idBytes = Uint8Array.of(keyId >>> 24, (keyId >>> 16) & 0xff, (keyId >>> 8) & 0xff, keyId & 0xff);
        const line: SignatureLine = { name, keyId, sig: c.sig, base64: encodeBase64(concatBytes(idBytes, c.sig)) };
        let v = this.d.onCosig(refHex, line, peer);
        if (v === 'unknown-ref') {
          this.stats.early++;
          let l = this.early.get(refHex);
          if (!l) this.early.set(refHex, (l = []));
          if (l.length < 256) l.push({ line, from: peer });
          if (this.early.size > 4096) this.early.delete(this.early.keys().next().value!);
          v = 'ignore';
        }
        if (v === 'reject') throw new FrameError(`a cosignature by ${keyLabel(name, keyId)} that does not verify`);
        if (v === 'dup') this.stats.dupIn++;
      }
      return;
    }
    throw new FrameError(`unknown frame type ${type}`);
  }

  /** Cosignatures held back for a text that has now arrived. */
  applyEarly(ref: string): void {
    const l = this.early.get(ref);
    if (!l) return;
    this.early.delete(ref);
    for (const { line, from } of l) {
      const v = this.d.onCosig(ref, line, from);
      if (v === 'reject') this.d.penalise(from, 'invalid', 'an early cosignature that does not verify');
    }
  }

  private peerIdOf(peer: string): PeerId | undefined {
    return this.d.host.getPeers().find((p) => p.toString() === peer);
  }

  /** Known-sets stay bounded: the oldest half is forgotten (a rare duplicate at worst). */
  private trim(s: Session): void {
    if (s.known.size <= KNOWN_MAX) return;
    let n = s.known.size >> 1;
    for (const k of s.known) {
      s.known.delete(k);
      if (--n <= 0) break;
    }
  }

  /** One frame batch per eager peer: new checkpoints first, then cosignatures grouped by text. */
  tick(): void {
    if (this.stopped || this.recent.length === 0) return;
    const eager = this.d.eagerPeers();
    const last = this.seq;
    const firstSeq = this.recent[0].seq;
    const now = Date.now();
    for (const [peer, s] of this.sessions) {
      // A stream that failed is reopened (at most every 2 s) while the peer stays connected.
      if (!s.stream && !s.opening && s.hello && now - s.lastOpen > 2000) {
        const pid = this.peerIdOf(peer);
        if (pid) void this.open(pid);
      }
      const from = s.cursor;
      s.cursor = last;
      if (!s.stream || !s.hello || !eager.has(peer) || from >= last) continue;
      const start = Math.max(0, from + 1 - firstSeq);
      const groups = new Map<string, CosigEntry[]>();
      // One write per peer per tick: each write costs a yamux header and a Noise tag (≈ 30 B).
      const out: Uint8Array[] = [];
      for (let i = start; i < this.recent.length; i++) {
        const it = this.recent[i].item;
        const key = itemKey(it);
        if (s.known.has(key) || !s.hello.logs.has(shortLogId(it.origin))) continue;
        if (it.kind === 'checkpoint') {
          s.known.add(key);
          out.push(encodeFrame(FRAME.checkpoint, it.note));
          continue;
        }
        const index = s.hello.keyIndex.get(it.label);
        if (index === undefined) continue;
        s.known.add(key);
        let g = groups.get(it.textHash);
        if (!g) groups.set(it.textHash, (g = []));
        g.push({ index, sig: it.sig });
      }
      for (const [textHash, items] of groups) {
        const ref = Uint8Array.from(Buffer.from(textHash.slice(0, REF_BYTES * 2), 'hex'));
        // Stay under the frame limit: at most 400 Ed25519 entries per frame.
        for (let i = 0; i < items.length; i += 400) out.push(encodeCosigs(ref, items.slice(i, i + 400)));
      }
      if (out.length > 0) this.write(s, out.length === 1 ? out[0] : concatBytes(...out), out.length);
      this.trim(s);
    }
    // Drop what every session has seen.
    let minCursor = last;
    for (const s of this.sessions.values()) minCursor = Math.min(minCursor, s.cursor);
    const keep = this.recent.findIndex((r) => r.seq > minCursor);
    if (keep < 0) this.recent.length = 0;
    else if (keep > 0) this.recent.splice(0, keep);
  }
}
