import { DEFAULT_BODY_LIMIT } from '../../src/http/server.js';
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { makeWitness, addBody, type TestWitness } from './helpers.js';
import { generateKey, openNote, parseCosignatureVkey, parseVkey, signNote } from '../../src/note/index.js';
import { cosignatureTimestamp } from '../../src/note/index.js';
import { formatCheckpoint, originHash } from '../../src/checkpoint/checkpoint.js';
import { decodeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { HTTP_STATUS, REJECT_STATUS, STATUS_OF, SUBTREE_REJECT_STATUS } from '../../src/http/status.js';
import { ERROR_CODES } from '../../src/errors.js';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { createWitnessServer } from '../../src/http/server.js';
import { createWitnessMetrics } from '../../src/http/metrics.js';
import { cosigner } from '../../src/note/index.js';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode } from '../../src/node/witness-node.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORIGIN = 'example.com/log';
let w: TestWitness | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A witness following a fresh log at size 5 (cosigned), and the log grown to 8. */
async function atFive(opts: { qpd?: number; defaultMetrics?: boolean } = {}) {
  const log = new TestLog(ORIGIN).append(8);
  w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey], qpd: opts.qpd }], defaultMetrics: opts.defaultMetrics });
  const r = await w.post(addBody(0, [], log.checkpoint(5n)));
  expect(r.statusCode).toBe(200);
  return { log, w };
}

function sigLines(body: string): string[] {
  return body.split('\n').filter((l) => l !== '');
}

