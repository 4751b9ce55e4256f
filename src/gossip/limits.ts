// Resource limits for what peers can make this node hold, and the penalties for trying.
//
// Inbound sync streams: a node-wide cap on streams open at once and on the bytes they hold, and a
// per-peer cap. Every exchange has a deadline. Honest nodes never reach the per-peer cap (they send
// at most MAX_OUTBOUND_PER_PEER requests to one peer at once), so only a peer that holds streams
// open or floods is penalised: each offence adds points that decay like gossipsub's P4 counter,
// and the points count against the peer's gossipsub score (appSpecificScore), so enough of them
// graylist, disconnect and refuse it like any other misbehaving peer.

/** Requests this node has in flight to one peer at most (cap what is sent). */
export const MAX_OUTBOUND_PER_PEER = 4;
/** Inbound sync streams one peer may hold open at once; four times what an honest node sends. */
export const MAX_INBOUND_PER_PEER = 16;

/** Penalty points per offence (the graylist threshold is -100). */
export const PENALTY = {
  /** A request not received in full before the deadline, or an answer not read (a held stream). */
  heldStream: 20,
  /** A stream opened beyond the per-peer cap. */
  tooManyStreams: 10,
  /** A gossipsub frame beyond the 4 MiB RPC limit (four within a few seconds: banned). */
  oversized: 25,
  /** A version 2 exchange frame that is malformed or carries a failing signature by a tracked key (as a gossipsub reject). */
  invalid: 25,
} as const;
/** Points decay by this factor per second (as gossipsub's invalid-message counter, 0.98). */
export const PENALTY_DECAY = 0.98;
/** Points at which the node bans a peer itself (also for peers that do not speak gossipsub). */
export const BAN_POINTS = 100;

export class PenaltyBook {
  private readonly points = new Map<string, { p: number; at: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  private current(peer: string): number {
    const e = this.points.get(peer);
    if (!e) return 0;
    const p = e.p * Math.pow(PENALTY_DECAY, (this.now() - e.at) / 1000);
    if (p < 0.5) {
      this.points.delete(peer);
      return 0;
    }
    return p;
  }

  add(peer: string, points: number): number {
    const p = this.current(peer) + points;
    this.points.set(peer, { p, at: this.now() });
    // Bounded: forget the smallest when the book grows (fresh identities are cheap).
    if (this.points.size > 4096) {
      for (const k of this.points.keys()) {
        if (this.current(k) < BAN_POINTS / 2) this.points.delete(k);
        if (this.points.size <= 3072) break;
      }
    }
    return p;
  }

  /** The penalty as a (non-positive) score contribution. */
  score(peer: string): number {
    return -this.current(peer);
  }

  get(peer: string): number {
    return this.current(peer);
  }

  peers(): string[] {
    return [...this.points.keys()];
  }
}

/** Node-wide and per-peer counts of inbound streams. */
export class StreamCounter {
  private total = 0;
  private readonly byPeer = new Map<string, number>();
  constructor(readonly maxTotal: number, readonly maxPerPeer: number) {}

  get open(): number {
    return this.total;
  }

  /** 'ok' (counted; call release), or why it was refused. */
  acquire(peer: string): 'ok' | 'node-full' | 'peer-full' {
    const n = this.byPeer.get(peer) ?? 0;
    if (n >= this.maxPerPeer) return 'peer-full';
    if (this.total >= this.maxTotal) return 'node-full';
    this.byPeer.set(peer, n + 1);
    this.total++;
    return 'ok';
  }

  release(peer: string): void {
    const n = this.byPeer.get(peer) ?? 0;
    if (n <= 1) this.byPeer.delete(peer);
    else this.byPeer.set(peer, n - 1);
    this.total = Math.max(0, this.total - 1);
  }
}

/** A small async semaphore per key (outbound requests per peer). */
export class KeyedLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  constructor(readonly max: number) {}

  async acquire(key: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      const n = this.active.get(key) ?? 0;
      if (n < this.max) {
        this.active.set(key, n + 1);
        return;
      }
      if (signal.aborted) throw new Error('timed out waiting for a request slot');
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(key) ?? [];
        this.waiters.set(key, list);
        const done = () => {
          signal.removeEventListener('abort', done);
          const i = list.indexOf(done);
          if (i >= 0) list.splice(i, 1);
          if (list.length === 0 && this.waiters.get(key) === list) this.waiters.delete(key);
          resolve();
        };
        list.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  release(key: string): void {
    const n = (this.active.get(key) ?? 1) - 1;
    if (n <= 0) this.active.delete(key);
    else this.active.set(key, n);
    this.waiters.get(key)?.[0]?.();
  }
}

/**
 * A deadline that also says whether it fired on time: when this node's own event loop stalled
 * (a loaded machine), a missed deadline is not the peer's fault and is not penalised.
 */
export class Deadline {
  private readonly ctl = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private late = false;
  constructor(ms: number) {
    const due = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.late = Date.now() - due > 1000;
      this.ctl.abort(new Error('deadline'));
    }, ms);
    this.timer.unref();
  }
  get signal(): AbortSignal {
    return this.ctl.signal;
  }
  /** The deadline passed while this node was responsive. */
  get firedOnTime(): boolean {
    return this.ctl.signal.aborted && !this.late;
  }
  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Evidence IDs and split views remembered as seen (each stored log keeps at most 32 evidence records, so this spans many logs). */
export const EVIDENCE_SEEN_MAX = 4096;
