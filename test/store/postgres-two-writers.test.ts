// "A witness never cosigns two inconsistent checkpoints, even across crashes" when TWO witness
// instances with the SAME key share ONE PostgreSQL database (src/store/postgres.ts;
// docs/operator-guide.md, "PostgreSQL"). Found by an audit on 2026-12-08 (F1, F2), fixed since:
//
//   SAFE   the advancing path: two instances that read the same state and are sent two branches
//          both sign, but exactly one compare-and-set wins; a harness mutant whose CAS is
//          "read, decide, write" cosigns the fork (so the test would catch a missing CAS).
//   F1     the non-advancing path (old == size == stored size) answered 200 from a stale read
//          with no write at all: after instance A answered 200 for size 20, instance B answered
//          200 for size 10, with a later cosignature timestamp. Now the store confirms the size
//          in a write (PostgresStore.confirm) before the cosignature leaves.
//   SAFE   a synchronous standby that stops answering: the CAS times out client-side and is a
//          503; the waiting commit stays invisible to the other instance.
//   F2     nothing forced synchronous_commit = on for the witness's sessions: with a database
//          default of `off`, an acknowledged CAS was lost in a database crash, and the second
//          instance then cosigned a fork. Now every session of the pool sets it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { Witness, type AddResult, type LogRegistry, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import type { CasResult, LogState, WitnessStore } from '../../src/witness/store.js';
import { cosigner, ed25519KeyFromSeed, parseVkey, VerifierSet } from '../../src/note/index.js';
import { cosignatureLineTimestamp } from '../../src/note/keys.js';
import { COSIGNATURE_V1 } from '../../src/note/sigtypes/cosignature.js';
import { parseNote } from '../../src/note/note.js';
import { TestLog } from '../helpers/fork.js';
import { PG_REQUIRED, pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const why = pgUnavailableReason();
if (why && PG_REQUIRED) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);

const enc = (s: string) => new TextEncoder().encode(s);
const ORIGIN = 'audit.example/log';
const witnessKey = () => ed25519KeyFromSeed('audit.example/witness', new Uint8Array(32).fill(7));
const newLog = () => new TestLog(ORIGIN, ed25519KeyFromSeed(ORIGIN, new Uint8Array(32).fill(3)));
const registry = (log: TestLog): LogRegistry => new Map<string, WitnessLog>([[ORIGIN, { origin: ORIGIN, verifiers: new VerifierSet([parseVkey(log.key.vkey)]) }]]);

/** add-checkpoint of `log` at `size`, from `old` (proof from the log's own tree). */
const body = (log: TestLog, old: bigint, size: bigint = log.tree.size) => enc(formatAddCheckpointBody(old, old === 0n || old === size ? [] : log.tree.consistencyProof(old, size), log.checkpoint(size)));

