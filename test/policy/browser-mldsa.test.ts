// The browser bundle verifying ML-DSA-44 (signature type 0x06) in headless Chromium, as
// test/policy/browser.test.ts does for Ed25519: the bundle (esbuild, the options of
// `npm run build:browser`) is loaded by a page on 127.0.0.1 that verifies checkpoints made here:
// an ML-DSA-44 log cosigned by an ML-DSA-44 and an Ed25519 witness (accept), the same with the
// ML-DSA cosignature corrupted (reject), and a timestamp-0 cosignature under maxAge (stale).
// Also prints the minified bundle size with and without the ML-DSA code. Skipped with a
// printed reason when /usr/bin/chromium is missing, unless INTEROP_REQUIRED=1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'esbuild';
import { chromium, clientBundle, resultPage, runPage, serveFiles } from '../helpers/chromium.js';
import { cosigner, generateKey, parseNote, signatureLines, signNote } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';

const T = 1_700_000_000;

function makeCases() {
  const log = mlDsa44KeyFromSeed('pq.example/browser-log', new Uint8Array(32).fill(11));
  const pq = mlDsa44KeyFromSeed('pq.witness.example', new Uint8Array(32).fill(12));
  const ed = generateKey('ed.witness.example');
  const tree = new MemoryTree();
  for (let i = 0; i < 7; i++) tree.append(new TextEncoder().encode(`entry ${i}`));
  const text = formatCheckpoint({ origin: log.name, size: tree.size, root: tree.root() });
  const logNote = signNote(text, [log.logSigner(() => BigInt(T))]);
  const textBytes = parseNote(logNote).textBytes;
  const both = logNote + signatureLines(textBytes, [pq.cosigner(() => BigInt(T)), cosigner(ed, () => BigInt(T))]);
  const lines = both.split('\n');
  const i = lines.findIndex((l) => l.startsWith('\u2014 pq.witness.example '));
  const mid = Math.floor(lines[i].length / 2);
  lines[i] = lines[i].slice(0, mid) + (lines[i][mid] === 'A' ? 'B' : 'A') + lines[i].slice(mid + 1);
  const corrupted = lines.join('\n');
  const undated = logNote + signatureLines(textBytes, [pq.logSigner(() => 0n)]);
  const policy = `log ${log.vkey}\nwitness pq ${pq.vkey}\nwitness ed ${ed.vkey}\ngroup g all pq ed\nquorum g\n`;
  const pqOnly = `log ${log.vkey}\nwitness pq ${pq.vkey}\nquorum pq\n`;
  return [
    { name: 'ML-DSA log, ML-DSA + Ed25519 witnesses, 2 of 2', note: both, policy, opts: {} },
    { name: 'the ML-DSA cosignature corrupted', note: corrupted, policy, opts: {} },
    { name: 'timestamp 0 without maxAge', note: undated, policy: pqOnly, opts: {} },
    { name: 'timestamp 0 with maxAge', note: undated, policy: pqOnly, opts: { maxAge: 3600, now: T } },
  ];
}

function page(cases: ReturnType<typeof makeCases>): string {
  return resultPage(
    `
  const client = await import('/client.js');
  const lines = ['backend=' + client.cryptoBackend().name + ' Buffer=' + typeof globalThis.Buffer + ' process=' + typeof globalThis.process];
  for (const c of data.cases) {
    const opts = { exhaustive: true, ...c.opts };
    if (c.opts.now !== undefined) opts.now = () => c.opts.now;
    const t0 = performance.now();
    const v = client.verifyCosignedCheckpoint(c.note, client.parsePolicy(c.policy), opts);
    const ms = performance.now() - t0;
    lines.push(c.name + ': ' + (v.ok ? 'ACCEPT' : 'REJECT ' + v.code) + ' cosigners=' + v.cosigners.join(',') + ' statuses=' + v.witnesses.map((w) => w.status).join(',') + ' ms=' + ms.toFixed(1));
  }
  return lines.join('\\n');`,
    { cases },
  );
}

const noMlDsa: Plugin = {
  name: 'no-mldsa',
  setup(b) {
    b.onResolve({ filter: /^@noble\/post-quantum\// }, (a) => ({ path: a.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export const ml_dsa44 = {};', loader: 'js' }));
  },
};

let server: Awaited<ReturnType<typeof serveFiles>> | undefined;
let code = '';

beforeAll(async () => {
  if (chromium.why) return;
  code = await clientBundle();
  server = await serveFiles({ '/': ['text/html; charset=utf-8', page(makeCases())], '/client.js': ['text/javascript; charset=utf-8', code] });
});

afterAll(() => server?.close());

describe('browser bundle with ML-DSA-44 in headless Chromium', () => {
  it('bundle size, minified, with and without the ML-DSA code (informational; docs/formats.md)', async () => {
    const withPq = Buffer.from(await clientBundle({ minify: true }));
    const without = Buffer.from(await clientBundle({ minify: true, plugins: [noMlDsa] }));
    const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
    console.log(`browser bundle minified: ${withPq.length} B (gzip -9 ${gz(withPq)} B) with ML-DSA-44; ${without.length} B (gzip -9 ${gz(without)} B) without @noble/post-quantum`);
    expect(withPq.length).toBeGreaterThan(without.length);
    expect(gz(withPq)).toBeLessThan(64 * 1024);
  });

  it.skipIf(chromium.skip)(chromium.title('verifies ML-DSA-44 log signatures and cosignatures'), { timeout: 60_000 }, async () => {
    chromium.require();
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).not.toMatch(/\bBuffer\.from\b/);
    const { text, errors } = await runPage(`${server!.base}/`, { timeoutMs: 30_000 });
    console.log(text);
    expect(errors).toEqual([]);
    expect(text).not.toMatch(/^ERROR/);
    const lines = text.split('\n').map((l) => l.replace(/ ms=[0-9.]+$/, ''));
    expect(lines[0]).toBe('backend=noble Buffer=undefined process=undefined');
    expect(lines[1]).toBe('ML-DSA log, ML-DSA + Ed25519 witnesses, 2 of 2: ACCEPT cosigners=pq,ed statuses=verified,verified');
    expect(lines[2]).toBe('the ML-DSA cosignature corrupted: REJECT quorum cosigners=ed statuses=invalid,verified');
    expect(lines[3]).toBe('timestamp 0 without maxAge: ACCEPT cosigners=pq statuses=verified');
    expect(lines[4]).toBe('timestamp 0 with maxAge: REJECT stale cosigners= statuses=undated');
  });
});
