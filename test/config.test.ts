import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './helpers/fixtures.js';
import { TestLog } from './helpers/fork.js';
import { loadConfig, parseConfig, parseDuration, parseListen, ConfigError } from '../src/config.js';
import { parseLogList, mergeLogList, formatLogList, LogListError } from '../src/logs/loglist.js';
import { LogRegistryImpl, LogListLoadError } from '../src/logs/registry.js';
import { generateKey, openNote } from '../src/note/index.js';
import { waitFor } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOG = generateKey('example.com/log');
const LOG2 = generateKey('example.com/log2');

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The messages of the ConfigError thrown for a config text. */
function problems(text: string, file = join(dir, 'w.yaml')): string[] {
  try {
    parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const base = (extra = '') => `name: witness.example/w1\nkey: w1.key\ndata: w1-data\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}"] }\n${extra}`;

describe('config: a good file', () => {
  it('parses every key, resolving relative paths against the config file', () => {
    const file = write(
      'good.yaml',
      `# a witness
name: witness.example/w1
key: [keys/w1.key, /abs/w2.key]
data: w1-data
http: { listen: "[::1]:0", bodyLimit: 32768, maxConnections: 64, trustProxy: [ 127.0.0.1, "10.0.0.0/8", "::1" ] }
logs:
  - origin: example.com/log
    vkeys: [ "${LOG.vkey}", "${LOG.vkey}" ]
    qpd: 86400
    contact: ops@example.com
    pull: { url: https://example.com/log/ }
  - { origin: go.sum database tree, vkeys: [ "${LOG2.vkey}" ], disabled: true }
logList: lists/logs.txt
logListRefresh: 5m
p2p: { listen: [ /ip4/0.0.0.0/tcp/0 ] }
witnesses: [ { name: w2, vkey: "${LOG2.vkey}" } ]
`,
    );
    const c = loadConfig(file);
    expect(c.file).toBe(file);
    expect(c.name).toBe('witness.example/w1');
    expect(c.keyFiles).toEqual([join(dir, 'keys/w1.key'), '/abs/w2.key']);
    expect(c.data).toBe(join(dir, 'w1-data'));
    expect(c.http).toEqual({ host: '::1', port: 0, bodyLimit: 32768, maxConnections: 64, trustProxy: ['127.0.0.1', '10.0.0.0/8', '::1'] });
    expect(c.logs).toHaveLength(2);
    expect(c.logs[0]).toMatchObject({ origin: 'example.com/log', qpd: 86400, contact: 'ops@example.com', pull: { url: 'https://example.com/log/' } });
    // The same vkey twice is one verifier, never an ambiguous key.
    expect(c.logs[0].verifiers).toHaveLength(1);
    expect(c.logs[1]).toMatchObject({ origin: 'go.sum database tree', disabled: true });
    expect(c.logList).toEqual({ kind: 'file', path: join(dir, 'lists/logs.txt') });
    expect(c.logListRefreshMs).toBe(5 * 60_000);
    expect(c.p2p).toEqual({ listen: ['/ip4/0.0.0.0/tcp/0'], announce: [], bootstrap: [], allowLoopback: false, maxConnections: 100, meshDegree: 3, maxInboundStreams: 256, maxInboundStreamBytes: 32 * 1024 * 1024, startupSyncMs: 5000, version: 2 });
    expect(c.witnesses?.map((w) => w.name)).toEqual(['w2']);
  });

  it('p2p: gossip version 2 with mesh degree 3 by default; version 1 keeps its measured degree 6; an explicit degree wins', () => {
    const p2p = (extra: string) => parseConfig(`name: w\nkey: /k\ndata: /d\nlogList: https://example.org/l\np2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n${extra}`, '/etc/w.yaml').p2p!;
    expect(p2p('')).toMatchObject({ version: 2, meshDegree: 3 });
    expect(p2p('  version: 1\n')).toMatchObject({ version: 1, meshDegree: 6 });
    expect(p2p('  version: 1\n  meshDegree: 4\n')).toMatchObject({ version: 1, meshDegree: 4 });
    expect(p2p('  meshDegree: 5\n')).toMatchObject({ version: 2, meshDegree: 5 });
  });

  it('defaults: listen 127.0.0.1:7380, 16 KiB bodies, refresh 1h; a single key file; a URL log list', () => {
    const c = parseConfig(`name: w\nkey: /k\ndata: /d\nlogList: https://example.org/log-list.1\n`, '/etc/w.yaml');
    expect(c.http).toEqual({ host: '127.0.0.1', port: 7380, bodyLimit: 512 * 1024, maxConnections: 1024 });
    expect(c.keyFiles).toEqual(['/k']);
    expect(c.logs).toEqual([]);
    expect(c.logList).toEqual({ kind: 'url', url: 'https://example.org/log-list.1' });
    expect(c.logListRefreshMs).toBe(3_600_000);
  });

  it('durations and listen addresses', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['1', 'h', '1.5h', '-1h', '1 h', '1H', '']) expect(parseDuration(bad), bad).toBeNull();
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::]:7380')).toEqual({ host: '::', port: 7380 });
    for (const bad of ['7380', ':7380', 'host:65536', 'host:', 'a b:1', '::1:80']) expect(parseListen(bad), bad).toBeNull();
  });
});

