/** A token bucket: `rate` tokens per second, holding at most `capacity`. Time is injectable. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate);
      this.last = t;
    }
  }

  canTake(n = 1): boolean {
    this.refill();
    return this.tokens >= n;
  }

  take(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Seconds until n tokens are available (for Retry-After). */
  secondsUntil(n = 1): number {
    this.refill();
    return this.tokens >= n ? 0 : Math.ceil((n - this.tokens) / this.rate);
  }
}

/**
 * The per-log budget for a witness-network `qpd` (add-checkpoint requests per day): a bucket
 * refilling at qpd/86400 per second that holds up to an hour's worth (at least 1).
 */
export function qpdBucket(qpd: number, now: () => number = Date.now): TokenBucket {
  return new TokenBucket(qpd / 86400, qpdCapacity(qpd), now);
}

/** A qpd bucket's capacity: an hour's worth, at least 1. */
export const qpdCapacity = (qpd: number): number => Math.max(1, Math.ceil(qpd / 24));
