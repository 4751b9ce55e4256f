// The sync protocol's client and server (wire format in sync.ts): catch-up (`views`), rollback
// protection (`cosigned-by`), peer bindings (`binding`) and proofs for pair checks (`prove`). Every
// exchange has deadlines both ways; inbound streams are capped per peer and node-wide (limits.ts),
// and holding them is penalised.
import { setMaxListeners } from 'node:events';
import type { PeerId, Connection } from '@libp2p/interface';
import { keyLabel } from '../note/note.js';
import { consistencyProofAsync } from '../merkle/proof.js';
import { tileSubtreeHasher } from '../merkle/tiles.js';
import { equalBytes, utf8 } from '../util/bytes.js';
import { DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_MAX_INBOUND_STREAM_BYTES } from './host.js';
import { Deadline, KeyedLimiter, MAX_INBOUND_PER_PEER, MAX_OUTBOUND_PER_PEER, StreamCounter } from './limits.js';
import type { BindingRecord } from './binding.js';
import { parseCheckpointMessage } from './wire.js';
import type { LogView } from './view.js';
import type { GossipContext } from './context.js';
import {
  SYNC_TIMEOUT_MS,
  MAX_NOTES,
  MAX_ORIGINS,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  readAll,
  writeAll,
  ByteBudget,
  type ByteStream,
  type SyncRequest,
  type SyncResponse,
} from './sync.js';

/** Catch-up with one peer at most this often. */
export const VIEWS_MIN_INTERVAL_MS = 10_000;
/** A views request from the same peer sooner than this after the last one is answered `busy`. */
export const VIEWS_SERVE_MIN_INTERVAL_MS = 5_000;
const RESPONSE_BUDGET = MAX_RESPONSE_BYTES - 64 * 1024;

export class SyncPeer {
  readonly inbound: StreamCounter;
  private readonly inboundBytes: ByteBudget;
  private readonly outbound = new KeyedLimiter(MAX_OUTBOUND_PER_PEER);
  private readonly lastViewsAt = new Map<string, number>();
  /** When each peer was last served a views answer (viewsTooSoon). */
  private readonly lastViewsServed = new Map<string, number>();
  /** This node's signed peer bindings (served to `binding` requests). */
  ownBindings: BindingRecord[] = [];

  constructor(private readonly g: GossipContext) {
    this.inbound = new StreamCounter(g.opts.p2p.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS, MAX_INBOUND_PER_PEER);
    this.inboundBytes = new ByteBudget(g.opts.p2p.maxInboundStreamBytes ?? DEFAULT_MAX_INBOUND_STREAM_BYTES);
  }

  /** Per-peer maps stay bounded however many fresh identities come and go. */
  prune(): void {
    if (this.lastViewsAt.size > 1024) for (const [p, t] of this.lastViewsAt) if (this.g.now() - t >= VIEWS_MIN_INTERVAL_MS) this.lastViewsAt.delete(p);
  }


  /**
   * One exchange with a peer, under one deadline (SYNC_TIMEOUT_MS) for the dial, the write and the
   * read; `signal` can end it sooner. At most MAX_OUTBOUND_PER_PEER requests to one peer at once,
   * so an honest node never reaches a peer's per-peer stream cap.
   */
  async request(peer: PeerId, req: SyncRequest, signal?: AbortSignal): Promise<SyncResponse> {
    const host = this.g.requireHost();
    const deadline = new Deadline(SYNC_TIMEOUT_MS);
    const sig = signal ? AbortSignal.any([deadline.signal, signal]) : deadline.signal;
    const id = peer.toString();
    let stream: ByteStream | undefined;
    try {
      await this.outbound.acquire(id, sig);
    } catch (e) {
      deadline.clear();
      this.g.metrics.sync(req.type, 'out', 'failed');
      throw e;
    }
    try {
      stream = (await host.dialProtocol(peer, this.g.syncProtocol, { signal: sig })) as unknown as ByteStream;
      await writeAll(stream, encodeRequest(req), sig);
      const res = decodeResponse(await readAll(stream, MAX_RESPONSE_BYTES, { signal: sig }));
      this.g.metrics.sync(req.type, 'out', res.type === 'error' ? res.code : 'ok');
      return res;
    } catch (e) {
      this.g.metrics.sync(req.type, 'out', deadline.signal.aborted ? 'timeout' : 'failed');
      stream?.abort(e as Error);
      throw e;
    } finally {
      deadline.clear();
      this.outbound.release(id);
    }
  }