describe('config: every error names the file and the field', () => {
  const F = join(dir, 'w.yaml');
  const cases: [string, string, RegExp][] = [
    ['missing name', `key: k\ndata: d\nlogList: l`, /^name: required$/],
    ['missing key and data', `name: w\nlogList: l`, /^key: required$/],
    ['missing data', `name: w\nkey: k\nlogList: l`, /^data: required: a LevelDB directory \(or set store: postgres:/],
    ['missing origin', `name: w\nkey: k\ndata: d\nlogs:\n  - { vkeys: ["${LOG.vkey}"] }`, /^logs\[0\]\.origin: required$/],
    ['unknown top-level key', base('colour: blue'), /^colour: unknown key$/],
    ['misspelt key', base('logListRefresh: 1h\nlogListRefrsh: 1h'), /^logListRefrsh: unknown key$/],
    ['unknown per-log key', `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["${LOG.vkey}"], qps: 1 }`, /^logs\[0\]\.qps: unknown key$/],
    ['unknown http key', base('http: { port: 80 }'), /^http\.port: unknown key$/],
    ['bad vkey', `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: example.com/log, vkeys: ["${LOG.vkey}", "example.com/log+00000000+AAAA"] }`, /^logs\[0\]\.vkeys\[1\]: log "example\.com\/log": invalid vkey/],
    ['vkey with a wrong key ID', `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: ["${LOG.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')}"] }`, /^logs\[0\]\.vkeys\[0\]: log "o": invalid vkey: key ID 00000000 does not match/],
    ['no vkeys', `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: [] }`, /^logs\[0\]\.vkeys: at least one vkey is required$/],
    ['qpd 0', base().replace('] }', '], qpd: 0 }'), /^logs\[0\]\.qpd: must be at least 1$/],
    ['qpd fractional', base().replace('] }', '], qpd: 1.5 }'), /^logs\[0\]\.qpd: must be an integer$/],
    ['qpd too large', base().replace('] }', '], qpd: 2147483648 }'), /^logs\[0\]\.qpd: must be below 2\^31$/],
    ['qpd a string', base().replace('] }', '], qpd: lots }'), /^logs\[0\]\.qpd: must be a number$/],
    ['disabled not a boolean', base().replace('] }', '], disabled: "yes" }'), /^logs\[0\]\.disabled: must be true or false$/],
    ['duplicate origin', base(`  - { origin: example.com/log, vkeys: ["${LOG2.vkey}"] }`).replace('logs:\n', 'logs:\n'), /^logs\[1\]\.origin: duplicate origin "example\.com\/log" \(also logs\[0\]\)$/],
    ['bad listen', base('http: { listen: "localhost" }'), /^http\.listen: must be HOST:PORT/],
    ['bad bodyLimit', base('http: { bodyLimit: 10 }'), /^http\.bodyLimit: must be at least 1024$/],
    ['bad trustProxy', base('http: { trustProxy: [ "proxy.example" ] }'), /^http\.trustProxy\[0\]: must be an IP address or CIDR$/],
    ['bad maxConnections', base('http: { maxConnections: 0 }'), /^http\.maxConnections: must be at least 1$/],
    ['bad duration', base('logListRefresh: soon'), /^logListRefresh: must be a duration like 10s, 5m or 1h, got "soon"$/],
    ['too short a refresh', base('logListRefresh: 10ms'), /^logListRefresh: must be at least 1s$/],
    ['bad name', `name: "my witness"\nkey: k\ndata: d\nlogList: l`, /^name: invalid key name "my witness"/],
    ['name with a plus', `name: "a+b"\nkey: k\ndata: d\nlogList: l`, /^name: invalid key name/],
    ['key not a string', `name: w\nkey: { file: k }\ndata: d\nlogList: l`, /^key: must be a file name or a list of file names$/],
    ['empty key list', `name: w\nkey: []\ndata: d\nlogList: l`, /^key: /],
    ['duplicate key file', `name: w\nkey: [a.key, ./a.key]\ndata: d\nlogList: l`, /^key\[1\]: duplicate key file/],
    ['no logs at all', `name: w\nkey: k\ndata: d`, /^logs: no logs configured/],
    ['logs not a list', `name: w\nkey: k\ndata: d\nlogs: { origin: o }`, /^logs: must be a list of logs$/],
    ['logList with another scheme', base('logList: ftp://example.org/list'), /^logList: must be a file path or an http\(s\) URL$/],
    ['YAML syntax error', `name: w\nkey: [k\ndata: d`, /^line \d+: YAML: /],
    ['duplicate YAML key', `name: w\nname: v\nkey: k\ndata: d\nlogList: l`, /^line \d+: YAML: .*[Mm]ap keys must be unique/],
    ['not a mapping', `- just\n- a list`, /^the config must be a YAML mapping$/],
    ['a list where a mapping belongs', base('http: [ 127.0.0.1:7380 ]'), /^http: must be a mapping$/],
    ['an empty list where a mapping belongs', base('signSubtree: []'), /^signSubtree: must be a mapping \(cacheSize, rate, burst, maxClients\)$/],
    ['a list item that is not a mapping', base('witnesses: [ "w2+abcd1234+AA" ]'), /^witnesses\[0\]: must be a mapping with vkey \(and optionally name\)$/],
  ];
  it.each(cases)('%s', (_name, text, want) => {
    const msgs = problems(text, F);
    for (const m of msgs) expect(m.startsWith(`config ${F}: `), m).toBe(true);
    expect(
      msgs.some((m) => want.test(m.slice(`config ${F}: `.length))),
      msgs.join('\n'),
    ).toBe(true);
  });

  it('reports every problem, not just the first', () => {
    const msgs = problems(`name: "a b"\nkey: k\ndata: d\nhttp: { listen: nope }\nlogListRefresh: never\nlogs:\n  - { origin: o, vkeys: ["bad"], qpd: 0 }`);
    expect(msgs.length).toBeGreaterThanOrEqual(1);
    // structure errors come first; once the structure is right, all semantic errors together.
    const msgs2 = problems(`name: "a b"\nkey: k\ndata: d\nhttp: { listen: nope }\nlogListRefresh: never\nlogs:\n  - { origin: o, vkeys: ["bad"] }`);
    expect(msgs2.map((m) => m.split(': ')[1])).toEqual(expect.arrayContaining(['name', 'http.listen', 'logs[0].vkeys[0]', 'logListRefresh']));
  });

  it('names every unknown key, in every mapping, together with the other structure errors', () => {
    const msgs = problems(base('colour: blue\nshape: round\nhttp: { port: 80, host: x, bodyLimit: 10 }'));
    expect(msgs.map((m) => m.slice(m.indexOf(': ') + 2))).toEqual(
      expect.arrayContaining(['colour: unknown key', 'shape: unknown key', 'http.port: unknown key', 'http.host: unknown key', 'http.bodyLimit: must be at least 1024']),
    );
  });

  it('an unreadable file', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/^config .*missing\.yaml: cannot read: no such file$/);
  });
});

