// Hostile and greedy HTTP clients (an audit of the HTTP entry points, 2026-12-08): each `describe`
// is one finding (F1-F6), and each test failed before its fix.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { SubtreeSigner } from '../../src/witness/sign-subtree.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { clientKey, createWitnessServer, type WitnessServerOptions } from '../../src/http/server.js';
import { registerDistributorRoutes, distributorSource, distributorLogId } from '../../src/http/distributor.js';
import { formatSignSubtreeBody } from '../../src/witness/subtree-request.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner, generateKey, parseCosignatureVkey, parseNote, parseVkey, signNote, VerifierSet } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { subtreeConsistencyProof, subtreeHash } from '../../src/merkle/subtree.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { mlDsa44, setMlDsa44Backend } from '../../src/crypto/mldsa.js';

const NAME = 'witness.example/w1';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A witness with sign-subtree (ML-DSA-44) over one Ed25519 log at size 16, cosigned at 16. */
async function subtreeSetup(limits: { burst?: number; cacheEntries?: number } = {}) {
  const log = new TestLog('example.com/log').append(16);
  const ed = generateKey(NAME);
  const pq = mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(11));
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: [{ origin: log.origin, verifiers: [parseVkey(log.key.vkey)] }] });
  await registry.start();
  const witness = new Witness({ store, logs: registry, cosigners: [cosigner(ed), pq.cosigner()] });
  const subtreeSigner = new SubtreeSigner({
    logs: registry,
    ownKeys: [parseCosignatureVkey(ed.cosignatureVkey), parseCosignatureVkey(pq.vkey)],
    signers: [pq],
    perClientBurst: limits.burst ?? 20,
    perClientPerSecond: 0.001,
    ...(limits.cacheEntries !== undefined ? { cacheEntries: limits.cacheEntries } : {}),
  });
  const app = createWitnessServer({ witness, store, logs: registry, subtreeSigner });
  cleanups.push(() => app.close());
  const r = await witness.addCheckpoint(new TextEncoder().encode(formatAddCheckpointBody(0n, [], log.checkpoint())));
  if (r.kind !== 'cosigned') throw new Error('not cosigned');
  const ref = parseNote(log.checkpoint()).text + '\n' + r.lines;
  const body = (start: bigint, end: bigint, reference = ref) =>
    formatSignSubtreeBody(start, end, subtreeHash(start, end, log.tree.hasher), subtreeConsistencyProof(start, end, 16n, log.tree.hasher), reference);
  const post = (payload: string, remoteAddress: string) => app.inject({ method: 'POST', url: '/sign-subtree', payload, headers: { 'content-type': 'text/plain' }, remoteAddress });
  return { app, ref, body, post };
}

describe('F1 sign-subtree per-client limit: one IPv6 /64 is one client', () => {
  it('addresses of one /64 share a bucket (else a host with a /64 has 2^64 buckets)', async () => {
    const t = await subtreeSetup({ burst: 1 });
    expect((await t.post(t.body(8n, 16n), '2001:db8:1:2::1')).statusCode).toBe(200);
    // Same /64, next address (privacy addresses, or any address the host assigns itself): still a miss to sign.
    const r = await t.post(t.body(0n, 8n), '2001:db8:1:2::2');
    expect(r.statusCode).toBe(429);
  });
});

describe('F2 sign-subtree answer cache: keyed on the whole note, junk lines make new entries', () => {
  it('one client cannot evict another client\'s cached answer by re-sending the same subtree with junk signature lines', async () => {
    const t = await subtreeSetup({ cacheEntries: 4, burst: 20 });
    const victim = t.body(8n, 16n);
    expect((await t.post(victim, '192.0.2.1')).statusCode).toBe(200);
    expect((await t.post(victim, '192.0.2.1')).headers['x-cached']).toBe('true');
    // The attacker asks for the very same subtree and hash, only adding an unknown-key line each time
    // (the answer depends on (origin, start, end, hash) only; the extra lines are never verified).
    const [text, sigs] = t.ref.split('\n\n');
    for (let i = 0; i < 4; i++) {
      const junk = signNote(text + '\n', [generateKey(`junk.example/${i}`)]).split('\n\n')[1];
      const r = await t.post(t.body(8n, 16n, `${text}\n\n${sigs}${junk}`), '198.51.100.9');
      expect(r.statusCode).toBe(200);
    }
    // Fails today: the victim's answer was evicted by 4 copies of the same answer.
    expect((await t.post(victim, '192.0.2.1')).headers['x-cached']).toBe('true');
  });
});

