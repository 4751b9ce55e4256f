// A real PostgreSQL server for tests (issue 17): GW_TEST_PG_URL names one (a superuser URL: each
// test gets its own fresh database), else a throwaway cluster is started from Debian's
// `postgresql` package (as the postgres user when running as root: it refuses root) on a free
// 127.0.0.1 port, and stopped by stop(). Without either the tests skip with a printed reason,
// unless INTEROP_REQUIRED=1 (CI installed the packages): then they fail.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/util/ports.js';
export { freePort };

export interface TestPostgres {
  /** Superuser URL of the server's `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** A new empty database; its URL. */
  freshDb(prefix?: string): Promise<string>;
  /** Runs SQL as the superuser in a database (default: postgres). */
  sql(text: string, db?: string): Promise<pg.QueryResult>;
  /** Stops the server (fast: connections are cut); only for a cluster this helper started. */
  stopServer?(): Promise<void>;
  startServer?(): Promise<void>;
  /** Stops and removes whatever this helper started. */
  stop(): Promise<void>;
}

export const PG_REQUIRED = process.env.INTEROP_REQUIRED === '1';

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

/** Why no server is available, or undefined when one is. */
export function pgUnavailableReason(): string | undefined {
  if (process.env.GW_TEST_PG_URL) return undefined;
  if (!binDir()) return 'no PostgreSQL: set GW_TEST_PG_URL or install Debian\'s postgresql package (apt-get install -y postgresql)';
  if (process.getuid?.() === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'running as root and there is no postgres user to run PostgreSQL as';
    }
  }
  return undefined;
}


function run(cmd: string, args: string[], asPostgres: boolean): Promise<string> {
  const [c, a] = asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) =>
    execFile(c, a, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

let counter = 0;

/** Starts (or connects to) a server; call stop() in afterAll. `settings`: more server settings (-c NAME=VALUE), for a cluster of its own only. */
export async function startTestPostgres(o: { settings?: Record<string, string> } = {}): Promise<TestPostgres> {
  const given = o.settings ? undefined : process.env.GW_TEST_PG_URL;
  let url: string;
  let port: number;
  let stopServer: (() => Promise<void>) | undefined;
  let startServer: (() => Promise<void>) | undefined;
  let remove = async () => {};
  if (given) {
    url = given;
    port = Number(new URL(given).port || 5432);
  } else {
    const bin = binDir()!;
    const asPg = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), 'gw-pg-'));
    chmodSync(dir, 0o755);
    if (asPg) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(dir, uid, gid);
    }
    const data = join(dir, 'data');
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], asPg);
    // The role `pwuser` must give a password (the secrets tests); everyone else is trusted.
    const hba = join(data, 'pg_hba.conf');
    writeFileSync(hba, `host all pwuser 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    port = await freePort();
    const log = join(dir, 'server.log');
    const extra = Object.entries(o.settings ?? {}).map(([k, v]) => ` -c ${k}=${v}`).join('');
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200${extra}`;
    startServer = async () => void (await run(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start'], asPg));
    stopServer = async () => void (await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'], asPg));
    await startServer();
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    remove = async () => {
      await stopServer!().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const sql = async (text: string, db = 'postgres') => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    const c = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 10_000 });
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  const made: string[] = [];
  return {
    url,
    port,
    async freshDb(prefix = 'gw_test') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      await sql(`CREATE DATABASE ${name} TEMPLATE template0`);
      made.push(name);
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    },
    sql,
    ...(stopServer ? { stopServer, startServer } : {}),
    async stop() {
      if (given) for (const name of made) await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await remove();
    },
  };
}
