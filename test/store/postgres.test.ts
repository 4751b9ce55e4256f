// The PostgreSQL store (issue 17) against a real server: the shared conformance suite, the
// statement-per-call CAS across two store instances, secrets, deadlines and recovery.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, describeTarget, parsePostgresUrl, PostgresStoreError } from '../../src/store/postgres.js';
import { StoreUnavailableError, type VerifiedRecord } from '../../src/witness/store.js';
import { runStoreConformance, state } from './conformance.js';
import { faultLogs, faultWitnessKey, registryOf } from './faults-fixture.js';
import { Witness } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner } from '../../src/note/index.js';
import { freePort, PG_REQUIRED, pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { holdsFor, waitFor } from '../helpers/wait.js';

const why = pgUnavailableReason();
if (why && PG_REQUIRED) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
if (why) console.log(`SKIPPED PostgreSQL store tests: ${why}`);

let server: TestPostgres | undefined;
const pgServer = () => server!;

describe.skipIf(!!why)(`PostgresStore${why ? ` (SKIPPED: ${why})` : ''}`, () => {
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  runStoreConformance('PostgresStore', async () => {
    const url = await pgServer().freshDb();
    let current = await PostgresStore.open({ url, verifyNotes: false });
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await PostgresStore.open({ url, verifyNotes: false });
        return current;
      },
      cleanup: async () => {
        await current.close();
      },
    };
  });

  describe('several instances on one database', () => {
    it('two stores racing CAS on shared logs: one winner per expected size, and every loser is told the stored state', async () => {
      const url = await pgServer().freshDb();
      const [a, b] = await Promise.all([PostgresStore.open({ url, verifyNotes: false }), PostgresStore.open({ url, verifyNotes: false })]);
      try {
        const origins = ['x', 'y', 'z'];
        const winners = new Map<string, string>();
        await Promise.all(
          [a, b].flatMap((s, si) =>
            origins.flatMap((o) =>
              Array.from({ length: 3 }, async (_, w) => {
                for (;;) {
                  const cur = (await s.getState(o))?.size ?? 0n;
                  if (cur >= 40n) return;
                  const r = await s.compareAndSet(o, cur, state(cur + 1n, `s${si}w${w}`, o));
                  if (r.ok) {
                    const k = `${o}@${cur}`;
                    expect(winners.has(k)).toBe(false);
                    winners.set(k, `s${si}w${w}`);
                  } else expect(r.current!.size).toBeGreaterThan(cur);
                }
              }),
            ),
          ),
        );
        expect(winners.size).toBe(120);
        for (const o of origins) expect((await b.getState(o))?.size).toBe(40n);
        expect(a.stats.conflicts + b.stats.conflicts).toBeGreaterThan(0);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a log neither has seen: exactly one first state', async () => {
      const url = await pgServer().freshDb();
      const stores = await Promise.all([0, 1, 2].map(() => PostgresStore.open({ url, verifyNotes: false })));
      try {
        for (let round = 0; round < 20; round++) {
          const o = `new-${round}`;
          const rs = await Promise.all(stores.flatMap((s, i) => [0, 1].map((k) => s.compareAndSet(o, 0n, state(5 + round, `i${i}k${k}`, o)))));
          expect(rs.filter((r) => r.ok)).toHaveLength(1);
          const stored = await stores[0].getState(o);
          for (const r of rs) if (!r.ok) expect(r.current?.note).toBe(stored?.note);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('batches calls of one turn into few statements, each call with its own outcome', async () => {
      const url = await pgServer().freshDb();
      const s = await PostgresStore.open({ url, verifyNotes: false });
      try {
        const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => s.compareAndSet(`b${i % 100}`, 0n, state(1, String(i), `b${i % 100}`))));
        // Per origin the first call wins, the second (same turn, next statement) loses.
        expect(rs.slice(0, 100).every((r) => r.ok)).toBe(true);
        expect(rs.slice(100).every((r) => !r.ok && r.current?.size === 1n)).toBe(true);
        expect(s.stats.casStatements).toBeLessThan(20);
      } finally {
        await s.close();
      }
    });

    it('evidence cap and token buckets are shared', async () => {
      const url = await pgServer().freshDb();
      const [a, b] = await Promise.all([PostgresStore.open({ url, maxEvidencePerOrigin: 3, verifyNotes: false }), PostgresStore.open({ url, maxEvidencePerOrigin: 3, verifyNotes: false })]);
      try {
        const ev = (i: number) => ({ id: `e${i}`, origin: 'o', receivedAt: i, bytes: new Uint8Array([i]) }) as VerifiedRecord;
        const added = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).addEvidence(ev(i))));
        expect(added.filter(Boolean)).toHaveLength(3);
        expect(await a.evidenceCounts()).toEqual([{ origin: 'o', stored: 3, refused: 5 }]);
        const waits = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).takeToken('qpd:o', 1 / 3600, 4, 1000)));
        expect(waits.filter((w) => w === 0)).toHaveLength(4);
        expect(waits.filter((w) => w > 0).every((w) => w <= 3600)).toBe(true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a qpd budget holds for two witnesses on one database together', async () => {
      const url = await pgServer().freshDb();
      const [sa, sb] = await Promise.all([PostgresStore.open({ url, verifyNotes: false }), PostgresStore.open({ url, verifyNotes: false })]);
      try {
        const [log] = faultLogs();
        const registry = new Map([[log.origin, { ...registryOf([log]).get(log.origin)!, qpd: 48 }]]); // a bucket of 2
        const [wa, wb] = [sa, sb].map((store) => new Witness({ store, logs: registry, cosigners: [cosigner(faultWitnessKey())] }));
        const add = async (w: Witness) => {
          const old = log.tree.size;
          log.append(1);
          return w.addCheckpoint(new TextEncoder().encode(formatAddCheckpointBody(old, old === 0n ? [] : log.tree.consistencyProof(old, log.tree.size), log.checkpoint())));
        };
        expect((await add(wa)).kind).toBe('cosigned');
        expect((await add(wb)).kind).toBe('cosigned');
        const third = await add(wa);
        expect(third).toMatchObject({ kind: 'rejected', code: 'rate-limited' });
      } finally {
        await Promise.all([sa.close(), sb.close()]);
      }
    });

    it('one leader at a time; another takes over when it goes', async () => {
      const url = await pgServer().freshDb();
      const [a, b] = await Promise.all([PostgresStore.open({ url, verifyNotes: false }), PostgresStore.open({ url, verifyNotes: false })]);
      const leaders = { a: false, b: false };
      const until = (pred: () => boolean, what: string) => waitFor(pred, { what, timeoutMs: 15_000, intervalMs: 20 });
      const stopA = a.leadership((l) => (leaders.a = l), 100);
      await until(() => leaders.a, 'a to lead');
      const stopB = b.leadership((l) => (leaders.b = l), 100);
      // b keeps trying while a leads: still exactly one leader after several rounds.
      await holdsFor(() => leaders.a && !leaders.b, { what: 'a alone leading', windowMs: 500, why: "onChange fires only on a change: b's failed tries (every 100 ms) report nothing" });
      expect(leaders).toEqual({ a: true, b: false });
      await stopA();
      await until(() => leaders.b, 'b to take over');
      await stopB();
      await Promise.all([a.close(), b.close()]);
    });
  });

  describe('schema, errors and secrets', () => {
    it('refuses a schema newer than it knows, with a clear error', async () => {
      const url = await pgServer().freshDb();
      (await PostgresStore.open({ url, verifyNotes: false })).close();
      const db = new URL(url).pathname.slice(1);
      await pgServer().sql("UPDATE gw_meta SET value = '99' WHERE key = 'schema_version'", db);
      await expect(PostgresStore.open({ url, verifyNotes: false })).rejects.toThrow(/schema version is 99, newer than this witness knows \(1\)/);
    });

    it('says when the role lacks rights', async () => {
      const url = await pgServer().freshDb();
      const db = new URL(url).pathname.slice(1);
      await pgServer().sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'weak') THEN CREATE ROLE weak LOGIN; END IF; END $$`);
      await pgServer().sql('REVOKE CREATE ON SCHEMA public FROM PUBLIC', db);
      const u = new URL(url);
      u.username = 'weak';
      await expect(PostgresStore.open({ url: u.toString() })).rejects.toThrow(/role lacks rights/);
      // Once the schema exists, the documented rights suffice (no CREATE).
      (await PostgresStore.open({ url, verifyNotes: false })).close();
      await pgServer().sql('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO weak; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO weak; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO weak', db);
      const s = await PostgresStore.open({ url: u.toString() });
      expect((await s.compareAndSet('o', 0n, state(1))).ok).toBe(true);
      await s.addSuspect({ origin: 'o', receivedAt: 1, held: 'h', submitted: 's', oldSize: 0n, proof: [], reason: 'r' });
      expect(await s.takeToken('k', 1, 1, 0)).toBe(0);
      await s.close();
    });

    it('a password never appears in an error, whether the server refuses it or cannot be reached', async () => {
      const secret = 'Sup3r-s3cret-pw';
      await pgServer().sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwuser') THEN CREATE ROLE pwuser LOGIN PASSWORD 'right-one'; END IF; END $$`);
      const wrong = `postgres://pwuser:${secret}@127.0.0.1:${pgServer().port}/postgres`;
      const e1 = await PostgresStore.open({ url: wrong }).catch((e: Error) => e);
      // Our own cluster asks pwuser for a password (test/helpers/postgres.ts); a GW_TEST_PG_URL server may trust it.
      if (pgServer().stopServer) {
        expect(e1).toBeInstanceOf(PostgresStoreError);
        expect(String((e1 as Error).message)).toMatch(/authentication failed/);
      } else if (!(e1 instanceof Error)) await e1.close();
      const closed = await freePort();
      const e2 = await PostgresStore.open({ url: `postgres://pwuser:${secret}@127.0.0.1:${closed}/postgres`, connectTimeoutMs: 2000 }).catch((e: Error) => e);
      expect(e2).toBeInstanceOf(PostgresStoreError);
      for (const e of [e1, e2].filter((x): x is Error => x instanceof Error)) {
        expect(e.message).not.toContain(secret);
        expect(JSON.stringify(e, Object.getOwnPropertyNames(e))).not.toContain(secret);
        expect(e.message).toContain('postgres://pwuser@127.0.0.1:');
      }
      // The password file works, and the right password connects.
      const s = await PostgresStore.open({ url: `postgres://pwuser:right-one@127.0.0.1:${pgServer().port}/postgres` }).catch((e: Error) => e);
      // pwuser may not create tables in postgres: either way the error, if any, names no password.
      if (s instanceof Error) expect(s.message).not.toContain('right-one');
      else await s.close();
      expect(describeTarget(parsePostgresUrl(`postgres://u:${secret}@h:1/d`))).toBe('postgres://u@h:1/d');
    });

    it('takes the password from the URL, else PGPASSWORD, else the password file; the rest from PG* variables', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gw-pg-pw-'));
      try {
        const file = join(dir, 'pw');
        writeFileSync(file, 'from-file\nignored\n');
        expect(parsePostgresUrl('postgres://u:from-url@h/d', file, { PGPASSWORD: 'from-env' }).password).toBe('from-url');
        expect(parsePostgresUrl('postgres://u@h/d', file, { PGPASSWORD: 'from-env' }).password).toBe('from-env');
        expect(parsePostgresUrl('postgres://u@h/d', file, {}).password).toBe('from-file');
        expect(parsePostgresUrl('postgres://', undefined, { PGUSER: 'eu', PGHOST: 'eh', PGPORT: '6543', PGDATABASE: 'ed' })).toEqual({ host: 'eh', port: 6543, user: 'eu', database: 'ed' });
        expect(() => parsePostgresUrl('postgres://u@h/d', join(dir, 'missing'), {})).toThrow(/cannot read the password file/);
        // A real login with the password file (pwuser needs a password: see test/helpers/postgres.ts).
        await pgServer().sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwuser') THEN CREATE ROLE pwuser LOGIN; END IF; END $$`);
        await pgServer().sql("ALTER ROLE pwuser PASSWORD 'from-file'");
        const db = `gw_pwfile_${process.pid}`;
        await pgServer().sql(`CREATE DATABASE ${db} OWNER pwuser`);
        const saved = process.env.PGPASSWORD;
        delete process.env.PGPASSWORD;
        try {
          const s = await PostgresStore.open({ url: `postgres://pwuser@127.0.0.1:${pgServer().port}/${db}`, passwordFile: file });
          expect((await s.compareAndSet('o', 0n, state(1))).ok).toBe(true);
          await s.close();
        } finally {
          if (saved !== undefined) process.env.PGPASSWORD = saved;
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('deadlines and recovery', () => {
    /** A server that accepts TCP connections and never answers (a hung database). */
    async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
      const sockets = new Set<Socket>();
      const srv: Server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      return {
        port: (srv.address() as { port: number }).port,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
      };
    }

    it('a database that accepts and never answers cannot hang start-up', async () => {
      const hung = await silentServer();
      try {
        const t0 = performance.now();
        const e = await PostgresStore.open({ url: `postgres://u@127.0.0.1:${hung.port}/d`, connectTimeoutMs: 500 }).catch((x: Error) => x);
        expect(e).toBeInstanceOf(PostgresStoreError);
        expect((e as Error).message).toMatch(/cannot reach PostgreSQL/);
        expect(performance.now() - t0).toBeLessThan(5000);
      } finally {
        await hung.close();
      }
    });

    it('a database that stops answering mid-run: calls fail within their deadline as StoreUnavailableError, health says so, and it recovers by itself', async () => {
      // A TCP proxy in front of the real server that can be made silent.
      let silent = false;
      const pairs = new Set<[Socket, Socket]>();
      const { connect } = await import('node:net');
      const proxy = createServer((c) => {
        const up = connect(pgServer().port, '127.0.0.1');
        const pair: [Socket, Socket] = [c, up];
        pairs.add(pair);
        c.on('data', (d) => void (silent || up.write(d)));
        up.on('data', (d) => void (silent || c.write(d)));
        const end = () => (c.destroy(), up.destroy(), pairs.delete(pair));
        c.on('error', end).on('close', end);
        up.on('error', end).on('close', end);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const url = await pgServer().freshDb();
      const u = new URL(url);
      u.port = String((proxy.address() as { port: number }).port);
      const s = await PostgresStore.open({ url: u.toString(), statementTimeoutMs: 500, connectTimeoutMs: 500, probeMs: 100, verifyNotes: false });
      try {
        expect((await s.compareAndSet('o', 0n, state(1))).ok).toBe(true);
        silent = true;
        const t0 = performance.now();
        await expect(s.compareAndSet('o', 1n, state(2))).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(performance.now() - t0).toBeLessThan(4000);
        expect(s.health().writable).toBe(false);
        await expect(s.getState('o')).rejects.toBeInstanceOf(StoreUnavailableError);
        silent = false;
        for (const [c, up] of pairs) (c.destroy(), up.destroy()); // the stuck connections are gone for good
        await waitFor(() => s.health().writable, { what: 'the store to recover (writable)', timeoutMs: 15_000, intervalMs: 50 });
        // Nothing half-done: the state is 1 or 2 (a commit whose answer was lost may have landed), and it moves on.
        const cur = (await s.getState('o'))!.size;
        expect([1n, 2n]).toContain(cur);
        expect((await s.compareAndSet('o', cur, state(cur + 1n))).ok).toBe(true);
      } finally {
        await s.close();
        await new Promise<void>((r) => proxy.close(() => r()));
      }
    }, 30_000);
  });
});
