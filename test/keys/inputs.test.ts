// Bounded inputs and unechoed secrets, each hostile input beside an honest one that still works:
// config files and log lists are size-capped before they are parsed, YAML alias bombs are a
// config error, log-list fetches stay on the list's host, and no error echoes key material.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, ConfigError, MAX_CONFIG_BYTES } from '../../src/config.js';
import { parseLogList } from '../../src/logs/loglist.js';
import { LogRegistryImpl, DEFAULT_MAX_LIST_BYTES } from '../../src/logs/registry.js';
import { generateKey, parseVkey } from '../../src/note/keys.js';
import { parsePolicy } from '../../src/policy/parse.js';
import { parseNetworkConfig, NetworkConfigError } from '../../src/launcher/network.js';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'gw-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOG = generateKey('example.com/log');
const WITNESS = generateKey('witness.example/w2');
const SECRET = generateKey('oops.example/key').skey; // PRIVATE+KEY+oops.example/key+<id>+<base64 seed>
/** Any run of the seed's base64 long enough to matter must not appear in a message. */
// The base64 seed is what follows the fourth '+' (the base64 may itself contain '+': splitting on
// the last one left an empty seedPart now and then, and every message "contained" it).
const seedPart = SECRET.split('+').slice(4).join('+').slice(2, 14);
if (seedPart.length !== 12) throw new Error(`test setup: no seed part in ${SECRET.slice(0, 30)}…`);

const base = (extra = '') => `name: witness.example/w1\nkey: w1.key\ndata: w1-data\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\n${extra}`;

function configError(text: string, file = join(dir, 'w.yaml')): string {
  try {
    parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config files are bounded', () => {
  it('an honest config loads', () => {
    const file = join(dir, 'honest.yaml');
    writeFileSync(file, base());
    expect(loadConfig(file).logs[0].origin).toBe('example.com/log');
  });

  it(`refuses a file over ${MAX_CONFIG_BYTES} bytes before parsing it, and /dev/zero after reading at most that much`, () => {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, base(`# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`));
    expect(() => loadConfig(file)).toThrow(new RegExp(`^config ${file}: larger than ${MAX_CONFIG_BYTES} bytes: not a config file$`));
    if (process.platform !== 'win32') expect(() => loadConfig('/dev/zero')).toThrow(/^config \/dev\/zero: larger than \d+ bytes/);
    expect(configError(base(`x: "${'y'.repeat(MAX_CONFIG_BYTES)}"\n`))).toMatch(/: larger than \d+ bytes: not a config file$/);
  });

  it('a YAML alias bomb is a config error with the file named; a few aliases still work', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    const msg = configError(bomb.join('\n') + '\n');
    expect(msg).toMatch(/^config .*w\.yaml: YAML: .*alias.* \(at most 100 aliases are resolved\)$/i);
    const withAlias = `name: witness.example/w1\nkey: w1.key\ndata: w1-data\nlogs:\n  - &log { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\nwitnesses: [ { name: w2, vkey: "${WITNESS.vkey}" } ]\n`;
    expect(parseConfig(withAlias, join(dir, 'w.yaml')).logs).toHaveLength(1);
  });
});

describe('the launcher network config', () => {
  it('an alias bomb is a NetworkConfigError naming the file; the shipped example still parses', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 9; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    expect(() => parseNetworkConfig(bomb.join('\n') + '\n', 'net.yaml')).toThrow(NetworkConfigError);
    expect(() => parseNetworkConfig(bomb.join('\n') + '\n', 'net.yaml')).toThrow(/^network net\.yaml: YAML: .*alias/i);
    const file = join(__dirname, '../../network-config/local-network.yaml');
    expect(parseNetworkConfig(readFileSync(file, 'utf8'), file).witnesses.length).toBeGreaterThan(0);
  });
});