  /**
   * Answers one inbound request. Node-wide and per-peer stream caps, a memory cap on what requests
   * hold while they are read, and a deadline on the read and on the write: a peer that opens
   * streams and never finishes its request (or never reads the answer) is penalised.
   */
  async serveSync(stream: ByteStream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const slot = this.inbound.acquire(peer);
    if (slot !== 'ok') {
      this.g.metrics.sync('any', 'in', 'busy');
      if (slot === 'peer-full') this.g.peers.penalise(peer, 'too-many-streams');
      else this.g.logger.debug({ peer, open: this.inbound.open }, 'inbound sync stream refused: node-wide cap reached');
      stream.abort(new Error('busy'));
      return;
    }
    let res: SyncResponse;
    let type = 'invalid';
    try {
      const readDeadline = new Deadline(SYNC_TIMEOUT_MS);
      try {
        const req = decodeRequest(await readAll(stream, MAX_REQUEST_BYTES, { signal: readDeadline.signal, budget: this.inboundBytes }));
        type = req.type;
        res = req.type === 'views' && this.viewsTooSoon(peer) ? { type: 'error', code: 'busy', reason: `views again within ${VIEWS_SERVE_MIN_INTERVAL_MS} ms` } : await this.answer(req);
      } catch (e) {
        if (readDeadline.signal.aborted) {
          this.g.metrics.sync(type, 'in', 'timeout');
          if (readDeadline.firedOnTime) this.g.peers.penalise(peer, 'held-stream');
          stream.abort(e as Error);
          return;
        }
        res = { type: 'error', code: (e as Error).message.includes('memory cap') ? 'busy' : 'bad-request', reason: (e as Error).message };
      } finally {
        readDeadline.clear();
      }
      this.g.metrics.sync(type, 'in', res.type === 'error' ? res.code : 'ok');
      const writeDeadline = new Deadline(SYNC_TIMEOUT_MS);
      try {
        await writeAll(stream, encodeResponse(res), writeDeadline.signal);
      } catch (e) {
        if (writeDeadline.firedOnTime) this.g.peers.penalise(peer, 'held-stream');
        stream.abort(e as Error);
      } finally {
        writeDeadline.clear();
      }
    } finally {
      this.inbound.release(peer);
    }
  }

  /**
   * A peer asks for views at most every VIEWS_MIN_INTERVAL_MS (its own rule): one that asks again
   * within VIEWS_SERVE_MIN_INTERVAL_MS is answered `busy` (no penalty), so that it cannot make
   * this node build catch-ups back to back.
   */
  private viewsTooSoon(peer: string): boolean {
    const now = this.g.now();
    const last = this.lastViewsServed.get(peer);
    if (last !== undefined && now - last < VIEWS_SERVE_MIN_INTERVAL_MS) return true;
    this.lastViewsServed.set(peer, now);
    if (this.lastViewsServed.size > 4096) for (const [p, t] of this.lastViewsServed) if (now - t >= VIEWS_SERVE_MIN_INTERVAL_MS) this.lastViewsServed.delete(p);
    return false;
  }

  private async answer(req: SyncRequest): Promise<SyncResponse> {
    switch (req.type) {
      case 'views':
        return { type: 'views', notes: viewsNotes(this.g.views, req.origins.length > 0 ? req.origins : this.g.opts.logs.origins(), this.g.ownLabels) };
      case 'cosigned-by': {
        const notes: string[] = [];
        let bytes = 0;
        for (const v of this.g.views.values()) {
          const r = v.latestCosignedBy(req.key);
          if (!r) continue;
          const m = formatLines(r.logNote, [r.line]);
          if (notes.length >= MAX_NOTES || bytes + m.length > RESPONSE_BUDGET) break;
          bytes += m.length;
          notes.push(new TextDecoder().decode(m));
        }
        return { type: 'cosigned-by', notes };
      }
      case 'prove':
        return this.answerProve(req);
      case 'binding':
        return { type: 'binding', records: this.ownBindings };
    }
  }

