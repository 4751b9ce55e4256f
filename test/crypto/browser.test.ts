// Ed25519 verdicts in the browser build: the client bundle (src/policy/index.ts, the same esbuild
// options as `npm run build:browser`, noble backend) runs in headless Chromium and must give Go's
// verdict on every speccheck case and every C2SP/CCTV vector, exactly as the node backend does on
// every Node version (ed25519-rules.test.ts). Debian's chromium (.ci/install-browser.sh); skipped
// with a printed reason when it is missing, unless INTEROP_REQUIRED=1 (then the test fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, clientBundle, resultPage, runPage, serveFiles } from '../helpers/chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const speccheck: { cases: { message: string; pub_key: string; signature: string; go: boolean }[] } = JSON.parse(
  readFileSync(join(root, 'test/fixtures/ed25519-speccheck.json'), 'utf8'),
);
const cctv: { vectors: { number: number; key: string; sig: string; msg: string; go: boolean }[] } = JSON.parse(
  readFileSync(new URL('./fixtures/cctv-ed25519vectors.json', import.meta.url), 'utf8'),
);
// [name, pub hex, message hex, signature hex, Go's verdict]
const cases: [string, string, string, string, boolean][] = [
  ...speccheck.cases.map((c, i): [string, string, string, string, boolean] => [`speccheck ${i}`, c.pub_key, c.message, c.signature, c.go]),
  ...cctv.vectors.map((v): [string, string, string, string, boolean] => [`cctv ${v.number}`, v.key, Buffer.from(v.msg).toString('hex'), v.sig, v.go]),
];

const PAGE = resultPage(`
  const hex = (s) => new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
  const client = await import('/client.js');
  const b = client.cryptoBackend();
  const wrong = [];
  let accepted = 0;
  for (const [name, pub, msg, sig, go] of data) {
    const v = b.ed25519Verify(hex(pub), hex(msg), hex(sig));
    const a = await b.ed25519VerifyAsync(hex(pub), hex(msg), hex(sig));
    if (v) accepted++;
    if (v !== go || a !== go) wrong.push(name + ' go=' + go + ' sync=' + v + ' async=' + a);
  }
  return JSON.stringify({ backend: b.name, buffer: typeof globalThis.Buffer, n: data.length, accepted, wrong });`, cases);

let server: Awaited<ReturnType<typeof serveFiles>> | undefined;

beforeAll(async () => {
  if (chromium.why) return;
  server = await serveFiles({
    '/': ['text/html; charset=utf-8', PAGE],
    '/client.js': ['text/javascript; charset=utf-8', await clientBundle()],
  });
});

afterAll(() => server?.close());

describe('Ed25519 in the browser build (headless Chromium)', () => {
  it.skipIf(chromium.skip)(chromium.title("gives Go's verdict on all speccheck cases and C2SP/CCTV vectors"), async () => {
    chromium.require();
    const { text, errors } = await runPage(`${server!.base}/`);
    expect(errors).toEqual([]);
    expect(text).not.toMatch(/^ERROR/);
    const r = JSON.parse(text) as { backend: string; buffer: string; n: number; accepted: number; wrong: string[] };
    expect(r.backend).toBe('noble');
    expect(r.buffer).toBe('undefined');
    expect(r.n).toBe(cases.length);
    expect(r.accepted).toBe(cases.filter((c) => c[4]).length);
    expect(r.wrong).toEqual([]);
  }, 60_000);
});