describe('POST /add-checkpoint: the status table (src/http/status.ts)', () => {
  it('maps every rejection code to its status', () => {
    expect(REJECT_STATUS).toEqual({
      malformed: 400,
      'body-too-large': 413,
      'old-size-too-large': 400,
      'unknown-log': 404,
      'bad-signature': 403,
      inconsistent: 422,
      'rate-limited': 429,
      unavailable: 503,
      'clock-behind': 503,
    });
  });

  it('one table (STATUS_OF) for every witness error code; the endpoint views and HTTP_STATUS are read from it', () => {
    expect(STATUS_OF).toEqual({
      malformed: 400,
      'old-size-too-large': 400,
      'bad-signature': 403,
      'unknown-log': 404,
      stale: 409,
      inconsistent: 422,
      'rate-limited': 429,
      unavailable: 503,
      'clock-behind': 503,
      'not-enabled': 404,
      'empty-body': 400,
      'bad-query': 400,
      'not-found': 404,
      'method-not-allowed': 405,
      'body-too-large': 413,
      internal: 500,
      'not-ready': 503,
    });
    for (const [code, status] of [...Object.entries(REJECT_STATUS), ...Object.entries(SUBTREE_REJECT_STATUS)]) expect(STATUS_OF[code as keyof typeof STATUS_OF], code).toBe(status);
    expect(HTTP_STATUS).toMatchObject({ emptyBody: 400, badQuery: 400, bodyTooLarge: 413, notFound: 404, methodNotAllowed: 405, internal: 500, unavailable: 503 });
    // A 5xx is a bug or "not now"; a 4xx never is (429 asks the client to slow down: transient too).
    for (const [code, status] of Object.entries(STATUS_OF)) {
      const kind = ERROR_CODES[code as keyof typeof ERROR_CODES];
      if (status >= 500) expect(['INTERNAL', 'UNAVAILABLE'], code).toContain(kind);
      else if (status !== 429) expect(['INTERNAL', 'UNAVAILABLE'], code).not.toContain(kind);
    }
  });

  it('200: the body is only the witness cosignature lines, and they verify', async () => {
    const log = new TestLog(ORIGIN).append(3);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    const note = log.checkpoint();
    const r = await w.post(addBody(0, [], note));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    const lines = sigLines(r.body);
    expect(lines).toHaveLength(1);
    expect(r.body.endsWith('\n')).toBe(true);
    for (const l of lines) expect(l.startsWith(`\u2014 ${w.key.name} `)).toBe(true);
    expect(r.body).not.toContain(log.key.name);
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const opened = openNote(text + '\n' + r.body, [parseCosignatureVkey(w.key.cosignatureVkey)]);
    expect(opened.verified).toHaveLength(1);
    expect(cosignatureTimestamp(opened.verified[0].sig)).toBe(BigInt(Math.floor(w.clock.ms / 1000)));
    // Also as a 0x01 vkey, as witnesses often publish theirs.
    expect(openNote(text + '\n' + r.body, [parseCosignatureVkey(w.key.vkey)]).verified).toHaveLength(1);
  });

  it('409: text/x.tlog.size with "<size>\\n"', async () => {
    const { log, w } = await atFive();
    const r = await w.post(addBody(3, [], log.checkpoint(8n)));
    expect(r.statusCode).toBe(409);
    expect(r.headers['content-type']).toBe('text/x.tlog.size');
    expect(r.body).toBe('5\n');
  });

  it('404 for an unknown origin, and for a disabled log', async () => {
    const log = new TestLog('other.example/log').append(2);
    const disabled = new TestLog('disabled.example/log').append(2);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [generateKey(ORIGIN).vkey] }, { origin: disabled.origin, vkeys: [disabled.key.vkey], disabled: true }] });
    for (const l of [log, disabled]) {
      const r = await w.post(addBody(0, [], l.checkpoint()));
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.body).toMatch(/^unknown log origin .*\n$/);
    }
  });

  it('403 for a signature by another key with the log name, and for a bad signature', async () => {
    const log = new TestLog(ORIGIN).append(2);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    const impostor = generateKey(log.key.name);
    const text = formatCheckpoint({ origin: ORIGIN, size: 2n, root: log.tree.root(2n) });
    let r = await w.post(addBody(0, [], signNote(text, [impostor])));
    expect(r.statusCode).toBe(403);
    // Same key ID, altered signature bytes.
    const good = log.checkpoint();
    const i = good.lastIndexOf(' ') + 10;
    const bad = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1);
    r = await w.post(addBody(0, [], bad));
    expect(r.statusCode).toBe(403);
    expect(r.body).toMatch(/invalid signature/);
  });

  it('422 for a bad consistency proof, a non-empty proof with old 0, a size-0 checkpoint with a wrong root', async () => {
    const { log, w } = await atFive();
    const proof = log.tree.consistencyProof(5n, 8n);
    const wrong = proof.map((h, i) => (i === 0 ? new Uint8Array(32).fill(7) : h));
    expect((await w.post(addBody(5, wrong, log.checkpoint(8n)))).statusCode).toBe(422);
    expect((await w.post(addBody(5, [], log.checkpoint(8n)))).statusCode).toBe(422);

    const fresh = new TestLog('fresh.example/log').append(3);
    const w2 = makeWitness({ logs: [{ origin: fresh.origin, vkeys: [fresh.key.vkey] }] });
    try {
      expect((await w2.post(addBody(0, [new Uint8Array(32)], fresh.checkpoint()))).statusCode).toBe(422);
      const zero = signNote(formatCheckpoint({ origin: fresh.origin, size: 0n, root: new Uint8Array(32) }), [fresh.key]);
      expect((await w2.post(addBody(0, [], zero))).statusCode).toBe(422);
      expect((await w2.post(addBody(0, [], fresh.checkpoint(0n)))).statusCode).toBe(200);
    } finally {
      await w2.close();
    }
  });

  it('400 for old > size, garbage, an empty body, a missing body', async () => {
    const { log, w } = await atFive();
    expect((await w.post(addBody(8, [], log.checkpoint(5n)))).statusCode).toBe(400);
    for (const body of ['garbage', 'old 5\n', 'old x\n\nfoo\n', '\n\n', '']) {
      const r = await w.post(body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatch(/^[^\n]+\n$/);
    }
    const r = await w.app.inject({ method: 'POST', url: '/add-checkpoint' });
    expect(r.statusCode).toBe(400);
  });

  it('413 for a body over the limit, with a clear message', async () => {
    const { log, w } = await atFive();
    const r = await w.post(addBody(5, [], log.checkpoint(5n)) + 'x'.repeat(DEFAULT_BODY_LIMIT));
    expect(r.statusCode).toBe(413);
    expect(r.body).toBe(`request body too large: the limit is ${DEFAULT_BODY_LIMIT} bytes\n`);
    const small = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }], bodyLimit: 2048 });
    try {
      expect((await small.post('y'.repeat(2049))).statusCode).toBe(413);
      expect((await small.post(addBody(0, [], log.checkpoint(5n)))).statusCode).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('accepts the body whatever the Content-Type (none, JSON, form, malformed)', async () => {
    const { log, w } = await atFive();
    const body = addBody(5, [], log.checkpoint(5n));
    for (const headers of [{}, { 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'text/plain; charset=utf-8' }, { 'content-type': ';;garbage' }]) {
      const r = await w.post(body, headers as Record<string, string>);
      expect(r.statusCode, JSON.stringify(headers)).toBe(200);
    }
  });

  it('other methods on /add-checkpoint get 405; unknown paths 404', async () => {
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [generateKey(ORIGIN).vkey] }] });
    const r = await w.get('/add-checkpoint');
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('POST');
    expect((await w.get('/nope')).statusCode).toBe(404);
  });

  it('429 with Retry-After when an advancing request is over the qpd budget', async () => {
    const { log, w } = await atFive({ qpd: 24 }); // a bucket of 1: the first request used it
    const r = await w.post(addBody(5, log.tree.consistencyProof(5n, 8n), log.checkpoint(8n)));
    expect(r.statusCode).toBe(429);
    const retry = Number(r.headers['retry-after']);
    expect(Number.isInteger(retry) && retry > 0).toBe(true);
    expect(r.body).toMatch(/qpd/);
    w.clock.ms += retry * 1000;
    expect((await w.post(addBody(5, log.tree.consistencyProof(5n, 8n), log.checkpoint(8n)))).statusCode).toBe(200);
  });
});

