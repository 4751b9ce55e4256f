// Gossip version 2's exchange protocol (docs/gossip.md, "Version 2"): one long-lived stream per
// peer and direction, length-prefixed binary frames, at most one write per tick per peer. Each
// log-signed checkpoint and each cosignature crosses each eager edge (a sparse overlay, see
// Exchange) at most once; other peers get HAVE digests and WANT what they lack. Only what the
// receiver follows and tracks (its HELLO) is sent, and only verified items are ever queued here
// (the service verifies before it offers). ML-DSA-44 lines are announced, never pushed.
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { keyLabel, lastIndexOfBlankLine, type SignatureLine } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { sha256 } from '../crypto/index.js';
import { concatBytes, concatList, decodeUtf8, encodeBase64, readU64be, toHex, utf8 } from '../util/bytes.js';
import { GossipWitnessError } from '../errors.js';

/** Every revision of the exchange protocol starts with this. */
export const EXCHANGE_PROTOCOL_PREFIX = '/gossip-witness/exchange/';
/**
 * 2.3.0 since 2026-12-08 (thirteenth session): COSIGS carries each entry's timestamp as a
 * difference from the frame's first (encodeCosigs); 2.2.0 (2026-12-08): HELLO names keys with a
 * fingerprint of the key (helloKeyEntry); 2.1.0 (2026-12-07): 16-byte REFs (2.0.0's were 8 bytes;
 * see REF_BYTES).
 */
export const EXCHANGE_PROTOCOL = `${EXCHANGE_PROTOCOL_PREFIX}2.3.0`;
export const EXCHANGE_VERSION = 2;
/** How often a node writes to each peer (a frame only when there is something new). */
export const EXCHANGE_TICK_MS = 100;
/**
 * The frame limit: a log-signed note with 100 signature lines of the largest type (ML-DSA-44,
 * about 3.3 KB each as a note line) fits in one CHECKPOINT frame. Writers split COSIGS, HAVE and
 * WANT frames at SPLIT_FRAME_BYTES.
 */
export const MAX_FRAME_BYTES = 512 * 1024;
export const SPLIT_FRAME_BYTES = 60 * 1024;
/** A signature longer than this (an ML-DSA-44 line, 2.4 KB) is never pushed: announced, fetched on demand. */
export const MAX_PUSHED_SIG_BYTES = 128;
/** The longest signature a COSIGS entry may carry (ML-DSA-44: 8 + 2420 bytes). */
export const MAX_SIG_BYTES = 4096;
/** The shortest signature a COSIGS entry carries: a cosignature/v1 one (an 8-byte timestamp and a 64-byte Ed25519 signature). */
export const MIN_SIG_BYTES = 72;
/** Peers each node chooses to push to (they push back): the eager overlay has degree about 2 × this. */
export const EAGER_DEGREE = 1;
/**
 * Grafting (Plumtree's GRAFT, damped). The chosen links form a random 1-out graph: a forest of a
 * few trees (about one per 12 nodes at 7 connections each), and an item crosses from one tree to
 * the next only lazily (HAVE, the WANT wait, a round trip: 1-2 s a hop). Every GRAFT_CHECK_MS a
 * node whose first copies came lazily for at least GRAFT_LAZY_SHARE of the items (at least
 * GRAFT_MIN_ITEMS) in that window, and still within the last GRAFT_RECENT_MS, and for which
 * eager copies did not trail while its ticks ran late (reachedLate: the overlay reaches it, late), makes the lazy
 * peer that supplied most of them eager (an EAGER 1 frame: the edge is then used both ways),
 * up to GRAFT_MAX grafts. A graft over which at least PRUNE_DUP_SHARE of the items arrived as
 * duplicates in two windows running is redundant (the trees are joined another way) and is
 * dropped. Each node checks at its own phase, so that one graft usually joins two trees before
 * the other border nodes look.
 */
export const GRAFT_CHECK_MS = 5000;
export const GRAFT_LAZY_SHARE = 0.2;
export const GRAFT_MIN_ITEMS = 20;
export const GRAFT_RECENT_MS = 2000;
export const GRAFT_MAX = 2;
export const PRUNE_DUP_SHARE = 0.5;
/** A tick this much later than EXCHANGE_TICK_MS after the one before marks the node's event loop as lagging. */
export const LATE_TICK_MS = EXCHANGE_TICK_MS;

/**
 * The graft check's guard: eager copies trailing what this node fetched lazily (at least half as
 * many) mean the overlay reaches it, only late, when the node's own event loop lags (a loaded
 * machine: lazy WANTs then race the eager copies, and a graft would only add duplicates). Without
 * lag they mean the opposite: the eager copies came from peers that fetched the items lazily too
 * (two nodes that chose only each other push each other what they fetched), and only a graft
 * joins them to the rest (docs/gossip.md, "Grafting").
 */
export function reachedLate(trailing: number, lazy: number, lagged: boolean): boolean {
  return lagged && trailing * 2 >= lazy;
}
/**
 * HAVE digests to a lazy peer at most this often (only when something changed). Longer intervals
 * merge more of a text's cosignatures into one entry (fewer, fuller digests).
 */
export const HAVE_INTERVAL_MS = 1000;
/**
 * A WANT waits this long after the first announcement (the eager copy may be on its way). Shorter
 * waits lost the race to the eager path often (a third of the items a node received were
 * duplicates at 150 ms, bench/results/gossip-v2.md run I).
 */
export const WANT_DELAY_MS = 500;
/**
 * The WANT wait adapts to the eager overlay's lag: each eager copy that arrives after this node
 * already fetched the item with a WANT (a duplicate: the wait was too short) adds
 * WANT_DELAY_STEP_MS, and the excess over WANT_DELAY_MS decays by 10 % per second, within
 * WANT_DELAY_MAX_MS. Slow or overloaded nodes then repair less eagerly instead of fetching
 * everything twice; a peer that sends duplicates can only slow this node's lazy repair, by at most
 * WANT_DELAY_MAX_MS.
 */
export const WANT_DELAY_STEP_MS = 20;
export const WANT_DELAY_MAX_MS = 2500;
/** Another announcer is asked when a WANT was not answered within this. */
export const WANT_RETRY_MS = 1000;
/** Times one item is asked for (from any announcer) before it is given up. */
export const WANT_TRIES = 6;
/** How long an announcement counts: after this, what it offered is no longer asked for. */
export const ANNOUNCE_TTL_MS = 60_000;
/**
 * An item taken from a lazy link (a WANT answer, a catch-up) waits this long before it is pushed
 * to the eager peers: one that has it meanwhile pushes it to us (then it is known and not sent
 * back), instead of both pushes crossing (a duplicate each way).
 */
export const LAZY_HOLD_MS = 250;
/** WANT entries answered per peer per second (more than an honest node asks; the rest is not answered, not penalised). */
const MAX_WANT_PER_S = 1024;
/** Bytes of WANT answers per peer per second (about 400 ML-DSA-44 lines; the rest is not answered, not penalised). */
export const MAX_WANT_BYTES_PER_S = 1024 * 1024;
/** WANTs are not answered while this much is queued for the peer already (it is not reading). */
export const WANT_ANSWER_MAX_QUEUED = 256 * 1024;
/**
 * An exchange stream whose unsent bytes exceed this is reset by libp2p (`maxWriteBufferLength`):
 * the peer has not read for minutes at gossip's rates. It is reopened while the peer stays connected.
 */
export const MAX_WRITE_QUEUED = 4 * 1024 * 1024;
/**
 * A replay: the same item (a checkpoint text, or one key's cosignature on a text) received again
 * from one peer within this window, more often than this node asked that peer for it. An honest
 * node never sends a peer an item twice unasked (an item sent to, announced to or received from a
 * peer is never sent to it again), so a replay is `invalid`: penalised and the stream closed.
 * The window is between REPLAY_WINDOW_MS and twice that (two generations of keys).
 */
export const REPLAY_WINDOW_MS = 30_000;
const REPLAY_KEYS_MAX = 32_768;
/** Bounds on the cosignatures held for texts that have not arrived (Exchange.holdEarly). */
export const EARLY_MAX_LINES = 8192;
export const EARLY_MAX_PER_PEER = 2048;
export const EARLY_MAX_PER_TEXT = 256;
const HELD_MAX = 2048;
/**
 * A frame begun on an exchange stream must be complete within this time, or the stream is closed
 * (no penalty: a slow link is not hostile). An honest frame is at most SPLIT_FRAME_BYTES unless it
 * carries one checkpoint; 60 KiB in 30 s is 2 KB/s. Without it a peer could keep up to
 * MAX_FRAME_BYTES per stream held for as long as it stays connected.
 */
