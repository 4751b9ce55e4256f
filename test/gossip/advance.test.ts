// The gossip-triggered poll (src/gossip/advance.ts): a checkpoint seen while a poll of its log is
// in flight is looked at again when that poll ends (the poll may have read the log before it was
// published); polls of one log stay ADVANCE_GAP_MS apart.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Advancer, ADVANCE_GAP_MS } from '../../src/gossip/advance.js';
import type { GossipContext } from '../../src/gossip/context.js';
import type { ViewEntry } from '../../src/gossip/view.js';

const ORIGIN = 'example.com/advance';
const entry = (size: bigint) => ({ origin: ORIGIN, checkpoint: { origin: ORIGIN, size, root: new Uint8Array(32) } }) as unknown as ViewEntry;

function harness() {
  let stateSize = 5n;
  let head = entry(5n);
  const polls: bigint[] = [];
  const inFlight: (() => void)[] = [];
  const tracked: Promise<unknown>[] = [];
  const g = {
    opts: {
      sources: () => true,
      store: { getState: async () => ({ size: stateSize }) },
      advance: (origin: string) => {
        expect(origin).toBe(ORIGIN);
        polls.push(head.checkpoint.size);
        const seen = head.checkpoint.size; // what the log had when this poll read it
        return new Promise<string>((resolve) => inFlight.push(() => ((stateSize = seen), resolve('ok'))));
      },
    },
    views: new Map([[ORIGIN, { head: () => head }]]),
    now: () => Date.now(),
    track: (p: Promise<unknown>) => void tracked.push(p),
    stopped: () => false,
    logger: { debug: () => {} },
  } as unknown as GossipContext;
  return { a: new Advancer(g), polls, inFlight, tracked, setHead: (s: bigint) => (head = entry(s)), state: () => stateSize };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Advancer', () => {
  it('a checkpoint seen during a poll gets a poll of its own once the gap has passed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = harness();
    h.setHead(8n);
    h.a.maybeAdvance(entry(8n));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.polls).toEqual([8n]);
    // 305 is published after the poll read the log (8), while it is still in flight.
    h.setHead(305n);
    h.a.maybeAdvance(entry(305n));
    h.inFlight.shift()!();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.state()).toBe(8n);
    expect(h.polls).toEqual([8n]); // not before the gap
    await vi.advanceTimersByTimeAsync(ADVANCE_GAP_MS);
    expect(h.polls).toEqual([8n, 305n]);
    h.inFlight.shift()!();
    await vi.advanceTimersByTimeAsync(ADVANCE_GAP_MS * 2);
    expect(h.state()).toBe(305n);
    expect(h.polls).toEqual([8n, 305n]); // nothing newer: no third poll
  });

  it('a checkpoint no larger than the witness state is not polled for', async () => {
    const h = harness();
    h.a.maybeAdvance(entry(5n));
    await Promise.all(h.tracked);
    expect(h.polls).toEqual([]);
  });
});