  /** Root of the first m leaves of the tree of NOTE, and the proof to NOTE's root, from this node's tiles of the log. */
  private async answerProve(req: { origin: string; size: bigint; note: string }): Promise<SyncResponse> {
    const verifiers = this.g.trust.logKeys(req.origin);
    if (!verifiers) return { type: 'error', code: 'unknown-log', reason: 'this node does not follow that log' };
    const r = parseCheckpointMessage(utf8(req.note), this.g.trust, this.g.verified);
    if (!r.ok || r.message.origin !== req.origin) return { type: 'error', code: 'bad-request', reason: r.ok ? 'origin mismatch' : r.reason };
    const n = r.message.checkpoint.size;
    const m = req.size;
    if (m === 0n || m >= n) return { type: 'error', code: 'bad-request', reason: 'size must be in (0, tree size)' };
    const source = this.g.opts.sources?.(req.origin);
    if (!source?.tiles) return { type: 'error', code: 'unavailable', reason: 'this node does not read this log\'s tiles' };
    const current = await this.g.checks.latestVerified(req.origin, source, verifiers).catch(() => undefined);
    if (!current || current.checkpoint.size < n) return { type: 'error', code: 'unavailable', reason: 'the log does not serve a tree that large to this node' };
    const session = source.tiles.session(n, current.checkpoint.size, { signal: AbortSignal.timeout(SYNC_TIMEOUT_MS) });
    try {
      const hasher = tileSubtreeHasher(n, session.fetchTile, source.tiles.height);
      const root = await hasher(0n, n);
      if (!equalBytes(root, r.message.checkpoint.root)) {
        session.settle(false);
        return { type: 'error', code: 'unavailable', reason: 'the tiles this node is served do not hash to that root' };
      }
      const h = await hasher(0n, m);
      const proof = await consistencyProofAsync(m, n, hasher);
      session.settle(true);
      return { type: 'prove', h, proof };
    } catch (e) {
      session.settle(false);
      return { type: 'error', code: 'unavailable', reason: (e as Error).message };
    }
  }

  /** Catch-up: ask a (re)connected peer for its latest views and take them in like gossip. */
  async requestViews(peer: PeerId): Promise<void> {
    const id = peer.toString();
    const last = this.lastViewsAt.get(id) ?? -Infinity;
    if (this.g.now() - last < VIEWS_MIN_INTERVAL_MS || this.g.stopped()) return;
    this.lastViewsAt.set(id, this.g.now());
    // Cap what is sent: a list over the request limits would only earn an error, so ask for all.
    let origins = this.g.opts.logs.origins();
    if (origins.length > MAX_ORIGINS || encodeRequest({ type: 'views', origins }).length > MAX_REQUEST_BYTES - 1024) origins = [];
    const res = await this.request(peer, { type: 'views', origins });
    if (res.type !== 'views') return;
    for (const note of res.notes) {
      const r = parseCheckpointMessage(utf8(note), this.g.trust, this.g.verified);
      if (r.ok) this.g.topics.ingest(r.message, 'sync');
    }
  }

