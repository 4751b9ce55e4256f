// The CLI's one exit-code table and the start-up failure classification (src/cli/errors.ts).
import { describe, expect, it } from 'vitest';
import { BadInputError, CliError, EXIT_CODES, NetworkError, RefusedError, StartupError, UsageError, startupError } from '../../src/cli/errors.js';
import { BaseError, GossipWitnessError } from '../../src/errors.js';
import { StoreDamagedError } from '../../src/store/integrity.js';
import { StoreLockedError, StoreVersionError } from '../../src/store/level.js';

describe('exit codes', () => {
  it('one table: 0 ok, 1 refused, 2 usage/bad input/permanent start-up, 3 network, 75 transient, 70 internal', () => {
    const table = Object.fromEntries(Object.entries(EXIT_CODES).map(([k, v]) => [k, v.exit]));
    expect(table).toEqual({ OK: 0, REFUSED: 1, USAGE: 2, BAD_INPUT: 2, CONFIG: 2, STORE_DAMAGED: 2, NETWORK: 3, UNAVAILABLE: 75, INTERNAL: 70 });
    expect(new RefusedError('x').exitCode).toBe(1);
    expect(new UsageError('x').exitCode).toBe(2);
    expect(new BadInputError('x').exitCode).toBe(2);
    expect(new NetworkError('x').exitCode).toBe(3);
    expect(new StartupError('UNAVAILABLE', 'x').exitCode).toBe(75);
  });

  it('errors carry a code, a name and the cause (BaseError<Code>)', () => {
    const cause = new Error('inner');
    const e = new NetworkError('outer', cause);
    expect(e).toBeInstanceOf(CliError);
    expect(e).toBeInstanceOf(GossipWitnessError);
    expect(e).toBeInstanceOf(BaseError);
    expect(e).toMatchObject({ code: 'NETWORK', name: 'NetworkError', message: 'outer', cause });
  });
});

describe('start-up failures: permanent (2) or transient (75), or a bug (70)', () => {
  const errno = (code: string) => Object.assign(new Error(`listen ${code}: address already in use 127.0.0.1:7380`), { code });
  it('port in use, connection refused, a held LevelDB lock: transient', () => {
    expect(startupError(errno('EADDRINUSE')).exitCode).toBe(75);
    expect(startupError(new Error('pg', { cause: errno('ECONNREFUSED') })).exitCode).toBe(75);
    expect(startupError(new AggregateError([errno('ECONNREFUSED')], 'connect')).exitCode).toBe(75);
    expect(startupError(new StoreLockedError('/d', new Error('LOCK'))).exitCode).toBe(75);
  });
  it('bad config, bad key file, damaged or foreign store: permanent', () => {
    expect(startupError(new Error('key file k: not a key')).code).toBe('CONFIG');
    expect(startupError(new StoreDamagedError('/d', ['x'])).code).toBe('STORE_DAMAGED');
    expect(startupError(new StoreVersionError('/d', '9')).exitCode).toBe(2);
  });
  it('a TypeError is a bug', () => {
    expect(startupError(new TypeError('x is undefined')).code).toBe('INTERNAL');
  });
});

describe('a bug (any error that is not a GossipWitnessError) exits 70 with a stack trace', () => {
  it('an injected TypeError inside a command', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'gw-bug-'));
    try {
      // A preload that breaks stdout: keygen's write then throws a TypeError, as a bug would.
      const preload = join(dir, 'bug.mjs');
      writeFileSync(preload, "process.stdout.write = () => { throw new TypeError('injected bug'); };\n");
      const root = new URL('../..', import.meta.url).pathname;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', preload, 'src/cli/main.ts', 'keygen', '--name', 'bug.example', '--out', join(dir, 'k')], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(70);
      expect(r.stderr).toContain('internal error (a bug');
      expect(r.stderr).toMatch(/TypeError: injected bug\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
