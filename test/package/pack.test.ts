// The packages as users get them: `npm pack` of every publishable package of the workspace
// (gossip-witness: a staged copy, see the first test; @gossip-witness/client and
// @gossip-witness/tools: their prepack builds), the tarballs installed in fresh folders outside the
// repository, then:
//   - the client alone: `npm ls --omit=dev` shows only @noble packages; it verifies a
//     c2sp.org/tlog-proof from Node (ESM import and CommonJS require, node:crypto through the `node`
//     condition) and from a page in headless Chromium (its self-contained bundles);
//   - the node package: its installed `gossip-witness` CLI serves and cosigns (add-checkpoint);
//     `simulate` says how to get the tools package until it is installed; then simulate runs a
//     scenario and launch starts a local network from it.
// Slow (builds and installs, from the npm cache when it can): it runs when CI=true or
// GW_TEST_PACK=1, and says why it skips otherwise.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTlogProof } from '../../src/policy/index.js';
import { openNote, parseCosignatureVkey } from '../../src/note/index.js';
import { Network } from '../policy/helpers.js';
import { TestLog } from '../helpers/fork.js';
import { chromium, resultPage, runPage, serveFiles } from '../helpers/chromium.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUN = process.env.CI === 'true' || process.env.GW_TEST_PACK === '1';
if (!RUN) console.log('test/package/pack.test.ts: skipped (packs, builds and installs the packages, a minute or two): runs with CI=true or GW_TEST_PACK=1');

// Outside the repository: no node_modules or package.json of ours above the install folders.
const work = mkdtempSync(join(tmpdir(), 'gw-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }), 180_000); // hundreds of MB of node_modules
const app = join(work, 'app'); // gossip-witness (then @gossip-witness/tools)
const clientApp = join(work, 'client-app'); // @gossip-witness/client alone
const tgz: { node?: string; client?: string; tools?: string } = {};

const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'], env });
}
function npmInstall(cwd: string, tarballs: string[]): void {
  // --prefer-offline: the packages `npm ci` put in the cache; the registry only for what is missing.
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], cwd, 600_000);
}
function freshApp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}
function tarList(file: string): string[] {
  return sh('tar', ['tzf', file], work).split('\n').filter(Boolean);
}

// The proof every client check verifies: entry 4 of a 9-entry log, cosigned by w0 and w1 of 3.
const net = new Network('example.com/packed', 3, 9);
const POLICY = net.policy(['group g 2 w0 w1 w2', 'quorum g']);
const PROOF = formatTlogProof({ index: 4n, hashes: net.log.tree.inclusionProof(4n, 9n), checkpoint: net.cosigned([0, 1]) });
const EXPECTED = { good: true, cosigners: ['w0', 'w1'], bad: false, code: 'inclusion' };