describe('F3 add-checkpoint: ML-DSA-44 log lines are all verified up front', () => {
  it('100 copies of a trusted 0x06 line (or 99 junk ones) cost at most a couple of ML-DSA-44 verifications, not 100', async () => {
    const ORIGIN = 'example.com/pq-log';
    const pq = mlDsa44KeyFromSeed(ORIGIN, new Uint8Array(32).fill(9));
    const tree = new MemoryTree();
    for (let i = 0; i < 5; i++) tree.append(new TextEncoder().encode(`leaf ${i}`));
    const text = formatCheckpoint({ origin: ORIGIN, size: tree.size, root: tree.root() });
    const note = signNote(text, [pq.logSigner(() => 1_800_000_000n)]);
    const line = note.split('\n\n')[1];
    const store = new MemoryStore();
    const registry = new LogRegistryImpl({ inline: [{ origin: ORIGIN, verifiers: [pq.verifier] }] });
    await registry.start();
    const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey(NAME))] });
    const app = createWitnessServer({ witness, store, logs: registry });
    cleanups.push(() => app.close());
    const real = mlDsa44();
    let calls = 0;
    setMlDsa44Backend({ ...real, verifyAsync: (p, m, s) => (calls++, real.verifyAsync(p, m, s)), verify: (p, m, s) => (calls++, real.verify(p, m, s)) });
    cleanups.push(() => setMlDsa44Backend(real));
    // (a) the log's one valid line, 100 times (a public checkpoint is all an attacker needs).
    const t0 = performance.now();
    const a = await app.inject({ method: 'POST', url: '/add-checkpoint', payload: formatAddCheckpointBody(0n, [], text + '\n' + line.repeat(100)) });
    const ms = performance.now() - t0;
    expect(a.statusCode).toBe(200);
    const copies = calls;
    // (b) the valid line, then 99 lines under the log's key with wrong signature bytes: 403 after the first failure.
    const raw = Buffer.from(line.trim().split(' ').pop()!, 'base64');
    const junk = Array.from({ length: 99 }, (_, i) => {
      const b = Buffer.from(raw);
      b[b.length - 1 - (i % 200)] ^= 0x55;
      return `\u2014 ${ORIGIN} ${b.toString('base64')}\n`;
    }).join('');
    calls = 0;
    const b = await app.inject({ method: 'POST', url: '/add-checkpoint', payload: formatAddCheckpointBody(5n, [], text + '\n' + line + junk) });
    expect(b.statusCode).toBe(403);
    const junkCalls = calls;
    console.log(`ML-DSA-44 verifications: 100 copies -> ${copies} (${ms.toFixed(0)} ms), 1 good + 99 junk -> ${junkCalls}`);
    expect(copies).toBeLessThanOrEqual(2);
    expect(junkCalls).toBeLessThanOrEqual(2);
  });
});