describe('no error echoes a private key', () => {
  const clean = (msg: string) => {
    expect(msg).not.toContain(seedPart);
    expect(msg).not.toContain(SECRET.slice(0, 40));
  };

  it('a private key pasted into a log vkey, a witness vkey or the name', () => {
    const inLog = configError(`name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["${LOG.vkey}", "${SECRET}"] }\n`);
    clean(inLog);
    expect(inLog).toMatch(/logs\[0\]\.vkeys\[1\]: log "o": invalid vkey: this looks like a private key \(PRIVATE\+KEY\+…; not shown\), but a vkey is expected/);
    const inWitness = configError(base(`witnesses: [ { name: w2, vkey: "${SECRET}" } ]\n`));
    clean(inWitness);
    expect(inWitness).toMatch(/witnesses\[0\]\.vkey: invalid vkey: this looks like a private key/);
    const inName = configError(`name: "${SECRET}"\nkey: k\ndata: d\nlogList: l\n`);
    clean(inName);
    expect(inName).toMatch(/name: invalid key name \(this looks like a private key/);
  });

  it('other key-like garbage is described, not shown; an honest typo is still quoted', () => {
    const blob = Buffer.from(SECRET).toString('base64'); // e.g. some other encoding of a secret
    const msg = configError(`name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["${blob}"] }\n`);
    expect(msg).not.toContain(blob.slice(0, 20));
    expect(msg).toMatch(/a \d+-character string that is not NAME\+KEYID\+BASE64 \(not shown\)/);
    // A vkey with a wrong key ID shows its public name and ID only.
    const wrongId = LOG.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    expect(configError(`name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["${wrongId}"] }\n`)).toContain('"example.com/log+00000000+…"');
    expect(configError(`name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["oops"] }\n`)).toContain(': "oops"');
  });

  it('the CLI and policy parsers (parseVkey) and log lists', () => {
    let err: unknown;
    try {
      parseVkey(SECRET);
    } catch (e) {
      err = e;
    }
    clean((err as Error).message);
    expect((err as Error).message).toMatch(/^invalid vkey: this looks like a private key/);
    expect(parseVkey(LOG.vkey).name).toBe('example.com/log'); // the honest key
    // A vkey whose name happens to contain "private" is still a vkey.
    const named = generateKey('private.example/log');
    expect(parseVkey(named.vkey).name).toBe('private.example/log');

    for (const policy of [`witness A ${SECRET}\nquorum A\n`, `${SECRET}\nquorum none\n`]) {
      let perr: unknown;
      try {
        parsePolicy(policy);
      } catch (e) {
        perr = e;
      }
      expect(perr).toBeInstanceOf(Error);
      clean((perr as Error).message);
    }
    for (const list of [`${SECRET}\n`, `logs/v0\n${SECRET}\n`, `logs/v0\nvkey ${SECRET}\n`, `logs/v0\nvkey ${LOG.vkey}\nqpd ${SECRET}\n`]) {
      let lerr: unknown;
      try {
        parseLogList(list);
      } catch (e) {
        lerr = e;
      }
      expect(lerr, list).toBeInstanceOf(Error);
      clean((lerr as Error).message);
    }
    expect(parseLogList(`logs/v0\nvkey ${LOG.vkey}\n`).entries).toHaveLength(1);
  });
});

describe('log lists are bounded and stay on their host', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const honestList = `logs/v0\nvkey ${LOG.vkey}\n`;

  it('/dev/zero and an oversized file are refused after at most the cap; an honest file loads', async () => {
    if (process.platform !== 'win32') {
      const zero = new LogRegistryImpl({ logList: { kind: 'file', path: '/dev/zero' } });
      await expect(zero.refresh()).rejects.toThrow(`log list /dev/zero: larger than ${DEFAULT_MAX_LIST_BYTES} bytes`);
    }
    const big = join(dir, 'big.list');
    writeFileSync(big, honestList + '#'.repeat(2048) + '\n');
    await expect(new LogRegistryImpl({ logList: { kind: 'file', path: big }, maxListBytes: 1024 }).refresh()).rejects.toThrow(/larger than 1024 bytes/);
    const ok = join(dir, 'ok.list');
    writeFileSync(ok, honestList);
    expect((await new LogRegistryImpl({ logList: { kind: 'file', path: ok } }).refresh()).added).toEqual(['example.com/log']);
  });

  it('follows a redirect on the same host, refuses one to another host', async () => {
    let otherHits = 0;
    const other = await listen((_req, res) => {
      otherHits++;
      res.end(`logs/v0\nvkey ${generateKey('evil.example/log').vkey}\n`);
    });
    const url = await listen((req, res) => {
      if (req.url === '/moved') res.writeHead(301, { location: '/list' }).end();
      else if (req.url === '/list') res.end(honestList);
      else res.writeHead(302, { location: `${other}/list` }).end();
    });
    const same = new LogRegistryImpl({ logList: { kind: 'url', url: `${url}/moved` } });
    expect((await same.refresh()).added).toEqual(['example.com/log']);
    const away = new LogRegistryImpl({ logList: { kind: 'url', url: `${url}/away` } });
    await expect(away.refresh()).rejects.toThrow(/redirect to another host refused/);
    expect(otherHits).toBe(0);
    expect(away.origins()).toEqual([]);
  });

  it('a redirect loop ends', async () => {
    const url = await listen((_req, res) => res.writeHead(302, { location: '/again' }).end());
    await expect(new LogRegistryImpl({ logList: { kind: 'url', url: `${url}/start` } }).refresh()).rejects.toThrow(/more than 5 redirects/);
  });
});