describe('the interop matrix (shared/interop/README.md §4, spec column)', () => {
  it('answers every row as the spec says', async () => {
    const log = new TestLog(ORIGIN).append(8);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    const fork = log.fork(3n).append(2, 'evil');
    const rows: [string, () => string, number, ((b: string, ct: string | undefined) => void)?][] = [
      ['first old 0, valid', () => addBody(0, [], log.checkpoint(5n)), 200, (b) => expect(b).toMatch(/^\u2014 witness\.example\/w1 \S+\n$/)],
      ['stale old size', () => addBody(2, [], log.checkpoint(8n)), 409, (b, ct) => (expect(b).toBe('5\n'), expect(ct).toBe('text/x.tlog.size'))],
      ['unknown origin', () => addBody(0, [], new TestLog('unknown.example/log').append(1).checkpoint()), 404],
      ['signature by another key with the log name', () => addBody(5, [], signNote(formatCheckpoint({ origin: ORIGIN, size: 5n, root: log.tree.root(5n) }), [generateKey(log.key.name)])), 403],
      ['bad consistency proof', () => addBody(5, log.tree.consistencyProof(4n, 8n), log.checkpoint(8n)), 422],
      ['old > checkpoint size', () => addBody(6, [], log.checkpoint(5n)), 400],
      ['garbage body', () => 'garbage\x00\xff', 400],
      ['same size, same root, empty proof', () => addBody(5, [], log.checkpoint(5n)), 200],
      ['same size, different root', () => addBody(5, [], fork.checkpoint(5n)), 422],
      ['non-empty proof with old == size', () => addBody(5, [log.tree.root(5n)], log.checkpoint(5n)), 422],
    ];
    for (const [name, body, status, check] of rows) {
      const r = await w.post(body());
      expect(r.statusCode, name).toBe(status);
      check?.(r.body, r.headers['content-type'] as string | undefined);
    }
  });
});

