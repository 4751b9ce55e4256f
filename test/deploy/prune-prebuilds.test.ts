// scripts/prune-prebuilds.sh (the container image's build stage): it deletes other platforms'
// native prebuilds, and the native modules the witness needs (sodium-native, classic-level)
// still load and work from the pruned tree. Runs on a hard-linked copy of node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const here = `${process.platform}-${process.arch}`;
// A space in the path: the script must not split it.
const dir = mkdtempSync(join(tmpdir(), 'gw prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prune = (root: string) => spawnSync('sh', [join(ROOT, 'scripts/prune-prebuilds.sh'), root], { encoding: 'utf8', timeout: 60_000 });
const kept = (pkg: string) => readdirSync(join(dir, 'node_modules', pkg, 'prebuilds')).sort();

describe.skipIf(process.platform !== 'linux')('scripts/prune-prebuilds.sh', () => {
  it("keeps only this platform's prebuilds, and sodium-native and classic-level still work", () => {
    const cp = spawnSync('cp', ['-al', join(ROOT, 'node_modules'), join(dir, 'node_modules')], { encoding: 'utf8' });
    expect(cp.status, cp.stderr).toBe(0);
    expect(kept('sodium-native').length).toBeGreaterThan(1);
    const r = prune(join(dir, 'node_modules'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`kept ${here} prebuilds, removed [1-9][0-9]* KiB`));
    for (const pkg of ['sodium-native', 'classic-level']) {
      expect(kept(pkg).every((d) => d.split('-')[0] === process.platform && d.slice(d.indexOf('-') + 1).split('+').includes(process.arch))).toBe(true);
      expect(kept(pkg).length).toBeGreaterThan(0);
    }
    // The source tree was hard-linked, not pruned.
    expect(existsSync(join(ROOT, 'node_modules/sodium-native/prebuilds/win32-x64'))).toBe(true);
    const check = spawnSync(
      process.execPath,
      [
        '-e',
        `const s = require('sodium-native');
         const pk = Buffer.alloc(s.crypto_sign_PUBLICKEYBYTES), sk = Buffer.alloc(s.crypto_sign_SECRETKEYBYTES), sig = Buffer.alloc(s.crypto_sign_BYTES);
         s.crypto_sign_keypair(pk, sk); s.crypto_sign_detached(sig, Buffer.from('m'), sk);
         if (!s.crypto_sign_verify_detached(sig, Buffer.from('m'), pk)) throw new Error('sodium');
         const { ClassicLevel } = require('classic-level');
         const db = new ClassicLevel(require('path').join(process.argv[1], 'db'));
         db.put('k', 'v').then(() => db.get('k')).then((v) => { if (v !== 'v') throw new Error('level'); return db.close(); }).then(() => console.log('native ok'));`,
        dir,
      ],
      { cwd: dir, encoding: 'utf8', timeout: 60_000 },
    );
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe('native ok');
    // Nothing left to prune.
    expect(prune(join(dir, 'node_modules')).stdout).toMatch(/removed 0 KiB/);
  });

  it('refuses a path that is not a directory', () => {
    const r = prune(join(dir, 'missing'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a directory/);
  });
});
