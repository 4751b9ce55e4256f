// A WitnessStore on PostgreSQL (issue 17): several `serve` instances with the same key share one
// database. The database decides every compare-and-set; nothing is cached in the process.
//
// Tables (schema version SCHEMA_VERSION, in gw_meta; created and migrated on open under an
// advisory lock). Strings are stored as JSON string literals (column names ending in _j): that is
// lossless for every JS string (NUL, lone surrogates in notes), which PostgreSQL text is not.
//   gw_state(origin_j PK, size numeric, root bytea, note_j, cosigned_j, updated_at float8)
//   gw_evidence(id_j PK, origin_j, received_at float8, bytes bytea)
//   gw_evidence_count(origin_j PK, stored int, refused bigint)
//   gw_suspect(seq bigserial PK, origin_j, record_j)   newest SUSPECT_RING_SIZE per origin
//   gw_budget(key_j PK, tokens float8, last_ms float8)  token buckets shared by the instances
//
// compareAndSet is ONE statement: `UPDATE … WHERE size = expected` (or, for expected 0, an
// `INSERT … ON CONFLICT DO UPDATE … WHERE size = 0`, which is `ON CONFLICT DO NOTHING` for a log
// with state). Calls made in the same event-loop turn go as one statement per kind over unnest()
// arrays (at most one item per origin per statement); RETURNING names the origins that moved, so
// each call gets its own outcome. A lost CAS then reads the current state (a new snapshot).
//
// Failures: every call has a deadline (connect timeout, statement_timeout, a client-side query
// timeout, a bounded pool). A database error is a StoreUnavailableError (nothing was released:
// a commit whose answer was lost is treated as failed, so its signature is dropped); health()
// turns unwritable until a background probe succeeds again.
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { EVIDENCE_PER_ORIGIN, StoreUnavailableError, SUSPECT_RING_SIZE } from '../witness/store.js';
import type { CasResult, EvidenceCount, EvidenceInfo, LogState, Page, PageQuery, StoreHealth, StoredEvidence, SuspectRecord, VerifiedRecord, WitnessStore } from '../witness/store.js';
import { KeyedMutex } from '../witness/mutex.js';
import { checkEvidence, checkKeyString, checkLogState, checkPageQuery, checkSuspect, cloneLogState, compareEvidence, compareStrings, evidencePageOf, parseSeqCursor, StoreClosedError } from './memory.js';
import { GossipWitnessError } from '../errors.js';
import { stateProblem } from './integrity.js';

export const SCHEMA_VERSION = 1;
/** Advisory lock keys (pg_advisory_lock takes a bigint): migrations and the feeder leader. */
const MIGRATE_LOCK = 0x67770001;
const LEADER_LOCK = 0x67770002;

/** Run on every new session: synchronous_commit at least on (remote_apply kept). */
const SYNCHRONOUS_COMMIT_SQL = "SELECT set_config('synchronous_commit', CASE current_setting('synchronous_commit') WHEN 'remote_apply' THEN 'remote_apply' ELSE 'on' END, false)";

export class PostgresStoreError extends GossipWitnessError {
  /** CONFIG: a bad URL, password file, role or database; whether a failure to connect is transient is read from its cause (src/cli/errors.ts). */
  constructor(message: string, options?: { cause?: unknown }) {
    super({ code: 'CONFIG', message, cause: options?.cause });
    this.name = 'PostgresStoreError';
  }
}

/**
 * A log's stored size is below one this process saw stored: the database went back while the
 * witness ran (a restored dump, a failover to an asynchronous standby). The log is refused (503)
 * until the process restarts: cosigning on the older state could fork.
 */
export class StoreRollbackError extends StoreUnavailableError {
  constructor(reason: string) {
    super(reason);
    this.name = 'StoreRollbackError';
  }
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

export interface PostgresStoreOptions {
  /** postgres://USER[:PASSWORD]@HOST[:PORT]/DB; a missing part comes from the PG* environment. */
  url: string;
  /** A file holding the password (first line); the URL's password and PGPASSWORD win over it. */
  passwordFile?: string;
  /** Connections at most (default 10). */
  poolSize?: number;
  /** Connecting, and waiting for a pooled connection, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout and the client-side query deadline, ms (default 5000). */
  statementTimeoutMs?: number;
  /** How often the background probe retries while the database is down, ms (default 1000). */
  probeMs?: number;
  maxEvidencePerOrigin?: number;
  /** Check every state read (stateProblem, as LevelStore checks at open); default true. Tests of the store contract with made-up notes turn it off. */
  verifyNotes?: boolean;
  onWarning?: (message: string) => void;
  /** Metrics (pool use, query latency, CAS conflicts) go here when given. */
  registry?: Registry;
}

/** The URL without its password: safe in logs, errors and status pages. */
export function describeTarget(t: Pick<PostgresTarget, 'host' | 'port' | 'user' | 'database'>): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `postgres://${encodeURIComponent(t.user)}@${host}:${t.port}/${encodeURIComponent(t.database)}`;
}

