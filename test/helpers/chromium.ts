// Headless Chromium for the browser tests: Debian's chromium (.ci/install-browser.sh) driven by
// playwright-core. A test page sets #result and then its title to "done"; runPage returns that text.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { fileMissing, tool } from './tools.js';

export const CHROMIUM = '/usr/bin/chromium';
export const chromium = tool('headless Chromium', fileMissing(CHROMIUM, "install Debian's chromium: bash .ci/install-browser.sh"));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The client bundle with the options of `npm run build:browser` (noble backend), in memory. */
export async function clientBundle(o: { minify?: boolean; plugins?: Plugin[] } = {}): Promise<string> {
  const r = await build({
    entryPoints: [fileURLToPath(new URL('../../src/policy/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: o.minify ?? false,
    write: false,
    logLevel: 'silent',
    plugins: o.plugins ?? [],
  });
  return r.outputFiles[0].text;
}

/** Serves fixed files on 127.0.0.1 (path -> [content type, body]), 404 elsewhere. */
export async function serveFiles(files: Record<string, readonly [string, string | Uint8Array]>): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (f) res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A page for runPage: `body` is the body of an async function (with `data`, the JSON given here,
 * parsed) whose returned string goes into #result; a throw puts "ERROR <stack>" there instead.
 */
export function resultPage(body: string, data: unknown = null): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>verifying</title></head>
<body><pre id="result">running</pre>
<script type="application/json" id="data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>
<script type="module">
const out = document.getElementById('result');
try {
  const data = JSON.parse(document.getElementById('data').textContent);
  out.textContent = await (async () => {
${body}
  })();
} catch (e) {
  out.textContent = 'ERROR ' + (e && e.stack || e);
}
document.title = 'done';
</script>
</body></html>`;
}

/** Opens url in a fresh profile, waits (bounded) for title "done"; #result's text and the page errors. The browser is gone on return. */
export async function runPage(url: string, o: { timeoutMs?: number } = {}): Promise<{ text: string; errors: string[] }> {
  chromium.require();
  const { chromium: pw } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
  try {
    const context = await pw.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url, { timeout: 15_000 });
      await page.waitForFunction(() => document.title === 'done', undefined, { timeout: o.timeoutMs ?? 25_000 });
      return { text: (await page.textContent('#result')) ?? '', errors };
    } finally {
      await context.close();
    }
  } finally {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
