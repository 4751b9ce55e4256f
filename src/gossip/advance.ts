// A gossiped checkpoint ahead of this witness: for a log this node pulls, poll the log now through
// the feeder's own pull path (its proof, witness.add), the same path the feeders use. Never
// cosigned on the gossip alone; the witness core is the only writer of witness state.
import type { ViewEntry } from './view.js';
import type { GossipContext } from './context.js';

/** The shortest time between two gossip-triggered polls of one log. */
export const ADVANCE_GAP_MS = 2000;

export class Advancer {
  private readonly advancing = new Set<string>();
  /** Logs whose view moved on while a poll was in flight: looked at again when it ends. */
  private readonly again = new Set<string>();
  private readonly lastAdvance = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly g: GossipContext) {}

  maybeAdvance(e: ViewEntry): void {
    const advance = this.g.opts.advance;
    // Only logs this node pulls (a pushed log has no feeder to poll).
    if (!advance || !this.g.opts.sources?.(e.origin) || this.g.stopped()) return;
    // A poll in flight may have read the log before e was published: look again when it ends.
    if (this.advancing.has(e.origin)) {
      this.again.add(e.origin);
      return;
    }
    // At most one gossip-triggered poll per log per ADVANCE_GAP_MS (a log publishing every second
    // would otherwise be polled every second by every node, whatever its interval); the latest
    // checkpoint seen meanwhile gets one poll at the end of the gap.
    const wait = ADVANCE_GAP_MS - (this.g.now() - (this.lastAdvance.get(e.origin) ?? -Infinity));
    if (wait > 0) {
      if (!this.timers.has(e.origin)) {
        const t = setTimeout(() => {
          this.timers.delete(e.origin);
          const head = this.g.views.get(e.origin)?.head();
          if (head) this.maybeAdvance(head);
        }, wait);
        t.unref();
        this.timers.set(e.origin, t);
      }
      return;
    }
    this.lastAdvance.set(e.origin, this.g.now());
    this.advancing.add(e.origin);
    this.g.track(
      (async () => {
        try {
          const state = await this.g.opts.store.getState(e.origin);
          if (e.checkpoint.size <= (state?.size ?? 0n)) return;
          const r = await advance(e.origin);
          this.g.logger.debug({ origin: e.origin, size: e.checkpoint.size.toString(), result: r }, 'gossip-triggered poll of the log');
        } finally {
          this.advancing.delete(e.origin);
          if (this.again.delete(e.origin)) {
            const head = this.g.views.get(e.origin)?.head();
            if (head) this.maybeAdvance(head);
          }
        }
      })(),
    );
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }
}