/** Parses a postgres:// URL; missing parts from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, passwordFile. */
export function parsePostgresUrl(url: string, passwordFile?: string, env: NodeJS.ProcessEnv = process.env): PostgresTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PostgresStoreError('store: not a valid postgres:// URL');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new PostgresStoreError('store: the URL must start with postgres://');
  if (u.search || u.hash) throw new PostgresStoreError('store: URL parameters are not supported (use the PG* environment variables or the config)');
  const host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') || env.PGHOST || 'localhost';
  const port = u.port ? Number(u.port) : env.PGPORT ? Number(env.PGPORT) : 5432;
  const user = decodeURIComponent(u.username) || env.PGUSER || '';
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || env.PGDATABASE || user;
  if (!user) throw new PostgresStoreError('store: no user in the URL and PGUSER is not set');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PostgresStoreError('store: invalid port');
  let password = u.password ? decodeURIComponent(u.password) : env.PGPASSWORD;
  if (password === undefined && passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, 'utf8').split('\n')[0];
    } catch (e) {
      throw new PostgresStoreError(`store: cannot read the password file ${passwordFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  return { host, port, user, database, ...(password !== undefined ? { password } : {}) };
}

// ---- encoding ----

const j = (s: string) => JSON.stringify(s);
const unj = (s: string) => JSON.parse(s) as string;
const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();

interface StateRow {
  size: string;
  root: Buffer;
  note_j: string;
  cosigned_j: string;
  updated_at: number;
}

/** A gw_state row that is not a sound state (not JSON, or a note that is not the record's checkpoint): permanent until an operator acts. */
export class PostgresStateDamagedError extends GossipWitnessError {
  constructor(detail: string) {
    super({ code: 'STORE_DAMAGED', message: `PostgreSQL table gw_state: ${detail} (see docs/operator-guide.md, "When things break")` });
    this.name = 'PostgresStateDamagedError';
  }
}

/** Decodes a row, checked as LevelStore checks its records (stateProblem): a damaged row is never taken as a state. */
function stateOf(r: StateRow, origin: string, verify: boolean): LogState {
  let s: LogState;
  try {
    s = { size: BigInt(r.size), root: bytes(r.root), note: unj(r.note_j), cosigned: unj(r.cosigned_j), updatedAt: Number(r.updated_at) };
    if (typeof s.note !== 'string' || typeof s.cosigned !== 'string') throw new Error('note_j and cosigned_j must hold JSON strings');
  } catch (e) {
    throw new PostgresStateDamagedError(`log ${JSON.stringify(origin)}: the row does not decode (${(e as Error).message})`);
  }
  const problem = verify ? stateProblem(origin, s) : undefined;
  if (problem !== undefined) throw new PostgresStateDamagedError(problem);
  return s;
}

function encodeSuspect(r: SuspectRecord): string {
  return JSON.stringify({ ...r, oldSize: r.oldSize.toString(), proof: r.proof.map((p) => Buffer.from(p).toString('base64')) });
}

function decodeSuspect(s: string): SuspectRecord {
  const o = JSON.parse(s) as Omit<SuspectRecord, 'oldSize' | 'proof'> & { oldSize: string; proof: string[] };
  return { origin: o.origin, receivedAt: o.receivedAt, held: o.held, submitted: o.submitted, oldSize: BigInt(o.oldSize), proof: o.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))), reason: o.reason };
}

// ---- schema ----

const MIGRATIONS: string[] = [
  // 1
  `CREATE TABLE gw_state (origin_j text PRIMARY KEY, size numeric(20,0) NOT NULL, root bytea NOT NULL, note_j text NOT NULL, cosigned_j text NOT NULL, updated_at float8 NOT NULL);
   CREATE TABLE gw_evidence (id_j text PRIMARY KEY, origin_j text NOT NULL, received_at float8 NOT NULL, bytes bytea NOT NULL);
   CREATE INDEX gw_evidence_origin ON gw_evidence (origin_j);
   CREATE TABLE gw_evidence_count (origin_j text PRIMARY KEY, stored int NOT NULL, refused bigint NOT NULL);
   CREATE TABLE gw_suspect (seq bigserial PRIMARY KEY, origin_j text NOT NULL, record_j text NOT NULL);
   CREATE INDEX gw_suspect_origin ON gw_suspect (origin_j, seq);
   CREATE TABLE gw_budget (key_j text PRIMARY KEY, tokens float8 NOT NULL, last_ms float8 NOT NULL);
   -- Evidence: idempotent by id, the first cap records per origin; the count row serialises an origin.
   CREATE FUNCTION gw_add_evidence(p_id text, p_origin text, p_at float8, p_bytes bytea, p_cap int) RETURNS boolean LANGUAGE plpgsql AS $$
   DECLARE n int;
   BEGIN
     INSERT INTO gw_evidence_count VALUES (p_origin, 0, 0) ON CONFLICT DO NOTHING;
     SELECT stored INTO n FROM gw_evidence_count WHERE origin_j = p_origin FOR UPDATE;
     IF EXISTS (SELECT 1 FROM gw_evidence WHERE id_j = p_id) THEN RETURN false; END IF;
     IF n >= p_cap THEN
       UPDATE gw_evidence_count SET refused = refused + 1 WHERE origin_j = p_origin;
       RETURN false;
     END IF;
     INSERT INTO gw_evidence VALUES (p_id, p_origin, p_at, p_bytes) ON CONFLICT DO NOTHING;
     IF NOT FOUND THEN RETURN false; END IF;
     UPDATE gw_evidence_count SET stored = stored + 1 WHERE origin_j = p_origin;
     RETURN true;
   END $$;
   -- Suspects: a per-origin transaction lock keeps the ring bounded under concurrent adds.
   CREATE FUNCTION gw_add_suspect(p_origin text, p_record text, p_ring int) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended(p_origin, 7));
     INSERT INTO gw_suspect (origin_j, record_j) VALUES (p_origin, p_record);
     DELETE FROM gw_suspect WHERE origin_j = p_origin AND seq <= (SELECT seq FROM gw_suspect WHERE origin_j = p_origin ORDER BY seq DESC OFFSET p_ring LIMIT 1);
   END $$;
   -- Token buckets: returns 0 when a token was taken, else the seconds until one is.
   CREATE FUNCTION gw_take_token(p_key text, p_rate float8, p_cap float8, p_now float8) RETURNS float8 LANGUAGE plpgsql AS $$
   DECLARE t float8; l float8;
   BEGIN
     INSERT INTO gw_budget VALUES (p_key, p_cap, p_now) ON CONFLICT DO NOTHING;
     SELECT tokens, last_ms INTO t, l FROM gw_budget WHERE key_j = p_key FOR UPDATE;
     t := least(p_cap, t + greatest(0, p_now - l) / 1000 * p_rate);
     IF t >= 1 THEN
       UPDATE gw_budget SET tokens = t - 1, last_ms = greatest(l, p_now) WHERE key_j = p_key;
       RETURN 0;
     END IF;
     UPDATE gw_budget SET tokens = t, last_ms = greatest(l, p_now) WHERE key_j = p_key;
     RETURN ceil((1 - t) / p_rate);
   END $$;`,
];

// ---- errors ----

/** Scrubs the password (if any) from a message: pg errors should not carry it, but never risk it. */
function scrub(msg: string, password: string | undefined): string {
  return password ? msg.split(password).join('***') : msg;
}

function pgCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : undefined;
}

/** CAS batch statements in flight at once, and calls per statement. */
const MAX_CAS_INFLIGHT = 4;
const MAX_CAS_BATCH = 256;

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock: the statement did nothing

interface CasItem {
  origin: string;
  expected: bigint;
  next: LogState;
  resolve: (ok: boolean) => void;
  reject: (e: unknown) => void;
}

interface Metrics {
  latency: Histogram<'op'>;
  conflicts: Counter;
  errors: Counter<'kind'>;
  rollbacks: Counter;
}

export class PostgresStore implements WitnessStore {
  private closed = false;
  private down: string | undefined;
  private probing: ReturnType<typeof setTimeout> | undefined;
  private casQueue: CasItem[] = [];
  private casScheduled = false;
  private casInflight = 0;
  private readonly casOrigins = new Set<string>();
  private readonly maxEvidence: number;
  private metrics: Metrics | undefined;
  private readonly suspectLocks = new KeyedMutex();
  /** Per origin, the largest size seen stored (read, or written by this process). Never decides a CAS; only refuses a log that went back. */
  private readonly highest = new Map<string, bigint>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Counters for tests and benchmarks: statements sent for CAS, CAS calls. */
  readonly stats = { casStatements: 0, casCalls: 0, conflicts: 0 };

  private constructor(
    private readonly pool: pg.Pool,
    readonly target: PostgresTarget,
    private readonly opts: PostgresStoreOptions,
  ) {
    this.maxEvidence = Math.max(1, opts.maxEvidencePerOrigin ?? EVIDENCE_PER_ORIGIN);
    if (opts.registry) this.registerMetrics(opts.registry);
  }

  /** Where the store is, without the password. */
  get description(): string {
    return describeTarget(this.target);
  }

  /** Connects, creates or migrates the schema under an advisory lock, checks the version. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const target = parsePostgresUrl(opts.url, opts.passwordFile);
    const stmt = opts.statementTimeoutMs ?? 5000;
    const pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password !== undefined ? { password: target.password } : {}),
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: stmt,
      lock_timeout: stmt,
      idle_in_transaction_session_timeout: stmt,
      query_timeout: stmt + 1000,
      application_name: 'gossip-witness',
      keepAlive: true,
    });
    // An idle client's error (server restart) must not crash the process; the next call sees it.
    pool.on('error', () => {});
    // A commit is an acknowledged cosignature: a role or database default of synchronous_commit =
    // off, local or remote_write can lose it in a crash, and another instance then cosigns a fork
    // (test/store/postgres-two-writers.test.ts). Each session raises it to on (remote_apply is
    // kept); a client runs its queries in order, so this runs before anything the store sends.
    pool.on('connect', (client) => {
      client.query(SYNCHRONOUS_COMMIT_SQL).catch(() => {}); // a failure here fails the next query too
    });
    const store = new PostgresStore(pool, target, opts);
    try {
      await store.migrate();
      await store.checkDurable();
    } catch (e) {
      await pool.end().catch(() => {});
      throw store.startError(e);
    }
    return store;
  }

  /**
   * A server that does not keep what it committed can lose acknowledged states (cosignatures
   * already given) in a crash, and the witness would then cosign a fork: refuse to start on it.
   */
  private async checkDurable(): Promise<void> {
    const r = await this.pool.query<{ fsync: string; sc: string }>("SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc");
    const { fsync, sc } = r.rows[0];
    if (fsync !== 'on') throw new PostgresStoreError(`store ${this.description}: the server runs with fsync = ${fsync}: a crash can lose commits it acknowledged (cosignatures already given), and the witness could then cosign a fork; set fsync = on`);
    if (sc !== 'on' && sc !== 'remote_apply') throw new PostgresStoreError(`store ${this.description}: synchronous_commit is ${sc} in the witness's session (it sets on): a crash could lose acknowledged commits`);
  }

  private startError(e: unknown): Error {
    if (e instanceof PostgresStoreError) return e;
    const where = this.description;
    const code = pgCode(e);
    const msg = scrub((e as Error)?.message ?? String(e), this.target.password);
    if (code === '42501') return new PostgresStoreError(`store ${where}: the role lacks rights (${msg}); it needs CREATE on the database's public schema for the first start, then SELECT, INSERT, UPDATE, DELETE on the gw_* tables, USAGE on their sequence and EXECUTE on the gw_* functions`);
    if (code === '28P01' || code === '28000') return new PostgresStoreError(`store ${where}: authentication failed (${msg}); check the password (URL, PGPASSWORD or the password file)`);
    if (code === '3D000') return new PostgresStoreError(`store ${where}: ${msg}; create it first (createdb)`);
    // The cause keeps the errno or SQLSTATE: serve tells "not reachable yet" (exit 75) from a bad setup (2).
    return new PostgresStoreError(`store ${where}: cannot reach PostgreSQL or set up the schema: ${msg}`, { cause: e });
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
      try {
        // Checked first: CREATE … IF NOT EXISTS needs CREATE rights even when the table exists.
        const meta = await client.query<{ t: string | null }>("SELECT to_regclass('gw_meta')::text AS t");
        if (meta.rows[0].t === null) await client.query('CREATE TABLE gw_meta (key text PRIMARY KEY, value text NOT NULL)');
        const r = await client.query<{ value: string }>("SELECT value FROM gw_meta WHERE key = 'schema_version'");
        const have = r.rows.length === 0 ? 0 : Number(r.rows[0].value);
        if (!Number.isInteger(have) || have > SCHEMA_VERSION) {
          throw new PostgresStoreError(`store ${this.description}: the schema version is ${r.rows[0].value}, newer than this witness knows (${SCHEMA_VERSION}): upgrade the witness (never downgrade a database)`);
        }
        for (let v = have + 1; v <= SCHEMA_VERSION; v++) {
          await client.query('BEGIN');
          try {
            await client.query(MIGRATIONS[v - 1]);
            await client.query("INSERT INTO gw_meta VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [String(v)]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => {});
            throw e;
          }
          this.opts.onWarning?.(`store ${this.description}: schema migrated to version ${v}`);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => {});
      }
    } catch (e) {
      broken = e as Error;
      throw e;
    } finally {
      client.release(broken);
    }
  }

  // ---- metrics ----

  /** Registers pool use, query latency and CAS conflict metrics on a node's registry (once). */
  registerMetrics(registry: Registry): void {
    if (this.metrics) return;
    const pool = this.pool;
    new Gauge({
      name: 'witness_store_pg_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting requests)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    this.metrics = {
      latency: new Histogram({ name: 'witness_store_pg_query_seconds', help: 'PostgreSQL store call latency by operation', labelNames: ['op'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry] }),
      conflicts: new Counter({ name: 'witness_store_pg_cas_conflicts_total', help: 'compare-and-set calls that lost (another instance or request moved the log first)', registers: [registry] }),
      errors: new Counter({ name: 'witness_store_pg_errors_total', help: 'PostgreSQL store calls that failed (the store was unavailable)', labelNames: ['kind'] as const, registers: [registry] }),
      rollbacks: new Counter({ name: 'witness_store_pg_rollbacks_total', help: 'reads of a log state below one this process saw stored (the database went back: restored dump, asynchronous failover); the log is refused', registers: [registry] }),
    };
  }

  // ---- calls ----

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** One query with the store's error handling: any database failure is a StoreUnavailableError. */
  private async q<R extends pg.QueryResultRow>(op: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    if (this.down !== undefined) throw new StoreUnavailableError(this.down);
    const t0 = performance.now();
    const p = this.pool.query<R>(text, values);
    this.pending.add(p);
    try {
      const r = await p;
      this.metrics?.latency.observe({ op }, (performance.now() - t0) / 1000);
      return r;
    } catch (e) {
      throw this.failed(e);
    } finally {
      this.pending.delete(p);
    }
  }

  /** A database failure: unwritable until the probe succeeds. */
  private failed(e: unknown): StoreUnavailableError {
    if (e instanceof StoreUnavailableError) return e;
    const code = pgCode(e);
    const msg = scrub((e as Error)?.message ?? String(e), this.target.password);
    const reason = `PostgreSQL ${this.description}: ${msg}${code ? ` (${code})` : ''}`;
    this.metrics?.errors.inc({ kind: code ?? 'connection' });
    // A deadlock or serialization failure aborted one statement; the database itself is fine.
    if (!RETRYABLE.has(code ?? '') && !this.closed && this.down === undefined) {
      this.down = reason;
      this.opts.onWarning?.(`store unavailable: ${reason}; retrying in the background`);
      this.probe();
    }
    return new StoreUnavailableError(reason, { cause: e });
  }

  private probe(): void {
    if (this.probing || this.closed) return;
    this.probing = setTimeout(async () => {
      try {
        await this.pool.query('SELECT 1 FROM gw_meta LIMIT 1');
        this.down = undefined;
        this.opts.onWarning?.(`store ${this.description}: reachable again; taking writes`);
      } catch {
        // still down
      }
      this.probing = undefined;
      if (this.down !== undefined) this.probe();
    }, this.opts.probeMs ?? 1000);
    this.probing.unref?.();
  }

  async getState(origin: string): Promise<LogState | undefined> {
    this.assertOpen();
    checkKeyString('origin', origin);
    // Only sizes known before this read was sent count: every one of them was committed, so the
    // read must see it (a reply overtaken by a later write's reply is no rollback).
    const hi = this.highest.get(origin);
    const r = await this.q<StateRow>('get', 'SELECT size::text AS size, root, note_j, cosigned_j, updated_at FROM gw_state WHERE origin_j = $1', [j(origin)]);
    const s = r.rows.length ? stateOf(r.rows[0], origin, this.opts.verifyNotes !== false) : undefined;
    this.noteSize(origin, s?.size ?? 0n, hi);
    return s;
  }

  /** Refuses a read below what this process saw stored before it (see StoreRollbackError). */
  private noteSize(origin: string, size: bigint, hi: bigint | undefined): void {
    if (hi === undefined || size >= hi) {
      if (size > (this.highest.get(origin) ?? -1n)) this.highest.set(origin, size);
      return;
    }
    const reason = `PostgreSQL ${this.description}: log ${JSON.stringify(origin)} went back from size ${hi} to ${size} while this witness ran (a restored dump, or a failover to an asynchronous standby?); refusing to cosign it until restarted: see docs/operator-guide.md, "PostgreSQL"`;
    this.metrics?.rollbacks.inc();
    this.opts.onWarning?.(reason);
    throw new StoreRollbackError(reason);
  }

  async compareAndSet(origin: string, expectedSize: bigint, next: LogState): Promise<CasResult> {
    this.assertOpen();
    checkKeyString('origin', origin);
    if (typeof expectedSize !== 'bigint' || expectedSize < 0n) throw new TypeError('expectedSize must be a non-negative bigint');
    checkLogState(next);
    if (this.down !== undefined) throw new StoreUnavailableError(this.down);
    const snap = cloneLogState(next);
    this.stats.casCalls++;
    const ok = await new Promise<boolean>((resolve, reject) => {
      this.casQueue.push({ origin, expected: expectedSize, next: snap, resolve, reject });
      if (!this.casScheduled) {
        this.casScheduled = true;
        setImmediate(() => this.flushCas());
      }
    });
    // This process's own write is what is stored now (the store does not judge sizes).
    if (ok) {
      this.highest.set(origin, snap.size);
      return { ok: true };
    }
    this.stats.conflicts++;
    this.metrics?.conflicts.inc();
    return { ok: false, current: await this.getState(origin) };
  }

  /**
   * Confirms that the stored state still has this size, in a write (a row lock and a commit,
   * waiting for the synchronous standby like any CAS): a cosignature released on the
   * non-advancing path then rests on a state no other instance has moved past, and that is durable.
   */
  async confirm(origin: string, size: bigint): Promise<CasResult> {
    this.assertOpen();
    checkKeyString('origin', origin);
    const r = await this.q<{ origin_j: string }>('cas', 'UPDATE gw_state SET size = size WHERE origin_j = $1 AND size = $2 RETURNING origin_j', [j(origin), size.toString()]);
    if (r.rows.length === 1) return { ok: true };
    this.stats.conflicts++;
    this.metrics?.conflicts.inc();
    return { ok: false, current: await this.getState(origin) };
  }

  /**
   * Group commit: sends the queued CAS calls as up to MAX_CAS_INFLIGHT batch statements at once;
   * a batch holds at most one call per origin and no origin of a batch in flight (so each
   * origin's calls keep their order). Calls queued meanwhile go in the next batch.
   */
  private flushCas(): void {
    this.casScheduled = false;
    while (this.casInflight < MAX_CAS_INFLIGHT && this.casQueue.length > 0) {
      const batch: CasItem[] = [];
      const rest: CasItem[] = [];
      const taken = new Set<string>();
      for (const it of this.casQueue) {
        if (batch.length < MAX_CAS_BATCH && !taken.has(it.origin) && !this.casOrigins.has(it.origin)) batch.push(it);
        else rest.push(it);
        taken.add(it.origin);
      }
      if (batch.length === 0) return;
      this.casQueue = rest;
      this.casInflight++;
      for (const it of batch) this.casOrigins.add(it.origin);
      const p = this.runCas(batch).finally(() => {
        this.casInflight--;
        for (const it of batch) this.casOrigins.delete(it.origin);
        this.pending.delete(p);
        this.flushCas();
      });
      this.pending.add(p);
    }
  }

  private async runCas(batch: CasItem[]): Promise<void> {
    const first = batch.filter((b) => b.expected === 0n);
    const later = batch.filter((b) => b.expected !== 0n);
    const cols = (items: CasItem[]) => [items.map((b) => j(b.origin)), items.map((b) => b.expected.toString()), items.map((b) => b.next.size.toString()), items.map((b) => Buffer.from(b.next.root)), items.map((b) => j(b.next.note)), items.map((b) => j(b.next.cosigned)), items.map((b) => b.next.updatedAt)];
    const FROM = 'unnest($1::text[], $2::numeric[], $3::numeric[], $4::bytea[], $5::text[], $6::text[], $7::float8[]) AS v(origin_j, expected, size, root, note_j, cosigned_j, updated_at)';
    const run = async (items: CasItem[], text: string) => {
      if (items.length === 0) return;
      try {
        let r: pg.QueryResult<{ origin_j: string }> | undefined;
        for (let attempt = 0; ; attempt++) {
          try {
            this.stats.casStatements++;
            r = await this.q<{ origin_j: string }>('cas', text, cols(items));
            break;
          } catch (e) {
            // A deadlock between two instances' batches aborts one statement entirely: resend it.
            const code = pgCode((e as Error).cause);
            if (!RETRYABLE.has(code ?? '') || attempt >= 3) throw e;
          }
        }
        const moved = new Set(r!.rows.map((x) => x.origin_j));
        for (const it of items) it.resolve(moved.has(j(it.origin)));
      } catch (e) {
        for (const it of items) it.reject(e);
      }
    };
    await Promise.all([
      // First state, or a state of size 0: one statement decides, whoever inserts first wins.
      run(first, `INSERT INTO gw_state (origin_j, size, root, note_j, cosigned_j, updated_at) SELECT origin_j, size, root, note_j, cosigned_j, updated_at FROM ${FROM}
        ON CONFLICT (origin_j) DO UPDATE SET size = EXCLUDED.size, root = EXCLUDED.root, note_j = EXCLUDED.note_j, cosigned_j = EXCLUDED.cosigned_j, updated_at = EXCLUDED.updated_at WHERE gw_state.size = 0
        RETURNING origin_j`),
      run(later, `UPDATE gw_state s SET size = v.size, root = v.root, note_j = v.note_j, cosigned_j = v.cosigned_j, updated_at = v.updated_at FROM ${FROM}
        WHERE s.origin_j = v.origin_j AND s.size = v.expected RETURNING s.origin_j`),
    ]);
  }

  async addEvidence(e: VerifiedRecord): Promise<boolean> {
    this.assertOpen();
    checkEvidence(e);
    const r = await this.q<{ added: boolean }>('evidence', 'SELECT gw_add_evidence($1, $2, $3, $4, $5) AS added', [j(e.id), j(e.origin), e.receivedAt, Buffer.from(e.bytes), this.maxEvidence]);
    return r.rows[0].added;
  }

  private async evidenceInfos(origin?: string): Promise<EvidenceInfo[]> {
    const r = await this.q<{ id_j: string; origin_j: string; received_at: number }>('evidence', `SELECT id_j, origin_j, received_at FROM gw_evidence${origin === undefined ? '' : ' WHERE origin_j = $1'}`, origin === undefined ? [] : [j(origin)]);
    return r.rows.map((x) => ({ id: unj(x.id_j), origin: unj(x.origin_j), receivedAt: Number(x.received_at) })).sort(compareEvidence);
  }

  async listEvidence(origin?: string): Promise<StoredEvidence[]> {
    this.assertOpen();
    if (origin !== undefined) checkKeyString('origin', origin);
    const r = await this.q<{ id_j: string; origin_j: string; received_at: number; bytes: Buffer }>('evidence', `SELECT id_j, origin_j, received_at, bytes FROM gw_evidence${origin === undefined ? '' : ' WHERE origin_j = $1'}`, origin === undefined ? [] : [j(origin)]);
    return r.rows.map((x) => ({ id: unj(x.id_j), origin: unj(x.origin_j), receivedAt: Number(x.received_at), bytes: bytes(x.bytes) })).sort(compareEvidence);
  }

  async pageEvidence(q: PageQuery): Promise<Page<EvidenceInfo>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    // Evidence is bounded per origin (the cap): the index is small enough to page in memory.
    const all = await this.evidenceInfos(origin);
    let cursor: EvidenceInfo | undefined;
    if (after !== undefined) {
      cursor = all.find((x) => x.id === after);
      if (!cursor) {
        const r = await this.q<{ id_j: string; origin_j: string; received_at: number }>('evidence', 'SELECT id_j, origin_j, received_at FROM gw_evidence WHERE id_j = $1', [j(after)]);
        if (r.rows.length === 0) throw new TypeError('unknown cursor');
        cursor = { id: after, origin: unj(r.rows[0].origin_j), receivedAt: Number(r.rows[0].received_at) };
      }
    }
    return evidencePageOf(all, limit, cursor);
  }

  async evidenceCounts(): Promise<EvidenceCount[]> {
    this.assertOpen();
    const r = await this.q<{ origin_j: string; stored: number; refused: string }>('evidence', 'SELECT origin_j, stored, refused FROM gw_evidence_count WHERE stored > 0 OR refused > 0');
    return r.rows.map((x) => ({ origin: unj(x.origin_j), stored: x.stored, refused: Number(x.refused) })).sort((a, b) => compareStrings(a.origin, b.origin));
  }

  async getEvidence(id: string): Promise<StoredEvidence | undefined> {
    this.assertOpen();
    checkKeyString('id', id);
    const r = await this.q<{ origin_j: string; received_at: number; bytes: Buffer }>('evidence', 'SELECT origin_j, received_at, bytes FROM gw_evidence WHERE id_j = $1', [j(id)]);
    return r.rows.length ? { id, origin: unj(r.rows[0].origin_j), receivedAt: Number(r.rows[0].received_at), bytes: bytes(r.rows[0].bytes) } : undefined;
  }

  async addSuspect(r: SuspectRecord): Promise<void> {
    this.assertOpen();
    checkSuspect(r);
    const rec = encodeSuspect(r);
    // In call order per origin (the pool would otherwise reorder them); the database orders instances.
    await this.suspectLocks.run(r.origin, () => this.q('suspect', 'SELECT gw_add_suspect($1, $2, $3)', [j(r.origin), rec, SUSPECT_RING_SIZE]));
  }

  async listSuspects(origin?: string): Promise<SuspectRecord[]> {
    this.assertOpen();
    if (origin !== undefined) checkKeyString('origin', origin);
    const r = await this.q<{ record_j: string }>('suspect', `SELECT record_j FROM gw_suspect${origin === undefined ? '' : ' WHERE origin_j = $1'} ORDER BY seq`, origin === undefined ? [] : [j(origin)]);
    return r.rows.map((x) => decodeSuspect(x.record_j));
  }

  async pageSuspects(q: PageQuery): Promise<Page<SuspectRecord>> {
    this.assertOpen();
    const { origin, limit, after } = checkPageQuery(q);
    const from = parseSeqCursor(after);
    const r = await this.q<{ seq: string; record_j: string }>('suspect', `SELECT seq::text AS seq, record_j FROM gw_suspect WHERE seq > $1${origin === undefined ? '' : ' AND origin_j = $3'} ORDER BY seq LIMIT $2`, origin === undefined ? [from, limit + 1] : [from, limit + 1, j(origin)]);
    const rows = r.rows.slice(0, limit);
    const items = rows.map((x) => decodeSuspect(x.record_j));
    return r.rows.length > limit ? { items, next: rows[rows.length - 1].seq } : { items };
  }

  /** A token from the shared bucket `key` (qpd budgets, the suspect rate limit): 0 when taken, else seconds until one is. */
  async takeToken(key: string, ratePerSecond: number, capacity: number, now: number): Promise<number> {
    this.assertOpen();
    const r = await this.q<{ wait: number }>('budget', 'SELECT gw_take_token($1, $2, $3, $4) AS wait', [j(key), ratePerSecond, capacity, now]);
    return Number(r.rows[0].wait);
  }

  health(): StoreHealth {
    return this.down === undefined ? { writable: true } : { writable: false, reason: this.down };
  }

  async origins(): Promise<string[]> {
    this.assertOpen();
    const r = await this.q<{ origin_j: string }>('get', 'SELECT origin_j FROM gw_state');
    return r.rows.map((x) => unj(x.origin_j)).sort(compareStrings);
  }

  /**
   * Leader election for the work one instance does for all (the feeders): a session advisory lock
   * on a dedicated connection. onChange(true) when this instance becomes leader, onChange(false)
   * when it loses the lock (its connection failed). Retries every `everyMs`. Returns a stop function.
   */
  leadership(onChange: (leader: boolean) => void, everyMs = 2000): () => Promise<void> {
    let stopped = false;
    let client: pg.Client | undefined;
    let leader = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lose = () => {
      client = undefined;
      if (leader) {
        leader = false;
        onChange(false);
      }
    };
    const attempt = async () => {
      timer = undefined;
      if (stopped) return;
      try {
        if (!client) {
          const c = new pg.Client({ host: this.target.host, port: this.target.port, user: this.target.user, database: this.target.database, ...(this.target.password !== undefined ? { password: this.target.password } : {}), connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 5000, query_timeout: (this.opts.statementTimeoutMs ?? 5000) + 1000, keepAlive: true, application_name: 'gossip-witness-leader' });
          c.on('error', () => {
            if (client === c) lose();
            c.end().catch(() => {});
          });
          c.on('end', () => client === c && lose());
          await c.connect();
          client = c;
        }
        if (!leader) {
          const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
          if (r.rows[0].ok && !stopped) {
            leader = true;
            onChange(true);
          }
        } else await client.query('SELECT 1');
      } catch {
        const c = client;
        lose();
        await c?.end().catch(() => {});
      }
      if (!stopped) (timer = setTimeout(attempt, everyMs)).unref?.();
    };
    void attempt();
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.probing) clearTimeout(this.probing);
    // Queued compare-and-sets are sent first (their callers are waiting for an answer).
    while (this.pending.size > 0 || this.casQueue.length > 0) {
      if (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      else await new Promise((r) => setImmediate(r));
    }
    await this.pool.end().catch(() => {});
  }
}
