// The CLI's one exit-code table and the start-up failure classification (src/cli/errors.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError, CliError, EXIT_CODES, KIND_EXIT_CODES, NetworkError, RefusedError, StartupError, UsageError, exitCodeFor, startupError } from '../../src/cli/errors.js';
import { BaseError, ERROR_CODES, GossipWitnessError, type ErrorCode } from '../../src/errors.js';
import { StoreDamagedError } from '../../src/store/integrity.js';
import { StoreLockedError, StoreVersionError } from '../../src/store/level.js';
import { freePort } from '../../src/util/ports.js';

describe('exit codes', () => {
  it('one table: 0 ok, 1 refused, 2 usage/bad input/permanent start-up, 3 network, 75 transient, 70 internal', () => {
    const table = Object.fromEntries(Object.entries(KIND_EXIT_CODES).map(([k, v]) => [k, v.exit]));
    expect(table).toEqual({ OK: 0, REFUSED: 1, USAGE: 2, BAD_INPUT: 2, CONFIG: 2, STORE_DAMAGED: 2, NETWORK: 3, UNAVAILABLE: 75, INTERNAL: 70 });
    // Every code of the vocabulary gets the exit code of its kind.
    for (const [code, kind] of Object.entries(ERROR_CODES)) expect(EXIT_CODES[code as ErrorCode].exit, code).toBe(table[kind]);
    expect([EXIT_CODES.malformed.exit, EXIT_CODES['unknown-log'].exit, EXIT_CODES['clock-behind'].exit, EXIT_CODES.internal.exit]).toEqual([2, 1, 75, 70]);
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

  it('an error from another copy of src/errors.ts is still a GossipWitnessError (the bundled CLI runs the tools from dist/src)', async () => {
    // A second module instance: the same file under another URL.
    const spec = new URL('../../src/errors.ts?copy=1', import.meta.url).href;
    const copy = (await import(/* @vite-ignore */ spec)) as typeof import('../../src/errors.js');
    expect(copy.GossipWitnessError).not.toBe(GossipWitnessError);
    const foreign = new copy.GossipWitnessError({ code: 'USAGE', message: 'from the other copy' });
    expect(foreign).toBeInstanceOf(GossipWitnessError);
    expect(exitCodeFor(foreign as GossipWitnessError)).toBe(EXIT_CODES.USAGE.exit);
    // Subclasses keep the prototype check; plain errors are not in the vocabulary.
    expect(foreign).not.toBeInstanceOf(UsageError);
    expect(new UsageError('x')).not.toBeInstanceOf(StoreLockedError);
    expect(new Error('plain')).not.toBeInstanceOf(GossipWitnessError);
    expect({ code: 'USAGE' }).not.toBeInstanceOf(GossipWitnessError);
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
  it("libp2p's listen failure (errno only in its message): transient when the port is in use; one line per problem", () => {
    const libp2p = (msg: string) => Object.assign(new Error(msg), { name: 'UnsupportedListenAddressesError' });
    const inUse = startupError(libp2p('Some configured addresses failed:\n\n  /ip4/127.0.0.1/tcp/1: Error: listen EADDRINUSE: address already in use 127.0.0.1:1\n      at Server.setupListenHandle (node:net:1908:16)\n'));
    expect(inUse.exitCode).toBe(75);
    expect(inUse.message).not.toContain('setupListenHandle');
    expect(startupError(libp2p('Some configured addresses failed:\n  /ip4/1.2.3.4/tcp/1: Error: listen EACCES')).exitCode).toBe(2);
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

describe('serve start-up: each failure gets the exit code of its kind (permanent 2, transient 75, bug 70)', async () => {
  const { spawnSync } = await import('node:child_process');
  const { chmodSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { createServer } = await import('node:net');
  const { TestLog } = await import('../helpers/fork.js');
  const { LevelStore } = await import('../../src/store/level.js');
  const root = new URL('../..', import.meta.url).pathname;
  const log = new TestLog('example.com/startup-log');
  const dir = mkdtempSync(join(tmpdir(), 'gw-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A config in dir; `store` replaces the data: line. */
  const config = (name: string, store = `data: ${name}-data`, listen = '127.0.0.1:0') => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `name: witness.example/${name}\nkey: ${name}.key\n${store}\nhttp: { listen: "${listen}" }\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
    return file;
  };
  // Every case fails during start-up, so the process ends by itself; the timeout only bounds a hang.
  const serve = (file: string, preload?: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', ...(preload ? ['--import', preload] : []), 'src/cli/main.ts', 'serve', '--config', file, '--log-level', 'silent'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('a LevelDB lock held by another process: 75 (transient)', async () => {
    const file = config('locked');
    const store = await LevelStore.open(join(dir, 'locked-data'));
    try {
      const r = serve(file);
      expect(r.status, r.stderr).toBe(75);
      expect(r.stderr).toMatch(/cannot start the witness: .*lock/i);
    } finally {
      await store.close();
    }
  });

  it('a damaged data folder: 2 (permanent), naming it', async () => {
    const file = config('damaged');
    const store = await LevelStore.open(join(dir, 'damaged-data'));
    await store.close();
    writeFileSync(join(dir, 'damaged-data', 'CURRENT'), 'garbage');
    const r = serve(file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('damaged-data');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace: not a bug
  });

  it('an unusable key file: 2 (permanent)', () => {
    const file = config('badkey');
    writeFileSync(join(dir, 'badkey.key'), 'not a key\n', { mode: 0o600 });
    chmodSync(join(dir, 'badkey.key'), 0o600);
    const r = serve(file);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('badkey.key');
  });

  it('PostgreSQL not accepting connections (nothing listens on its port): 75 (transient)', async () => {
    // A port that was free a moment ago: connecting is refused.
    const port = await freePort();
    const r = serve(config('pg', `store: { url: "postgres://gw@127.0.0.1:${port}/gw", timeout: 2s }`));
    expect(r.status, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/ECONNREFUSED|connect/);
  });

  it('a port in use: 75 (transient)', async () => {
    const held = createServer();
    const port = await new Promise<number>((res) => held.listen(0, '127.0.0.1', () => res((held.address() as { port: number }).port)));
    try {
      const r = serve(config('port', undefined, `127.0.0.1:${port}`));
      expect(r.status, r.stderr).toBe(75);
      expect(r.stderr).toMatch(/EADDRINUSE|address already in use/);
    } finally {
      await new Promise((res) => held.close(res));
    }
  });

  it('the gossip (libp2p) port in use: 75 (transient)', async () => {
    const held = createServer();
    const port = await new Promise<number>((res) => held.listen(0, '127.0.0.1', () => res((held.address() as { port: number }).port)));
    try {
      const r = serve(config('p2p', `data: p2p-data\np2p: { listen: [ "/ip4/127.0.0.1/tcp/${port}" ], allowLoopback: true }`));
      expect(r.status, r.stderr).toBe(75);
      expect(r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise((res) => held.close(res));
    }
  });

  it('a bug while starting (an injected TypeError in listen): 70 with the stack trace', () => {
    mkdirSync(join(dir, 'bug'), { recursive: true });
    const preload = join(dir, 'bug', 'listen-bug.mjs');
    writeFileSync(preload, "import http from 'node:http';\nhttp.Server.prototype.listen = function () { throw new TypeError('injected start-up bug'); };\n");
    const r = serve(config('bug'), preload);
    expect(r.status, r.stderr).toBe(70);
    expect(r.stderr).toContain('internal error (a bug');
    expect(r.stderr).toMatch(/TypeError: injected start-up bug\n\s+at /);
  });
});

describe('one vocabulary: the client, the witness and the CLI throw GossipWitnessErrors with codes of ERROR_CODES', async () => {
  const { NoteError, KeyError } = await import('../../src/note/errors.js');
  const { parseNote, parseVkey } = await import('../../src/note/index.js');
  const { CheckpointError, parseCheckpoint } = await import('../../src/checkpoint/checkpoint.js');
  const { PolicyError, parsePolicy } = await import('../../src/policy/parse.js');
  const { ProofFormatError, parseInclusionProof } = await import('../../src/policy/inclusion.js');
  const { TlogProofError, parseTlogProof } = await import('../../src/policy/tlog-proof.js');
  const { RequestError, parseAddCheckpointBody } = await import('../../src/witness/request.js');
  const { EvidenceError, decodeEvidence } = await import('../../src/witness/evidence.js');
  const { StoreUnavailableError } = await import('../../src/witness/store.js');
  const { WitnessInternalError } = await import('../../src/witness/witness.js');
  const enc = (s: string) => new TextEncoder().encode(s);
  const thrown = (f: () => unknown): unknown => {
    try {
      f();
    } catch (e) {
      return e;
    }
    throw new Error('did not throw');
  };

  it('each parser throws its class, a GossipWitnessError with a listed code and the kind that decides the exit code', () => {
    const cases: [unknown, Function, string, string][] = [
      [thrown(() => parseNote(enc('no blank line'))), NoteError, 'malformed', 'BAD_INPUT'],
      [thrown(() => parseVkey('nope')), KeyError, 'bad-key', 'BAD_INPUT'],
      [thrown(() => parseCheckpoint('origin\n')), CheckpointError, 'malformed', 'BAD_INPUT'],
      [thrown(() => parsePolicy('bogus line\n')), PolicyError, 'syntax', 'BAD_INPUT'],
      [thrown(() => parseInclusionProof('{}')), ProofFormatError, 'malformed', 'BAD_INPUT'],
      [thrown(() => parseTlogProof('c2sp.org/tlog-proof@v1\nindex 007\n')), TlogProofError, 'malformed', 'BAD_INPUT'],
      [thrown(() => parseAddCheckpointBody(enc('old x\n\n'))), RequestError, 'malformed', 'BAD_INPUT'],
      [thrown(() => decodeEvidence(enc('not json'))), EvidenceError, 'malformed', 'BAD_INPUT'],
      [new StoreUnavailableError('disk full'), StoreUnavailableError, 'unavailable', 'UNAVAILABLE'],
      [new WitnessInternalError('o', new TypeError('x')), WitnessInternalError, 'internal', 'INTERNAL'],
    ];
    for (const [e, cls, code, kind] of cases) {
      expect(e, cls.name).toBeInstanceOf(cls);
      expect(e, cls.name).toBeInstanceOf(GossipWitnessError);
      expect(e, cls.name).toMatchObject({ code, kind, name: cls.name });
      expect(Object.keys(ERROR_CODES)).toContain(code);
    }
    // A note that does not parse, escaping a command, is bad input (2), not a bug (70).
    expect(exitCodeFor(cases[0][0])).toBe(2);
    expect(exitCodeFor(new StoreUnavailableError('x'))).toBe(75);
    expect(exitCodeFor(new WitnessInternalError('o', 'x'))).toBe(70);
    expect(exitCodeFor(new TypeError('x'))).toBe(70);
    // Start-up: our own errors decide by kind.
    expect(startupError(new StoreUnavailableError('not yet')).exitCode).toBe(75);
    expect(startupError(cases[1][0]).code).toBe('CONFIG');
    expect(startupError(new WitnessInternalError('o', 'x')).code).toBe('INTERNAL');
  });

  it('every error class under src/ is a GossipWitnessError (no class extends Error itself but BaseError)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const src = new URL('../../src', import.meta.url).pathname;
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const plain: string[] = [];
    for (const f of files) for (const m of readFileSync(join(src, f), 'utf8').matchAll(/class (\w+)(?:<[^>]*>)? extends Error\b/g)) plain.push(`${f}: ${m[1]}`);
    expect(plain).toEqual(['errors.ts: BaseError']);
  });

  it('the node side (config, keys, stores, gossip, feeders, tools) throws them too, and start-up reads their kind', async () => {
    const { ConfigError } = await import('../../src/config.js');
    const { KeyFileError } = await import('../../src/keys/keyfile.js');
    const { HighwaterError } = await import('../../src/store/highwater.js');
    const { StoreCorruptError, StoreWriteError } = await import('../../src/store/level.js');
    const { StoreClosedError } = await import('../../src/store/memory.js');
    const { PostgresStoreError } = await import('../../src/store/postgres.js');
    const { FrameError } = await import('../../src/gossip/exchange.js');
    const { SyncError } = await import('../../src/gossip/sync.js');
    const { FeedError } = await import('../../src/logs/feeders/http.js');
    const { LogListError } = await import('../../src/logs/loglist.js');
    const { LogListLoadError } = await import('../../src/logs/registry.js');
    const { FileTooLargeError } = await import('../../src/util/read-capped.js');
    const { ScenarioError } = await import('../../src/sim/scenario.js');
    const cases: [GossipWitnessError, string, string, number][] = [
      // error, code, kind, serve's start-up exit
      [new ConfigError('w.yaml', [{ path: 'a', reason: 'b' }]), 'CONFIG', 'CONFIG', 2],
      [new KeyFileError('bad key'), 'CONFIG', 'CONFIG', 2],
      [new StoreDamagedError('/d', ['x']), 'STORE_DAMAGED', 'STORE_DAMAGED', 2],
      [new StoreVersionError('/d', '9'), 'STORE_DAMAGED', 'STORE_DAMAGED', 2],
      [new StoreCorruptError('/d', 'k', 'x'), 'STORE_DAMAGED', 'STORE_DAMAGED', 2],
      [new HighwaterError('/d/j', 'damaged'), 'STORE_DAMAGED', 'STORE_DAMAGED', 2],
      [new StoreLockedError('/d', new Error('locked')), 'UNAVAILABLE', 'UNAVAILABLE', 75],
      [new StoreWriteError('/d', Object.assign(new Error('no space'), { code: 'ENOSPC' })), 'unavailable', 'UNAVAILABLE', 75],
      [new StoreClosedError(), 'unavailable', 'UNAVAILABLE', 75],
      [new PostgresStoreError('store: authentication failed'), 'CONFIG', 'CONFIG', 2],
      [new PostgresStoreError('store: cannot reach PostgreSQL', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }), 'CONFIG', 'CONFIG', 75],
      [new FrameError('empty frame'), 'malformed', 'BAD_INPUT', 2],
      [new SyncError('not JSON'), 'malformed', 'BAD_INPUT', 2],
      [new FeedError('timeout', 'no answer'), 'NETWORK', 'NETWORK', 75],
      [new FeedError('bad-signature', 'x'), 'bad-signature', 'REFUSED', 2],
      [new LogListError(3, 'bad line'), 'BAD_INPUT', 'BAD_INPUT', 2],
      [new LogListLoadError('log list f: x'), 'CONFIG', 'CONFIG', 2],
      [new FileTooLargeError('/f', 10), 'BAD_INPUT', 'BAD_INPUT', 2],
      [new ScenarioError('s.yaml', [{ path: 'p', reason: 'r' }]), 'BAD_INPUT', 'BAD_INPUT', 2],
    ];
    for (const [e, code, kind, exit] of cases) {
      expect(e, e.name).toBeInstanceOf(GossipWitnessError);
      expect(e, e.name).toMatchObject({ code, kind });
      expect(startupError(e).exitCode, e.name).toBe(exit);
    }
    // The class names and messages stay what they were (logs and tests read them).
    expect(new ConfigError('w.yaml', [{ path: 'a', reason: 'b' }])).toMatchObject({ name: 'ConfigError', message: 'config w.yaml: a: b' });
    expect(new LogListError(3, 'bad line')).toMatchObject({ name: 'LogListError', message: 'line 3: bad line', line: 3 });
  });

  it('src/errors.ts imports nothing (the client package bundles it for browsers)', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    expect(text).not.toMatch(/^\s*import\s/m);
    expect(text).not.toMatch(/\bnode:|\brequire\(/);
  });

  it('shared messages are spelled once: no other file under src/ writes them out', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const src = new URL('../../src', import.meta.url).pathname;
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && f !== 'errors.ts');
    expect(files.length).toBeGreaterThan(50);
    // The start of a string literal ('…, `…, "…) with the phrase: a message, not a comment.
    const phrases = ['unknown log origin', 'invalid signature for key', 'malformed checkpoint:', 'consistency proof from ${', 'inclusion proof does not verify', 'sign-subtree is not enabled', 'bad cursor:', 'unknown cursor:', 'bad limit:', 'bad origin filter'];
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(src, f), 'utf8');
      for (const p of phrases) for (const quote of ["'", '`', '"']) if (text.includes(quote + p)) found.push(`${f}: ${p}`);
    }
    expect(found).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  it('lists every code with its kind, exit code and HTTP status, as the tables say', async () => {
    const { readFileSync } = await import('node:fs');
    const { STATUS_OF } = await import('../../src/http/status.js');
    const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = new Map<string, string[]>();
    for (const m of text.matchAll(/^\| `([^`]+)` \| ([A-Z_]+) \| [^|]+ \| (\d+) \| ([0-9–]+) \|$/gm)) rows.set(m[1], [m[2], m[3], m[4]]);
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, kind] of Object.entries(ERROR_CODES)) {
      const http = (STATUS_OF as Record<string, number>)[code];
      expect(rows.get(code), code).toEqual([kind, String(KIND_EXIT_CODES[kind].exit), http === undefined ? '–' : String(http)]);
    }
  });
});
