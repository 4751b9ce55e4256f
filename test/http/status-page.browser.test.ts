// The status page in a real browser during a real split view: a local log and three witness
// processes (src/launcher, the network of scripts/status-screenshot.ts); the log forks toward w2;
// once every witness holds evidence, w0's page is opened in headless Chromium (Debian's
// /usr/bin/chromium via playwright-core), checked, and photographed into the test output directory
// (GW_TEST_OUTPUT, default $TMPDIR/gw-test-output). A second check runs with JavaScript disabled
// and waits for the page to reload itself. Skipped with a printed reason when /usr/bin/chromium
// is missing, unless INTEROP_REQUIRED=1, in which case the test fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startSplitView, statusOf, type SplitView } from '../../scripts/status-screenshot.js';
import { chromium } from '../helpers/chromium.js';
const outDir = process.env.GW_TEST_OUTPUT ?? join(tmpdir(), 'gw-test-output');

let sv: SplitView | undefined;
let browser: Browser | undefined;
let statusUrl = '';

beforeAll(async () => {
  if (chromium.why) return;
  sv = await startSplitView();
  statusUrl = `${sv.net.witness(sv.observer).url}/status`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sv?.net.stop();
}, 30_000);

/** What both checks (with and without JavaScript) assert on the rendered page. */
async function checkContent(page: Page): Promise<void> {
  const n = sv!.net;
  expect(await page.title()).toMatch(/^SPLIT VIEW — w0\.example\.local/);
  const banner = page.locator('.banner.split');
  expect(await banner.count()).toBe(1);
  expect(await banner.innerText()).toContain('SPLIT VIEW: evidence of log misbehaviour');
  // Really rendered red (inline CSS applied, nothing external needed).
  expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(209, 36, 47)');
  const row = page.locator('tr.log');
  expect(await row.count()).toBe(1);
  const cells = await row.locator('td').allInnerTexts();
  expect(cells[0]).toBe(sv!.origin);
  expect(cells[1].trim()).toBe('8');
  expect(cells[2]).toMatch(/^\d+(s|m \d+s) ago$/);
  expect(cells[3]).toContain('1 of 2 cosigned the same tree');
  expect(cells[3]).toContain('w1 (w1.example.local): same tree');
  expect(cells[3]).toContain('w2 (w2.example.local): CONFLICTING ROOT at 8');
  expect(cells[4]).toMatch(/^[1-9]\d* proven/);
  // The evidence link leads to the evidence list of that log at this witness.
  const evidenceHref = await row.locator('td >> nth=4').locator('a').first().getAttribute('href');
  expect(evidenceHref).toBe(`/evidence?origin=${encodeURIComponent(sv!.origin)}`);
  const peersHeading = await page.locator('h2', { hasText: 'Peers' }).innerText();
  const peers = Number(/Peers: (\d+) connected/.exec(peersHeading)?.[1]);
  expect(peers).toBeGreaterThan(0);
  const listed = await page.locator('ul.peers li code').allInnerTexts();
  expect(listed).toHaveLength(peers);
  for (const id of listed) expect(n.witnesses.map((w) => w.peerId)).toContain(id);
  const header = await page.locator('header').innerText();
  expect(header).toContain(n.witness('w0').vkey);
}

describe('status page in headless Chromium during a split view', () => {
  it.skipIf(chromium.skip)(chromium.title('shows the split view, sizes, agreement and peers; screenshot'), async () => {
    chromium.require();
    // The page and /status.json agree, and every witness holds evidence.
    for (const w of sv!.net.witnesses) expect((await statusOf(w.url)).splitView, w.name).toBe(true);
    const page = await browser!.newPage({ viewport: { width: 1200, height: 400 } });
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const res = await page.goto(statusUrl, { timeout: 15_000 });
      expect(res?.status()).toBe(200);
      await checkContent(page);
      mkdirSync(outDir, { recursive: true });
      const shot = join(outDir, 'status-page-split-view.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000);
      console.log(`status page screenshot: ${shot}`);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it.skipIf(chromium.skip)(chromium.title('works with JavaScript disabled, loads nothing else, and reloads itself'), async () => {
    chromium.require();
    const context = await browser!.newContext({ javaScriptEnabled: false, viewport: { width: 1200, height: 400 } });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(statusUrl, { timeout: 15_000 });
      await checkContent(page);
      // The meta refresh (every 5 s) loads the page again without any script.
      await page.waitForEvent('load', { timeout: 20_000 });
      expect(requests.filter((u) => u === statusUrl).length).toBeGreaterThanOrEqual(2);
      await checkContent(page);
      // No external assets: only the page itself (and the browser's own favicon probe).
      expect(requests.filter((u) => u !== statusUrl && !u.endsWith('/favicon.ico'))).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
