// The HTTP server's bounds, each with a hostile client beside an honest one: the request deadline
// holds for slow bodies, endless chunked uploads and silent connections; an oversized body gets
// its 413 (never a reset); connections are capped; evidence and suspect lists page.
import { DEFAULT_BODY_LIMIT } from '../../src/http/server.js';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { TestLog } from '../helpers/fork.js';
import { addBody } from './helpers.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { createWitnessServer, EVIDENCE_PAGE, SUSPECT_PAGE, type WitnessServerOptions } from '../../src/http/server.js';
import { createStatusSource } from '../../src/http/status-data.js';
import { MESSAGES } from '../../src/errors.js';
import { EVIDENCE_PER_ORIGIN, type VerifiedRecord } from '../../src/witness/store.js';
import { cosigner, generateKey, parseVkey } from '../../src/note/index.js';
import { originHash } from '../../src/checkpoint/checkpoint.js';
import { withDeadline } from '../helpers/wait.js';

const ORIGIN = 'example.com/log';

interface Served {
  app: FastifyInstance;
  store: MemoryStore;
  port: number;
  url: string;
  log: TestLog;
}

let served: Served | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await served?.app.close();
  await served?.store.close();
  served = undefined;
});

async function serve(opts: Partial<Pick<WitnessServerOptions, 'timeouts' | 'maxConnections' | 'maxConnectionsPerClient' | 'bodyLimit'>> = {}): Promise<Served> {
  const log = new TestLog(ORIGIN).append(8);
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: [{ origin: ORIGIN, verifiers: [parseVkey(log.key.vkey)] }] });
  const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey('witness.example/w'))] });
  const statusSource = createStatusSource({ name: 'witness.example/w', vkeys: [], witness, store, logs: registry, cacheMs: 0 });
  const app = createWitnessServer({ witness, store, logs: registry, statusSource, ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as net.AddressInfo).port;
  served = { app, store, port, url: `http://127.0.0.1:${port}`, log };
  return served;
}

/** An honest client: cosign the log at `size` on a fresh connection, then read it back. */
async function honestAdd(s: Served, old: bigint, size: bigint): Promise<void> {
  const r = await fetch(`${s.url}/add-checkpoint`, { method: 'POST', body: addBody(old, old === 0n ? [] : s.log.tree.consistencyProof(old, size), s.log.checkpoint(size)) });
  expect(r.status).toBe(200);
  await r.text();
  const got = await fetch(`${s.url}/${originHash(ORIGIN)}/checkpoint`);
  expect((await got.text()).split('\n')[1]).toBe(String(size));
}

/** A raw connection that sends `head`, then `drip` every 100 ms until the server closes it. */
function hostile(port: number, head: string, drip: string | null): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    let answer = '';
    let error: string | undefined;
    s.on('data', (d) => (answer += d.toString('latin1')));
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    const timer = drip === null ? undefined : setInterval(() => s.writable && s.write(drip), 100);
    s.on('close', () => {
      clearInterval(timer);
      resolve({ answer, error });
    });
    s.write(head);
  });
}

/** Fails instead of hanging (a hang detector, not a timing assertion). */
const within = <T>(p: Promise<T>, ms: number, what: string) => withDeadline(p, { what, timeoutMs: ms });

