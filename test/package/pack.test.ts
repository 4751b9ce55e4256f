// The package as users get it: `npm pack` (of a staged copy: see the first test), install the tarball in a fresh folder outside the
// repository, then (1) a Node program imports 'gossip-witness/client' and verifies a
// c2sp.org/tlog-proof, (2) the installed `gossip-witness` CLI serves and cosigns a checkpoint.
// Slow (a build and a registry install of the production dependencies): it runs when CI=true or
// GW_TEST_PACK=1, and says why it skips otherwise.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTlogProof } from '../../src/policy/index.js';
import { openNote, parseCosignatureVkey } from '../../src/note/index.js';
import { Network } from '../policy/helpers.js';
import { TestLog } from '../helpers/fork.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN = process.env.CI === 'true' || process.env.GW_TEST_PACK === '1';
if (!RUN) console.log('test/package/pack.test.ts: skipped (packs, builds and installs from the registry, about a minute): runs with CI=true or GW_TEST_PACK=1');

const work = mkdtempSync(join(tmpdir(), 'gw-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const app = join(work, 'app');

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

describe.skipIf(!RUN)('npm pack, installed in a fresh folder', () => {
  it('packs dist/ and the browser bundle, not test/, bench/ or docs/; installs', () => {
    // Pack a staged copy, so that other test files reading the repository's dist/ meanwhile are
    // not disturbed by a rebuild: the package.json (its `files`), bin/, the dist/src that `npm ci`
    // built (prepare), and the browser bundle built the way `prepack` builds it.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepack).toContain('build:browser');
    const stage = join(work, 'stage');
    sh('mkdir', ['-p', stage], work);
    sh('cp', ['-r', join(ROOT, 'package.json'), join(ROOT, 'README.md'), join(ROOT, 'bin'), join(ROOT, 'network-config'), stage], work);
    sh('mkdir', ['-p', join(stage, 'dist')], work);
    sh('cp', ['-r', join(ROOT, 'dist/src'), join(stage, 'dist/src')], work);
    const browser = pkg.scripts['build:browser'].replace(/^esbuild /, '').replace(/--outfile=\S+/, `--outfile=${join(stage, 'dist/browser/client.js')}`).split(' ');
    sh(join(ROOT, 'node_modules/.bin/esbuild'), browser, ROOT);
    sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work], stage);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    expect(tgz).toBeDefined();
    const files = sh('tar', ['tzf', join(work, tgz)], work).split('\n');
    expect(files).toContain('package/dist/src/policy/index.js');
    expect(files).toContain('package/dist/src/policy/tlog-proof.js');
    expect(files).toContain('package/dist/src/cli/main.js');
    expect(files).toContain('package/dist/browser/client.js');
    expect(files.filter((f) => /^package\/(test|bench|docs|src)\//.test(f))).toEqual([]);
    rmSync(app, { recursive: true, force: true });
    sh('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tgz)], app, 600_000);
    const count = sh('sh', ['-c', 'npm ls --omit=dev --all --parseable | wc -l'], app).trim();
    const size = sh('du', ['-sh', 'node_modules'], app).split('\t')[0];
    console.log(`installed gossip-witness: npm ls --omit=dev --all --parseable | wc -l = ${count} (the app folder counts as 1); du -sh node_modules = ${size}`);
    expect(existsSync(join(app, 'node_modules/gossip-witness/dist/browser/client.js'))).toBe(true);
  }, 900_000);

  it("import ... from 'gossip-witness/client' verifies a tlog-proof in Node", () => {
    const net = new Network('example.com/packed', 3, 9);
    writeFileSync(join(app, 'policy.txt'), net.policy(['group g 2 w0 w1 w2', 'quorum g']));
    writeFileSync(join(app, 'e4.tlog-proof'), formatTlogProof({ index: 4n, hashes: net.log.tree.inclusionProof(4n, 9n), checkpoint: net.cosigned([0, 1]) }));
    writeFileSync(
      join(app, 'check.mjs'),
      `import { readFileSync } from 'node:fs';
import { parsePolicy, verifyTlogProof } from 'gossip-witness/client';
const policy = parsePolicy(readFileSync('policy.txt'));
const proof = readFileSync('e4.tlog-proof');
const good = verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 4') });
const bad = verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 5') });
console.log(JSON.stringify({ good: good.ok, cosigners: good.cosigners, bad: bad.ok, code: bad.code }));
`,
    );
    const out = JSON.parse(sh(process.execPath, ['check.mjs'], app).trim());
    expect(out).toEqual({ good: true, cosigners: ['w0', 'w1'], bad: false, code: 'inclusion' });
  });

  it('the installed gossip-witness CLI serves and cosigns a checkpoint', async () => {
    const log = new TestLog('example.com/packed-log').append(3);
    writeFileSync(join(app, 'w.yaml'), `name: witness.example/packed\nkey: w.key\ndata: w-data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
    const child = spawn(join(app, 'node_modules/.bin/gossip-witness'), ['serve', '--config', 'w.yaml'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const deadline = Date.now() + 30_000;
      let started: { url: string; vkeys: string[] } | undefined;
      while (!started) {
        for (const line of out.split('\n')) {
          try {
            const o = JSON.parse(line);
            if (o.msg === 'witness listening') started = o;
          } catch {
            // not JSON
          }
        }
        if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${err}`);
        if (Date.now() > deadline) throw new Error(`serve did not start within 30 s: ${err}`);
        if (!started) await new Promise((r) => setTimeout(r, 50));
      }
      const note = log.checkpoint(3n);
      const res = await fetch(`${started.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${note}` });
      expect(res.status).toBe(200);
      const lines = await res.text();
      const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
      expect(openNote(text + '\n' + lines, [parseCosignatureVkey(started.vkeys[0])]).verified).toHaveLength(1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
    }
  }, 60_000);
});
