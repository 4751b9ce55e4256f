// Serve's idle memory (issue 14): the memory-reducer nudge (src/cli/memory-reducer.ts) and the
// bundle's lazily loaded builtins (scripts/build-bin.mjs, LAZY_BUILTINS). The RSS figures
// themselves are bench/serve-memory.bench.ts's.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryReducerNeedsNudge, nudgeMemoryReducer } from '../../src/cli/memory-reducer.js';
import { generateKey } from '../../src/note/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'gw-serve-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('the memory-reducer nudge', () => {
  it('is needed from V8 13.1 on (Node 24 and 26), not before (Node 20 and 22)', () => {
    expect(memoryReducerNeedsNudge('11.3.244.8-node.33')).toBe(false); // Node 20
    expect(memoryReducerNeedsNudge('12.4.254.21-node.33')).toBe(false); // Node 22
    expect(memoryReducerNeedsNudge('13.0.245.25')).toBe(false);
    expect(memoryReducerNeedsNudge('13.1.201.8')).toBe(true);
    expect(memoryReducerNeedsNudge('13.6.233.17-node.41')).toBe(true); // Node 24
    expect(memoryReducerNeedsNudge('14.6.202.9-node.20')).toBe(true); // Node 26
  });

  it('runs on an unref\'d interval that the returned function stops, and does nothing where not needed', () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    nudgeMemoryReducer(30_000, '12.4.254.21')();
    expect(setSpy).not.toHaveBeenCalled();
    expect(clearSpy).not.toHaveBeenCalled();

    const stop = nudgeMemoryReducer(30_000, '13.6.233.17');
    expect(setSpy).toHaveBeenCalledTimes(1);
    expect(setSpy.mock.calls[0]![1]).toBe(30_000);
    const timer = setSpy.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false); // never keeps the process alive
    stop();
    expect(clearSpy).toHaveBeenCalledWith(timer);
  });
});

// The installed CLI is the bundle; it is built by `npm run build` (and by `npm ci`'s prepare).
const bundle = join(ROOT, 'dist/bin/main.js');
const bundleFresh = (): boolean =>
  existsSync(bundle) &&
  statSync(bundle).mtimeMs >= statSync(join(ROOT, 'scripts/build-bin.mjs')).mtimeMs &&
  statSync(bundle).mtimeMs >= statSync(join(ROOT, 'dist/src/cli/main.js')).mtimeMs;

describe('the bundled CLI', () => {
  it('loads https, http2 and tls only on first use, and zlib never: serve uses none', (ctx) => {
    if (!bundleFresh()) ctx.skip(); // no bundle, or older than the build script or dist/src: `npm run build`
    const log = generateKey('example.com/log');
    const config = join(dir, 'witness.yaml');
    writeFileSync(config, `name: witness.example/w\nkey: w.key\ndata: data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: example.com/log, vkeys: ["${log.vkey}"] }\n`);
    // --print-vkey loads the witness node's modules (fastify, prom-client) and exits.
    const hook = `process.on('exit', () => process.stderr.write('MODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));`;
    const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(hook), bundle, 'serve', '--config', config, '--print-vkey'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const loaded = JSON.parse(/^MODULES (.*)$/m.exec(r.stderr)![1]!) as string[];
    expect(loaded).toContain('NativeModule http'); // fastify's, loaded as it always was
    for (const m of ['https', 'http2', 'tls', 'zlib']) expect(loaded).not.toContain(`NativeModule ${m}`);
  }, 90_000);
});