describe('the request deadline', () => {
  it('answers 408 and closes a slow body, an endless chunked upload and a silent connection; honest requests beside them are cosigned', async () => {
    const s = await serve({ timeouts: { requestTimeout: 1500 } });
    const attacks = [
      hostile(s.port, `POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n`, 'a'),
      hostile(s.port, `POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, '1\r\na\r\n'),
      hostile(s.port, `POST /add-checkpoint HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: header\r\n'),
      hostile(s.port, '', null),
    ];
    await honestAdd(s, 0n, 5n);
    await honestAdd(s, 5n, 8n);
    // The connection checks run every requestTimeout/4 here: 20 s is only a hang detector.
    for (const a of await within(Promise.all(attacks), 20_000, 'hostile connections')) expect(a.answer).toMatch(/^HTTP\/1\.1 408 /);
    const again = await fetch(`${s.url}/${originHash(ORIGIN)}/checkpoint`);
    expect((await again.text()).split('\n')[1]).toBe('8'); // nothing acknowledged was lost
  });
});

describe('an oversized body', () => {
  // The clients run in another process: in-process, client and server share one event loop and
  // the race that resets the connection does not happen.
  const CLIENTS = `
    import { execFile } from 'node:child_process';
    const [port, n] = process.argv.slice(1, 3).map(Number);
    const path = process.argv[3];
    const big = Buffer.alloc(8 << 20, 0x61);
    const sizes = [1 << 20, 8 << 20];
    const viaHttp = (size) => new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': size }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', (e) => resolve(e.code ?? e.message));
      });
      req.on('error', (e) => resolve(e.code ?? e.message));
      req.end(big.subarray(0, size));
    });
    const viaFetch = async (size) => {
      try {
        const r = await fetch('http://127.0.0.1:' + port + path, { method: 'POST', body: big.subarray(0, size) });
        await r.text();
        return String(r.status);
      } catch (e) {
        return String(e.cause?.code ?? e.message);
      }
    };
    const results = await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 ? viaHttp : viaFetch)(sizes[(i >> 1) % 2])));
    process.stdout.write(JSON.stringify(results));
  `;
  const clients = (port: number, n: number, path = '/add-checkpoint') =>
    new Promise<string[]>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', CLIENTS, String(port), String(n), path], { timeout: 120_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as string[])));
    });

  it('gets 413, read by the client, never a reset: 1 MiB and 8 MiB bodies, 40 at a time, with honest requests beside them', async () => {
    const s = await serve();
    await honestAdd(s, 0n, 5n);
    expect(await clients(s.port, 40)).toEqual(Array.from({ length: 40 }, () => '413'));
    await honestAdd(s, 5n, 8n);
  });

  it('on any path: a large body sent to an unknown path gets its 413 too', async () => {
    const s = await serve();
    expect(await clients(s.port, 10, '/no-such-path')).toEqual(Array.from({ length: 10 }, () => '413'));
    await honestAdd(s, 0n, 5n);
  });

  it('with chunked transfer encoding too', async () => {
    const s = await serve();
    // 1 MiB in 16 KiB chunks: twice the default limit.
    const chunks = Array.from({ length: 64 }, () => new Uint8Array(16384).fill(0x61));
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.pop();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    const r = await fetch(`${s.url}/add-checkpoint`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    expect(await r.text()).toBe(`request body too large: the limit is ${DEFAULT_BODY_LIMIT} bytes\n`);
    await honestAdd(s, 0n, 5n);
  });
});

