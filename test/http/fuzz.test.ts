// Fuzzed add-checkpoint bodies always get a 4xx, never a 500 (deterministic seed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { makeWitness, addBody, b64, type TestWitness } from './helpers.js';
import { MAX_SIGNATURE_LINES } from '../../src/note/note.js';
import { DEFAULT_BODY_LIMIT } from '../../src/http/server.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  return { next, int, pick, bytes };
}

const ORIGIN = 'example.com/fuzz';
const enc = new TextEncoder();

describe('fuzzed add-checkpoint bodies', () => {
  let w: TestWitness;
  const log = new TestLog(ORIGIN).append(8);
  let advancing: string; // old 5 -> 8 with a valid proof: would be 200
  let stale: string; // old 3 -> 8: 409 while the witness holds 5
  const counts = new Map<string, Map<number, number>>();

  beforeAll(async () => {
    w = makeWitness({ logs: [{ origin: ORIGIN, vkeys: [log.key.vkey] }] });
    expect((await w.post(addBody(0, [], log.checkpoint(5n)))).statusCode).toBe(200);
    advancing = addBody(5, log.tree.consistencyProof(5n, 8n), log.checkpoint(8n));
    stale = addBody(3, log.tree.consistencyProof(3n, 8n), log.checkpoint(8n));
  });
  afterAll(async () => {
    await w.close();
  });

  const r = prng(0x5eed);
  const sigLine = () => log.checkpoint(8n).split('\n\n')[1];
  const noteOf = (body: string) => body.slice(body.indexOf('\n\n') + 2);
  const headerOf = (body: string) => body.slice(0, body.indexOf('\n\n'));

  // Each mutator returns a body that must NOT be accepted (the witness stays at size 5).
  const mutators: Record<string, () => string | Uint8Array> = {
    truncated: () => {
      const b = r.pick([advancing, stale]);
      return b.slice(0, r.int(b.length));
    },
    oversized: () => advancing + 'x'.repeat(DEFAULT_BODY_LIMIT + r.int(4096)),
    'wrong base64 proof': () => {
      const lines = advancing.split('\n');
      const i = 1 + r.int(log.tree.consistencyProof(5n, 8n).length);
      const bad = r.pick(['!!!!', 'AAA', lines[i].slice(1), lines[i] + 'A', lines[i].replace('=', 'A'), lines[i].slice(0, -4) + '====', '*'.repeat(44), b64(r.bytes(r.int(40)))]);
      lines[i] = bad === lines[i] ? 'AA==' : bad;
      return lines.join('\n');
    },
    'random proof hash': () => addBody(5, log.tree.consistencyProof(5n, 8n).map((h) => (r.next() < 0.5 ? r.bytes(32) : h)).map((h, i, a) => (i === a.length - 1 ? r.bytes(32) : h)), log.checkpoint(8n)),
    '64+ proof lines': () => addBody(5, Array.from({ length: 64 + r.int(200) }, () => r.bytes(32)), log.checkpoint(8n)),
    CRLF: () => {
      const b = r.pick([advancing, stale]);
      return r.next() < 0.5 ? b.replace(/\n/g, '\r\n') : b.replace('\n', '\r\n');
    },
    'huge sizes': () => {
      const old = r.pick(['99999999999999999999', '9223372036854775808', '18446744073709551616', '-1', '01', '+5', '5.0', '0x5', ' 5', '5 ', '1e3', '9'.repeat(r.int(5000))]);
      return `old ${old}\n\n${noteOf(advancing)}`;
    },
    'huge tree size in the checkpoint': () => {
      const size = r.pick(['99999999999999999999', '9223372036854775808', '-8', '08']);
      return addBody(5, [], `${ORIGIN}\n${size}\n${b64(log.tree.root(8n))}\n\n${sigLine()}`);
    },
    'duplicate signatures': () => {
      // Duplicates of the log's line on a stale request (409), or a conflicting duplicate (403).
      const line = sigLine();
      const k = 2 + r.int(MAX_SIGNATURE_LINES + 10);
      if (r.next() < 0.5) return `${headerOf(stale)}\n\n${noteOf(stale).split('\n\n')[0]}\n\n${line.repeat(k)}`;
      // A failing line for the log's key before its good one (Go's note.Open checks the first
      // line per key and skips later ones, so good-then-bad is accepted; src/note/note.ts).
      // Alter a signature byte (past the 4-byte key ID, so the line still names the log's key).
      const at = line.indexOf(' ', 2) + 1 + 8 + r.int(70);
      const tampered = line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
      return `${headerOf(advancing)}\n\n${noteOf(advancing).split('\n\n')[0]}\n\n${tampered}${line}`;
    },
    'random bytes': () => r.bytes(1 + r.int(2048)),
    'random bytes after a valid header': () => {
      const h = enc.encode(headerOf(advancing) + '\n\n');
      const tail = r.bytes(r.int(1024));
      const out = new Uint8Array(h.length + tail.length);
      out.set(h);
      out.set(tail, h.length);
      return out;
    },
    'byte flips on a stale request': () => {
      const b = enc.encode(stale);
      for (let i = 0, n = 1 + r.int(4); i < n; i++) b[r.int(b.length)] = r.int(256);
      return b;
    },
    'missing blank line': () => advancing.replace('\n\n', '\n'),
    'note without signatures': () => `${headerOf(advancing)}\n\n${noteOf(advancing).split('\n\n')[0]}\n\n`,
    'extension lines added': () => {
      const [text, sigs] = noteOf(advancing).split('\n\n');
      return `${headerOf(advancing)}\n\n${text}\n${r.pick(['ext', '', '\u2014 x', 'a'.repeat(1000)])}\n\n${sigs}`;
    },
    'other origin': () => {
      const [text, sigs] = noteOf(stale).split('\n\n');
      return `${headerOf(stale)}\n\n${r.pick(['', 'x', ORIGIN + ' ', ORIGIN.toUpperCase(), '\u0000'])}${text.slice(ORIGIN.length)}\n\n${sigs}`;
    },
  };

  it('a few thousand mutated bodies: all 4xx, none 500', async () => {
    const names = Object.keys(mutators);
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const name = names[i % names.length];
      const body = mutators[name]();
      const res = await w.post(body, r.next() < 0.5 ? { 'content-type': 'text/plain' } : {});
      const byStatus = counts.get(name) ?? new Map<number, number>();
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      counts.set(name, byStatus);
      if (res.statusCode < 400 || res.statusCode >= 500) {
        throw new Error(`${name} #${i}: ${res.statusCode} ${res.body}\nbody: ${JSON.stringify(typeof body === 'string' ? body : Buffer.from(body).toString('latin1'))}`);
      }
      expect(res.body.endsWith('\n')).toBe(true);
    }
    if (process.env.FUZZ_STATS) console.log(Object.fromEntries([...counts].map(([k, m]) => [k, Object.fromEntries(m)])));
    // The witness never moved.
    expect((await w.store.getState(ORIGIN))!.size).toBe(5n);
    // Every mutator produced answers, and the mix exercised the main rejection paths.
    const seen = new Set([...counts.values()].flatMap((m) => [...m.keys()]));
    for (const s of [400, 403, 404, 409, 413, 422]) expect(seen.has(s), `status ${s} seen`).toBe(true);
    // The unmutated advancing body is still accepted afterwards: nothing was corrupted.
    expect((await w.post(advancing)).statusCode).toBe(200);
  });
});