export const PARTIAL_FRAME_MS = 30_000;
const ANNOUNCED_MAX = 4096;
/** Texts one peer may announce that this node does not hold, per ANNOUNCE_TTL_MS (the rest of its HAVE entries are ignored, not penalised). */
export const MAX_UNHELD_ANNOUNCED = 1024;
/**
 * REF: the first bytes of SHA-256 of a checkpoint text, what COSIGS, HAVE and WANT name a text by.
 * 16 bytes, so that no one can make two texts share one. With 8 (before 2026-12-07) a log could
 * grind two checkpoint texts of a split view to one REF in about 2^32 hashes (varying its fork's
 * leaves); nodes holding one text then took the other's cosignatures for it, found them not
 * verifying and penalised the honest peers that forwarded them, and never fetched the other text
 * over the exchange (they "held" its REF).
 */
export const REF_BYTES = 16;
const MAX_HELLO_ITEMS = 4096;
const RECENT_MAX = 65_536;
/**
 * Texts (REFs) whose items are remembered per peer (sent to it, announced to it or by it, received
 * from it); the older half is forgotten at this size. Only the last seconds matter (an item is
 * pushed within a tick or LAZY_HOLD_MS of arriving, announced within HAVE_INTERVAL_MS); forgetting
 * costs a duplicate at worst, never a replay (each item is queued once). 4,096 keeps at least
 * 2,048 texts (about 200 s at the target load of 10 texts per second, 40 s at 50) in about 200 KB
 * per peer. Before, one string per item ("s<text hash> <label>", 16,384 of them, about 2 MB per
 * peer): building, hashing and trimming those strings was the exchange's largest cost.
 */
export const KNOWN_REFS_MAX = 4096;

export const FRAME = { hello: 1, checkpoint: 2, cosigs: 3, have: 4, want: 5, eager: 6 } as const;

/** The distributor's log ID, shortened: hex of the first 8 bytes of SHA-256("o:" + origin). */
export function shortLogId(origin: string): string {
  return toHex(sha256(utf8('o:' + origin)).subarray(0, 8));
}

/** shortLogId with a bounded memory, one per node (nodes in one process share nothing). */
export function shortLogIds(): (origin: string) => string {
  const ids = new Map<string, string>();
  return (origin) => {
    let id = ids.get(origin);
    if (id === undefined) {
      if (ids.size >= 4096) ids.clear();
      ids.set(origin, (id = shortLogId(origin)));
    }
    return id;
  };
}

export class FrameError extends GossipWitnessError {
  constructor(message: string, readonly oversized = false) {
    super({ code: 'malformed', message });
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
  const r = tryVarint(b, pos);
  if (r === undefined) throw new FrameError('truncated varint');
  return r;
}

/** A varint, or undefined when the bytes end first (a frame still arriving: no exception, which costs a stack trace per chunk). */
function tryVarint(b: Uint8Array, pos: number): [number, number] | undefined {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= b.length) return undefined;
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

const FRAME_NAMES: Record<number, string> = Object.fromEntries(Object.entries(FRAME).map(([k, v]) => [v, k]));

/** Adds each frame's size in a written buffer to its type's byte count (per-frame traffic, for the benchmark). */
function countFrames(buf: Uint8Array, into: Record<string, number>): void {
  let pos = 0;
  while (pos < buf.length) {
    const [len, p] = readVarint(buf, pos);
    const name = FRAME_NAMES[buf[p]] ?? 'other';
    into[name] = (into[name] ?? 0) + (p - pos) + len;
    pos = p + len;
  }
}

export interface Hello {
  readonly version: number;
  /** Short log IDs of the logs the sender follows. */
  readonly logs: readonly string[];
  /** Cosignature keys the sender tracks (its own first), as helloKeyEntry writes them: what goes on the wire. */
  readonly keys: readonly string[];
  /** This node's own HELLO only (not sent): the key label (name+keyid) of each entry of keys; absent, the entries are the labels. */
  readonly labels?: readonly string[];
}

/**
 * A key as HELLO names it: its label (name+keyid) and the first 8 bytes of SHA-256(type || key
 * material), in hex. Two nodes match a key only when both agree on all of it: a label alone (a
 * 4-byte key ID) can be ground to collide, and two nodes tracking different keys under one label
 * would each find the other's cosignatures invalid and penalise an honest peer.
 */
export function helloKeyEntry(v: Pick<Verifier, 'name' | 'keyId' | 'type' | 'key'>): string {
  return `${keyLabel(v.name, v.keyId)}+${toHex(sha256(concatBytes(Uint8Array.of(v.type), v.key)).subarray(0, 8))}`;
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
  /**
   * The signature bytes after the key ID: for both cosignature types a tracked key can have, an
   * 8-byte big-endian timestamp, then the signature (72 B for cosignature/v1, 2,428 B for ML-DSA-44
   * subtree/v1).
   */
  readonly sig: Uint8Array;
}

const U64_MAX = (1n << 64n) - 1n;

/** A signed difference as a zigzag varint (bigint: timestamps are u64, so a difference needs 65 bits). */
function zigzagVarint(d: bigint): Uint8Array {
  let z = d >= 0n ? d << 1n : ((-d) << 1n) - 1n;
  if (z < 0x80n) return Uint8Array.of(Number(z));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Uint8Array.from(out);
}

function readZigzag(b: Uint8Array, pos: number): [bigint, number] {
  let z = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new FrameError('truncated varint');
    const x = b[pos++];
    z |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return [z & 1n ? -((z + 1n) >> 1n) : z >> 1n, pos];
    shift += 7n;
  }
  throw new FrameError('varint too long');
}

/**
 * COSIGS (2.3.0): REF, count, then, if count > 0, the first entry's timestamp as a u64 (the base),
 * and per entry: key index, the entry's timestamp minus the base (zigzag varint: the cosignatures on
 * one text are made within seconds of each other, so mostly 1 byte instead of 8), the length of the
 * signature after the timestamp, and those bytes.
 */
export function encodeCosigs(ref: Uint8Array, items: readonly CosigEntry[]): Uint8Array {
  if (ref.length !== REF_BYTES) throw new RangeError(`a REF is ${REF_BYTES} bytes, not ${ref.length}`);
  const parts: Uint8Array[] = [ref, varint(items.length)];
  if (items.length > 0) {
    for (const c of items) if (c.sig.length < MIN_SIG_BYTES || c.sig.length > MAX_SIG_BYTES) throw new RangeError(`a COSIGS entry is ${MIN_SIG_BYTES}-${MAX_SIG_BYTES} bytes, not ${c.sig.length}`);
    const base = readU64be(items[0].sig, 0);
    parts.push(items[0].sig.subarray(0, 8));
    for (const c of items) parts.push(varint(c.index), zigzagVarint(readU64be(c.sig, 0) - base), varint(c.sig.length - 8), c.sig.subarray(8));
  }
  return encodeFrame(FRAME.cosigs, concatList(parts));
}

/**
 * Decodes a COSIGS frame. An honest sender sends one entry per key of the receiver's HELLO list
 * (`maxEntries`), each key once, each signature at least MIN_SIG_BYTES with its timestamp, each
 * timestamp a u64: anything else is malformed, refused before any per-entry work (a frame of
 * 250,000 two-byte entries cost 600 ms before).
 */
export function decodeCosigs(payload: Uint8Array, maxEntries = MAX_HELLO_ITEMS): { ref: Uint8Array; items: CosigEntry[] } {
  if (payload.length < REF_BYTES) throw new FrameError('truncated COSIGS');
  const ref = payload.subarray(0, REF_BYTES);
  let [n, pos] = readVarint(payload, REF_BYTES);
  if (n > maxEntries) throw new FrameError(`COSIGS with ${n} entries for ${maxEntries} keys`);
  const items: CosigEntry[] = [];
  if (n > 0) {
    if (pos + 8 > payload.length) throw new FrameError('truncated COSIGS');
    const base = readU64be(payload, pos);
    pos += 8;
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      let index: number;
      let delta: bigint;
      let len: number;
      [index, pos] = readVarint(payload, pos);
      [delta, pos] = readZigzag(payload, pos);
      [len, pos] = readVarint(payload, pos);
      if (len + 8 > MAX_SIG_BYTES || len + 8 < MIN_SIG_BYTES || pos + len > payload.length) throw new FrameError('bad COSIGS entry');
      const ts = base + delta;
      if (ts < 0n || ts > U64_MAX) throw new FrameError('COSIGS timestamp outside 0..2^64-1');
      if (seen.has(index)) throw new FrameError('a key twice in one COSIGS frame');
      seen.add(index);
      // A copy: a view would keep the whole read buffer (up to a frame, 512 KiB) alive as long as
      // the line is held.
      const sig = new Uint8Array(8 + len);
      new DataView(sig.buffer).setBigUint64(0, ts);
      sig.set(payload.subarray(pos, pos + len), 8);
      items.push({ index, sig });
      pos += len;
    }
  }
  if (pos !== payload.length) throw new FrameError('trailing bytes in COSIGS');
  return { ref, items };
}

