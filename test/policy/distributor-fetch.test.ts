// gatherCosignatures reading from distributors (transparency-dev/distributor's REST API, served by
// every node: src/http/distributor.ts). Real HTTP on 127.0.0.1: honest distributors are the
// project's own routes; hostile ones are raw servers. A distributor is untrusted: nothing it
// serves counts unless it verifies against the policy.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { distributorCheckpointUrl, gatherCosignatures, parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { distributorLogId } from '../../src/http/distributor.js';
import { cosigner, formatSignatureLine, parseNote, parseVkey, signatureLines } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { encodeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { TestLog } from '../helpers/fork.js';
import { FakeWitnesses, Network } from './helpers.js';
import { HostileServer, TestDistributor } from './distributor-helpers.js';

const ORIGIN = 'example.com/distributed';
const net = new Network(ORIGIN, 3, 10);
const witnesses = new FakeWitnesses();
const d1 = new TestDistributor(ORIGIN);
const d2 = new TestDistributor(ORIGIN);
let hostileAnswer: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(404).end();
const hostile = new HostileServer((_req, res) => hostileAnswer(res));
/** 2 of 3, with witness URLs (a fake that records requests). */
let policyText = '';
const policy = (k = 2) => parsePolicy(policyText.replace('group g 2', `group g ${k}`));
const trusted = (o: string) => (o === ORIGIN ? [parseVkey(net.log.key.vkey)] : undefined);

/** The note with witness i's cosignature line corrupted (same name and key ID, bad signature). */
function forge(note: string, i: number): string {
  const p = parseNote(note);
  const name = net.witnesses[i].name;
  return (
    p.text +
    '\n' +
    p.signatures
      .map((s) => {
        if (s.name !== name) return formatSignatureLine(s.name, s.keyId, s.sig);
        const sig = Uint8Array.from(s.sig);
        sig[sig.length - 1] ^= 1;
        return formatSignatureLine(s.name, s.keyId, sig);
      })
      .join('')
  );
}

beforeAll(async () => {
  await Promise.all([witnesses.start(), d1.start(), d2.start(), hostile.start()]);
  policyText = [`log ${net.log.key.vkey}`, ...net.witnesses.map((w, i) => `witness w${i} ${w.vkey} ${witnesses.url(i)}/`), 'group g 2 w0 w1 w2', 'quorum g'].join('\n');
});
afterAll(() => Promise.all([witnesses.stop(), d1.stop(), d2.stop(), hostile.stop()]));
beforeEach(() => {
  witnesses.answers.clear();
  witnesses.requests = 0;
  d1.notes = [];
  d2.notes = [];
  d1.requests = [];
  d2.requests = [];
  hostile.requests = [];
  hostileAnswer = (res) => res.writeHead(404).end();
});

describe('distributor URLs', () => {
  it("use the distributor's log ID (hex SHA-256 of \"o:\" + origin) and checkpoint.N", () => {
    const id = distributorLogId(ORIGIN);
    expect(distributorCheckpointUrl('https://d.example/x/', ORIGIN)).toBe(`https://d.example/x/distributor/v0/logs/${id}/checkpoint`);
    expect(distributorCheckpointUrl('https://d.example', ORIGIN, 3)).toBe(`https://d.example/distributor/v0/logs/${id}/checkpoint.3`);
    expect(distributorCheckpointUrl('https://d.example', ORIGIN, 100, true)).toBe(`https://d.example/distributor/v0/logs/${id}/checkpoint.100?pq=1`);
    for (const bad of [0, 101, 256, 1.5, NaN]) expect(() => distributorCheckpointUrl('https://d.example', ORIGIN, bad)).toThrow(/minCosignatures must be an integer from 1 to 100/);
  });

  it('a bad minCosignatures is refused before any request', async () => {
    await expect(gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base], minCosignatures: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(d1.requests).toEqual([]);
  });
});

describe('reading from distributors', () => {
  it('checkpoint.N from a node with enough cosignatures: accepted; the witnesses are not asked', async () => {
    d1.notes = [net.cosigned([0, 1, 2])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base + '/'], minCosignatures: 3, timeoutMs: 5000 });
    expect(r.ok).toBe(true);
    expect(d1.requests).toEqual([`/distributor/v0/logs/${distributorLogId(ORIGIN)}/checkpoint.3`]);
    expect(witnesses.requests).toBe(0);
    expect(r.responses).toEqual([]);
    expect(r.distributorResponses).toMatchObject([{ distributor: d1.base, status: 'ok', size: 10n, detail: 'size 10, 3 policy cosignature lines' }]);
    expect(r.best!.servedBy).toEqual([d1.base]);
    expect(r.best!.verification.cosigners).toEqual(['w0', 'w1', 'w2']); // exhaustive with a minimum
    expect(verifyCosignedCheckpoint(r.best!.note, policy(3)).ok).toBe(true);
    expect(r.reason).toMatch(/\(1 of 1 distributor answered\)$/);
  });

  it('the latest checkpoint (no N): the largest held, with every cosignature on it', async () => {
    const older = net.cosigned([0, 1, 2], 1_700_000_000n, net.log, 8n);
    d1.notes = [older, net.cosigned([0, 1])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base] });
    expect(d1.requests).toEqual([`/distributor/v0/logs/${distributorLogId(ORIGIN)}/checkpoint`]);
    expect(r.ok).toBe(true);
    expect(r.best!.checkpoint.size).toBe(10n);
  });

  it('too few cosignatures: 404 for checkpoint.N is reported as not-found, and nothing is accepted', async () => {
    d1.notes = [net.cosigned([0, 1])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base], minCosignatures: 3 });
    expect(r.ok).toBe(false);
    expect(r.best).toBeUndefined();
    expect(r.distributorResponses).toMatchObject([{ status: 'not-found', detail: 'HTTP 404: no checkpoint with at least 3 cosignatures' }]);
    expect(r.reason).toMatch(/^no distributor returned a checkpoint of "example.com\/distributed" signed by the log \(distributor http:\/\/127\.0\.0\.1:\d+: not-found/);
    // Without N the distributor answers, but one cosignature is short of the policy's 2.
    d1.notes = [net.cosigned([0])];
    const q = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base] });
    expect(q.ok).toBe(false);
    expect(q.candidates).toHaveLength(1);
    expect(q.reason).toMatch(/^no checkpoint assembled from 1 answer satisfies the policy: .*quorum/);
  });

  it('cosignatures from several distributors on the same checkpoint are merged', async () => {
    d1.notes = [net.cosigned([0])];
    d2.notes = [net.cosigned([1])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base, d2.base] });
    expect(r.ok).toBe(true);
    expect(r.candidates).toHaveLength(1);
    expect(r.best!.servedBy).toEqual([d1.base, d2.base]);
    expect(r.best!.verification.cosigners).toEqual(['w0', 'w1']);
  });

  it('askWitnesses: witnesses and distributors together, merged on one path', async () => {
    witnesses.answers.set(2, net.cosigned([2]));
    d1.notes = [net.cosigned([0])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base], askWitnesses: true, minCosignatures: 1 });
    expect(r.ok).toBe(true);
    expect(witnesses.requests).toBe(3);
    expect(r.responses.map((x) => x.status)).toEqual(['http-error', 'http-error', 'ok']); // a witness's 404 stays an http-error
    expect(r.best!.servedBy).toEqual(['w2', d1.base]);
    expect(r.best!.verification.cosigners).toEqual(['w0', 'w2']);
    expect(r.reason).toMatch(/\(1 of 3 witnesses and 1 of 1 distributor answered\)$/);
  });

  it('asks for ML-DSA-44 cosignatures (?pq=1) when the policy has an ML-DSA-44 witness, and they count', async () => {
    const pq = mlDsa44KeyFromSeed('pq.witness.example', new Uint8Array(32).fill(7));
    const note = net.log.checkpoint();
    d1.notes = [note + signatureLines(parseNote(note).textBytes, [pq.cosigner(() => 1_700_000_000n), cosigner(net.witnesses[0], () => 1_700_000_000n)])];
    const pqPolicy = parsePolicy(`log ${net.log.key.vkey}\nwitness q ${pq.vkey}\nwitness w0 ${net.witnesses[0].vkey}\ngroup g 2 q w0\nquorum g\n`);
    const r = await gatherCosignatures(pqPolicy, ORIGIN, { distributors: [d1.base], minCosignatures: 2 });
    expect(d1.requests).toEqual([`/distributor/v0/logs/${distributorLogId(ORIGIN)}/checkpoint.2?pq=1`]);
    expect(r.ok).toBe(true);
    expect(r.best!.verification.cosigners).toEqual(['q', 'w0']);
    // Without ?pq=1 the node leaves the 0x06 line out: an Ed25519-only policy asks plainly.
    await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base] });
    expect(d1.requests[1]).toMatch(/\/checkpoint$/);
  });
});

