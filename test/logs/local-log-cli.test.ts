// `gossip-witness log serve` / `log add` as child processes: help text, start on a free port,
// add entries, the checkpoint grows and carries a witness cosignature that `note verify`
// accepts, the fork header works, SIGTERM exits 0; bad flags exit 2.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCheckpoint, startTestWitness, waitFor, type TestWitnessNode } from './local-log-helpers.js';
import { readKeyFile } from '../../src/keys/keyfile.js';
import { withDeadline } from '../helpers/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEADLINE_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'gw-ll-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcessWithoutNullStreams>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], stdin?: string): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  if (stdin !== undefined) child.stdin.end(stdin);
  else child.stdin.end();
  return { child, stdout: () => out, stderr: () => err, exited };
}

const exitWithin = <T>(p: Promise<T>, what: string) => withDeadline(p, { what, timeoutMs: DEADLINE_MS });

async function runToEnd(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = run(args, stdin);
  const { code } = await exitWithin(r.exited, `gossip-witness ${args.join(' ')}`);
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

function logLine(r: Running, msg: string): Record<string, any> | undefined {
  for (const line of r.stdout().split('\n')) {
    try {
      const o = JSON.parse(line);
      if (o.msg === msg) return o;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

describe('gossip-witness log', () => {
  it('documents the equivocation options in log serve --help', async () => {
    const r = await runToEnd(['log', 'serve', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--fork-at', '--fork-header', '--fork-addr', '--fork-witness', '--witness', '--witness-vkey', '--interval', '--dir', '--key']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/equivocat/i);
    expect(r.stdout).toContain('branch b');
  });

  it('serves, adds entries, pushes to a witness, serves a cosigned checkpoint note verify accepts, stops on SIGTERM', async () => {
    const origin = 'example.com/cli-log';
    const keyFile = join(dir, 'log.key');
    // The witness needs the log's vkey first: create the key the way log serve would.
    const pre = await runToEnd(['log', 'serve', '--origin', origin, '--key', keyFile, '--listen', '127.0.0.1:0', '--fork-at', 'x']);
    expect(pre.code).toBe(2); // bad --fork-at: usage error, before any key is made
    const { writeKeyFile } = await import('../../src/keys/keyfile.js');
    const { generateKey } = await import('../../src/note/keys.js');
    writeKeyFile(keyFile, generateKey(origin));
    const logVkey = readKeyFile(keyFile).vkey;
    const w: TestWitnessNode = await startTestWitness('witness.example/cli', { origin, vkey: logVkey });
    cleanups.push(() => w.close());
    const fooled: TestWitnessNode = await startTestWitness('witness.example/cli-fooled', { origin, vkey: logVkey });
    cleanups.push(() => fooled.close());

    const r = run([
      'log', 'serve', '--origin', origin, '--key', keyFile, '--listen', '127.0.0.1:0', '--interval', '100ms',
      '--witness', w.url, '--witness-vkey', w.vkey, '--fork-at', '3', '--fork-header', 'X-Fork-Branch',
      '--fork-witness', fooled.url,
    ]);
    const started = await waitFor('the "log listening" line', () => {
      if (r.child.exitCode !== null) throw new Error(`exited early: ${r.stderr()} ${r.stdout()}`);
      return logLine(r, 'log listening');
    }, DEADLINE_MS);
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.url).not.toMatch(/:0$/);
    expect(started.vkey).toBe(logVkey);
    expect(started.forkAt).toBe('3');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const url: string = started.url;

    // log add, from a file and from stdin.
    const entryFile = join(dir, 'entry.txt');
    writeFileSync(entryFile, 'first entry\n');
    let add = await runToEnd(['log', 'add', '--url', url, entryFile]);
    expect(add).toMatchObject({ code: 0, stdout: '0\n' });
    add = await runToEnd(['log', 'add', '--url', url, '-'], 'second entry\n');
    expect(add).toMatchObject({ code: 0, stdout: '1\n' });
    for (let i = 2; i < 6; i++) expect((await fetch(`${url}/add`, { method: 'POST', body: `entry ${i}` })).status).toBe(200);

    // The checkpoint grows to 6 and gets the witness's cosignature.
    const note = await waitFor('a cosigned checkpoint of size 6', async () => {
      const { note, checkpoint } = await fetchCheckpoint(url, logVkey);
      return checkpoint.size === 6n && note.split('\n— ').length === 3 ? note : undefined;
    });
    const noteFile = join(dir, 'checkpoint');
    writeFileSync(noteFile, note);
    const verified = await runToEnd(['note', 'verify', '--vkey', logVkey, '--vkey', w.vkey, noteFile]);
    expect(verified.code).toBe(0);
    expect(verified.stdout.trim().split('\n').map((l) => l.split(' ')[1]).sort()).toEqual([origin, 'witness.example/cli']);

    // The fork header shows branch b (another root at size 6).
    const b = await fetch(`${url}/checkpoint`, { headers: { 'X-Fork-Branch': 'b' } });
    const bNote = await b.text();
    expect(bNote.split('\n')[1]).toBe('6');
    expect(bNote.split('\n')[2]).not.toBe(note.split('\n')[2]);
    // ... and branch b is what the --fork-witness was pushed and cosigned.
    const fooledState = await waitFor('the fork witness at size 6', async () => {
      const s = await fooled.node.store.getState(origin);
      return s?.size === 6n ? s : undefined;
    });
    expect(fooledState.note.split('\n')[2]).toBe(bNote.split('\n')[2]);
    expect((await w.node.store.getState(origin))?.note.split('\n')[2]).toBe(note.split('\n')[2]);

    // An entry the log refuses (too large) exits 1; a bad --branch is a usage error.
    const big = join(dir, 'big');
    writeFileSync(big, new Uint8Array(70_000));
    add = await runToEnd(['log', 'add', '--url', url, big]);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain('413');
    add = await runToEnd(['log', 'add', '--url', url, '--branch', 'c', entryFile]);
    expect(add.code).toBe(2);

    r.child.kill('SIGTERM');
    expect(await exitWithin(r.exited, 'exit after SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('exits 2 on unusable flags', async () => {
    expect((await runToEnd(['log', 'serve'])).code).toBe(2); // --origin is required
    const r = await runToEnd(['log', 'serve', '--origin', 'example.com/x', '--listen', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--listen');
  });

  it('exits 3 (network) when the log does not answer', async () => {
    expect((await runToEnd(['log', 'add', '--url', 'http://127.0.0.1:1', '-'], 'x')).code).toBe(3);
  });
});
