// bin/gossip-witness.js runs the bundled CLI (dist/bin/main.js) unless tsc's output is newer (a
// tree rebuilt with tsc alone), and dist/src when there is no bundle.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A package folder with the real launcher and two stand-in entry points that say which ran. */
function fakePackage(opts: { bundle: boolean; bundleAge?: number; srcAge?: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bin-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
  copyFileSync(join(ROOT, 'bin/gossip-witness.js'), join(dir, 'bin/gossip-witness.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const src = join(dir, 'dist/src/cli/main.js');
  writeFileSync(src, "console.log('ran dist/src');");
  const now = Date.now() / 1000;
  utimesSync(src, now - (opts.srcAge ?? 0), now - (opts.srcAge ?? 0));
  if (opts.bundle) {
    mkdirSync(join(dir, 'dist/bin'));
    const b = join(dir, 'dist/bin/main.js');
    writeFileSync(b, "console.log('ran dist/bin');");
    utimesSync(b, now - (opts.bundleAge ?? 0), now - (opts.bundleAge ?? 0));
  }
  return dir;
}

const run = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin/gossip-witness.js')], { encoding: 'utf8', timeout: 20_000 });

describe('bin/gossip-witness.js', () => {
  it('runs the bundle when it is at least as new as dist/src (as built, and as installed: npm pack gives one mtime)', () => {
    expect(run(fakePackage({ bundle: true, bundleAge: 0, srcAge: 60 })).stdout).toBe('ran dist/bin\n');
    expect(run(fakePackage({ bundle: true, bundleAge: 60, srcAge: 60 })).stdout).toBe('ran dist/bin\n');
  });

  it('runs dist/src when tsc rebuilt it after the bundle (never stale code), or when there is no bundle', () => {
    expect(run(fakePackage({ bundle: true, bundleAge: 60, srcAge: 0 })).stdout).toBe('ran dist/src\n');
    expect(run(fakePackage({ bundle: false })).stdout).toBe('ran dist/src\n');
  });
});