describe('hostile distributors: nothing they serve is accepted unless it verifies', () => {
  it('a forged cosignature does not count (and cannot spoil an honest one)', async () => {
    const forged = forge(net.cosigned([0, 1]), 1);
    hostileAnswer = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(forged);
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base] });
    expect(r.ok).toBe(false);
    expect(r.best).toBeUndefined();
    expect(r.candidates[0].verification).toMatchObject({ ok: false, code: 'quorum', cosigners: ['w0'] });
    expect(r.candidates[0].verification.witnesses.find((w) => w.name === 'w1')!.status).toBe('invalid');
    // With a policy of 1 the forged line still does not make up a claimed checkpoint.2.
    const n = await gatherCosignatures(policy(1), ORIGIN, { distributors: [hostile.base], minCosignatures: 2 });
    expect(hostile.requests.at(-1)).toMatch(/\/checkpoint\.2$/);
    expect(n.ok).toBe(false);
    expect(n.reason).toMatch(/satisfies the policy with at least 2 cosignatures: .* has 1 verified cosignature from policy witnesses, fewer than the 2 asked for/);
    // Next to an honest distributor holding w1's real cosignature, the forgery changes nothing.
    d1.notes = [net.cosigned([1])];
    const both = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base, d1.base] });
    expect(both.ok).toBe(true);
    expect(both.best!.verification.cosigners).toEqual(['w0', 'w1']);
  });

  it('padding with forged lines cannot push genuine cosignatures out of the merged note', async () => {
    // 99 forged lines under w0's key name and ID: with the log's line, a full 100-line note.
    const p = parseNote(net.cosigned([0]));
    const [logLine, w0] = p.signatures;
    const forged = Array.from({ length: 99 }, (_, i) => {
      const sig = Uint8Array.from(w0.sig);
      sig[10] = i;
      sig[11] ^= 0xff;
      return formatSignatureLine(w0.name, w0.keyId, sig);
    });
    const padded = p.text + '\n' + formatSignatureLine(logLine.name, logLine.keyId, logLine.sig) + forged.join('');
    hostileAnswer = (res) => res.writeHead(200).end(padded);
    d1.notes = [net.cosigned([0, 1])];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base, d1.base] });
    expect(r.distributorResponses.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(r.ok).toBe(true);
    expect(r.best!.verification.cosigners).toEqual(['w0', 'w1']);
    expect(parseNote(r.best!.note).signatures).toHaveLength(3); // the log, w0, w1: the forgeries are gone
  });

  it('a checkpoint signed by another key is refused (log-signature)', async () => {
    const stranger = new TestLog(ORIGIN).append(10);
    const note = stranger.checkpoint();
    hostileAnswer = (res) => res.writeHead(200).end(note + net.cosigned([0, 1, 2]).split('\n\n')[1].split('\n').slice(1).join('\n'));
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base] });
    expect(r.ok).toBe(false);
    expect(r.candidates).toEqual([]);
    expect(r.distributorResponses).toMatchObject([{ status: 'log-signature' }]);
  });

  it('another origin, garbage and server errors are refused', async () => {
    const other = new TestLog('example.com/other', net.log.key).append(3);
    for (const [answer, status] of [
      [(res: import('node:http').ServerResponse) => res.writeHead(200).end(other.checkpoint()), 'origin'],
      [(res: import('node:http').ServerResponse) => res.writeHead(200).end('garbage\n'), 'malformed'],
      [(res: import('node:http').ServerResponse) => res.writeHead(500).end('oops\n'), 'http-error'],
    ] as const) {
      hostileAnswer = answer;
      const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base] });
      expect(r.ok).toBe(false);
      expect(r.distributorResponses[0].status).toBe(status);
    }
  });

  it('a 2 MB body is cut off at the 1 MiB limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    hostileAnswer = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const more = () => {
        while (sent < 2 << 20) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    };
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base] });
    expect(r.ok).toBe(false);
    expect(r.distributorResponses).toMatchObject([{ status: 'network-error', detail: 'response larger than 1048576 bytes' }]);
  });

  it('a distributor that hangs (before or inside the body) times out: a network error', async () => {
    hostileAnswer = () => {}; // never answers
    const t0 = Date.now();
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base], timeoutMs: 300 });
    expect(r.distributorResponses).toMatchObject([{ status: 'network-error' }]);
    expect(Date.now() - t0).toBeLessThan(5000);
    const half = net.cosigned([0, 1, 2]);
    hostileAnswer = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(half.slice(0, 40)); // then nothing
    };
    const b = await gatherCosignatures(policy(), ORIGIN, { distributors: [hostile.base], timeoutMs: 300 });
    expect(b.ok).toBe(false);
    expect(b.distributorResponses).toMatchObject([{ status: 'network-error' }]);
  });

  it('two distributors serving same-size checkpoints with different roots: proven split-view evidence', async () => {
    const fork = net.log.fork(4n).append(6, 'evil');
    d1.notes = [net.cosigned([0, 1])];
    d2.notes = [net.cosigned([2], 1_700_000_000n, fork)];
    const r = await gatherCosignatures(policy(), ORIGIN, { distributors: [d1.base, d2.base] });
    expect(r.ok).toBe(false);
    expect(r.disagreements).toHaveLength(1);
    const d = r.disagreements[0];
    expect(d).toMatchObject({ kind: 'split-view', sizes: [10n, 10n], servedBy: [[d1.base], [d2.base]] });
    expect(verifyEvidence(encodeEvidence(d.evidence!), trusted)).toMatchObject({ ok: true, origin: ORIGIN });
    expect(r.reason).toMatch(/^distributors disagree about "example.com\/distributed": PROVEN split view: two log-signed checkpoints of size 10/);
  });
});
