// Ed25519 verdicts in the browser build: the client bundle (src/policy/index.ts, the same esbuild
// options as `npm run build:browser`, noble backend) runs in headless Chromium and must give Go's
// verdict on every speccheck case and every C2SP/CCTV vector, exactly as the node backend does on
// every Node version (ed25519-rules.test.ts). Debian's chromium (.ci/install-browser.sh); skipped
// with a printed reason when it is missing, unless INTEROP_REQUIRED=1 (then the test fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CHROMIUM = '/usr/bin/chromium';
const required = process.env.INTEROP_REQUIRED === '1';
const available = existsSync(CHROMIUM);
const skipReason = available ? '' : `${CHROMIUM} is missing (install Debian's chromium: bash .ci/install-browser.sh)`;
if (!available && !required) console.warn(`crypto browser test skipped: ${skipReason}`);

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

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>verifying</title></head>
<body><pre id="result">running</pre>
<script type="module">
const out = document.getElementById('result');
const hex = (s) => new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
try {
  const client = await import('/client.js');
  const cases = await (await fetch('/cases.json')).json();
  const b = client.cryptoBackend();
  const wrong = [];
  let accepted = 0;
  for (const [name, pub, msg, sig, go] of cases) {
    const v = b.ed25519Verify(hex(pub), hex(msg), hex(sig));
    const a = await b.ed25519VerifyAsync(hex(pub), hex(msg), hex(sig));
    if (v) accepted++;
    if (v !== go || a !== go) wrong.push(name + ' go=' + go + ' sync=' + v + ' async=' + a);
  }
  out.textContent = JSON.stringify({ backend: b.name, buffer: typeof globalThis.Buffer, n: cases.length, accepted, wrong });
} catch (e) {
  out.textContent = 'ERROR ' + (e && e.stack || e);
}
document.title = 'done';
</script>
</body></html>`;

let server: Server | undefined;
let base = '';
let bundle = '';

beforeAll(async () => {
  if (!available) return;
  const r = await build({
    entryPoints: [join(root, 'src/policy/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  bundle = r.outputFiles[0].text;
  const body = JSON.stringify(cases);
  server = createServer((req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    if (req.url === '/client.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    if (req.url === '/cases.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('Ed25519 in the browser build (headless Chromium)', () => {
  it.skipIf(!available && !required)(
    `gives Go's verdict on all speccheck cases and C2SP/CCTV vectors${available ? '' : ` (SKIPPED: ${skipReason})`}`,
    async () => {
      if (!available) throw new Error(`INTEROP_REQUIRED=1 but ${skipReason}`);
      const { chromium } = await import('playwright-core');
      const userDataDir = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        timeout: 30_000,
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${base}/`, { timeout: 15_000 });
        await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 25_000 });
        const text = (await page.textContent('#result')) ?? '';
        expect(errors).toEqual([]);
        expect(text).not.toMatch(/^ERROR/);
        const r = JSON.parse(text) as { backend: string; buffer: string; n: number; accepted: number; wrong: string[] };
        expect(r.backend).toBe('noble');
        expect(r.buffer).toBe('undefined');
        expect(r.n).toBe(cases.length);
        expect(r.accepted).toBe(cases.filter((c) => c[4]).length);
        expect(r.wrong).toEqual([]);
      } finally {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