/**
 * Splits a byte stream into frames; throws FrameError on an oversized or malformed one. The bytes
 * of an incomplete frame are kept as a list of chunks and joined once, when the frame is complete:
 * joining on every chunk cost time quadratic in the frame's size (a 512 KiB frame sent in 8-byte
 * pieces took 5 s of CPU).
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private length = 0;
  /** Bytes needed (from the first kept byte) before parsing is worth trying again. */
  private need = 0;
  /** Bytes held of a frame not yet complete. */
  get buffered(): number {
    return this.length;
  }
  push(chunk: Uint8Array): { type: number; payload: Uint8Array }[] {
    if (chunk.length === 0) return [];
    // A copy: the caller may reuse its buffer.
    this.chunks.push(chunk.slice());
    this.length += chunk.length;
    // What is kept stays under one frame: `need` is at most a frame's header and MAX_FRAME_BYTES.
    if (this.length < this.need) return [];
    let buf = this.chunks.length === 1 ? this.chunks[0] : concatList(this.chunks);
    const out: { type: number; payload: Uint8Array }[] = [];
    this.need = 0;
    for (;;) {
      const head = tryVarint(buf, 0);
      if (head === undefined) {
        this.need = buf.length + 1;
        break;
      }
      const [len, pos] = head;
      if (len > MAX_FRAME_BYTES) throw new FrameError(`frame over ${MAX_FRAME_BYTES} bytes`, true);
      if (len === 0) throw new FrameError('empty frame');
      if (buf.length < pos + len) {
        this.need = pos + len;
        break;
      }
      out.push({ type: buf[pos], payload: buf.slice(pos + 1, pos + len) });
      buf = buf.subarray(pos + len);
    }
    this.chunks = buf.length === 0 ? [] : [buf];
    this.length = buf.length;
    return out;
  }
}

// ---------------------------------------------------------------- sessions

export type Item =
  | { kind: 'checkpoint'; origin: string; textHash: string; note: Uint8Array }
  | { kind: 'cosig'; origin: string; textHash: string; label: string; sig: Uint8Array };

export type ItemVerdict = 'new' | 'dup' | 'ignore' | 'reject';

export interface ExchangeDeps {
  readonly host: {
    dialProtocol(peer: PeerId, protocol: string, opts?: { signal?: AbortSignal }): Promise<unknown>;
    getPeers(): PeerId[];
  };
  /** This node's peer ID (the eager choice hashes the pair of IDs). */
  readonly selfId?: string;
  hello(): Hello;
  /** Labels of the ML-DSA-44 keys among this node's own and tracked keys (whose lines are only announced). */
  readonly pqKeys: ReadonlySet<string>;
  /** A log-signed checkpoint note from a peer: verified and taken in by the service. */
  onCheckpoint(note: Uint8Array, from: string): ItemVerdict;
  /** A cosignature on a known text (by REF): verified and taken in by the service. */
  onCosig(ref: string, line: SignatureLine, from: string): ItemVerdict | 'unknown-ref';
  /** A protocol violation (malformed or oversized frame, bad index, bad signature). */
  penalise(peer: string, reason: 'oversized' | 'invalid', detail: string): void;
  readonly logger: { debug(o: object, m: string): void; info(o: object, m: string): void };
}

/** What this node holds of one checkpoint text (verified items only), to push, announce and serve. */
interface Held {
  readonly origin: string;
  readonly logId: string;
  readonly textHash: string;
  note?: Uint8Array;
  readonly sigs: Map<string, Uint8Array>;
}

/** What peers announced of one REF that this node may lack. */
interface Announced {
  firstAt: number;
  readonly peers: Map<string, { text: boolean; labels: Set<string> }>;
  /** Per item ('c' for the text, else a key label): first announced, last asked, times asked. */
  readonly items: Map<string, { seen: number; at: number; n: number }>;
  lastAsked?: string;
  /** Per item, the announcers already asked for it. */
  askedOf?: Map<string, Set<string>>;
  /** The WANT loop looks at this REF again from then on (0: at the next tick). */
  nextAt?: number;
}

interface Session {
  stream?: Stream;
  opening: boolean;
  /** The peer's HELLO (from its stream to us): what it follows and tracks. */
  hello?: { logs: Set<string>; keyIndex: Map<string, number> };
  /** Items the peer is known to hold (sent to it, announced to or by it, received from it). */
  known: KnownItems;
  /** The last recent-item sequence number considered for this peer. */
  cursor: number;
  lastOpen: number;
  /** The peer pushes to us (its EAGER frame): we push to it too, so each eager edge is used both ways. */
  theyEager: boolean;
  /** What we last told the peer in an EAGER frame. */
  toldEager?: boolean;
  /** The highest recent-item sequence number looked at (the cursor may stay behind a held item). */
  scanned: number;
  /** REFs with items the peer may lack, to announce in the next HAVE. */
  dirty: Set<string>;
  lastHave: number;
  /** WANT entries and bytes served in the current second (amplification bound). */
  served: { at: number; n: number; bytes: number };
  /** Items received from the peer in the current graft window, and how many were duplicates. */
  winItems: number;
  winDups: number;
  /** Graft windows running in which a graft to this peer carried mostly duplicates. */
  pruneStrikes: number;
  /** Items received from the peer lately, and the WANTs this node sent it (see REPLAY_WINDOW_MS). */
  got: Recently;
  asked: Recently;
  /** Texts the peer announced that this node did not hold, by first announcement (mayAnnounceUnheld). */
  unheld: Map<string, number>;
}

/**
 * Counts per key over a sliding window of one to two `windowMs`: two generations of maps, the
 * older dropped when the newer is windowMs old (or holds `max` keys, so memory stays bounded;
 * what is forgotten early can only go unnoticed, never be punished).
 */
export class Recently {
  private cur = new Map<string, number>();
  private prev = new Map<string, number>();
  private since: number;
  constructor(
    private readonly windowMs: number,
    private readonly max: number,
    now: number,
  ) {
    this.since = now;
  }

  private rotate(now: number): void {
    if (now - this.since < this.windowMs && this.cur.size < this.max) return;
    this.prev = now - this.since < 2 * this.windowMs ? this.cur : new Map();
    this.cur = new Map();
    this.since = now;
  }

  /** The count of key in the window. */
  get(key: string, now: number): number {
    this.rotate(now);
    return this.cur.get(key) ?? this.prev.get(key) ?? 0;
  }

  /** Adds delta (±) to key's count; returns the new count. */
  add(key: string, now: number, delta = 1): number {
    const n = Math.max(0, this.get(key, now) + delta);
    this.prev.delete(key);
    this.cur.set(key, n);
    return n;
  }
}

/**
 * What a peer is known to hold: per REF a bitmap, bit 0 for the checkpoint text and bit 1 + i for
 * the cosignature by the key with this node's label index i (Exchange.bitOf). The oldest half of
 * the REFs is forgotten beyond `maxRefs` (Map iterates in insertion order).
 */
export class KnownItems {
  private readonly m = new Map<string, number[]>();
  constructor(private readonly maxRefs = KNOWN_REFS_MAX) {}

  get refs(): number {
    return this.m.size;
  }

  has(ref: string, bit: number): boolean {
    const w = this.m.get(ref);
    return w !== undefined && (((w[bit >> 5] ?? 0) >>> (bit & 31)) & 1) === 1;
  }

  /** Adds the item; true when it was not known before. */
  add(ref: string, bit: number): boolean {
    let w = this.m.get(ref);
    if (w === undefined) {
      if (this.m.size >= this.maxRefs) {
        let n = this.m.size >> 1;
        for (const k of this.m.keys()) {
          this.m.delete(k);
          if (--n <= 0) break;
        }
      }
      this.m.set(ref, (w = []));
    }
    const i = bit >> 5;
    while (w.length <= i) w.push(0);
    const mask = 1 << (bit & 31);
    if ((w[i] & mask) !== 0) return false;
    w[i] |= mask;
    return true;
  }
}

/** The known-bit of a checkpoint text (KnownItems). */
const TEXT_BIT = 0;

/** An offered item with what each tick's per-peer scan needs, computed once. */
interface Recent {
  readonly seq: number;
  readonly item: Item;
  holdUntil: number;
  /** The item's KnownItems bit. */
  readonly bit: number;
  /** shortLogId(item.origin). */
  readonly logId: string;
  /** REF as hex. */
  readonly ref: string;
  /** An ML-DSA-44 line (announced, never pushed). */
  readonly pq: boolean;
}

/** A text's REF as hex, from its text hash (hex SHA-256). */
export const refHexOf = (textHash: string): string => textHash.slice(0, REF_BYTES * 2);
/** The REF of a note's text (undefined when it has no blank line: the note is refused anyway). */
function refOfNote(note: Uint8Array): string | undefined {
  const split = lastIndexOfBlankLine(note);
  return split < 0 ? undefined : toHex(sha256(note.subarray(0, split + 1)).subarray(0, REF_BYTES));
}
const refBytesOf = (ref: string) => Uint8Array.from(Buffer.from(ref, 'hex'));

/**
 * The exchange: eager push of verified items along a sparse overlay (each node pushes to
 * EAGER_DEGREE peers chosen by a hash of the pair of peer IDs, and to every peer that pushes to
 * it), HAVE digests to the other peers every HAVE_INTERVAL_MS, and WANT for what is still missing
 * (lazy push, as gossipsub's IHAVE/IWANT or Plumtree). ML-DSA-44 lines are only announced and
 * served on WANT (wantPq), never pushed.
 */
