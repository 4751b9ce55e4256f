// Waiting in tests. A flaky test is a failing test: wait on conditions with deadlines, never on
// fixed sleeps. Every poll loop of the suite is here; a deadline names what it waited for.

export interface WaitOptions {
  /** What is awaited, for the error at the deadline. */
  readonly what: string;
  /** Deadline (default 10 s): generous, it only bounds a hang. */
  readonly timeoutMs?: number;
  /** Poll interval (default 10 ms): how often cond is asked, not a wait for anything. */
  readonly intervalMs?: number;
  /** More to say at the deadline (output of a child process, the last value seen). */
  readonly detail?: () => string;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls cond until it returns a truthy value, which it returns; throws at the deadline. */
export async function waitFor<T>(cond: () => T | Promise<T>, o: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${o.what}${o.detail ? `: ${o.detail()}` : ''}`);
    await pause(o.intervalMs ?? 10);
  }
}

/** p, or an error naming what if it has not settled within timeoutMs (a hang detector, not a timing assertion). */
export function withDeadline<T>(p: Promise<T>, o: Omit<WaitOptions, 'intervalMs'>): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${o.what}${o.detail ? `: ${o.detail()}` : ''}`)), timeoutMs);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * A negative check that needs a time window: cond must hold at every poll for windowMs, and the
 * first poll where it does not fails. Only where no event or answer can prove "nothing happened"
 * sooner; `why` says why (it is in the error, and the call site reads as its own comment).
 */
export async function holdsFor(cond: () => boolean | Promise<boolean>, o: { readonly what: string; readonly windowMs: number; readonly why: string; readonly intervalMs?: number }): Promise<void> {
  const end = Date.now() + o.windowMs;
  for (;;) {
    if (!(await cond())) throw new Error(`${o.what} stopped holding within the ${o.windowMs} ms window (${o.why})`);
    if (Date.now() >= end) return;
    await pause(Math.min(o.intervalMs ?? 5, Math.max(1, end - Date.now())));
  }
}

/**
 * The pause between attempts of a load loop (a client retrying after a refused connection or a
 * 503, or while no server is up): pacing, so that a retry loop does not spin. It waits for
 * nothing a test asserts; what is asserted is awaited with waitFor.
 */
export function paceRetry(ms = 20): Promise<void> {
  return pause(ms);
}
