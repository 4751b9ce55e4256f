// A witness node on a PostgreSQL store (issue 17): the store URL's password reaches no page, the
// pool metrics are exported, and the libp2p identity lives where p2p.identity says.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode } from '../../src/node/witness-node.js';
import { generateKey } from '../../src/note/index.js';
import { PG_REQUIRED, pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const why = pgUnavailableReason();
if (why && PG_REQUIRED) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
if (why) console.log(`SKIPPED witness node on PostgreSQL: ${why}`);

describe.skipIf(!!why)(`witness node on PostgreSQL${why ? ` (SKIPPED: ${why})` : ''}`, () => {
  let pgs: TestPostgres;
  let dir: string;
  beforeAll(async () => {
    pgs = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), 'gw-pg-node-'));
  }, 90_000);
  afterAll(async () => {
    await pgs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('no password on the status page, status.json or metrics; pool metrics exported; identity at p2p.identity', { timeout: 60_000 }, async () => {
    const secret = 'n0de-Secret-pw';
    await pgs.sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwuser') THEN CREATE ROLE pwuser LOGIN; END IF; END $$`);
    await pgs.sql(`ALTER ROLE pwuser PASSWORD '${secret}'`);
    await pgs.sql('CREATE DATABASE gw_node_test OWNER pwuser');
    const log = generateKey('pg.example/log');
    const url = `postgres://pwuser:${secret}@127.0.0.1:${pgs.port}/gw_node_test`;
    const config = parseConfig(
      `name: pg.example/w\nkey: w.key\nstore: "${url}"\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: pg.example/log, vkeys: ["${log.vkey}"] }\np2p: { listen: [/ip4/127.0.0.1/tcp/0], allowLoopback: true, startupSync: 0s, identity: ids/instance-a.key }\n`,
      join(dir, 'w.yaml'),
    );
    const node = await startWitnessNode(config);
    try {
      expect(existsSync(join(dir, 'ids/instance-a.key'))).toBe(true);
      for (const path of ['/', '/status.json', '/metrics', '/readyz']) {
        const body = await (await fetch(node.url + path)).text();
        expect(body, path).not.toContain(secret);
      }
      const metrics = await (await fetch(node.url + '/metrics')).text();
      expect(metrics).toMatch(/witness_store_pg_pool_connections\{state="total"\} \d/);
      expect(metrics).toMatch(/witness_store_pg_cas_conflicts_total 0/);
      expect((await fetch(node.url + '/readyz')).status).toBe(200);
    } finally {
      await node.close();
    }
  });

  it('pull feeders run on one instance at a time (the leader lock); another takes over when the leader stops', { timeout: 60_000 }, async () => {
    const url = await pgs.freshDb();
    const log = generateKey('pg.example/pulled');
    const cfg = (i: number) =>
      parseConfig(
        `name: pg.example/w
key: w.key
store: "${url}"
http: { listen: "127.0.0.1:0" }
logs:
  - { origin: pg.example/pulled, vkeys: ["${log.vkey}"], pull: { type: tiles, url: "http://127.0.0.1:9/", interval: 1s } }
`,
        join(dir, `f${i}.yaml`),
      );
    const until = (pred: () => boolean, what: string) => waitFor(pred, { what, timeoutMs: 20_000, intervalMs: 25 });
    const a = await startWitnessNode(cfg(0));
    const running = (n: typeof a) => n.feeders.feeders.some((f) => f.running);
    await until(() => running(a), 'the first node to lead');
    const b = await startWitnessNode(cfg(1));
    try {
      const t = Date.now();
      await until(() => Date.now() - t > 2500, 'a leader-lock round'); // b has tried at least once
      expect([running(a), running(b)]).toEqual([true, false]);
      await a.close();
      await until(() => running(b), 'the second node to take over');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