describe('logs/v0 log lists', () => {
  const fx = fixture('witness-network-and-policies.json').witness_network_log_list;

  it('parses the published testing list exactly as the vector says', () => {
    const list = parseLogList(fx.raw);
    expect(list.entries.map(({ vkey, origin, qpd, contact }) => ({ vkey, origin, qpd, contact }))).toEqual(fx.parsed);
  });

  it('a config logList file is loaded by the registry', async () => {
    const file = write('testing.list', fx.raw);
    const c = parseConfig(`name: w\nkey: k\ndata: d\nlogList: testing.list\n`, join(dir, 'w.yaml'));
    const reg = new LogRegistryImpl({ inline: c.logs, logList: c.logList });
    expect(c.logList).toEqual({ kind: 'file', path: file });
    const res = await reg.refresh();
    expect(res.added).toHaveLength(fx.parsed.length);
    const geomys = reg.get('keyserver.geomys.org')!;
    expect(geomys.qpd).toBe(1440);
    expect(reg.describe('keyserver.geomys.org')).toMatchObject({ contact: 'keyserver-tlog@geomys.org', fromList: true, disabled: false });
  });

  it('origin defaults to the key name; comments, blank lines and surrounding spaces are ignored', () => {
    const l = parseLogList(`# c\n\n   logs/v0  \n  # another\n\tvkey ${LOG.vkey}\t\n origin   go.sum database tree \nqpd 24\ncontact  a  b \n\nvkey ${LOG2.vkey}\nrevision 3\n`.replace('revision 3\n', ''));
    expect(l.entries.map((e) => [e.origin, e.qpd, e.contact, e.line])).toEqual([
      ['go.sum database tree', 24, 'a  b', 5],
      ['example.com/log2', undefined, undefined, 10],
    ]);
    expect(parseLogList(`logs/v0\nrevision 7\n\nvkey ${LOG.vkey}\n`).revision).toBe(7);
  });

  const bad: [string, string, RegExp][] = [
    ['no header', `vkey ${LOG.vkey}\n`, /^line 1: the first line must be "logs\/v0"/],
    ['empty list', `# nothing\n`, /no "logs\/v0" header/],
    ['duplicate header', `logs/v0\nlogs/v0\n`, /^line 2: duplicate/],
    ['qpd 0', `logs/v0\nvkey ${LOG.vkey}\nqpd 0\n`, /^line 3: qpd must be an integer in \[1, 2\^31\)/],
    ['qpd 2^31', `logs/v0\nvkey ${LOG.vkey}\nqpd 2147483648\n`, /^line 3: qpd/],
    ['qpd float', `logs/v0\nvkey ${LOG.vkey}\nqpd 1.5\n`, /^line 3: qpd/],
    ['out of order', `logs/v0\nvkey ${LOG.vkey}\nqpd 5\norigin x\n`, /^line 4: "origin" out of order or repeated/],
    ['repeated', `logs/v0\nvkey ${LOG.vkey}\ncontact a\ncontact b\n`, /^line 4: "contact" out of order or repeated/],
    ['origin before vkey', `logs/v0\norigin x\nvkey ${LOG.vkey}\n`, /^line 2: "origin" before any "vkey" line/],
    ['unknown keyword', `logs/v0\nvkey ${LOG.vkey}\nbastion none\n`, /^line 3: unknown keyword "bastion"/],
    ['not a 0x01 vkey', `logs/v0\n\n\nvkey ${LOG.cosignatureVkey}\n`, /^line 4: only Ed25519 \(0x01\) vkeys are allowed/],
    ['bad vkey', `logs/v0\nvkey nope+12345678+AAAA\n`, /^line 2: invalid vkey/],
    ['vkey without value', `logs/v0\nvkey\n`, /^line 2: "vkey" needs a value/],
  ];
  it.each(bad)('error with a line number: %s', (_n, text, want) => {
    let err: unknown;
    try {
      parseLogList(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogListError);
    expect((err as Error).message).toMatch(want);
  });

  it('several entries for one origin merge their vkeys; the same vkey twice is one key', () => {
    const rotated = generateKey('example.com/log');
    const l = parseLogList(`logs/v0\nvkey ${LOG.vkey}\nqpd 10\nvkey ${rotated.vkey}\nqpd 20\nvkey ${LOG.vkey}\n`);
    const merged = mergeLogList(l.entries);
    expect(merged).toHaveLength(1);
    expect(merged[0].verifiers.map((v) => v.vkey)).toEqual([LOG.vkey, rotated.vkey]);
    expect(merged[0].qpd).toBe(10);
    // Round trip through the cache format.
    const again = mergeLogList(parseLogList(formatLogList(merged)).entries);
    expect(again.map((m) => ({ ...m, verifiers: m.verifiers.map((v) => v.vkey) }))).toEqual(merged.map((m) => ({ ...m, verifiers: m.verifiers.map((v) => v.vkey) })));
  });
});

describe('the log registry: list updates only add', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('never removes a log or a key; adds logs and keys; a disabled inline log stays disabled', async () => {
    const a = new TestLog('a.example/log');
    const b = new TestLog('b.example/log');
    const c = new TestLog('c.example/log');
    const bRotated = generateKey(b.key.name);
    const d = new TestLog('d.example/log');
    const listFile = join(dir, 'adds.list');
    const cachePath = join(dir, 'adds.cache');
    writeFileSync(listFile, `logs/v0\nvkey ${a.key.vkey}\nqpd 100\nvkey ${b.key.vkey}\nvkey ${d.key.vkey}\n`);
    const reg = new LogRegistryImpl({
      inline: [{ origin: d.origin, verifiers: [], disabled: true }],
      logList: { kind: 'file', path: listFile },
      cachePath,
    });
    await reg.start();
    reg.stop();
    expect(reg.origins().sort()).toEqual([a.origin, b.origin, d.origin]);
    expect(reg.get(d.origin)!.disabled).toBe(true);

    // The list drops a, rotates b's key (listing the old key too, twice) and adds c.
    writeFileSync(listFile, `logs/v0\nvkey ${b.key.vkey}\nvkey ${bRotated.vkey}\nvkey ${b.key.vkey}\nvkey ${c.key.vkey}\nvkey ${d.key.vkey}\n`);
    const res = await reg.refresh();
    expect(res.added).toEqual([c.origin]);
    expect(res.keysAdded).toBe(1);
    expect(reg.origins().sort()).toEqual([a.origin, b.origin, c.origin, d.origin]);
    expect(reg.get(a.origin)!.qpd).toBe(100);
    // b trusts both keys, without an ambiguous-key error.
    b.append(1);
    expect(openNote(b.checkpoint(), reg.get(b.origin)!.verifiers).verified).toHaveLength(1);
    expect(reg.describe(b.origin)!.vkeys).toEqual([b.key.vkey, bRotated.vkey]);
    expect(reg.get(d.origin)!.disabled).toBe(true);

    // Even a list that then drops everything removes nothing, and a broken list keeps the logs.
    writeFileSync(listFile, `logs/v0\n`);
    await reg.refresh();
    writeFileSync(listFile, `not a list\n`);
    await expect(reg.refresh()).rejects.toBeInstanceOf(LogListLoadError);
    expect(reg.origins()).toHaveLength(4);

    // After a restart the cache remembers what the list once said.
    const again = new LogRegistryImpl({ logList: { kind: 'file', path: listFile }, cachePath });
    await expect(again.start()).rejects.toThrow(/line 1/);
    again.stop();
    expect(again.origins().sort()).toEqual([a.origin, b.origin, c.origin, d.origin]);
    expect(again.describe(b.origin)!.vkeys).toEqual([b.key.vkey, bRotated.vkey]);
    expect(readFileSync(cachePath, 'utf8').startsWith('logs/v0\n')).toBe(true);
  });

  it('inline logs keep their qpd over the list; a colliding list key is refused', async () => {
    const a = generateKey('a.example/log');
    const reg = new LogRegistryImpl({ inline: [{ origin: 'a.example/log', verifiers: [], qpd: 5 }] });
    const l = parseLogList(`logs/v0\nvkey ${a.vkey}\nqpd 500\n`);
    reg.applyList(mergeLogList(l.entries));
    expect(reg.get('a.example/log')!.qpd).toBe(5);
    // A different key that happens to share name and key ID would make signatures ambiguous.
    const v = l.entries[0].verifier;
    const fake = { ...v, key: new Uint8Array(32).fill(1), vkey: v.vkey.slice(0, -4) + 'AAA=' };
    const res = reg.applyList([{ origin: 'a.example/log', verifiers: [fake] }]);
    expect(res.refused).toEqual([fake.vkey]);
    expect(reg.describe('a.example/log')!.vkeys).toEqual([a.vkey]);
  });

  it('loads an http(s) list, refreshes on a timer, and survives a failing server', async () => {
    const a = generateKey('a.example/log');
    const b = generateKey('b.example/log');
    let body = `logs/v0\nvkey ${a.vkey}\n`;
    let status = 200;
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log-list.1`;
    const warnings: string[] = [];
    const reg = new LogRegistryImpl({ logList: { kind: 'url', url }, refreshMs: 50, logger: { info() {}, warn: (_o, m) => warnings.push(m ?? '') } });
    try {
      await reg.start();
      expect(reg.origins()).toEqual(['a.example/log']);
      status = 500;
      await waitFor(() => warnings.length > 0, { what: 'a refresh warning', timeoutMs: 5000 });
      expect(warnings[0]).toMatch(/refresh failed/);
      expect(reg.origins()).toEqual(['a.example/log']);
      status = 200;
      body = `logs/v0\nvkey ${b.vkey}\n`;
      await waitFor(() => reg.origins().length >= 2, { what: 'the refreshed list with b.example/log', timeoutMs: 5000 });
      expect(reg.origins().sort()).toEqual(['a.example/log', 'b.example/log']);
    } finally {
      reg.stop();
    }
  });

  it('refuses an oversized list', async () => {
    const reg = new LogRegistryImpl({ logList: { kind: 'file', path: write('big.list', 'logs/v0\n' + '#'.repeat(5000)) }, maxListBytes: 1000 });
    await expect(reg.refresh()).rejects.toThrow(/larger than 1000 bytes/);
  });
});

describe('signSubtree (POST /sign-subtree cache and per-client limit)', () => {
  it('maps cacheSize, rate, burst and maxClients to the signer; absent: no block (the signer defaults)', () => {
    expect(parseConfig(base(), join(dir, 'w.yaml')).signSubtree).toBeUndefined();
    const c = parseConfig(base('signSubtree: { cacheSize: 0, rate: 0.5, burst: 3, maxClients: 100 }\n'), join(dir, 'w.yaml'));
    expect(c.signSubtree).toEqual({ cacheEntries: 0, perClientPerSecond: 0.5, perClientBurst: 3, maxClients: 100 });
    expect(parseConfig(base('signSubtree: { burst: 50 }\n'), join(dir, 'w.yaml')).signSubtree).toEqual({ perClientBurst: 50 });
  });

  it('reports bad values with the key path', () => {
    expect(problems(base('signSubtree: { rate: 0 }\n'))).toEqual([`config ${join(dir, 'w.yaml')}: signSubtree.rate: must be above 0`]);
    expect(problems(base('signSubtree: { rate: fast }\n'))[0]).toMatch(/signSubtree\.rate: must be a number of requests per second$/);
    expect(problems(base('signSubtree: { burst: 1.5, cacheSize: -1 }\n')).sort()).toEqual(
      [`config ${join(dir, 'w.yaml')}: signSubtree.cacheSize: must be at least 0 (0: no cache)`, `config ${join(dir, 'w.yaml')}: signSubtree.burst: must be an integer`].sort(),
    );
    expect(problems(base('signSubtree: { maxClients: 0 }\n'))[0]).toMatch(/signSubtree\.maxClients: must be at least 1$/);
    expect(problems(base('signSubtree: { size: 10 }\n'))[0]).toMatch(/signSubtree\.size: unknown key$/);
    expect(problems(base('signSubtree: 10\n'))[0]).toMatch(/signSubtree: must be a mapping \(cacheSize, rate, burst, maxClients\)$/);
  });
});