describe('GET /<hex SHA-256(origin)>/checkpoint (monitoring)', () => {
  it('404 before anything is cosigned, then the latest cosigned checkpoint', async () => {
    const log = new TestLog(ORIGIN).append(8);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    const path = `/${originHash(ORIGIN)}/checkpoint`;
    expect((await w.get(path)).statusCode).toBe(404);
    expect((await w.post(addBody(0, [], log.checkpoint(5n)))).statusCode).toBe(200);
    let r = await w.get(path);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body.startsWith(`${ORIGIN}\n5\n`)).toBe(true);
    expect(openNote(r.body, [parseVkey(log.key.vkey)]).verified).toHaveLength(1);
    expect(openNote(r.body, [parseCosignatureVkey(w.key.cosignatureVkey)]).verified).toHaveLength(1);

    expect((await w.post(addBody(5, log.tree.consistencyProof(5n, 8n), log.checkpoint(8n)))).statusCode).toBe(200);
    r = await w.get(path);
    expect(r.body.startsWith(`${ORIGIN}\n8\n`)).toBe(true);
    // HEAD works too (exposed head routes).
    expect((await w.app.inject({ method: 'HEAD', url: path })).statusCode).toBe(200);
  });

  it('matches only exactly 64 lowercase hex digits of a followed origin', async () => {
    const log = new TestLog(ORIGIN).append(1);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    await w.post(addBody(0, [], log.checkpoint()));
    const h = originHash(ORIGIN);
    expect((await w.get(`/${h}/checkpoint`)).statusCode).toBe(200);
    for (const bad of [h.toUpperCase(), h.slice(1), h + '0', originHash('unknown.example/log'), 'x'.repeat(64)]) {
      const r = await w.get(`/${bad}/checkpoint`);
      expect(r.statusCode, bad).toBe(404);
    }
  });
});

describe('evidence and suspects', () => {
  it('a same-size, different-root submission is listed as evidence, served canonically, and verifies', async () => {
    const { log, w } = await atFive();
    expect(JSON.parse((await w.get('/evidence')).body)).toEqual([]);
    const fork = log.fork(2n).append(3, 'evil');
    const r = await w.post(addBody(5, [], fork.checkpoint(5n)));
    expect(r.statusCode).toBe(422);
    const list = await w.get('/evidence');
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toMatch(/^application\/json/);
    const items = JSON.parse(list.body) as { id: string; origin: string; receivedAt: string }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f]{64}$/), origin: ORIGIN, receivedAt: new Date(w.clock.ms).toISOString() });
    expect(JSON.parse((await w.get(`/evidence?origin=${encodeURIComponent(ORIGIN)}`)).body)).toHaveLength(1);
    expect(JSON.parse((await w.get('/evidence?origin=other')).body)).toHaveLength(0);

    const one = await w.get(`/evidence/${items[0].id}`);
    expect(one.statusCode).toBe(200);
    expect(one.headers['content-type']).toBe('application/json');
    const bytes = new Uint8Array(one.rawPayload);
    expect(decodeEvidence(bytes).origin).toBe(ORIGIN);
    expect(verifyEvidence(bytes, () => [parseVkey(log.key.vkey)]).ok).toBe(true);
    expect((await w.get(`/evidence/${'0'.repeat(64)}`)).statusCode).toBe(404);
    expect((await w.get('/evidence/not-an-id')).statusCode).toBe(404);
    // Submitting it again stores nothing new.
    await w.post(addBody(5, [], fork.checkpoint(5n)));
    expect(JSON.parse((await w.get('/evidence')).body)).toHaveLength(1);
  });

  it('a log-signed checkpoint with a failing proof is a suspect (bigints as strings, proofs base64)', async () => {
    const { log, w } = await atFive();
    const proof = log.tree.consistencyProof(4n, 8n);
    expect((await w.post(addBody(5, proof, log.checkpoint(8n)))).statusCode).toBe(422);
    const r = await w.get('/suspects');
    expect(r.statusCode).toBe(200);
    const items = JSON.parse(r.body);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ origin: ORIGIN, oldSize: '5', proof: proof.map((h) => Buffer.from(h).toString('base64')), receivedAt: new Date(w.clock.ms).toISOString() });
    expect(items[0].held.startsWith(`${ORIGIN}\n5\n`)).toBe(true);
    expect(items[0].submitted.startsWith(`${ORIGIN}\n8\n`)).toBe(true);
    expect(typeof items[0].reason).toBe('string');
  });
});