export class Exchange {
  private readonly sessions = new Map<string, Session>();
  /**
   * Items to consider for each peer; `holdUntil`: not pushed before (it came over a lazy link), 0
   * for none. What every peer's scan needs (item key, log ID, REF) is computed once, at offer.
   */
  private readonly recent: Recent[] = [];
  /** The peers pushed to at the last tick. */
  private eager = new Set<string>();
  private seq = 0;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Sessions created or removed so far (eagerPeers recomputes when this changes). */
  private sessionsMade = 0;
  /** Peers this node grafted (GRAFT_MAX at most): pushed to like the chosen ones. */
  private readonly grafted = new Set<string>();
  /** The current graft window: first copies from eager and from lazy peers, lazy ones by peer. */
  private win = { eager: 0, lazy: 0, trailing: 0, lagged: false, lazyBy: new Map<string, number>(), lastLazyAt: 0, next: Date.now() + Math.random() * GRAFT_CHECK_MS };
  /** When tick() last ran (its lateness tells whether the event loop lags). */
  private lastTickAt: number | undefined;
  /** Bytes written and frames, for metrics and tests. */
  readonly stats = { grafts: 0, prunes: 0, framesOut: 0, bytesOut: 0, bytesIn: 0, framesIn: 0, itemsIn: 0, dupIn: 0, lazyIn: 0, early: 0, haveOut: 0, haveIn: 0, wantOut: 0, wantIn: 0, wantMiss: 0, wantSkipped: 0, haveIgnored: 0, stalledFrames: 0, writes: 0, wantDelayMs: WANT_DELAY_MS, bytesOutByFrame: {} as Record<string, number> };
  /** Cosignatures that arrived before their text (another path was faster): applied when it comes. */
  private readonly early = new Map<string, { line: SignatureLine; from: string }[]>();
  private readonly earlyBy = new Map<string, number>();
  private earlyHeld = 0;
  private readonly held = new Map<string, Held>();
  private readonly announced = new Map<string, Announced>();
  /** REFs with something announced that this node lacks (the WANT loop looks at these only). */
  private readonly active = new Set<string>();
  /** REFs whose ML-DSA-44 lines this node wants (a client asked): ref -> until. */
  private readonly pqWanted = new Map<string, number>();
  private readonly settleWaiters = new Map<string, (() => void)[]>();
  private readonly pairRank = new Map<string, string>();
  /** Peers that asked for ML-DSA-44 lines this node was fetching through, by REF ("peer label"): sent once when they arrive. */
  private readonly owed = new Map<string, Set<string>>();

  /** Key label -> index, for KnownItems bits (labels of this node's own HELLO keys: bounded by its config). */
  private readonly labelIds = new Map<string, number>();
  /** shortLogId by origin (this node's own: nothing is shared between nodes). */
  private readonly logIdOf = shortLogIds();
  /** REF bytes by REF hex. */
  private readonly refBytes = new Map<string, Uint8Array>();
  /** This node's HELLO, asked once per tick (the service builds it from its config). */
  private helloMemo: { tick: number; at: number; hello: Hello; labels: ({ label: string; name: string; keyId: number; idBytes: Uint8Array } | undefined)[]; entries?: Map<string, string> } | undefined;

  /** The current WANT wait (WANT_DELAY_MS when eager copies never trail the WANTs). */
  private wantDelay = WANT_DELAY_MS;
  private wantDelayAt = Date.now();

  constructor(private readonly d: ExchangeDeps) {}

  /** The current WANT wait in ms (adapted: see WANT_DELAY_STEP_MS). */
  get wantDelayMs(): number {
    return this.wantDelay;
  }

  private decayWantDelay(now: number): void {
    this.wantDelay = WANT_DELAY_MS + (this.wantDelay - WANT_DELAY_MS) * Math.pow(0.9, Math.max(0, now - this.wantDelayAt) / 1000);
    this.wantDelayAt = now;
    this.stats.wantDelayMs = Math.round(this.wantDelay);
  }

  private refBytesFor(ref: string): Uint8Array {
    let b = this.refBytes.get(ref);
    if (b === undefined) {
      if (this.refBytes.size >= HELD_MAX * 2) this.refBytes.clear();
      this.refBytes.set(ref, (b = refBytesOf(ref)));
    }
    return b;
  }

  /** This node's HELLO, built by the service at most once per tick (it changes only with the config). */
  private myHello(): Hello {
    const now = Date.now();
    const m = this.helloMemo;
    if (m !== undefined && m.tick === this.ticks && now - m.at < EXCHANGE_TICK_MS) return m.hello;
    this.helloMemo = { tick: this.ticks, at: now, hello: this.d.hello(), labels: [] };
    return this.helloMemo.hello;
  }

  /** The labels (name+keyid) of this node's HELLO keys, in order. */
  private myLabels(): readonly string[] {
    const h = this.myHello();
    return h.labels ?? h.keys;
  }

  /** This node's HELLO entries -> their labels (built once per tick). */
  private myEntryLabels(): Map<string, string> {
    const h = this.myHello();
    const m = this.helloMemo!;
    if (m.entries === undefined) {
      const labels = h.labels ?? h.keys;
      m.entries = new Map(h.keys.map((k, i) => [k, labels[i]]));
    }
    return m.entries;
  }

