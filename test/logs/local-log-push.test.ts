// The local log pushing checkpoints to witnesses (tlog-witness add-checkpoint client loop): to a
// real witness node over HTTP, following 409, stopping when the witness is ahead, giving up after
// 3 retries, and keeping only cosignatures that belong on the checkpoint.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalLog, filterCosignatures, pushCheckpoint, type LocalLog } from '../../src/logs/local-log/index.js';
import { openNote, parseNote, keyLabel, signatureLines } from '../../src/note/note.js';
import { cosigner, generateKey, parseCosignatureVkey, parseVkey } from '../../src/note/keys.js';
import { parseAddCheckpointBody } from '../../src/witness/request.js';
import { fetchCheckpoint, startTestWitness, waitFor, type TestWitnessNode } from './local-log-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startLog(opts: Parameters<typeof startLocalLog>[0]): Promise<LocalLog> {
  const l = await startLocalLog({ intervalMs: 0, ...opts });
  cleanups.push(() => l.stop());
  return l;
}

async function witness(name: string, log: { origin: string; vkey: string }): Promise<TestWitnessNode> {
  const w = await startTestWitness(name, log);
  cleanups.push(() => w.close());
  return w;
}

/** A tiny HTTP server answering add-checkpoint with `handler`; records request bodies. */
async function fakeWitness(handler: (body: string, req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      if (req.url !== '/add-checkpoint' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      handler(body, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}


describe('pushing to a real witness over HTTP', () => {
  it('pushes every new checkpoint on the interval and serves it with the verified cosignature', async () => {
    const key = generateKey('example.com/pushed');
    const w = await witness('witness.example/w1', { origin: 'example.com/pushed', vkey: key.vkey });
    const log = await startLog({ origin: 'example.com/pushed', key, intervalMs: 50, witnesses: [{ url: w.url, vkey: w.vkey }] });
    for (const target of [5n, 6n, 300n]) {
      const batch = Array.from({ length: Number(target - log.size()) }, (_, i) => `e${log.size() + BigInt(i)}`);
      await log.append(batch);
      // The served checkpoint at this size carries the witness's cosignature (bounded wait).
      const note = await waitFor(`a cosigned checkpoint of size ${target}`, async () => {
        const { note, checkpoint } = await fetchCheckpoint(log.url, log.vkey);
        return checkpoint.size === target && note.split('\n— ').length === 3 ? note : undefined;
      });
      // `gossip-witness note verify` semantics: the log key and the witness's cosignature key both verify.
      const opened = openNote(note, [parseVkey(log.vkey), parseVkey(w.vkey)]);
      expect(opened.verified.map((s) => s.name).sort()).toEqual(['example.com/pushed', 'witness.example/w1']);
      expect(opened.unverified).toEqual([]);
      const state = await w.node.store.getState('example.com/pushed');
      expect(state?.size).toBe(target);
    }
    const st = log.witnesses()[0];
    expect(st).toMatchObject({ size: 300n, cosignedSize: 300n, cosigned: 3, consecutiveFailures: 0 });
    // Old sizes were sent with consistency proofs (the witness stores each size in turn).
    expect(st.lastOutcome).toMatchObject({ kind: 'cosigned', oldSize: 6n, retries: 0 });
  });

  it('follows a 409 from a witness at a size the log does not expect', async () => {
    const key = generateKey('example.com/409');
    const w = await witness('witness.example/w409', { origin: 'example.com/409', vkey: key.vkey });
    const log = await startLog({ origin: 'example.com/409', key });
    await log.append(['a', 'b', 'c']);
    await log.publish();
    // Someone else fed the witness size 3.
    const pre = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${log.core.published()!.logNote}` });
    expect(pre.status).toBe(200);
    await log.append(['d', 'e', 'f', 'g', 'h', 'i', 'j']);
    log.addWitness({ url: w.url, vkey: w.vkey });
    await log.publish();
    const st = log.witnesses()[0];
    expect(st.lastOutcome).toMatchObject({ kind: 'cosigned', oldSize: 3n, retries: 1 });
    expect(st.size).toBe(10n);
    expect((await w.node.store.getState('example.com/409'))?.size).toBe(10n);
    const { note } = await fetchCheckpoint(log.url, log.vkey);
    expect(openNote(note, [parseVkey(w.vkey)]).verified).toHaveLength(1);

    // A log that is behind the witness (same key, fewer entries) stops: the witness is ahead.
    const behind = await startLog({ origin: 'example.com/409', key, witnesses: [{ url: w.url, vkey: w.vkey }] });
    await behind.append(['a', 'b', 'c', 'd', 'e']);
    await behind.publish();
    expect(behind.witnesses()[0].lastOutcome).toEqual({ kind: 'ahead', witnessSize: 10n, retries: 0 });
    expect(behind.witnesses()[0].size).toBe(10n);
    expect(behind.checkpoint()).toBe(behind.core.published()!.logNote); // no cosignature
  });
});

describe('the add-checkpoint client loop', () => {
  it('retries a 409 at most 3 times', async () => {
    const fake = await fakeWitness((_b, _req, res) => res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end('1\n'));
    const log = await startLog({ origin: 'example.com/loop', witnesses: [{ url: fake.url + '/' }] });
    await log.append(['a', 'b', 'c']);
    await log.publish();
    expect(fake.bodies).toHaveLength(4);
    expect(fake.bodies.map((b) => b.split('\n')[0])).toEqual(['old 0', 'old 1', 'old 1', 'old 1']);
    // The retried requests carry the 1 -> 3 consistency proof (2 hashes).
    const req = parseAddCheckpointBody(new TextEncoder().encode(fake.bodies[1]));
    expect(req.proof).toEqual(log.core.consistencyProof('a', 1n, 3n));
    expect(req.proof).toHaveLength(2);
    expect(log.witnesses()[0].lastOutcome).toMatchObject({ kind: 'failed', status: 409, witnessSize: 1n, retries: 3 });
    expect(log.witnesses()[0].consecutiveFailures).toBe(1);
  });

  it('does not read a size from a 409 without the text/x.tlog.size content type, and reports other failures', async () => {
    const target = { size: 2n, text: 'example.com/codes\n2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', note: 'n', proof: () => [] };
    let fake = await fakeWitness((_b, _req, res) => res.writeHead(409).end('5\n'));
    expect(await pushCheckpoint({ url: fake.url, oldSize: 0n, target })).toMatchObject({ kind: 'failed', status: 409, retries: 0 });
    fake = await fakeWitness((_b, _req, res) => res.writeHead(422, { 'content-type': 'text/plain' }).end('inconsistent\n'));
    expect(await pushCheckpoint({ url: fake.url, oldSize: 0n, target })).toMatchObject({ kind: 'failed', status: 422, reason: 'HTTP 422: inconsistent' });
    fake = await fakeWitness((_b, _req, res) => res.writeHead(409, { 'content-type': 'text/x.tlog.size' }).end('07\n'));
    expect(await pushCheckpoint({ url: fake.url, oldSize: 0n, target })).toMatchObject({ kind: 'failed', status: 409 });
    expect(await pushCheckpoint({ url: 'http://127.0.0.1:1', oldSize: 0n, target })).toMatchObject({ kind: 'failed' });
  });

  it('keeps only cosignature lines on the exact text: verified with the vkey, never the log key', async () => {
    const logKey = generateKey('example.com/filter');
    const wKey = generateKey('witness.example/filter');
    const other = generateKey('witness.example/other');
    const log = await startLog({ origin: 'example.com/filter', key: logKey });
    await log.append(['x', 'y']);
    await log.publish();
    const p = log.core.published()!;
    const tb = new TextEncoder().encode(p.text);
    const good = signatureLines(tb, [cosigner(wKey)]);
    const wrongText = signatureLines(new TextEncoder().encode(p.text.replace('\n2\n', '\n3\n')), [cosigner(wKey)]);
    const byOther = signatureLines(tb, [cosigner(other)]);
    const asLog = signatureLines(tb, [logKey]);
    const body = good + wrongText + byOther + asLog + 'garbage line\n' + good;
    const verifier = parseCosignatureVkey(wKey.vkey);
    const withVkey = filterCosignatures(p.text, body, verifier);
    expect(withVkey.lines).toBe(good);
    expect(withVkey.dropped).toBe(5);
    // A witness with two keys: a line verifying under either is kept, the rest still dropped.
    const both = filterCosignatures(p.text, body, [verifier, parseCosignatureVkey(other.vkey)]);
    expect(both.lines).toBe(good + byOther);
    expect(both.dropped).toBe(4);
    const without = filterCosignatures(p.text, body, undefined, new Set([keyLabel(logKey.name, logKey.keyId)]));
    // Unverifiable but well-formed lines are kept without a vkey; the log's own key never.
    expect(without.lines).toBe(good + wrongText + byOther);

    // End to end: a witness answering all of that.
    const fake = await fakeWitness((_b, _req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body));
    log.addWitness({ url: fake.url, vkey: wKey.vkey });
    await log.publish();
    const served = log.checkpoint();
    expect(served).toBe(p.logNote + good);
    expect(openNote(served, [parseVkey(logKey.vkey), verifier]).verified).toHaveLength(2);
    expect(parseNote(served).signatures).toHaveLength(2);
    // Growing: the new checkpoint starts without cosignatures until the witness signs it.
    await log.append(['z']);
    log.setWitnessBranch(fake.url, 'a');
    const before = fake.bodies.length;
    await log.publish();
    expect(fake.bodies.length).toBe(before + 1);
    expect(log.checkpoint()).toBe(log.core.published()!.logNote); // the fake's lines are for size 2
  });
});