describe('GET /metrics and /healthz', () => {
  it('exposes the witness counters, the size gauge, the duration histogram and process metrics', async () => {
    const { log, w } = await atFive({ defaultMetrics: true });
    await w.post(addBody(3, [], log.checkpoint(8n))); // 409
    await w.post(addBody(0, [], new TestLog('unknown.example/log').append(1).checkpoint())); // 404
    await w.post(addBody(5, [], log.fork(1n).append(4, 'evil').checkpoint(5n))); // evidence
    await w.post(addBody(5, log.tree.consistencyProof(4n, 8n), log.checkpoint(8n))); // suspect
    await w.post('junk'); // 400
    const r = await w.get('/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const m = r.body;
    expect(m).toContain(`witness_add_checkpoint_requests_total{origin="${ORIGIN}",status="200"} 1`);
    expect(m).toContain(`witness_add_checkpoint_requests_total{origin="${ORIGIN}",status="409"} 1`);
    expect(m).toContain(`witness_add_checkpoint_requests_total{origin="${ORIGIN}",status="422"} 2`);
    expect(m).toContain('witness_add_checkpoint_requests_total{origin="unknown",status="404"} 1');
    expect(m).toContain('witness_add_checkpoint_requests_total{origin="unknown",status="400"} 1');
    expect(m).not.toContain('unknown.example/log');
    expect(m).toContain(`witness_cosignatures_total{origin="${ORIGIN}"} 1`);
    expect(m).toContain(`witness_evidence_total{origin="${ORIGIN}"} 1`);
    expect(m).toContain(`witness_suspects_total{origin="${ORIGIN}"} 1`);
    expect(m).toContain(`witness_log_size{origin="${ORIGIN}"} 5`);
    expect(m).toMatch(/witness_request_duration_seconds_bucket\{le="[0-9.]+",route="\/add-checkpoint"\} \d+/);
    expect(m).toContain('process_cpu_user_seconds_total');
  });

  it('healthz', async () => {
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [generateKey(ORIGIN).vkey] }] });
    const r = await w.get('/healthz');
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('ok\n');
  });
});

describe('qpd budget', () => {
  it('a replayed identical checkpoint never consumes budget; an advancing one over budget gets 429', async () => {
    const log = new TestLog(ORIGIN).append(8);
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey], qpd: 1 }] });
    // State at size 5, stored directly so that no budget was used to get there.
    const note5 = log.checkpoint(5n);
    await w.store.compareAndSet(ORIGIN, 0n, { size: 5n, root: log.tree.root(5n), note: note5, cosigned: note5, updatedAt: w.clock.ms });
    for (let i = 0; i < 1000; i++) {
      const r = await w.post(addBody(5, [], note5));
      if (r.statusCode !== 200) throw new Error(`replay ${i}: ${r.statusCode} ${r.body}`);
    }
    // Stale requests do not consume it either.
    for (let i = 0; i < 50; i++) expect((await w.post(addBody(0, [], note5))).statusCode).toBe(409);
    expect((await w.post(addBody(5, log.tree.consistencyProof(5n, 8n), log.checkpoint(8n)))).statusCode).toBe(200);
    log.append(2);
    const r = await w.post(addBody(8, log.tree.consistencyProof(8n, 10n), log.checkpoint(10n)));
    expect(r.statusCode).toBe(429);
    const retry = Number(r.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(86400);
    // Replays of the current checkpoint still succeed while over budget.
    expect((await w.post(addBody(8, [], log.checkpoint(8n)))).statusCode).toBe(200);
  });
});