  /** The name, key ID and key ID bytes of key i of this node's HELLO (parsed once per tick). */
  private labelAt(i: number): { label: string; name: string; keyId: number; idBytes: Uint8Array } | undefined {
    const keys = this.myLabels();
    const cache = this.helloMemo!.labels;
    let p = cache[i];
    if (p === undefined && i < keys.length) {
      const label = keys[i];
      const plus = label.lastIndexOf('+');
      const keyId = Number.parseInt(label.slice(plus + 1), 16);
      p = cache[i] = { label, name: label.slice(0, plus), keyId, idBytes: Uint8Array.of(keyId >>> 24, (keyId >>> 16) & 0xff, (keyId >>> 8) & 0xff, keyId & 0xff) };
    }
    return p;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), EXCHANGE_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sessions.values()) s.stream?.abort(new Error('stopping'));
    this.sessions.clear();
    for (const l of this.settleWaiters.values()) for (const f of l) f();
    this.settleWaiters.clear();
  }

  /** Queues a verified item (this node's own, or one a peer sent: `from` already holds it). */
  offer(item: Item, from?: string): void {
    const ref = refHexOf(item.textHash);
    const logId = this.logIdOf(item.origin);
    let h = this.held.get(ref);
    if (!h) {
      this.held.set(ref, (h = { origin: item.origin, logId, textHash: item.textHash, sigs: new Map() }));
      if (this.held.size > HELD_MAX) this.held.delete(this.held.keys().next().value!);
    }
    const bit = item.kind === 'checkpoint' ? TEXT_BIT : this.bitOf(item.label);
    // Offered once: an item already held (e.g. every cosignature on a text, offered again when this
    // node's own witness cosigns it) was queued when it came, and a second queue entry could send
    // it twice to a peer whose known-set was trimmed meanwhile, which that peer counts as a replay.
    if (item.kind === 'checkpoint' ? h.note !== undefined : h.sigs.has(item.label)) {
      if (from) this.session(from).known.add(ref, bit);
      return;
    }
    // Something announced may have arrived: the WANT loop looks at the REF at the next tick
    // (and settles a client's wait for it).
    const a = this.announced.get(ref);
    if (a) a.nextAt = 0;
    if (item.kind === 'checkpoint') h.note = item.note;
    else h.sigs.set(item.label, item.sig);
    // An item that came over a lazy link (a WANT answer, a catch-up) is held back from the eager
    // peers for LAZY_HOLD_MS: they often get it over the eager overlay too, and a push at once
    // would cross theirs (a duplicate each way).
    const lazy = from !== undefined && !this.eager.has(from);
    if (lazy) {
      this.stats.lazyIn++;
      this.win.lazy++;
      this.win.lazyBy.set(from, (this.win.lazyBy.get(from) ?? 0) + 1);
      this.win.lastLazyAt = Date.now();
    } else if (from !== undefined) this.win.eager++;
    const pq = item.kind === 'cosig' && item.sig.length > MAX_PUSHED_SIG_BYTES;
    this.recent.push({ seq: ++this.seq, item, holdUntil: lazy ? Date.now() + LAZY_HOLD_MS : 0, bit, logId, ref, pq });
    if (this.recent.length > RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
    if (from) this.session(from).known.add(ref, bit);
  }

  /** An item's KnownItems bit: 1 + this node's index for the key label (labels come from its own HELLO keys, so few). */
  private bitOf(label: string): number {
    let i = this.labelIds.get(label);
    if (i === undefined) this.labelIds.set(label, (i = this.labelIds.size));
    return 1 + i;
  }

  private session(peer: string): Session {
    let s = this.sessions.get(peer);
    if (!s) {
      const now = Date.now();
      const got = new Recently(REPLAY_WINDOW_MS, REPLAY_KEYS_MAX, now);
      const asked = new Recently(REPLAY_WINDOW_MS, REPLAY_KEYS_MAX, now);
      this.sessionsMade++;
      this.sessions.set(peer, (s = { opening: false, known: new KnownItems(), cursor: this.seq, scanned: this.seq, lastOpen: 0, theyEager: false, dirty: new Set(), lastHave: 0, served: { at: 0, n: 0, bytes: 0 }, winItems: 0, winDups: 0, pruneStrikes: 0, got, asked, unheld: new Map() }));
    }
    return s;
  }

  peerGone(peer: string): void {
    const s = this.sessions.get(peer);
    s?.stream?.abort(new Error('peer gone'));
    this.sessions.delete(peer);
    this.grafted.delete(peer);
    this.sessionsMade++;
    for (const a of this.announced.values()) a.peers.delete(peer);
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
      stream.maxWriteBufferLength = MAX_WRITE_QUEUED;
      s.toldEager = undefined;
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
      this.stats.writes++;
      countFrames(frame, this.stats.bytesOutByFrame);
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
    let stall: ReturnType<typeof setTimeout> | undefined;
    try {
      for await (const chunk of stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
        this.stats.bytesIn += bytes.length;
        const frames = reader.push(bytes);
        // A timer only while a frame is incomplete (most chunks end on a frame boundary); it
        // restarts with each completed frame.
        if (stall !== undefined && (frames.length > 0 || reader.buffered === 0)) {
          clearTimeout(stall);
          stall = undefined;
        }
        if (reader.buffered > 0 && stall === undefined) {
          stall = setTimeout(() => {
            this.stats.stalledFrames++;
            stream.abort(new Error(`a frame incomplete after ${PARTIAL_FRAME_MS} ms`));
          }, PARTIAL_FRAME_MS);
          stall.unref?.();
        }
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
    } finally {
      if (stall !== undefined) clearTimeout(stall);
    }
  }

  /** The labels a HAVE/WANT bitmap names, in this node's HELLO key list (a bit beyond it is malformed). */
  private labelsOf(bits: Uint8Array): string[] {
    const keys = this.myLabels();
    const out: string[] = [];
    for (let i = 0; i < bits.length * 8; i++) {
      if ((bits[i >> 3] & (1 << (i & 7))) === 0) continue;
      if (i >= keys.length) throw new FrameError('bitmap bit outside our HELLO');
      out.push(keys[i]);
    }
    return out;
  }

  private handle(s: Session, peer: string, type: number, payload: Uint8Array): void {
    if (type === FRAME.hello) {
      const h = decodeHello(payload);
      if (h.version !== EXCHANGE_VERSION) throw new FrameError(`version ${h.version}`);
      const fresh = !s.hello;
      // A peer's entry counts as one of our keys only if it is exactly ours (label and fingerprint);
      // any other entry keeps its index under a name no label can equal (labels have no newline).
      const mine = this.myEntryLabels();
      s.hello = { logs: new Set(h.logs), keyIndex: new Map(h.keys.map((k, i) => [mine.get(k) ?? `\n${k}`, i])) };
      if (fresh) this.announcePqTo(s);
      if (!s.stream) void this.open(this.peerIdOf(peer)!);
      return;
    }
    if (type === FRAME.checkpoint) {
      const ref = refOfNote(payload);
      const key = ref === undefined ? undefined : `${ref} c`;
      if (key !== undefined) this.noReplay(s, key, 'checkpoint');
      const v = this.d.onCheckpoint(payload, peer);
      if (key !== undefined && (v === 'new' || v === 'dup')) this.gotItem(s, key);
      this.stats.itemsIn++;
      s.winItems++;
      if (v === 'reject') throw new FrameError('a checkpoint that does not verify');
      if (v === 'dup') {
        this.stats.dupIn++;
        s.winDups++;
      }
      return;
    }
    if (type === FRAME.cosigs) {
      const { ref, items } = decodeCosigs(payload, this.myHello().keys.length);
      const refHex = toHex(ref);
      // A peer sends cosignatures only on a text it holds: never push it that text.
      const held = this.held.get(refHex);
      if (held) s.known.add(refHex, TEXT_BIT);
      for (const c of items) {
        const parsed = this.labelAt(c.index);
        if (parsed === undefined) throw new FrameError('key index outside our HELLO');
        const { label, name, keyId, idBytes } = parsed;
        const key = `${refHex} ${label}`;
        this.noReplay(s, key, `cosignature by ${label}`);
        const line: SignatureLine = { name, keyId, sig: c.sig, base64: encodeBase64(concatBytes(idBytes, c.sig)) };
        let v = this.d.onCosig(refHex, line, peer);
        if (v === 'new' || v === 'dup') this.gotItem(s, key);
        this.stats.itemsIn++;
        s.winItems++;
        if (v === 'unknown-ref') {
          this.stats.early++;
          this.holdEarly(refHex, line, peer);
          v = 'ignore';
        }
        if (v === 'reject') throw new FrameError(`a cosignature by ${keyLabel(name, keyId)} that does not verify`);
        if (v === 'dup') {
          this.stats.dupIn++;
          s.winDups++;
          // An item this node had asked for came again: the WANT beat the eager copy.
          if ((this.announced.get(refHex)?.items.get(label)?.n ?? 0) > 0) {
            this.win.trailing++;
            this.decayWantDelay(Date.now());
            this.wantDelay = Math.min(WANT_DELAY_MAX_MS, this.wantDelay + WANT_DELAY_STEP_MS);
          }
        }
      }
      return;
    }
    if (type === FRAME.eager) {
      if (payload.length !== 1 || payload[0] > 1) throw new FrameError('bad EAGER');
      s.theyEager = payload[0] === 1;
      return;
    }
    if (type === FRAME.have) {
      const now = Date.now();
      for (const e of decodeDigests(payload)) {
        this.stats.haveIn++;
        const ref = toHex(e.ref);
        // Only ML-DSA-44 keys' lines travel as announcements: a pq bit for another key is
        // ignored (it would stop this node from asking for that key's Ed25519 lines).
        const pqLabels = this.labelsOf(e.pq).filter((l) => this.d.pqKeys.has(l));
        for (const l of pqLabels) this.pqLabels.add(l);
        const labels = [...this.labelsOf(e.bits), ...pqLabels];
        const h = this.held.get(ref);
        if (h) {
          if (e.text) s.known.add(ref, TEXT_BIT);
          for (const l of labels) s.known.add(ref, this.bitOf(l));
        }
        // A text this node does not hold costs it work until fetched or given up: one peer
        // announces at most MAX_UNHELD_ANNOUNCED of those per ANNOUNCE_TTL_MS (the rest ignored).
        if (!h && !this.mayAnnounceUnheld(s, ref, now)) {
          this.stats.haveIgnored++;
          continue;
        }
        let a = this.announced.get(ref);
        if (a) a.nextAt = 0;
        if (!a) {
          this.announced.set(ref, (a = { firstAt: now, peers: new Map(), items: new Map() }));
          if (this.announced.size > ANNOUNCED_MAX) {
            const old = this.announced.keys().next().value!;
            this.announced.delete(old);
            this.active.delete(old);
          }
        }
        // ML-DSA-44 lines new to this node are announced on (relayed): a peer that wants one asks
        // this node, which fetches it through (serveWant) — they are never pushed.
        if (pqLabels.some((l) => !a!.items.has(l) && !h?.sigs.has(l))) for (const [q, s2] of this.sessions) if (q !== peer && s2.hello) s2.dirty.add(ref);
        const p = a.peers.get(peer) ?? { text: false, labels: new Set<string>() };
        p.text ||= e.text;
        for (const l of labels) p.labels.add(l);
        for (const k of [...(e.text ? ['c'] : []), ...labels]) {
          const x = a.items.get(k);
          if (!x) a.items.set(k, { seen: now, at: 0, n: 0 });
          else if (!a.peers.has(peer) && x.n >= WANT_TRIES) x.n = WANT_TRIES - 1; // a new announcer: one more try
        }
        a.peers.set(peer, p);
        if (a.peers.size > 16) a.peers.delete(a.peers.keys().next().value!);
        this.active.add(ref);
      }
      return;
    }
    if (type === FRAME.want) {
      this.serveWant(s, peer, decodeDigests(payload));
      return;
    }
    throw new FrameError(`unknown frame type ${type}`);
  }

  /**
   * A new session gets the ML-DSA-44 lines this node holds or relays announced in its first HAVE:
   * the catch-up (sync `views`) carries the texts and Ed25519 lines, but these travel only as
   * announcements, and one made before the peer's HELLO would never reach it.
   */
  private announcePqTo(s: Session): void {
    for (const [ref, h] of this.held) {
      let pq = false;
      for (const sig of h.sigs.values()) if (sig.length > MAX_PUSHED_SIG_BYTES) pq = true;
      if (!pq) for (const l of this.announced.get(ref)?.items.keys() ?? []) if (this.pqLabels.has(l) && !h.sigs.has(l)) pq = true;
      if (pq) s.dirty.add(ref);
    }
  }

  /** Counts a text the peer announced that this node does not hold; false once over the peer's share. */
  private mayAnnounceUnheld(s: Session, ref: string, now: number): boolean {
    const m = s.unheld;
    for (const [r, at] of m) {
      if (now - at < ANNOUNCE_TTL_MS) break;
      m.delete(r);
    }
    if (m.has(ref)) return true;
    if (m.size >= MAX_UNHELD_ANNOUNCED) return false;
    m.set(ref, now);
    return true;
  }

  /**
   * The same item again from one peer, unasked, within REPLAY_WINDOW_MS is a replay (an honest
   * node never sends it twice: see REPLAY_WINDOW_MS): refused before any work is spent on it.
   * Each WANT this node sent the peer for the item allows one more copy.
   */
  private noReplay(s: Session, key: string, what: string): void {
    const now = Date.now();
    if (s.got.get(key, now) === 0) return;
    if (s.asked.get(key, now) > 0) {
      s.asked.add(key, now, -1);
      return;
    }
    throw new FrameError(`a replayed ${what}: received again on this stream, not asked for again`);
  }

  /**
   * Remembers an item received from a peer for the replay check: only an item of a text this node
   * holds (verified, or already held), so that what a peer can make it remember is bounded by what
   * it holds, not by what the peer makes up (items of unknown texts are held early, bounded).
   */
  private gotItem(s: Session, key: string): void {
    const now = Date.now();
    if (s.got.get(key, now) === 0) s.got.add(key, now);
  }

  /** Answers a WANT with what this node holds; what it does not hold is skipped, never penalised. */
  private serveWant(s: Session, peer: string, entries: Digest[]): void {
    if (!s.hello || !s.stream) return;
    const now = Date.now();
    if (now - s.served.at >= 1000) s.served = { at: now, n: 0, bytes: 0 };
    // A peer that does not read what was already sent gets no more answers (it asks again later;
    // honest ones do, after WANT_RETRY_MS): one WANT frame could otherwise queue tens of MB.
    if ((s.stream.writeBufferLength ?? 0) > WANT_ANSWER_MAX_QUEUED) {
      this.stats.wantSkipped += entries.length;
      return;
    }
    const out: Uint8Array[] = [];
    let bytes = 0;
    const refs = new Set<string>();
    for (const e of entries) {
      this.stats.wantIn++;
      const refHex = toHex(e.ref);
      // An honest asker names each text once per WANT: a repeat is not answered again.
      if (refs.has(refHex)) continue;
      refs.add(refHex);
      const labels = new Set([...this.labelsOf(e.bits), ...this.labelsOf(e.pq)]);
      const h = this.held.get(refHex);
      if (!h || !s.hello.logs.has(h.logId)) {
        this.stats.wantMiss++;
        continue;
      }
      // More than an honest node asks, or answers over the byte budget: the rest is not answered.
      if (s.served.n++ >= MAX_WANT_PER_S || s.served.bytes + bytes >= MAX_WANT_BYTES_PER_S) {
        this.stats.wantSkipped++;
        break;
      }
      if (e.text && h.note) {
        out.push(encodeFrame(FRAME.checkpoint, h.note));
        s.known.add(refHex, TEXT_BIT);
      }
      const items: CosigEntry[] = [];
      for (const l of labels) {
        const sig = h.sigs.get(l);
        const index = s.hello.keyIndex.get(l);
        if (!sig && index !== undefined && this.pqLabels.has(l)) {
          // A relayed ML-DSA-44 announcement: fetch it through, then send it on (tick, `owed`).
          const ref = refHexOf(h.textHash);
          let o = this.owed.get(ref);
          if (!o) this.owed.set(ref, (o = new Set()));
          if (this.owed.size > 1024) this.owed.delete(this.owed.keys().next().value!);
          if (o.size < 256) o.add(`${peer} ${l}`);
          this.wantPq(ref);
        }
        if (!sig || index === undefined) continue;
        items.push({ index, sig });
        s.known.add(refHex, this.bitOf(l));
      }
      for (const f of encodeCosigsSplit(e.ref, items)) {
        out.push(f);
        bytes += f.length;
      }
      if (e.text && h.note) bytes += h.note.length;
    }
    s.served.bytes += bytes;
    if (out.length > 0) this.write(s, concatList(out), out.length);
  }

  /**
   * Holds a cosignature whose text has not arrived (another path was faster), within bounds a
   * hostile peer cannot make large: EARLY_MAX_LINES in all (the oldest text's lines go first),
   * EARLY_MAX_PER_PEER from one peer, EARLY_MAX_PER_TEXT per text. ML-DSA-44 lines are not held:
   * they are sent only for texts the receiver asked about and holds.
   */
  private holdEarly(ref: string, line: SignatureLine, from: string): void {
    if (line.sig.length > MAX_PUSHED_SIG_BYTES || (this.earlyBy.get(from) ?? 0) >= EARLY_MAX_PER_PEER) return;
    let l = this.early.get(ref);
    if (!l) this.early.set(ref, (l = []));
    if (l.length >= EARLY_MAX_PER_TEXT) return;
    l.push({ line, from });
    this.earlyHeld++;
    this.earlyBy.set(from, (this.earlyBy.get(from) ?? 0) + 1);
    while (this.earlyHeld > EARLY_MAX_LINES) this.takeEarly(this.early.keys().next().value!);
  }

  /** Removes and returns the lines held for a text. */
  private takeEarly(ref: string): { line: SignatureLine; from: string }[] {
    const l = this.early.get(ref) ?? [];
    this.early.delete(ref);
    for (const { from } of l) {
      this.earlyHeld--;
      const n = (this.earlyBy.get(from) ?? 1) - 1;
      if (n > 0) this.earlyBy.set(from, n);
      else this.earlyBy.delete(from);
    }
    return l;
  }

  /** Cosignatures held for texts that have not arrived (bounded: see holdEarly). */
  get earlyLines(): number {
    return this.earlyHeld;
  }

  /** Cosignatures held back for a text that has now arrived. */
  applyEarly(ref: string): void {
    if (!this.early.has(ref)) return;
    for (const { line, from } of this.takeEarly(ref)) {
      const v = this.d.onCosig(ref, line, from);
      if (v === 'reject') this.d.penalise(from, 'invalid', 'an early cosignature that does not verify');
    }
  }

  /**
   * Ask peers for the ML-DSA-44 lines they announced on a text (REF as hex). True when some are
   * announced that this node lacks (then `settled` resolves when they came or nobody answered).
   */
  wantPq(ref: string): boolean {
    this.pqWanted.set(ref, Date.now() + 60_000);
    if (this.pqWanted.size > 1024) this.pqWanted.delete(this.pqWanted.keys().next().value!);
    const missing = this.missing(ref, Date.now());
    if (!missing) return false;
    const a = this.announced.get(ref)!;
    const now = Date.now();
    a.firstAt = Math.max(a.firstAt, now - 30_000);
    // Asked now, whatever was asked before (pq lines are wanted only from here on).
    for (const l of missing.labels) a.items.set(l, { seen: now - WANT_DELAY_MAX_MS, at: 0, n: 0 });
    a.nextAt = 0;
    this.active.add(ref);
    return true;
  }

  /** Resolves when nothing announced on REF is missing any more, or after ms. */
  settled(ref: string, ms: number): Promise<void> {
    if (!this.active.has(ref)) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      let l = this.settleWaiters.get(ref);
      if (!l) this.settleWaiters.set(ref, (l = []));
      l.push(done);
      function done() {
        clearTimeout(t);
        resolve();
      }
    });
  }

  private deactivate(ref: string): void {
    this.active.delete(ref);
    const l = this.settleWaiters.get(ref);
    if (l) {
      this.settleWaiters.delete(ref);
      for (const f of l) f();
    }
  }

  /** What peers announced on REF that this node lacks and wants: text and labels, per announcer. */
  private missing(ref: string, now: number): { text: boolean; labels: Set<string> } | undefined {
    const a = this.announced.get(ref);
    if (!a) return undefined;
    const h = this.held.get(ref);
    const pq = (this.pqWanted.get(ref) ?? 0) > now;
    let text = false;
    let labels: Set<string> | undefined;
    for (const p of a.peers.values()) {
      if (p.text && !h?.note) text = true;
      for (const l of p.labels) if (!h?.sigs.has(l) && (pq || !this.pqLabels.has(l)) && !labels?.has(l)) (labels ??= new Set()).add(l);
    }
    return text || labels !== undefined ? { text, labels: labels ?? new Set() } : undefined;
  }

  /** Keys whose lines peers announced in the ML-DSA-44 bitmap (fetched only when wanted). */
  private readonly pqLabels = new Set<string>();

  private peerIdOf(peer: string): PeerId | undefined {
    return this.d.host.getPeers().find((p) => p.toString() === peer);
  }

  /**
   * A rank per peer from a hash of (this node, peer): each node's choice is its own, so the chosen
   * links form a random 1-out graph. (A rank shared by both ends, from the sorted pair, made each
   * node pick its nearest neighbour under one symmetric weight: about one tree per 13 edges, three
   * to four times as many as a random choice, and an item took a lazy hop between each:
   * bench/results/gossip-v2.md, fourth session of 2026-12-06.)
   */
  private rank(peer: string): string {
    let r = this.pairRank.get(peer);
    if (!r) {
      const self = this.d.selfId ?? '';
      r = toHex(sha256(utf8(`${self} ${peer}`)).subarray(0, 8));
      this.pairRank.set(peer, r);
      if (this.pairRank.size > 4096) this.pairRank.delete(this.pairRank.keys().next().value!);
    }
    return r;
  }

  /** Once per GRAFT_CHECK_MS: graft a lazy supplier when the eager overlay does not reach this node; prune redundant grafts. */
  private graftCheck(now: number): void {
    const w = this.win;
    const total = w.eager + w.lazy;
    const late = reachedLate(w.trailing, w.lazy, w.lagged);
    if (!late && this.grafted.size < GRAFT_MAX && total >= GRAFT_MIN_ITEMS && w.lazy >= GRAFT_LAZY_SHARE * total && now - w.lastLazyAt <= GRAFT_RECENT_MS) {
      let best: string | undefined;
      let most = 0;
      for (const [p, n] of w.lazyBy) {
        const s = this.sessions.get(p);
        if (n > most && s?.stream && s.hello && !this.eager.has(p)) {
          best = p;
          most = n;
        }
      }
      if (best !== undefined) {
        this.grafted.add(best);
        this.sessions.get(best)!.pruneStrikes = 0;
        this.stats.grafts++;
        this.d.logger.debug({ peer: best, lazy: w.lazy, total }, 'exchange: grafted a lazy peer (the eager overlay did not reach this node)');
      }
    }
    for (const p of [...this.grafted]) {
      const s = this.sessions.get(p);
      if (!s?.stream) {
        this.grafted.delete(p);
        continue;
      }
      if (s.winItems >= GRAFT_MIN_ITEMS && s.winDups >= PRUNE_DUP_SHARE * s.winItems) s.pruneStrikes++;
      else s.pruneStrikes = 0;
      if (s.pruneStrikes >= 2) {
        this.grafted.delete(p);
        s.pruneStrikes = 0;
        this.stats.prunes++;
        this.d.logger.debug({ peer: p }, 'exchange: pruned a graft that carried mostly duplicates');
      }
    }
    for (const s of this.sessions.values()) s.winItems = s.winDups = 0;
    this.win = { eager: 0, lazy: 0, trailing: 0, lagged: false, lazyBy: new Map(), lastLazyAt: w.lastLazyAt, next: now + GRAFT_CHECK_MS };
  }

  /** Per session (in map order) what eagerPeers depends on, as of its last computation. */
  private eagerFlags: number[] = [];
  private eagerSessions = -1;

  /** Peers this node pushes to: its EAGER_DEGREE lowest-ranked peers, its grafts, and every peer that pushes to it. */
  eagerPeers(): Set<string> {
    // Computed again only when a session, stream, HELLO, EAGER frame or graft changed (it ran
    // every tick: sorting and three arrays were a tenth of an idle node's exchange time).
    let same = this.eagerSessions === this.sessionsMade;
    let i = 0;
    for (const [p, s] of this.sessions) {
      const f = (s.stream && s.hello ? 1 : 0) | (s.theyEager ? 2 : 0) | (this.grafted.has(p) ? 4 : 0) | (s.toldEager === undefined ? 0 : s.toldEager ? 8 : 16);
      if (this.eagerFlags[i] !== f) {
        this.eagerFlags[i] = f;
        same = false;
      }
      i++;
    }
    if (this.eagerFlags.length !== i) {
      this.eagerFlags.length = i;
      same = false;
    }
    if (same) return this.eager;
    this.eagerSessions = this.sessionsMade;
    const ready = [...this.sessions].filter(([, s]) => s.stream && s.hello);
    const chosen = ready.map(([p]) => p).sort((a, b) => (this.rank(a) < this.rank(b) ? -1 : 1)).slice(0, EAGER_DEGREE);
    const out = new Set(chosen);
    for (const [p, s] of ready) if (s.theyEager || this.grafted.has(p)) out.add(p);
    // Tell the chosen and grafted ones (they push back: the edge is used both ways).
    for (const [p, s] of ready) {
      const mine = chosen.includes(p) || this.grafted.has(p);
      if (s.toldEager !== mine) {
        s.toldEager = mine;
        this.write(s, encodeFrame(FRAME.eager, Uint8Array.of(mine ? 1 : 0)));
      }
    }
    this.eager = out;
    return out;
  }

  /** One write per peer per tick: pushes to eager peers, HAVE digests to the others, WANTs. */
  tick(): void {
    if (this.stopped) return;
    this.ticks++;
    const now = Date.now();
    if (this.lastTickAt !== undefined && now - this.lastTickAt - EXCHANGE_TICK_MS >= LATE_TICK_MS) this.win.lagged = true;
    this.lastTickAt = now;
    this.decayWantDelay(now);
    if (now >= this.win.next) this.graftCheck(now);
    const eager = this.eagerPeers();
    const last = this.seq;
    const firstSeq = this.recent[0]?.seq ?? last + 1;
    const wants = this.wants(now);
    for (const [peer, s] of this.sessions) {
      // A stream that failed is reopened (at most every 2 s) while the peer stays connected.
      if (!s.stream && !s.opening && s.hello && now - s.lastOpen > 2000) {
        const pid = this.peerIdOf(peer);
        if (pid) void this.open(pid);
      }
      const from = s.cursor;
      s.cursor = last;
      if (!s.stream || !s.hello) continue;
      const isEager = eager.has(peer);
      const start = Math.max(0, from + 1 - firstSeq);
      let held: number | undefined;
      const groups = new Map<string, CosigEntry[]>();
      const out: Uint8Array[] = [];
      for (let i = start; i < this.recent.length; i++) {
        const { item: it, holdUntil, seq, bit, pq, logId, ref } = this.recent[i];
        if (pq && it.kind === 'cosig' && s.hello.keyIndex.has(it.label) && this.owed.get(ref)?.delete(`${peer} ${it.label}`)) {
          // Fetched through for this peer (it asked): sent now, once, even if announced to it before.
          s.known.add(ref, bit);
          let g = groups.get(it.textHash);
          if (!g) groups.set(it.textHash, (g = []));
          g.push({ index: s.hello.keyIndex.get(it.label)!, sig: it.sig });
          continue;
        }
        if (s.known.has(ref, bit) || !s.hello.logs.has(logId)) continue;
        if (it.kind === 'cosig' && !s.hello.keyIndex.has(it.label)) continue;
        if (!isEager || pq) {
          s.dirty.add(ref);
          continue;
        }
        if (holdUntil > now) {
          held ??= seq; // looked at again next tick (the cursor stays before it)
          continue;
        }
        s.known.add(ref, bit);
        if (it.kind === 'checkpoint') {
          out.push(encodeFrame(FRAME.checkpoint, it.note));
          continue;
        }
        let g = groups.get(it.textHash);
        if (!g) groups.set(it.textHash, (g = []));
        g.push({ index: s.hello.keyIndex.get(it.label)!, sig: it.sig });
      }
      if (held !== undefined) s.cursor = held - 1;
      s.scanned = last;
      for (const [textHash, items] of groups) out.push(...encodeCosigsSplit(this.refBytesFor(refHexOf(textHash)), items));
      if (s.dirty.size > 0 && now - s.lastHave >= HAVE_INTERVAL_MS) {
        const digests = this.digestsFor(s);
        // A REF whose text has not arrived yet (being fetched) stays dirty: announced once it has.
        for (const ref of s.dirty) if (this.held.has(ref) || !this.active.has(ref)) s.dirty.delete(ref);
        s.lastHave = now;
        if (digests.length > 0) {
          out.push(...encodeDigestsSplit(FRAME.have, digests));
          this.stats.haveOut += digests.length;
        }
      }
      const w = wants.get(peer);
      if (w) {
        out.push(...encodeDigestsSplit(FRAME.want, w));
        this.stats.wantOut += w.length;
      }
      // One write per peer per tick: each write costs a yamux header and a Noise tag (≈ 30 B).
      if (out.length > 0) this.write(s, out.length === 1 ? out[0] : concatList(out), out.length);
    }
    // Drop what every session has seen.
    let minCursor = last;
    for (const s of this.sessions.values()) minCursor = Math.min(minCursor, s.cursor);
    const keep = this.recent.findIndex((r) => r.seq > minCursor);
    if (keep < 0) this.recent.length = 0;
    else if (keep > 0) this.recent.splice(0, keep);
    if (this.ticks % 100 === 0) for (const [r, t] of this.pqWanted) if (t <= now) this.pqWanted.delete(r);
  }

  /** HAVE entries for a peer: what this node holds on each dirty REF that the peer is not known to hold. */
  private digestsFor(s: Session): Digest[] {
    const out: Digest[] = [];
    const n = s.hello!.keyIndex.size;
    for (const ref of s.dirty) {
      const h = this.held.get(ref);
      if (!h || !s.hello!.logs.has(h.logId)) continue;
      const bits = new Uint8Array((n + 7) >> 3);
      const pq = new Uint8Array((n + 7) >> 3);
      let news = false;
      const text = !!h.note;
      if (text && !s.known.has(ref, TEXT_BIT)) news = true;
      for (const [l, sig] of h.sigs) {
        const i = s.hello!.keyIndex.get(l);
        if (i === undefined) continue;
        const target = sig.length > MAX_PUSHED_SIG_BYTES ? pq : bits;
        target[i >> 3] |= 1 << (i & 7);
        // Announced Ed25519 items count as known (the peer WANTs what it lacks); pq ones too.
        if (s.known.add(ref, this.bitOf(l))) news = true;
      }
      for (const l of this.announced.get(ref)?.items.keys() ?? []) {
        const i = s.hello!.keyIndex.get(l);
        if (i === undefined || h.sigs.has(l) || !this.pqLabels.has(l)) continue;
        pq[i >> 3] |= 1 << (i & 7);
        if (s.known.add(ref, this.bitOf(l))) news = true;
      }
      if (!news) continue;
      if (text) s.known.add(ref, TEXT_BIT);
      out.push({ ref: this.refBytesFor(ref), text, bits: trimBits(bits), pq: trimBits(pq) });
    }
    return out;
  }

  /**
   * WANT entries per peer: each missing item announced at least WANT_DELAY_MS ago and not asked
   * for within WANT_RETRY_MS (at most WANT_TRIES times), from the announcer that holds most of them.
   */
  private wants(now: number): Map<string, Digest[]> {
    const out = new Map<string, Digest[]>();
    for (const ref of [...this.active]) {
      const a = this.announced.get(ref);
      // Nothing of this REF can be due before nextAt (reset by a new announcement or a client's ask).
      if (a?.nextAt !== undefined && now < a.nextAt) continue;
      const m = a ? this.missing(ref, now) : undefined;
      if (!a || !m || now - a.firstAt > ANNOUNCE_TTL_MS) {
        this.deactivate(ref);
        continue;
      }
      const keys = [...(m.text ? ['c'] : []), ...m.labels];
      if (keys.every((k) => (a.items.get(k)?.n ?? 0) >= WANT_TRIES)) {
        this.deactivate(ref);
        continue;
      }
      const due = keys.filter((k) => {
        const x = a.items.get(k);
        return x !== undefined && now - x.seen >= this.wantDelay && x.n < WANT_TRIES && (x.n === 0 || now - x.at >= WANT_RETRY_MS);
      });
      // When the first of the others comes due (the WANT wait may still adapt: at most a tick late).
      let next = Infinity;
      for (const k of keys) {
        const x = a.items.get(k);
        if (x === undefined || x.n >= WANT_TRIES) continue;
        next = Math.min(next, x.n === 0 ? x.seen + this.wantDelay : x.at + WANT_RETRY_MS);
      }
      a.nextAt = due.length > 0 ? Math.min(next, now + WANT_RETRY_MS) : next;
      if (due.length === 0) continue;
      // The announcer that holds most of what is due; the one asked last only breaks no tie.
      let best: string | undefined;
      let bestScore = -Infinity;
      for (const [p, info] of a.peers) {
        const s = this.sessions.get(p);
        if (!s?.stream || !s.hello) continue;
        // An item counts for an announcer only until it was asked for it once (unanswered claims must not keep winning).
        const claimed = due.filter((k) => (k === 'c' ? info.text : info.labels.has(k)));
        const score = 1000 * claimed.filter((k) => !a.askedOf?.get(k)?.has(p)).length + claimed.length - (p === a.lastAsked ? 0.5 : 0);
        if (score > bestScore) {
          bestScore = score;
          best = p;
        }
      }
      if (!best || bestScore <= 0) {
        // No announcer of what is due has a stream open to ask: this counts as a try, so that the
        // REF is given up after WANT_TRIES (a peer that announces and then refuses this node's
        // stream cannot keep it busy for the whole ANNOUNCE_TTL_MS; a stream reopens within 2 s).
        for (const k of due) {
          const x = a.items.get(k)!;
          x.at = now;
          x.n++;
        }
        continue;
      }
      const info = a.peers.get(best)!;
      const s = this.sessions.get(best)!;
      const bits = new Uint8Array((s.hello!.keyIndex.size + 7) >> 3);
      let text = false;
      for (const k of due) {
        if (k === 'c' ? !info.text : !info.labels.has(k)) continue;
        const x = a.items.get(k)!;
        x.at = now;
        x.n++;
        a.askedOf ??= new Map();
        let ao = a.askedOf.get(k);
        if (!ao) a.askedOf.set(k, (ao = new Set()));
        ao.add(best);
        s.asked.add(`${ref} ${k}`, now);
        if (k === 'c') {
          text = true;
          continue;
        }
        const i = s.hello!.keyIndex.get(k);
        if (i !== undefined) bits[i >> 3] |= 1 << (i & 7);
      }
      a.lastAsked = best;
      let l = out.get(best);
      if (!l) out.set(best, (l = []));
      l.push({ ref: this.refBytesFor(ref), text, bits: trimBits(bits), pq: new Uint8Array(0) });
    }
    return out;
  }
}