describe('the connection cap', () => {
  it('closes connections past maxConnections at once; once they go, honest clients are served', async () => {
    const s = await serve({ maxConnections: 4, maxConnectionsPerClient: 4, timeouts: { requestTimeout: 60_000 } });
    const held: net.Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const c = net.connect(s.port, '127.0.0.1');
      sockets.push(c);
      held.push(c);
      c.on('error', () => {});
      await new Promise<void>((r) => c.once('connect', () => r()));
    }
    // Wait until the server counts them (accept is asynchronous).
    const count = () => new Promise<number>((r) => s.app.server.getConnections((_e, n) => r(n)));
    for (const deadline = Date.now() + 10_000; (await count()) < 4; ) {
      if (Date.now() > deadline) throw new Error('the server did not accept 4 connections');
      await new Promise((r) => setImmediate(r));
    }
    const refused = await within(hostile(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', null), 20_000, 'connection past the cap');
    expect(refused.answer).toBe('');
    for (const c of held) c.destroy();
    for (const deadline = Date.now() + 10_000; (await count()) > 0; ) {
      if (Date.now() > deadline) throw new Error('the server did not see the connections close');
      await new Promise((r) => setImmediate(r));
    }
    await honestAdd(s, 0n, 5n);
  });
});

describe('GET /evidence and /suspects page', () => {
  const hex = (i: number) => i.toString(16).padStart(64, '0');

  async function follow(url: string): Promise<{ items: { id?: string; reason?: string }[]; pages: number }> {
    const items: { id?: string; reason?: string }[] = [];
    let next: string | undefined = url as string | undefined;
    let pages = 0;
    while (next !== undefined) {
      const r: Response = await fetch(`${served!.url}${next}`);
      expect(r.status).toBe(200);
      items.push(...((await r.json()) as { id?: string }[]));
      pages++;
      const link: string | null = r.headers.get('link');
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
      if (pages > 1000) throw new Error('paging did not end');
    }
    return { items, pages };
  }

  it('evidence: default and explicit limits, Link rel="next" until the end, per origin', async () => {
    const s = await serve();
    for (let i = 0; i < 30; i++) await s.store.addEvidence({ id: hex(i), origin: i % 2 ? ORIGIN : 'other/log', receivedAt: 1000 + i, bytes: new Uint8Array([i]) } as VerifiedRecord);
    const all = await follow('/evidence');
    expect(all.pages).toBe(1);
    expect(all.items.map((e) => e.id)).toEqual(Array.from({ length: 30 }, (_, i) => hex(i)));
    const paged = await follow('/evidence?limit=7');
    expect(paged.pages).toBe(5);
    expect(paged.items).toEqual(all.items);
    const mine = await follow(`/evidence?origin=${encodeURIComponent(ORIGIN)}&limit=4`);
    expect(mine.items.map((e) => e.id)).toEqual(Array.from({ length: 15 }, (_, i) => hex(2 * i + 1)));
    // The default page is EVIDENCE_PAGE.default.
    for (let i = 30; i < EVIDENCE_PAGE.default + 5; i++) await s.store.addEvidence({ id: hex(i), origin: `log${i}`, receivedAt: 1000 + i, bytes: new Uint8Array([1]) } as VerifiedRecord);
    const first = await fetch(`${s.url}/evidence`);
    expect(((await first.json()) as unknown[]).length).toBe(EVIDENCE_PAGE.default);
    expect(first.headers.get('link')).toBe(`</evidence?limit=${EVIDENCE_PAGE.default}&after=${hex(EVIDENCE_PAGE.default - 1)}>; rel="next"`);
  });

  it('suspects page too; bad limits and cursors are 400s', async () => {
    const s = await serve();
    for (let i = 0; i < 40; i++) await s.store.addSuspect({ origin: i % 2 ? ORIGIN : 'other/log', receivedAt: 1000 + i, held: 'h', submitted: 's', oldSize: BigInt(i), proof: [], reason: `r${i}` });
    const all = await follow('/suspects');
    expect(all.pages).toBe(Math.ceil(40 / SUSPECT_PAGE.default));
    expect(all.items.map((x) => x.reason)).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    expect((await follow('/suspects?limit=3')).items).toEqual(all.items);
    for (const q of ['limit=0', 'limit=-1', 'limit=abc', `limit=${SUSPECT_PAGE.max + 1}`, 'after=', 'after=0', 'after=x', `after=${'9'.repeat(200)}`]) {
      expect((await fetch(`${s.url}/suspects?${q}`)).status, q).toBe(400);
    }
    for (const q of ['limit=0', `limit=${EVIDENCE_PAGE.max + 1}`, `after=${hex(999)}`, 'after=%00']) expect((await fetch(`${s.url}/evidence?${q}`)).status, q).toBe(400);
    // One line each, from the one vocabulary (src/errors.ts MESSAGES).
    const body = async (path: string) => (await fetch(`${s.url}${path}`)).text();
    expect(await body('/evidence?limit=0')).toBe(MESSAGES.badQuery('limit', EVIDENCE_PAGE.max) + '\n');
    expect(await body('/suspects?after=%00')).toBe(MESSAGES.badQuery('cursor') + '\n');
    expect(await body(`/evidence?after=${hex(999)}`)).toBe(MESSAGES.badQuery('unknown cursor') + '\n');
    expect(await body('/suspects?origin=a&origin=b')).toBe(MESSAGES.badQuery('origin filter') + '\n');
  });
});

describe('a flood of evidence for one log', () => {
  it('keeps the first records, counts the rest in /status.json, and the lists stay small', async () => {
    const s = await serve();
    const hex = (i: number) => i.toString(16).padStart(64, '0');
    for (let i = 0; i < 500; i++) await s.store.addEvidence({ id: hex(i), origin: ORIGIN, receivedAt: 1000 + i, bytes: new Uint8Array(512) } as VerifiedRecord);
    const list = (await (await fetch(`${s.url}/evidence`)).json()) as { id: string }[];
    expect(list.map((e) => e.id)).toEqual(Array.from({ length: EVIDENCE_PER_ORIGIN }, (_, i) => hex(i))); // the first ones
    const status = (await (await fetch(`${s.url}/status.json`)).json()) as { logs: { origin: string; evidence: { count: number; refused?: number } }[] };
    expect(status.logs.find((l) => l.origin === ORIGIN)!.evidence).toMatchObject({ count: EVIDENCE_PER_ORIGIN, refused: 500 - EVIDENCE_PER_ORIGIN });
    expect(await (await fetch(`${s.url}/`)).text()).toContain(`(${500 - EVIDENCE_PER_ORIGIN} more not stored)`);
  });
});