describe('unexpected failures', () => {
  it('an exception inside the witness is a logged 500 with a plain-text body, counted under its origin', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const log = new TestLog(ORIGIN).append(1);
    const store = new MemoryStore();
    const logs = new LogRegistryImpl({ inline: [{ origin: ORIGIN, verifiers: [parseVkey(log.key.vkey)] }] });
    const signer = cosigner(generateKey('w'));
    const broken = { ...signer, sign: (): Uint8Array => { throw new Error('signer on fire'); } };
    const witness = new Witness({ store, logs, cosigners: [broken] });
    const metrics = createWitnessMetrics({ defaultMetrics: false });
    const app = createWitnessServer({ witness, store, logs, logger, metrics });
    try {
      const r = await app.inject({ method: 'POST', url: '/add-checkpoint', payload: addBody(0, [], log.checkpoint()) });
      expect(r.statusCode).toBe(500);
      expect(r.body).toBe('internal error\n');
      expect(r.body).not.toContain('signer on fire');
      expect(lines.some((l) => l.includes('"level":50') && l.includes('signer on fire'))).toBe(true);
      expect(await metrics.text()).toContain(`witness_add_checkpoint_requests_total{origin="${ORIGIN}",status="500"} 1`);
    } finally {
      await app.close();
    }
  });

  it('an exception from the store is a 503 with the reason and Retry-After, never a 500 (issue 13)', async () => {
    const log = new TestLog(ORIGIN).append(1);
    const store = new MemoryStore();
    store.getState = async () => {
      throw new Error('disk on fire');
    };
    const logs = new LogRegistryImpl({ inline: [{ origin: ORIGIN, verifiers: [parseVkey(log.key.vkey)] }] });
    const witness = new Witness({ store, logs, cosigners: [cosigner(generateKey('w'))] });
    const app = createWitnessServer({ witness, store, logs });
    try {
      const r = await app.inject({ method: 'POST', url: '/add-checkpoint', payload: addBody(0, [], log.checkpoint()) });
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain('disk on fire');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});

describe('startWitnessNode: graceful close', () => {
  it('finishes an in-flight request, then refuses new connections and closes the store', async () => {
    const log = new TestLog(ORIGIN).append(3);
    const dir = mkdtempSync(join(tmpdir(), 'gw-node-'));
    try {
      const config = parseConfig(`name: witness.example/w1\nkey: w.key\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${ORIGIN}, vkeys: ["${log.key.vkey}"] }\n`, join(dir, 'w.yaml'));
      const store = new MemoryStore();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const cas = store.compareAndSet.bind(store);
      store.compareAndSet = async (...args) => {
        entered();
        await gate;
        return cas(...args);
      };
      const node = await startWitnessNode(config, { store });
      expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const inflight = fetch(`${node.url}/add-checkpoint`, { method: 'POST', body: addBody(0, [], log.checkpoint()) });
      await inside;
      const closed = node.close();
      release();
      const r = await inflight;
      expect(r.status).toBe(200);
      expect(openNote(log.checkpoint().split('\n\n')[0] + '\n\n' + (await r.text()), [parseCosignatureVkey(node.vkeys[0])]).verified).toHaveLength(1);
      await closed;
      await expect(store.getState(ORIGIN)).rejects.toThrow(/closed/);
      await expect(fetch(`${node.url}/healthz`)).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