// ---------------------------------------------------------------- HAVE / WANT digests

/**
 * A HAVE or WANT entry: REF, whether the checkpoint text is held (wanted), and bitmaps over the
 * receiver's HELLO key list: Ed25519 cosignatures, and ML-DSA-44 lines (HAVE only).
 */
export interface Digest {
  readonly ref: Uint8Array;
  readonly text: boolean;
  readonly bits: Uint8Array;
  readonly pq: Uint8Array;
}

function trimBits(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return b.subarray(0, n);
}

function encodeDigestEntry(e: Digest): Uint8Array {
  if (e.ref.length !== REF_BYTES) throw new RangeError(`a REF is ${REF_BYTES} bytes, not ${e.ref.length}`);
  return concatBytes(e.ref, Uint8Array.of(e.text ? 1 : 0), varint(e.bits.length), e.bits, varint(e.pq.length), e.pq);
}

export function encodeDigests(type: number, entries: readonly Digest[]): Uint8Array {
  return encodeFrame(type, concatBytes(varint(entries.length), ...entries.map(encodeDigestEntry)));
}

function encodeDigestsSplit(type: number, entries: readonly Digest[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i += 1024) out.push(encodeDigests(type, entries.slice(i, i + 1024)));
  return out;
}

export function decodeDigests(payload: Uint8Array): Digest[] {
  let [n, pos] = readVarint(payload, 0);
  if (n > 4096) throw new FrameError('too many digest entries');
  const out: Digest[] = [];
  for (let i = 0; i < n; i++) {
    if (pos + REF_BYTES + 1 > payload.length) throw new FrameError('truncated digest');
    const ref = payload.subarray(pos, pos + REF_BYTES);
    const flags = payload[pos + REF_BYTES];
    if (flags > 1) throw new FrameError('bad digest flags');
    pos += REF_BYTES + 1;
    let len: number;
    [len, pos] = readVarint(payload, pos);
    if (len > MAX_HELLO_ITEMS / 8 || pos + len > payload.length) throw new FrameError('bad digest bitmap');
    const bits = payload.subarray(pos, pos + len);
    pos += len;
    [len, pos] = readVarint(payload, pos);
    if (len > MAX_HELLO_ITEMS / 8 || pos + len > payload.length) throw new FrameError('bad digest bitmap');
    const pq = payload.subarray(pos, pos + len);
    pos += len;
    out.push({ ref, text: flags === 1, bits, pq });
  }
  if (pos !== payload.length) throw new FrameError('trailing bytes in digest frame');
  return out;
}

/** COSIGS frames for one text, each under SPLIT_FRAME_BYTES (ML-DSA-44 entries are 2.4 KB). */
export function encodeCosigsSplit(ref: Uint8Array, items: readonly CosigEntry[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: CosigEntry[] = [];
  let size = 0;
  for (const c of items) {
    // Never the case for a verified cosignature/v1 or subtree/v1 line; a receiver would refuse the
    // whole frame (and penalise this node), and encodeCosigs would throw inside the tick.
    if (c.sig.length < MIN_SIG_BYTES || c.sig.length > MAX_SIG_BYTES) continue;
    const n = c.sig.length + 8;
    if (batch.length > 0 && size + n > SPLIT_FRAME_BYTES) {
      out.push(encodeCosigs(ref, batch));
      batch = [];
      size = 0;
    }
    batch.push(c);
    size += n;
  }
  if (batch.length > 0) out.push(encodeCosigs(ref, batch));
  return out;
}
