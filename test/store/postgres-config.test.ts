// Config keys for the PostgreSQL store (issue 17): `store: URL` or `store: { url, … }`, exactly one
// of data/store URL, p2p.identity with a store URL, and no password in any config error.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { generateKey } from '../../src/note/index.js';

const LOG = generateKey('example.com/log');
const FILE = '/etc/gw/w.yaml';
const head = `name: witness.example/w1\nkey: w1.key\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\n`;

function problems(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config: store URL (PostgreSQL)', () => {
  it('store: URL selects PostgreSQL; the mapping form takes a password file, pool size and timeout', () => {
    const a = parseConfig(`${head}store: postgres://gw@db:5432/witness\n`, FILE);
    expect(a.data).toBeUndefined();
    expect(a.store?.postgres).toEqual({ url: 'postgres://gw@db:5432/witness' });
    const b = parseConfig(`${head}store: { url: "postgres://gw@db/witness", passwordFile: pw, poolSize: 4, timeout: 2s, unwritableExitAfter: 1m }\np2p: { identity: id.key }\n`, FILE);
    expect(b.store).toEqual({ unwritableExitAfterMs: 60_000, postgres: { url: 'postgres://gw@db/witness', passwordFile: '/etc/gw/pw', poolSize: 4, timeoutMs: 2000 } });
    expect(b.p2p?.identity).toBe('/etc/gw/id.key');
    // data alone keeps meaning LevelDB.
    expect(parseConfig(`${head}data: d\nstore: { unwritableExitAfter: 1m }\n`, FILE).store).toEqual({ unwritableExitAfterMs: 60_000 });
  });

  it('exactly one of data and a store URL', () => {
    expect(problems(`${head}data: d\nstore: postgres://gw@db/witness\n`)).toMatch(/data: set either data \(a LevelDB directory\) or a store URL \(PostgreSQL\), not both/);
    expect(problems(head)).toMatch(/data: required: a LevelDB directory \(or set store: postgres:/);
  });

  it('a store URL with gossip needs p2p.identity (each instance its own libp2p key)', () => {
    expect(problems(`${head}store: postgres://gw@db/witness\np2p: {}\n`)).toMatch(/p2p\.identity: required with a store URL/);
  });

  it('never echoes a URL (it may hold a password)', () => {
    const msg = problems(`${head}store: mysql://gw:hunter2-secret@db/witness\n`);
    expect(msg).toMatch(/store: must be a postgres:\/\/USER@HOST:PORT\/DB URL/);
    expect(msg).not.toContain('hunter2-secret');
  });
});
