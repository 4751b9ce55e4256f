// Takes the screenshot in docs/: a status page during a log's equivocation.
//
//   node --import tsx scripts/status-screenshot.ts [OUT.png]   (default docs/status-page-split-view.png)
//
// Launches a local log and three witness processes (src/launcher), lets every witness cosign size
// 6, then makes the log fork toward w2 (it sees branch b), waits until every witness holds
// evidence and w0's page shows the conflict, and photographs w0's status page in headless
// Chromium (Debian's /usr/bin/chromium, .ci/install-browser.sh). test/http/status-page.browser.test.ts
// uses the same network through startSplitView().
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launch, parseNetworkConfig, type LaunchedNetwork } from '../src/launcher/index.js';
import { originHash } from '../src/checkpoint/checkpoint.js';
import type { StatusData } from '../src/http/status-page.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const SPLIT_VIEW_NETWORK = `
logs:
  - { name: log1, interval: 200ms, forkAt: 6 }
witnesses:
  - { name: w0 }
  - { name: w1 }
  - { name: w2, sees: { log1: b } }
`;

export interface SplitView {
  readonly net: LaunchedNetwork;
  readonly origin: string;
  /** The witness whose page is shown (honest, on branch a). */
  readonly observer: string;
}

/** Polls cond until it holds; throws after ms. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve().then(cond).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sizeAt(url: string, origin: string): Promise<bigint> {
  const r = await fetch(`${url}/${originHash(origin)}/checkpoint`);
  return r.status === 200 ? BigInt((await r.text()).split('\n')[1]) : 0n;
}

export async function statusOf(url: string): Promise<StatusData> {
  const r = await fetch(`${url}/status.json`);
  if (r.status !== 200) throw new Error(`${url}/status.json: HTTP ${r.status}`);
  return (await r.json()) as StatusData;
}

/**
 * Starts the network and drives it to a proven split view: every witness holds evidence, and the
 * observer's status shows w1 on the same tree and w2 on a conflicting root. Stops the network on failure.
 */
export async function startSplitView(log: (msg: string) => void = () => {}): Promise<SplitView> {
  const net = await launch({ network: parseNetworkConfig(SPLIT_VIEW_NETWORK) });
  try {
    const { log: l, origin } = net.logs.get('log1')!;
    log(`launched ${net.witnesses.map((w) => `${w.name} ${w.url}`).join(', ')}`);
    await l.append(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    await l.publish();
    await until(async () => (await Promise.all(net.witnesses.map((w) => sizeAt(w.url, origin)))).every((s) => s === 6n), 'every witness at size 6', 30_000);
    log('every witness cosigned size 6; the log now forks: w2 is shown branch b');
    await l.append(['e6', 'e7']);
    await l.publish();
    await until(async () => (await Promise.all(net.witnesses.map((w) => statusOf(w.url)))).every((s) => s.splitView), 'evidence at every witness', 30_000);
    const observer = net.witness('w0');
    await until(
      async () => {
        const s = await statusOf(observer.url);
        const ws = s.logs[0].agreement?.witnesses ?? [];
        return s.logs[0].cosigned?.size === '8' && ws.some((w) => w.name === 'w1' && w.status === 'agrees') && ws.some((w) => w.name === 'w2' && w.status === 'conflict');
      },
      'w0 sees w1 agreeing and w2 conflicting',
      30_000,
    );
    log('evidence at every witness');
    return { net, origin, observer: 'w0' };
  } catch (e) {
    await net.stop();
    throw e;
  }
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const out = resolve(process.argv[2] ?? join(root, 'docs/status-page-split-view.png'));
  const sv = await startSplitView((m) => console.log(m));
  try {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 400 }, deviceScaleFactor: 1 });
      await page.goto(`${sv.net.witness(sv.observer).url}/status`, { timeout: 15_000 });
      mkdirSync(dirname(out), { recursive: true });
      await page.screenshot({ path: out, fullPage: true });
      console.log(`wrote ${out}`);
    } finally {
      await browser.close();
    }
  } finally {
    await sv.net.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