describe('F4 connection slots: no per-client cap', () => {
  it('one client holding every slot with idle keep-alive connections does not lock out another client', async () => {
    const store = new MemoryStore();
    const registry = new LogRegistryImpl({ inline: [] });
    const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey(NAME))] });
    const app = createWitnessServer({ witness, store, logs: registry, maxConnections: 8 } as WitnessServerOptions);
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    // The "attacker" (127.0.0.2): 8 keep-alive connections, one tiny request each, then idle (keepAliveTimeout is 65 s).
    for (let i = 0; i < 8; i++) {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      cleanups.push(() => s.destroy());
      s.on('error', () => {});
      await new Promise<void>((r) => {
        s.once('data', () => r());
        s.once('close', () => r()); // refused (with a per-client cap)
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    }
    // An honest client from another address.
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
      cleanups.push(() => s.destroy());
      let out = '';
      const t = setTimeout(() => resolve(out || '<timeout>'), 3000);
      s.on('data', (d) => {
        out += d.toString();
        clearTimeout(t);
        resolve(out);
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(`<${e.code}>`));
      s.on('close', () => resolve(out || '<closed>'));
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('F4 connection slots: trusted proxies and client keys', () => {
  it('a proxy listed in http.trustProxy (here as a CIDR) is exempt from the per-client share', async () => {
    const store = new MemoryStore();
    const registry = new LogRegistryImpl({ inline: [] });
    const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey(NAME))] });
    const app = createWitnessServer({ witness, store, logs: registry, maxConnections: 8, maxConnectionsPerClient: 1, trustProxy: ['127.0.0.0/30'] } as WitnessServerOptions);
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      cleanups.push(() => s.destroy());
      s.on('error', () => {});
      answers.push(
        await new Promise<string>((r) => {
          s.once('data', (d) => r(d.toString('latin1').split('\r\n')[0]));
          s.once('close', () => r('<closed>'));
          s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        }),
      );
    }
    expect(answers).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
    // Not a proxy: its second connection is closed on arrival.
    const a = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.5' });
    cleanups.push(() => a.destroy());
    a.on('error', () => {});
    await new Promise<void>((r) => a.once('connect', () => r()));
    const b = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.5' });
    cleanups.push(() => b.destroy());
    b.on('error', () => {});
    const second = await new Promise<string>((r) => {
      b.once('data', (d) => r(d.toString('latin1').split('\r\n')[0]));
      b.once('close', () => r('<closed>'));
      b.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(second).toBe('<closed>');
  });

  it('clientKey: an IPv4 address, an IPv4-mapped one unwrapped, an IPv6 address by its /64', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:1:2::1')).toBe(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('fe80::1%eth0')).toBe(clientKey('fe80::2'));
  });
});

describe('F5 Expect: 100-continue', () => {
  it('a Content-Length over the body limit is answered 413 at once, not "100 Continue" (which makes the client upload it all)', async () => {
    const store = new MemoryStore();
    const registry = new LogRegistryImpl({ inline: [] });
    const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey(NAME))] });
    const app = createWitnessServer({ witness, store, logs: registry });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as net.AddressInfo).port;
    const first = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      cleanups.push(() => s.destroy());
      s.on('error', () => {});
      s.once('data', (d) => resolve(d.toString('latin1').split('\r\n')[0]));
      s.write('POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n');
    });
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('F6 distributor checkpoint.N: N outside 1..100', () => {
  it('checkpoint.0 and checkpoint.101 are 400s, as transparency-dev/distributor answers (not 200 / 404)', async () => {
    const log = new TestLog('example.com/log').append(8);
    const store = new MemoryStore();
    const registry = new LogRegistryImpl({ inline: [{ origin: log.origin, verifiers: [parseVkey(log.key.vkey)] }] });
    await registry.start();
    const witness = new Witness({ store, logs: registry, cosigners: [cosigner(generateKey(NAME))] });
    const app = createWitnessServer({ witness, store, logs: registry });
    cleanups.push(() => app.close());
    registerDistributorRoutes(app, distributorSource({ store, origins: () => [log.origin], logKeys: () => new VerifierSet([parseVkey(log.key.vkey)]), witnesses: [] }));
    expect((await witness.addCheckpoint(new TextEncoder().encode(formatAddCheckpointBody(0n, [], log.checkpoint())))).kind).toBe('cosigned');
    const get = (f: string) => app.inject({ method: 'GET', url: `/distributor/v0/logs/${distributorLogId(log.origin)}/${f}` });
    expect((await get('checkpoint.1')).statusCode).toBe(200);
    expect((await get('checkpoint.0')).statusCode).toBe(400);
    expect((await get('checkpoint.101')).statusCode).toBe(400);
  });
});
