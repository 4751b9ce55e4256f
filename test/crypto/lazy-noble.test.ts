// Memory (issue 14): on Node the node:crypto backend verifies Ed25519 without loading
// @noble/curves (about 11 MiB of RSS); noble loads only for the edge-case inputs that need Go's
// rule (ed25519-rules.ts). @noble/post-quantum loads only when ML-DSA-44 is used. Observed with an ESM load hook in a child process that records every
// module URL, as in test/cli/lazy-modules.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'gw-lazy-noble-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, ctx, next) { const r = await next(url, ctx); appendFileSync(process.env.GW_MODULE_LOG, url + '\\n'); return r; }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOKS))});`;

// Verifies an ordinary signature (sync and async), writes a marker line into the module log,
// then verifies an edge case: A = R = the identity (small order), S = 0, which Go accepts.
const CHILD = `
import { appendFileSync } from 'node:fs';
import ${JSON.stringify(pathToFileURL(join(ROOT, 'src/platform.ts')).href)};
import { cryptoBackend } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/crypto/index.ts')).href)};
const b = cryptoBackend();
const seed = new Uint8Array(32).fill(7);
const pub = b.ed25519PublicKey(seed);
const msg = new TextEncoder().encode('hello');
const sig = b.ed25519Sign(seed, msg);
const bad = sig.slice(); bad[0] ^= 1;
const normal = [b.ed25519Verify(pub, msg, sig), await b.ed25519VerifyAsync(pub, msg, sig), b.ed25519Verify(pub, msg, bad)];
appendFileSync(process.env.GW_MODULE_LOG, 'MARK\\n');
const id = new Uint8Array(32); id[0] = 1;
const edgeSig = new Uint8Array(64); edgeSig[0] = 1;
const edge = [b.ed25519Verify(id, msg, edgeSig), await b.ed25519VerifyAsync(id, msg, edgeSig)];
console.log(JSON.stringify({ backend: b.name, normal, edge }));
`;

const curves = (urls: string[]) => urls.filter((u) => /\/@noble\/curves\/(ed25519|nist|index)\.js$/.test(u));

// Without require(esm) (Node < 20.19 / 22.12) src/platform.ts imports noble at start by design.
const requireEsm = !!(process.features as { require_module?: boolean }).require_module;

describe('lazy noble on Node', () => {
  it.runIf(requireEsm)('an ordinary Ed25519 verify does not load noble; an edge case gets Go verdict', () => {
    const script = join(dir, 'child.mts');
    writeFileSync(script, CHILD);
    const log = join(dir, 'modules');
    const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER), '--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, GW_MODULE_LOG: log },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ backend: 'node', normal: [true, true, false], edge: [true, true] });
    const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    const mark = lines.indexOf('MARK');
    expect(mark).toBeGreaterThan(0);
    expect(lines.some((u) => u.endsWith('/src/crypto/node.ts'))).toBe(true);
    expect(curves(lines.slice(0, mark))).toEqual([]);
    expect(lines.slice(0, mark).filter((u) => u.includes('/@noble/post-quantum/'))).toEqual([]);
  }, 90_000);
});
