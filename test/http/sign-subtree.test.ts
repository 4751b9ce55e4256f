// POST /sign-subtree over HTTP: every status code through the one status table, per-client rate
// limit by IP, cache marker, metrics, 404 without an ML-DSA-44 key, 405 for other methods.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { TestLog } from '../helpers/fork.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { SubtreeSigner } from '../../src/witness/sign-subtree.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { createWitnessMetrics } from '../../src/http/metrics.js';
import { createWitnessServer } from '../../src/http/server.js';
import { SUBTREE_REJECT_STATUS } from '../../src/http/status.js';
import { formatSignSubtreeBody } from '../../src/witness/subtree-request.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner, generateKey, parseCosignatureVkey, parseNote, parseVkey } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed, parseMlDsa44Vkey } from '../../src/note/mldsa-keys.js';
import { subtreeConsistencyProof, subtreeHash } from '../../src/merkle/subtree.js';

const NAME = 'witness.example/w1';
let apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps) await a.close();
  apps = [];
});

async function setup(opts: { mlDsa?: boolean; burst?: number; bodyLimit?: number; trustProxy?: string[] } = {}) {
  const log = new TestLog('example.com/log').append(16);
  const ed = generateKey(NAME);
  const pq = mlDsa44KeyFromSeed(NAME, new Uint8Array(32).fill(11));
  const store = new MemoryStore();
  const registry = new LogRegistryImpl({ inline: [{ origin: log.origin, verifiers: [parseVkey(log.key.vkey)] }] });
  await registry.start();
  const metrics = createWitnessMetrics({ defaultMetrics: false });
  const cosigners = [cosigner(ed), ...(opts.mlDsa === false ? [] : [pq.cosigner()])];
  const witness = new Witness({ store, logs: registry, cosigners });
  const subtreeSigner = new SubtreeSigner({ logs: registry, ownKeys: [parseCosignatureVkey(ed.cosignatureVkey), parseCosignatureVkey(pq.vkey)], signers: opts.mlDsa === false ? [] : [pq], perClientBurst: opts.burst ?? 20, perClientPerSecond: 0.001 });
  const app = createWitnessServer({ witness, store, logs: registry, metrics, subtreeSigner, bodyLimit: opts.bodyLimit, trustProxy: opts.trustProxy });
  apps.push(app);
  const r = await witness.addCheckpoint(new TextEncoder().encode(formatAddCheckpointBody(0n, [], log.checkpoint())));
  if (r.kind !== 'cosigned') throw new Error('not cosigned');
  const ref = parseNote(log.checkpoint()).text + '\n' + r.lines;
  const body = (start: bigint, end: bigint, reference = ref) =>
    formatSignSubtreeBody(start, end, subtreeHash(start, end, log.tree.hasher), subtreeConsistencyProof(start, end, 16n, log.tree.hasher), reference);
  const post = (payload: string, remoteAddress = '127.0.0.1', headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/sign-subtree', payload, headers: { 'content-type': 'text/plain', ...headers }, remoteAddress });
  return { log, pq, app, metrics, ref, body, post };
}

describe('POST /sign-subtree', () => {
  it('200 with the subtree/v1 line; a repeat is served from the cache (x-cached, counted)', async () => {
    const t = await setup();
    const a = await t.post(t.body(8n, 16n));
    expect(a.statusCode).toBe(200);
    expect(a.headers['content-type']).toMatch(/^text\/plain/);
    const sig = parseNote(`x\n\n${a.body}`).signatures;
    expect(sig).toHaveLength(1);
    expect(parseMlDsa44Vkey(t.pq.vkey).verifySubtree({ origin: t.log.origin, start: 8n, end: 16n, hash: subtreeHash(8n, 16n, t.log.tree.hasher) }, sig[0].sig)).toBe(true);
    const b = await t.post(t.body(8n, 16n));
    expect(b.statusCode).toBe(200);
    expect(b.headers['x-cached']).toBe('true');
    const text = await t.metrics.text();
    expect(text).toContain('witness_sign_subtree_requests_total{status="200",cached="false"} 1');
    expect(text).toContain('witness_sign_subtree_requests_total{status="200",cached="true"} 1');
  });

  it('maps every rejection through the status table: 400, 422, 404, 403, 429 (with Retry-After)', async () => {
    const t = await setup({ burst: 1 });
    expect(SUBTREE_REJECT_STATUS).toEqual({ malformed: 400, inconsistent: 422, 'unknown-log': 404, 'bad-signature': 403, 'rate-limited': 429, 'not-enabled': 404 });
    expect((await t.post('')).statusCode).toBe(400);
    expect((await t.post('subtree 1 3\n' + Buffer.alloc(32).toString('base64') + '\n\n' + t.ref)).statusCode).toBe(400);
    const bad = t.body(8n, 16n).split('\n');
    bad[2] = Buffer.alloc(32, 3).toString('base64');
    expect((await t.post(bad.join('\n'))).statusCode).toBe(422);
    const other = new TestLog('example.com/other').append(16);
    const otherBody = formatSignSubtreeBody(8n, 16n, subtreeHash(8n, 16n, other.tree.hasher), subtreeConsistencyProof(8n, 16n, 16n, other.tree.hasher), other.checkpoint());
    expect((await t.post(otherBody)).statusCode).toBe(404);
    // 403: a log-signed checkpoint without our cosignature (this request uses the client's one token).
    expect((await t.post(t.body(8n, 16n, t.log.checkpoint()))).statusCode).toBe(403);
    const limited = await t.post(t.body(0n, 8n));
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The limit is per client IP.
    expect((await t.post(t.body(0n, 8n), '192.0.2.7')).statusCode).toBe(200);
  });

  it('404 without an ML-DSA-44 key; 405 for other methods; 413 beyond the body limit', async () => {
    const t = await setup({ mlDsa: false, bodyLimit: 2048 });
    const r = await t.post(t.body(8n, 16n));
    expect(r.statusCode).toBe(404);
    expect(r.body).toMatch(/no ML-DSA-44 key/);
    const get = await t.app.inject({ method: 'GET', url: '/sign-subtree' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await t.post('subtree 0 1\n' + 'A'.repeat(4096))).statusCode).toBe(413);
  });

  it('behind a trusted reverse proxy (http.trustProxy) the limit is per X-Forwarded-For client, and only then', async () => {
    const t = await setup({ burst: 1, trustProxy: ['127.0.0.1'] });
    const via = (client: string) => ({ 'x-forwarded-for': client });
    expect((await t.post(t.body(8n, 16n), '127.0.0.1', via('198.51.100.1'))).statusCode).toBe(200);
    expect((await t.post(t.body(0n, 8n), '127.0.0.1', via('198.51.100.1'))).statusCode).toBe(429);
    expect((await t.post(t.body(0n, 8n), '127.0.0.1', via('198.51.100.2'))).statusCode).toBe(200);
    // An untrusted peer cannot pick its client address by sending the header.
    expect((await t.post(t.body(12n, 16n), '192.0.2.9', via('198.51.100.3'))).statusCode).toBe(200);
    expect((await t.post(t.body(14n, 16n), '192.0.2.9', via('198.51.100.4'))).statusCode).toBe(429);
  });
});
