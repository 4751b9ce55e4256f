// Pair checks are bounded (src/gossip/pair-checks.ts): genuine old checkpoints cost a sender about
// 300 bytes each, and each starts a check that asks peers and the log for up to CHECK_DEADLINE_MS.
// At most MAX_RUNNING_CHECKS run at once; the rest wait, the largest checkpoints first, and a full
// queue drops the smallest checkpoint's check.
import { describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { parseVkey } from '../../src/note/index.js';
import { VerifierSet } from '../../src/note/note.js';
import { LogView, type ViewEntry } from '../../src/gossip/view.js';
import { parseCheckpointMessage, VerifiedLines } from '../../src/gossip/wire.js';
import { MAX_RUNNING_CHECKS, MAX_WAITING_CHECKS, PairChecks } from '../../src/gossip/pair-checks.js';
import type { SyncRequest } from '../../src/gossip/sync.js';

describe('pair checks', () => {
  it(`run at most MAX_RUNNING_CHECKS at once; the rest wait, the largest first; a full queue drops the smallest`, async () => {
    const log = new TestLog('example.com/pair-checks').append(5000);
    const logKeys = new VerifierSet();
    logKeys.add(parseVkey(log.key.vkey));
    const view = new LogView(log.origin);
    const m = parseCheckpointMessage(new TextEncoder().encode(log.checkpoint()), { logKeys: () => logKeys, witnessKeys: new VerifierSet() }, new VerifiedLines());
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    view.observe(m.message, Date.now(), true); // this node's own, size 5000: every check compares against it
    const old = (size: number): ViewEntry => ({ ...view.head()!, checkpoint: { ...view.head()!.checkpoint, size: BigInt(size), root: new Uint8Array(32).fill(size % 251) }, textHash: `old-${size}`, cosignatures: new Map(), own: false, checked: false });
    const release = new AbortController();
    const asked: bigint[] = [];
    const running: Promise<unknown>[] = [];
    const results: string[] = [];
    const warned: string[] = [];
    const checks = new PairChecks({
      view: () => view,
      logKeys: () => logKeys,
      peers: () => [{ toString: () => 'peer' } as never],
      // A peer that answers nothing until the test lets it (then every check ends undecided).
      request: (_peer, req: SyncRequest, signal) => {
        if (req.type === 'prove') asked.push(req.size);
        return new Promise((_, reject) => {
          const stop = () => reject(new Error('no answer'));
          if (release.signal.aborted) return stop();
          release.signal.addEventListener('abort', stop);
          signal?.addEventListener('abort', stop);
        });
      },
      proven: async () => false,
      witness: { noteSuspect: async () => undefined } as never,
      onResult: (_origin, result, how) => void results.push(`${result} ${how}`),
      logger: { warn: (_o, m) => void warned.push(m), debug: () => {} },
      now: () => Date.now(),
      checkDelayMs: 0,
      track: (p) => void running.push(p),
      stopped: () => false,
    });
    const n = MAX_RUNNING_CHECKS + MAX_WAITING_CHECKS + 10;
    for (let size = 1; size <= n; size++) running.push(checks.run(old(size)));
    await new Promise((r) => setImmediate(r));
    expect(asked).toHaveLength(MAX_RUNNING_CHECKS);
    expect(checks.stats.waited).toBe(MAX_WAITING_CHECKS + 10);
    expect(checks.stats.dropped).toBe(10);
    expect(results.filter((r) => r === 'undecided dropped: the pair-check queue is full')).toHaveLength(10);
    expect(warned).toHaveLength(1); // once a minute
    release.abort();
    for (let i = 0; i < 100 && running.length > 0; i++) await Promise.all(running.splice(0));
    // Every check that waited ran after the first ones, the largest first; the 10 smallest waiting ones were dropped.
    const waitedSizes = Array.from({ length: MAX_WAITING_CHECKS }, (_, i) => BigInt(n - i));
    expect(asked.slice(MAX_RUNNING_CHECKS)).toEqual(waitedSizes);
  });
});