describe.skipIf(!RUN)('npm pack of every package, installed in fresh folders', () => {
  it('packs gossip-witness (dist/, not test/, bench/, docs/ or the tools), @gossip-witness/client and @gossip-witness/tools', () => {
    // gossip-witness: pack a staged copy, so that other test files reading the repository's dist/
    // meanwhile are not disturbed by a rebuild: the package.json (its `files`), bin/, the dist/src
    // and dist/bin that `npm ci` built (prepare), and the browser bundle built the way `prepack` builds it.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepack).toContain('build:browser');
    const stage = join(work, 'stage');
    mkdirSync(join(stage, 'dist'), { recursive: true });
    sh('cp', ['-r', join(ROOT, 'package.json'), join(ROOT, 'README.md'), join(ROOT, 'bin'), join(ROOT, 'network-config'), stage], work);
    sh('cp', ['-r', join(ROOT, 'dist/src'), join(stage, 'dist/src')], work);
    sh('cp', ['-r', join(ROOT, 'dist/bin'), join(stage, 'dist/bin')], work); // the bundled CLI (prepare's build:bin)
    const browser = pkg.scripts['build:browser'].replace(/^esbuild /, '').replace(/--outfile=\S+/, `--outfile=${join(stage, 'dist/browser/client.js')}`).split(' ');
    sh(join(ROOT, 'node_modules/.bin/esbuild'), browser, ROOT);
    const packs = join(work, 'packs');
    mkdirSync(packs);
    sh('npm', ['pack', '--ignore-scripts', '--pack-destination', packs], stage);
    // The workspace packages: their prepack builds them from the repository's src/.
    sh('npm', ['pack', '-w', '@gossip-witness/client', '-w', '@gossip-witness/tools', '--pack-destination', packs], ROOT);
    for (const f of readdirSync(packs)) {
      const p = join(packs, f);
      if (f.startsWith('gossip-witness-client-')) tgz.client = p;
      else if (f.startsWith('gossip-witness-tools-')) tgz.tools = p;
      else if (f.startsWith('gossip-witness-')) tgz.node = p;
    }
    expect(Object.keys(tgz).sort()).toEqual(['client', 'node', 'tools']);

    const node = tarList(tgz.node!);
    expect(node).toContain('package/dist/src/policy/index.js');
    expect(node).toContain('package/dist/src/policy/tlog-proof.js');
    expect(node).toContain('package/dist/src/cli/main.js');
    expect(node).toContain('package/dist/src/cli/tools.js');
    // The installed command runs the bundled CLI (bin/gossip-witness.js prefers dist/bin).
    expect(node).toContain('package/dist/bin/main.js');
    expect(node.filter((f) => f.startsWith('package/dist/bin/') && f.endsWith('.map'))).toEqual([]);
    expect(node).toContain('package/dist/browser/client.js');
    expect(node.filter((f) => /^package\/(test|bench|docs|src|packages)\//.test(f))).toEqual([]);
    // The simulator, the demo and the launcher are the tools package's.
    expect(node.filter((f) => /^package\/dist\/src\/(sim|demo|launcher)\/|^package\/dist\/src\/cli\/(simulate|launch)\./.test(f))).toEqual([]);

    const client = tarList(tgz.client!);
    for (const f of ['index.js', 'index.cjs', 'node.js', 'node.cjs', 'browser.js', 'client.bundle.js', 'client.ed25519.bundle.js', 'index.d.ts', 'index.d.cts']) {
      expect(client).toContain(`package/dist/${f}`);
    }
    expect(client).toContain('package/README.md');
    expect(client.filter((f) => !/^package\/(dist\/|README\.md$|package\.json$)/.test(f))).toEqual([]);

    const tools = tarList(tgz.tools!);
    expect(tools).toContain('package/dist/index.js');
    expect(tools).toContain('package/bin/gossip-witness.js');
    // One core: the tools import the node package's modules, they do not carry copies of them.
    const toolsJs = tools.filter((f) => f.endsWith('.js') && f.startsWith('package/dist/'));
    sh('tar', ['xzf', tgz.tools!, '-C', packs], packs);
    const code = toolsJs.map((f) => readFileSync(join(packs, f), 'utf8')).join('\n');
    expect(code).toContain('gossip-witness/internal/note/keys.js');
    expect(code).not.toMatch(/function parseVkey\b/);
  }, 900_000);

  it('the client alone installs only @noble packages', () => {
    freshApp(clientApp);
    npmInstall(clientApp, [tgz.client!]);
    const paths = sh('npm', ['ls', '--omit=dev', '--all', '--parseable'], clientApp).trim().split('\n');
    const names = paths
      .filter((p) => p !== clientApp)
      .map((p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length))
      .sort();
    // Its three dependencies and theirs (@noble/post-quantum uses @noble/ciphers): @noble only.
    expect(names.filter((n) => n !== '@gossip-witness/client' && !n.startsWith('@noble/'))).toEqual([]);
    for (const n of ['@gossip-witness/client', '@noble/curves', '@noble/hashes', '@noble/post-quantum']) expect(names).toContain(n);
    console.log(`installed @gossip-witness/client: ${names.join(', ')}; du -sh node_modules = ${sh('du', ['-sh', 'node_modules'], clientApp).split('\t')[0]}`);
  }, 600_000);

  it('the client verifies a tlog-proof in Node: ESM import and CommonJS require (node:crypto), and the portable entry', () => {
    writeFileSync(join(clientApp, 'policy.txt'), POLICY);
    writeFileSync(join(clientApp, 'e4.tlog-proof'), PROOF);
    const body = (lib: string) => `const policy = lib.parsePolicy(fs.readFileSync('policy.txt'));
const proof = fs.readFileSync('e4.tlog-proof');
const good = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 4') });
const bad = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 5') });
console.log(JSON.stringify({ good: good.ok, cosigners: good.cosigners, bad: bad.ok, code: bad.code, backend: lib.cryptoBackend().name, mldsa: lib.mlDsa44().name, from: ${JSON.stringify(lib)} }));
`;
    writeFileSync(join(clientApp, 'check.mjs'), `import fs from 'node:fs';\nimport * as lib from '@gossip-witness/client';\n${body('import')}`);
    writeFileSync(join(clientApp, 'check.cjs'), `const fs = require('node:fs');\nconst lib = require('@gossip-witness/client');\n${body('require')}`);
    writeFileSync(join(clientApp, 'portable.cjs'), `const fs = require('node:fs');\nconst lib = require('@gossip-witness/client/portable');\n${body('portable')}`);
    // The node entry uses node:crypto's ML-DSA-44 where the runtime has it (Node >= 24.7), noble before.
    const [major, minor] = process.versions.node.split('.').map(Number);
    const nativeMlDsa = major! > 24 || (major === 24 && minor! >= 7) ? 'node' : 'noble';
    for (const [file, backend, mldsa] of [['check.mjs', 'node', nativeMlDsa], ['check.cjs', 'node', nativeMlDsa], ['portable.cjs', 'noble', 'noble']] as const) {
      const out = JSON.parse(sh(process.execPath, [file], clientApp).trim());
      expect(out, file).toMatchObject({ ...EXPECTED, backend, mldsa });
    }
  });

  it.skipIf(chromium.skip)(
    chromium.title('the client verifies a tlog-proof in a browser page (headless Chromium; both bundles)'),
    async () => {
      chromium.require();
      const dist = join(clientApp, 'node_modules/@gossip-witness/client/dist');
      const page = resultPage(`
  const out = {};
  const policyText = await (await fetch('/policy.txt')).text();
  const proof = new Uint8Array(await (await fetch('/e4.tlog-proof')).arrayBuffer());
  for (const b of ['client.bundle.js', 'client.ed25519.bundle.js']) {
    const lib = await import('/' + b);
    const policy = lib.parsePolicy(policyText);
    const good = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 4') });
    const bad = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 5') });
    out[b] = { good: good.ok, cosigners: good.cosigners, bad: bad.ok, code: bad.code, backend: lib.cryptoBackend().name };
  }
  return JSON.stringify(out);`);
      const server = await serveFiles({
        '/': ['text/html; charset=utf-8', page],
        '/policy.txt': ['text/plain', POLICY],
        '/e4.tlog-proof': ['application/octet-stream', PROOF],
        '/client.bundle.js': ['text/javascript', readFileSync(join(dist, 'client.bundle.js'))],
        '/client.ed25519.bundle.js': ['text/javascript', readFileSync(join(dist, 'client.ed25519.bundle.js'))],
      });
      try {
        const { text, errors } = await runPage(`${server.base}/`);
        expect(errors).toEqual([]);
        expect(text).not.toMatch(/^ERROR/);
        const r = JSON.parse(text);
        expect(r['client.bundle.js']).toEqual({ ...EXPECTED, backend: 'noble' });
        expect(r['client.ed25519.bundle.js']).toEqual({ ...EXPECTED, backend: 'noble' });
      } finally {
        await server.close();
      }
    },
    90_000,
  );

  it('gossip-witness installs without the tools; its CLI serves and cosigns a checkpoint', async () => {
    freshApp(app);
    npmInstall(app, [tgz.node!]);
    const count = sh('sh', ['-c', 'npm ls --omit=dev --all --parseable | wc -l'], app).trim();
    const size = sh('du', ['-sh', 'node_modules'], app).split('\t')[0];
    console.log(`installed gossip-witness: npm ls --omit=dev --all --parseable | wc -l = ${count} (the app folder counts as 1); du -sh node_modules = ${size}`);
    for (const gone of ['vega', 'vega-lite', 'cli-progress']) expect(existsSync(join(app, 'node_modules', gone)), gone).toBe(false);
    // `gossip-witness/client` keeps working as a re-export of @gossip-witness/client.
    writeFileSync(join(app, 'policy.txt'), POLICY);
    writeFileSync(join(app, 'e4.tlog-proof'), PROOF);
    writeFileSync(
      join(app, 'reexport.mjs'),
      `import fs from 'node:fs';\nimport * as lib from 'gossip-witness/client';\nconst policy = lib.parsePolicy(fs.readFileSync('policy.txt'));\nconst proof = fs.readFileSync('e4.tlog-proof');\nconst good = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 4') });\nconst bad = lib.verifyTlogProof(proof, policy, { entry: new TextEncoder().encode('main leaf 5') });\nconsole.log(JSON.stringify({ good: good.ok, cosigners: good.cosigners, bad: bad.ok, code: bad.code }));\n`,
    );
    expect(JSON.parse(sh(process.execPath, ['reexport.mjs'], app).trim())).toEqual(EXPECTED);

    const log = new TestLog('example.com/packed-log').append(3);
    writeFileSync(join(app, 'w.yaml'), `name: witness.example/packed\nkey: w.key\ndata: w-data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
    const child = spawn(join(app, 'node_modules/.bin/gossip-witness'), ['serve', '--config', 'w.yaml'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      const started = await waitFor(
        () => {
          for (const line of out.split('\n')) {
            try {
              const o = JSON.parse(line);
              if (o.msg === 'witness listening') return o as { url: string; vkeys: string[] };
            } catch {
              // not JSON
            }
          }
          if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${err}`);
          return undefined;
        },
        { what: 'serve to start ("witness listening")', timeoutMs: 30_000, intervalMs: 50, detail: () => err },
      );
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
  }, 900_000);

  it('simulate and launch say how to get @gossip-witness/tools, then run from it once installed', () => {
    const cli = join(app, 'node_modules/.bin/gossip-witness');
    const before = spawnSync(cli, ['simulate', 'x.yaml', '--out', 'out'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(before.status).toBe(2);
    expect(before.stderr).toContain('npm install @gossip-witness/tools');
    const help = spawnSync(cli, ['--help'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(help.stdout).toMatch(/simulate/);
    expect(help.stdout).toMatch(/launch/);

    npmInstall(app, [tgz.node!, tgz.tools!]);
    const simHelp = spawnSync(cli, ['simulate', '--help'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
    expect(simHelp.status, simHelp.stderr).toBe(0);
    expect(simHelp.stdout).toContain('--sweep');
    // A model run of the small scenario: the report with its vega-lite plots (the tools' dependencies).
    const sim = spawnSync(cli, ['simulate', 'node_modules/gossip-witness/network-config/scenarios/small.yaml', '--out', 'sim-out'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(sim.status, sim.stderr).toBe(0);
    for (const f of ['result.json', 'index.html', 'detection-cdf.svg']) expect(existsSync(join(app, 'sim-out', f)), f).toBe(true);
    // The launcher, with the node package's key and config code (gossip-witness/internal/*).
    const dir = join(app, 'net');
    const prep = spawnSync(cli, ['launch', '--network', 'node_modules/gossip-witness/network-config/local-network.yaml', '--prepare', 'local', '--dir', dir], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(prep.status, prep.stderr).toBe(0);
    expect(prep.stdout).toMatch(/^witness w1: config /m);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  }, 900_000);

  it('launch starts the local network from the installed packages (witness processes: the node package CLI) and stops on SIGINT', async () => {
    const cli = join(app, 'node_modules/.bin/gossip-witness');
    const child = spawn(cli, ['launch', '--network', 'node_modules/gossip-witness/network-config/local-network.yaml'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`launch exited ${child.exitCode}: ${err}`);
          return out.includes('Ctrl-C stops everything');
        },
        { what: 'launch to start ("Ctrl-C stops everything")', timeoutMs: 90_000, intervalMs: 100, detail: () => `${out}\n${err}` },
      );
      const w1 = /^witness w1: (http:\/\/127\.0\.0\.1:\d+) vkey /m.exec(out);
      expect(w1, out).not.toBeNull();
      const res = await fetch(`${w1![1]}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    expect(err).toContain('stopped');
  }, 180_000);
});