/** The timestamp of the witness's cosignature/v1 line in an answer. */
const tsOf = (r: AddResult) => {
  if (r.kind !== 'cosigned') throw new Error(`not cosigned: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  const line = parseNote(`x\n\n${r.lines}`).signatures[0];
  return cosignatureLineTimestamp(COSIGNATURE_V1, line.sig)!;
};

/** A store that can hold the result of its next getState until released (a slow read / a paused instance). */
function gated(inner: WitnessStore) {
  let hold: { reached: () => void; release: Promise<void> } | undefined;
  const store = new Proxy(inner, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (p === 'getState')
        return async (origin: string) => {
          const s = await t.getState(origin);
          const h = hold;
          hold = undefined;
          if (h) {
            h.reached();
            await h.release;
          }
          return s;
        };
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  /** Arms the gate: resolves `reached` once the next getState has read; it returns after release(). */
  const arm = () => {
    let reached!: () => void;
    let release!: () => void;
    const r = new Promise<void>((res) => (reached = res));
    hold = { reached, release: new Promise<void>((res) => (release = res)) };
    return { reached: r, release };
  };
  return { store, arm };
}

/** The classic bug, as a harness mutant: the witness core decides on its read, the store writes unconditionally. */
function readDecideWrite(inner: WitnessStore): WitnessStore {
  return new Proxy(inner, {
    get(t, p) {
      if (p === 'compareAndSet')
        return async (origin: string, _expected: bigint, next: LogState): Promise<CasResult> => {
          // Decides on its own read and writes whatever is stored now (an unconditional UPSERT).
          for (;;) {
            const cur = await t.getState(origin);
            const r = await t.compareAndSet(origin, cur?.size ?? 0n, next);
            if (r.ok) return r;
          }
        };
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) => {
    const [c, a] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFile(c, a, { timeout: 60_000 }, (err, out, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve(out)));
  });

describe.skipIf(!!why)('PostgreSQL: two witness instances, one key, one database', () => {
  let pgs: TestPostgres;
  beforeAll(async () => {
    pgs = await startTestPostgres();
  }, 90_000);
  afterAll(async () => {
    await pgs?.stop();
  }, 60_000);
  /** The server applies the reloaded setting (a backend sees it on its next command). */
  const standbyNames = (want: string) =>
    waitFor(async () => String((await pgs.sql('SHOW synchronous_standby_names')).rows[0].synchronous_standby_names) === want, { what: `synchronous_standby_names = '${want}'` });

  async function pair(url: string, log: TestLog, opts: { statementTimeoutMs?: number; mutant?: boolean } = {}) {
    const now = { t: 1_800_000_000n };
    const open = async () => {
      const s = await PostgresStore.open({ url, ...(opts.statementTimeoutMs ? { statementTimeoutMs: opts.statementTimeoutMs } : {}) });
      const g = gated(opts.mutant ? readDecideWrite(s) : s);
      const w = new Witness({ store: g.store, logs: registry(log), cosigners: [cosigner(witnessKey(), () => now.t)] });
      return { s, w, arm: g.arm };
    };
    const [a, b] = [await open(), await open()];
    return { a, b, now, close: () => Promise.all([a.s.close(), b.s.close()]) };
  }

  /** Both instances read size n, then A is sent the main branch and B a fork, both to n+2. */
  async function race(url: string, mutant: boolean): Promise<{ cosignedBoth: number; rounds: number }> {
    let main = newLog();
    const p = await pair(url, main, { mutant });
    let cosignedBoth = 0;
    const rounds = 6;
    try {
      main.append(4);
      expect((await p.a.w.addCheckpoint(body(main, 0n))).kind).toBe('cosigned');
      for (let i = 0; i < rounds; i++) {
        const n = main.tree.size;
        const fork = main.fork(n).append(2, `fork${i}`);
        main.append(2, `main${i}`);
        const ga = p.a.arm();
        const gb = p.b.arm();
        const ra = p.a.w.addCheckpoint(body(main, n));
        const rb = p.b.w.addCheckpoint(body(fork, n));
        await Promise.all([ga.reached, gb.reached]); // both read size n
        ga.release();
        gb.release();
        const [x, y] = await Promise.all([ra, rb]);
        const ok = [x, y].filter((r) => r.kind === 'cosigned').length;
        if (ok === 2) cosignedBoth++;
        else {
          expect(ok).toBe(1);
          expect([x, y].find((r) => r.kind !== 'cosigned')).toMatchObject({ kind: 'stale', size: n + 2n });
        }
        // Continue on whichever branch is stored now.
        const stored = (await p.a.s.getState(ORIGIN))!;
        if (Buffer.compare(Buffer.from(stored.root), Buffer.from(fork.tree.root(n + 2n))) === 0) main = fork;
      }
    } finally {
      await p.close();
    }
    return { cosignedBoth, rounds };
  }

  it('SAFE: two instances that read the same state and get two branches: exactly one cosigns, every round', async () => {
    const r = await race(await pgs.freshDb(), false);
    expect(r.cosignedBoth).toBe(0);
  });

  it('SAFE (harness check): with a read-decide-write CAS the same race cosigns the fork, so the test above would catch it', async () => {
    const r = await race(await pgs.freshDb(), true);
    expect(r.cosignedBoth).toBe(r.rounds);
  });

  it('F1: B answers 200 for size 10 (no write, stale read) after A answered 200 for size 20, with a later timestamp', async () => {
    const log = newLog();
    const p = await pair(await pgs.freshDb(), log);
    try {
      log.append(10);
      expect((await p.a.w.addCheckpoint(body(log, 0n))).kind).toBe('cosigned');
      await Promise.all([p.a.w.prepare(), p.b.w.prepare()]);
      // B is asked to cosign the stored size again (old == size == 10) and reads size 10 ...
      const gb = p.b.arm();
      const rb = p.b.w.addCheckpoint(body(log, 10n, 10n));
      await gb.reached;
      // ... meanwhile A advances to 20 and answers 200 (committed, released).
      log.append(10);
      const ra = await p.a.w.addCheckpoint(body(log, 10n, 20n));
      const tA = tsOf(ra);
      expect((await p.a.s.getState(ORIGIN))!.size).toBe(20n);
      // Five seconds later B goes on.
      p.now.t += 5n;
      gb.release();
      const b = await rb;
      if (b.kind === 'cosigned') console.log(`F1: B cosigned size 10 at t=${tsOf(b)} after A cosigned size 20 at t=${tA} (stored size is 20)`);
      // The key must not say "size 10 is the latest" at a time after it said "size 20".
      expect(b).toMatchObject({ kind: 'stale', size: 20n });
    } finally {
      await p.close();
    }
  });

  it('SAFE: a synchronous standby that does not answer: the CAS times out client-side (PostgreSQL does not let statement_timeout cancel the commit wait), 503, nothing released, nothing visible', async () => {
    const url = await pgs.freshDb();
    const log = newLog();
    const p = await pair(url, log, { statementTimeoutMs: 1000 });
    try {
      log.append(3);
      expect((await p.a.w.addCheckpoint(body(log, 0n))).kind).toBe('cosigned');
      // The documented deployment: synchronous_standby_names names the standby; it is cut off now.
      await pgs.sql("ALTER SYSTEM SET synchronous_standby_names = 'gw_audit_standby'");
      await pgs.sql('SELECT pg_reload_conf()');
      await standbyNames('gw_audit_standby');
      log.append(2);
      const t0 = performance.now();
      const r = await p.a.w.addCheckpoint(body(log, 3n));
      const ms = performance.now() - t0;
      const stored = (await p.b.s.getState(ORIGIN))!.size;
      if (r.kind === 'cosigned') console.log(`cosigned size 5 after ${ms.toFixed(0)} ms with no standby having the commit; instance B reads size ${stored}`);
      expect(r).toMatchObject({ kind: 'rejected', code: 'unavailable' });
      // The commit waits (invisible) for the standby: the other instance still sees 3.
      expect(stored).toBe(3n);
    } finally {
      await pgs.sql('ALTER SYSTEM RESET synchronous_standby_names');
      await pgs.sql('SELECT pg_reload_conf()');
      await standbyNames('');
      await p.close();
    }
  });

  it('F2: a database default synchronous_commit = off is not overridden: an acknowledged CAS is lost in a crash, and the other instance cosigns a fork', { timeout: 120_000 }, async () => {
    const url = await pgs.freshDb();
    const db = new URL(url).pathname.slice(1);
    // A tuning an operator (or a managed service's parameter group) may have set.
    await pgs.sql(`ALTER DATABASE ${db} SET synchronous_commit = off`);
    await pgs.sql("ALTER SYSTEM SET wal_writer_delay = '10s'");
    await pgs.sql('SELECT pg_reload_conf()');
    const dataDir = String((await pgs.sql('SHOW data_directory')).rows[0].data_directory);
    const bin = ['17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin/pg_ctl`).find((f) => existsSync(f))!;
    const log = newLog();
    const p = await pair(url, log);
    try {
      log.append(29);
      expect((await p.a.w.addCheckpoint(body(log, 0n))).kind).toBe('cosigned');
      await pgs.sql('CHECKPOINT'); // size 29 is on disk
      await expect(p.b.w.prepare()).resolves.toBe(true); // B has seen 29
      log.append(1);
      const acked = await p.a.w.addCheckpoint(body(log, 29n)); // 200 for size 30: released
      expect(acked.kind).toBe('cosigned');
      // The database crashes (power loss, OOM kill) and comes back.
      await run(bin, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      await pgs.startServer!();
      // Both instances keep running; their pools reconnect (background probe).
      const ready = async (st: PostgresStore) =>
        (
          await waitFor(
            async () => {
              try {
                return { state: await st.getState(ORIGIN) };
              } catch {
                return undefined;
              }
            },
            { what: 'the pool to reconnect after the restart', timeoutMs: 15_000, intervalMs: 50 },
          )
        ).state;
      const storedAfter = (await ready(p.b.s))?.size;
      console.log(`F2: after the crash the stored size is ${storedAfter} (acknowledged: 30)`);
      expect.soft(storedAfter, 'an acknowledged (cosigned) write must survive a database crash').toBe(30n);
      // If it was lost: A saw 30 stored and refuses the log (StoreRollbackError) ...
      if (storedAfter! < 30n) await expect(p.a.s.getState(ORIGIN)).rejects.toThrow(/went back from size 30 to 29/);
      // ... but the load balancer sends the fork to B, which never saw 30.
      const fork = log.fork(29n).append(1, 'fork');
      const f = await p.b.w.addCheckpoint(body(fork, 29n, 30n));
      if (f.kind === 'cosigned') console.log('F2: instance B cosigned a fork at size 30: the witness key has signed two different roots for size 30');
      expect(f.kind).not.toBe('cosigned');
    } finally {
      await p.close().catch(() => {});
      await pgs.sql("ALTER SYSTEM RESET wal_writer_delay").catch(() => {});
      await pgs.sql('SELECT pg_reload_conf()').catch(() => {});
    }
  });
});

describe.skipIf(!!why)('PostgreSQL: a server that does not keep what it committed', () => {
  let pgs: TestPostgres;
  beforeAll(async () => {
    pgs = await startTestPostgres({ settings: { fsync: 'off' } });
  }, 90_000);
  afterAll(async () => {
    await pgs?.stop();
  }, 60_000);

  it('fsync = off: the witness refuses to start on it (a crash could lose cosignatures already given), exit 2 (CONFIG)', async () => {
    const url = await pgs.freshDb();
    const err = await PostgresStore.open({ url }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.message).toMatch(/fsync = off: a crash can lose commits it acknowledged/);
    expect(err?.code).toBe('CONFIG');
  });
});
