// The client library in a real browser: the browser bundle (esbuild, noble crypto backend, the
// same options as `npm run build:browser`) is loaded by a page served on 127.0.0.1, which
// verifies the real staging checkpoint cosigned by three public witnesses against a 2-of-3
// policy, and shows the result. Headless Chromium is Debian's `chromium` (.ci/install-browser.sh),
// driven by playwright-core. Skipped with a printed reason when /usr/bin/chromium is missing,
// unless INTEROP_REQUIRED=1, in which case the test fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, clientBundle, resultPage, runPage, serveFiles } from '../helpers/chromium.js';
import { staging, stagingPolicy } from './helpers.js';

const cases = [
  { name: 'staging 2-of-3', note: staging.note, policy: stagingPolicy(2) },
  { name: 'staging 3-of-3 without Mullvad', note: staging.derived_negatives.find((n) => n.name.startsWith('Mullvad line removed'))!.note, policy: stagingPolicy(3) },
  { name: 'staging 2-of-3 with a corrupted Mullvad cosignature', note: staging.derived_negatives.find((n) => n.name.startsWith('one timestamp byte'))!.note, policy: stagingPolicy(2) },
];

const PAGE = resultPage(
  `
  const client = await import('/client.js');
  const lines = ['backend=' + client.cryptoBackend().name + ' Buffer=' + typeof globalThis.Buffer + ' process=' + typeof globalThis.process];
  for (const c of data.cases) {
    const v = client.verifyCosignedCheckpoint(c.note, client.parsePolicy(c.policy), { exhaustive: true });
    lines.push(c.name + ': ' + (v.ok ? 'ACCEPT' : 'REJECT ' + v.code) + ' cosigners=' + v.cosigners.join(','));
    lines.push('  ' + v.reason);
  }
  return lines.join('\\n');`,
  { cases },
);

let server: Awaited<ReturnType<typeof serveFiles>> | undefined;
let bundle = '';

beforeAll(async () => {
  if (chromium.why) return;
  bundle = await clientBundle();
  server = await serveFiles({ '/': ['text/html; charset=utf-8', PAGE], '/client.js': ['text/javascript; charset=utf-8', bundle] });
});

afterAll(() => server?.close());

describe('browser bundle in headless Chromium', () => {
  it.skipIf(chromium.skip)(chromium.title('verifies the real staging checkpoint with a 2-of-3 policy'), async () => {
    chromium.require();
    // The bundle must not need Node: no node: imports, no Buffer.
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/\bBuffer\.from\b/);
    const { text, errors } = await runPage(`${server!.base}/`, { timeoutMs: 15_000 });
    expect(errors).toEqual([]);
    expect(text).not.toMatch(/^ERROR/);
    const lines = text.split('\n');
    expect(lines[0]).toBe('backend=noble Buffer=undefined process=undefined');
    expect(lines[1]).toBe('staging 2-of-3: ACCEPT cosigners=geomys,mullvad,trustfabric');
    expect(lines[2]).toMatch(/log2025-alpha3.rekor.sigstage.dev at size 4026479: log signature verified; quorum staging satisfied/);
    expect(lines[3]).toBe('staging 3-of-3 without Mullvad: REJECT quorum cosigners=geomys,trustfabric');
    expect(lines[5]).toBe('staging 2-of-3 with a corrupted Mullvad cosignature: ACCEPT cosigners=geomys,trustfabric');
    expect(lines[6]).toMatch(/cosigned by geomys, trustfabric/);
  });
});
