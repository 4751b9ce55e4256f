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
