import { GossipWitnessError } from '../errors.js';
// One start/stop interface for every long-lived part of a node (store, log list, HTTP server,
// feeders, gossip), and a runner that starts them in one declared order and stops them in reverse.
// A part that fails to start stops everything started before it (in reverse), then the error is
// thrown: a node never keeps running half-started.

export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Part extends Lifecycle {
  readonly name: string;
}

export type LifecycleEvent = { part: string; action: 'start' | 'stop'; ok: boolean; error?: string };

export class LifecycleOrderError extends GossipWitnessError {
  constructor(message: string) {
    super({ code: 'INTERNAL', message });
    this.name = 'LifecycleOrderError';
  }
}

/**
 * Starts parts one at a time in the order `order` declares (a part may be absent: a node without
 * p2p has no gossip), and stops the started ones in reverse. stop() stops every started part even
 * when one fails, and throws the first failure after the rest are stopped.
 */
export class Parts {
  private readonly started: Part[] = [];
  private next = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly order: readonly string[],
    private readonly onEvent?: (e: LifecycleEvent) => void,
  ) {
    if (new Set(order).size !== order.length) throw new LifecycleOrderError(`duplicate part in start order: ${order.join(', ')}`);
  }

  /** The names of the parts started so far, in start order. */
  get names(): string[] {
    return this.started.map((p) => p.name);
  }

  /**
   * Starts one part. Out of the declared order is a programming error (LifecycleOrderError). If
   * it fails, every part started before it is stopped in reverse and the start error is thrown.
   */
  async start(part: Part): Promise<void> {
    if (this.stopping) throw new LifecycleOrderError(`part ${part.name} started after stop`);
    const at = this.order.indexOf(part.name, this.next);
    if (at < 0) throw new LifecycleOrderError(this.order.includes(part.name) ? `part ${part.name} started out of order (after ${this.names.join(', ')})` : `part ${part.name} is not in the start order`);
    this.next = at + 1;
    try {
      await part.start();
    } catch (e) {
      this.emit({ part: part.name, action: 'start', ok: false, error: (e as Error)?.message ?? String(e) });
      await this.stop().catch(() => {});
      throw e;
    }
    this.started.push(part);
    this.emit({ part: part.name, action: 'start', ok: true });
  }

  /** Stops every started part, last started first. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      let first: unknown;
      for (const p of [...this.started].reverse()) {
        try {
          await p.stop();
          this.emit({ part: p.name, action: 'stop', ok: true });
        } catch (e) {
          first ??= e;
          this.emit({ part: p.name, action: 'stop', ok: false, error: (e as Error)?.message ?? String(e) });
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.stopping;
  }

  private emit(e: LifecycleEvent): void {
    try {
      this.onEvent?.(e);
    } catch {
      // observers must not break start or stop
    }
  }
}