  /**
   * Rollback protection: ask connected peers for the latest checkpoints they hold cosigned by this
   * node's own keys. Such a checkpoint is log-signed and was cosigned by us, so when it is ahead of
   * the stored state it becomes the stored state (compare-and-set, forward only), and the witness
   * core then refuses anything below it. Waits at most startupSyncMs for the bootstrap peers.
   */
  async restoreOwnState(budgetMs = this.g.startupSyncMs): Promise<void> {
    const host = this.g.requireHost();
    if (this.g.opts.p2p.bootstrap.length === 0 || this.g.startupSyncMs <= 0) return;
    // One deadline for the whole wait, whatever peers do: every peer is asked at once, and what has
    // not answered by then is abandoned (its request aborted).
    const stop = new AbortController();
    setMaxListeners(Infinity, stop.signal); // one listener per request in flight
    const timer = setTimeout(() => stop.abort(new Error('startup sync deadline')), budgetMs);
    timer.unref();
    const asked = new Set<string>();
    const answered = new Set<string>();
    const pending = new Set<Promise<void>>();
    const wanted = this.g.peers.bootstrapIds;
    const ask = async (p: PeerId): Promise<void> => {
      for (const label of this.g.ownLabels) {
        try {
          const res = await this.request(p, { type: 'cosigned-by', key: label }, stop.signal);
          if (stop.signal.aborted) return;
          if (res.type === 'cosigned-by') for (const note of res.notes) await this.restoreFrom(note, p.toString());
        } catch (e) {
          this.g.logger.debug({ peer: p.toString(), err: (e as Error).message }, 'cosigned-by request failed');
          return;
        }
      }
      answered.add(p.toString());
    };
    try {
      while (!this.g.stopped() && !stop.signal.aborted) {
        for (const p of host.getPeers()) {
          if (asked.has(p.toString())) continue;
          asked.add(p.toString());
          const q: Promise<void> = ask(p).finally(() => pending.delete(q));
          pending.add(q);
        }
        if ([...wanted].every((w) => asked.has(w)) && pending.size === 0) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          stop.signal.addEventListener('abort', () => {
            clearTimeout(t);
            r();
          }, { once: true });
        });
        if (!stop.signal.aborted && ![...wanted].every((w) => asked.has(w))) void this.g.peers.dialBootstrap();
      }
    } finally {
      clearTimeout(timer);
      stop.abort(new Error('startup sync over'));
      await Promise.allSettled([...pending]);
    }
    if (![...wanted].every((w) => answered.has(w))) this.g.logger.warn({ answered: [...wanted].filter((w) => answered.has(w)).length, bootstrap: wanted.size, waitedMs: this.g.startupSyncMs }, 'startup: not every bootstrap peer answered about our own cosignatures before the deadline');
  }

  /**
   * A checkpoint a peer holds with this node's cosignature: handed to the witness core
   * (restoreFromOwnCosignature), which moves the stored state forward through compare-and-set,
   * never backward, and records same-size conflicts as evidence.
   */
  private async restoreFrom(note: string, from: string): Promise<void> {
    const r = parseCheckpointMessage(utf8(note), this.g.trust, this.g.verified);
    if (!r.ok) return;
    const m = r.message;
    if (!m.cosignatures.some((c) => this.g.ownLabels.has(keyLabel(c.name, c.keyId)))) return;
    const res = await this.g.opts.witness.restoreFromOwnCosignature(note, `gossip peer ${from}`);
    if (res.kind !== 'advanced') {
      if (res.kind === 'ignored') this.g.logger.debug({ origin: m.origin, from, reason: res.reason }, 'rollback protection: peer\'s copy not used');
      return;
    }
    this.g.metrics.restored();
    this.g.emit({ type: 'restored', origin: m.origin, size: res.to, from });
    this.g.logger.warn({ origin: m.origin, from, size: res.to.toString(), stored: res.from.toString() }, 'rollback protection: a peer holds a newer checkpoint cosigned by this witness; stored state moved forward to it');
    const next = await this.g.opts.store.getState(m.origin);
    if (next) this.g.publisher.observeOwnState(m.origin, next, false);
  }
}

function formatLines(logNote: { text: string; verified: readonly { name: string; base64: string }[] }, extra: readonly { name: string; base64: string }[]): Uint8Array {
  return utf8(logNote.text + '\n' + [...logNote.verified, ...extra].map((s) => `\u2014 ${s.name} ${s.base64}\n`).join(''));
}

/**
 * The notes of a `views` answer: per origin, the own latest cosigned checkpoint and the largest
 * one, each with every cosignature held. A text whose lines do not fit one message (ML-DSA-44
 * lines) is sent as several (formatCheckpointPages): the first message of every entry first, as
 * before, then the others while the answer has room (MAX_NOTES, RESPONSE_BUDGET).
 */
export function viewsNotes(views: ReadonlyMap<string, LogView>, origins: readonly string[], prefer: ReadonlySet<string>): string[] {
  const pages: Uint8Array[][] = [];
  const notes: string[] = [];
  let bytes = 0;
  // Stay well inside the response limit (JSON escaping adds a little).
  const add = (m: Uint8Array) => {
    if (notes.length >= MAX_NOTES || bytes + m.length > RESPONSE_BUDGET) return false;
    bytes += m.length;
    notes.push(new TextDecoder().decode(m));
    return true;
  };
  // Each origin once, and no page built after the answer is full: a request naming one origin
  // thousands of times cost 0.5-1.6 s of CPU before.
  for (const origin of new Set(origins)) {
    const v = views.get(origin);
    if (!v) continue;
    for (const e of new Set([v.ownHead(), v.head()])) {
      if (!e) continue;
      const p = v.messages(e, prefer);
      pages.push(p);
      if (!add(p[0])) return notes;
    }
  }
  for (const p of pages) for (const m of p.slice(1)) if (!add(m)) return notes;
  return notes;
}
