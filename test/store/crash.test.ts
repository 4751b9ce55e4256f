// Crash durability: a child process CASes in a loop and prints each acknowledged size; we
// SIGKILL it mid-stream, reopen the store and check that nothing acknowledged was lost.
// (SIGKILL loses the process, not the OS page cache: this checks that acknowledgements follow
// the write reaching LevelDB's log, and that the log recovers cleanly; that the log is also
// fdatasync()ed is asserted by the sync:true spy test in stores.test.ts.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LevelStore, StoreLockedError } from '../../src/store/level.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ORIGINS = ['crash.example/a', 'crash.example/b', 'crash.example/c', 'crash.example/d'];
const DEADLINE_MS = 20_000;

interface Run {
  child: ChildProcess;
  /** Last acknowledged size per origin (complete lines only). */
  acked: Map<string, bigint>;
  acks: number;
  ready: boolean;
  /** Resolves when pred() holds after some output; rejects on exit or deadline. */
  waitFor(pred: () => boolean, what: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startChild(dir: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/crash-child.ts', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  let err = '';
  const waiters = new Set<() => void>();
  const run: Run = {
    child,
    acked: new Map(),
    acks: 0,
    ready: false,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    stderr: () => err,
    waitFor(pred, what) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pred()) done(resolve);
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}; stderr: ${err}`))), DEADLINE_MS);
        const onExit = () => done(() => reject(new Error(`child exited while waiting for ${what}; stderr: ${err}`)));
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
          f();
        };
        child.once('exit', onExit);
        waiters.add(check);
        check();
      });
    },
  };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const parts = line.split(' ');
      if (parts[0] === 'ready') run.ready = true;
      else if (parts[0] === 'ack' && parts.length === 3) {
        run.acked.set(parts[1], BigInt(parts[2]));
        run.acks++;
      }
    }
    for (const w of [...waiters]) w();
  });
  return run;
}

describe('LevelStore crash durability (SIGKILL)', () => {
  const children: ChildProcess[] = [];
  let dir: string | undefined;

  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('never loses an acknowledged write across 5 kills', { timeout: 120_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'gossip-witness-crash-'));
    const expected = new Map<string, bigint>(ORIGINS.map((o) => [o, 0n]));
    // Kill after different amounts of progress, from almost at once to well into log rotation.
    const targets = [1, 40, 300, 900, 2000];
    for (const [round, target] of targets.entries()) {
      const run = startChild(dir);
      children.push(run.child);
      await run.waitFor(() => run.acks >= target, `${target} acks in round ${round}`);

      if (round === 0) {
        // While the child holds the directory, another process cannot open it.
        const err = await LevelStore.open(dir).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreLockedError);
        expect((err as Error).message).toMatch(/is in use by another process/);
      }

      run.child.kill('SIGKILL');
      const { signal } = await run.exited;
      expect(signal).toBe('SIGKILL');
      const acked = new Map(run.acked);

      const store = await LevelStore.open(dir);
      try {
        for (const o of ORIGINS) {
          const s = await store.getState(o);
          const size = s?.size ?? 0n;
          const last = acked.get(o) ?? expected.get(o)!;
          // Every acknowledged write survived; at most the one in-flight write beyond it.
          expect(size, `${o} after round ${round}`).toBeGreaterThanOrEqual(last);
          expect(size, `${o} after round ${round}`).toBeLessThanOrEqual(last + 1n);
          expect(size).toBeGreaterThanOrEqual(expected.get(o)!);
          if (s) {
            expect(s.note.startsWith(`${o}\n${size}\n`)).toBe(true);
            expect(s.root[0]).toBe(Number(size % 256n));
          }
          expected.set(o, size);
        }
      } finally {
        await store.close();
      }
    }
  });
});
