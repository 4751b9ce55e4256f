// `gossip-witness log serve --key-type ml-dsa-44` as a child process: creates a 0x06 key file,
// prints its 0x06 vkey, signs checkpoints that a real witness (configured with that vkey)
// cosigns, and `gossip-witness verify --policy` accepts them; a bad --key-type exits 2.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCheckpoint, startTestWitness, waitFor, type TestWitnessNode } from '../logs/local-log-helpers.js';
import { parseVkey } from '../../src/note/index.js';
import { parseMlDsa44Skey } from '../../src/note/mldsa-keys.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEADLINE_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'gw-log-mldsa-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcessWithoutNullStreams>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end();
  const exited = new Promise<{ code: number | null }>((res) => child.on('exit', (code) => res({ code })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function runToEnd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = run(args);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

function logLine(out: string, msg: string): Record<string, any> | undefined {
  for (const line of out.split('\n')) {
    try {
      const o = JSON.parse(line);
      if (o.msg === msg) return o;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

describe('gossip-witness log serve --key-type ml-dsa-44', () => {
  it('refuses an unknown key type (exit 2) and documents the flag', { timeout: DEADLINE_MS }, async () => {
    const bad = await runToEnd(['log', 'serve', '--origin', 'pq.example/log', '--key-type', 'rsa', '--listen', '127.0.0.1:0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--key-type must be ed25519 or ml-dsa-44/);
    const help = await runToEnd(['log', 'serve', '--help']);
    expect(help.stdout).toContain('--key-type');
  });

  it('an ML-DSA-44 log end to end: key file, vkey, witness cosignature, verify --policy', { timeout: 60_000 }, async () => {
    const origin = 'pq.example/cli-log';
    const keyFile = join(dir, 'log.key');
    // First run creates the key file; the witness needs the vkey before the log pushes to it.
    const first = run(['log', 'serve', '--origin', origin, '--key', keyFile, '--key-type', 'ml-dsa-44', '--listen', '127.0.0.1:0']);
    const started = await waitFor('the "log listening" line', () => {
      if (first.child.exitCode !== null) throw new Error(`exited early: ${first.stderr()} ${first.stdout()}`);
      return logLine(first.stdout(), 'log listening');
    }, DEADLINE_MS);
    const logVkey: string = started.vkey;
    expect(parseVkey(logVkey)).toMatchObject({ type: 0x06, name: origin });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(parseMlDsa44Skey(readFileSync(keyFile, 'utf8').trim()).vkey).toBe(logVkey);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const w: TestWitnessNode = await startTestWitness('witness.example/cli-pq', { origin, vkey: logVkey });
    cleanups.push(() => w.close());
    // Second run: the existing key file decides the type (no --key-type).
    const r = run(['log', 'serve', '--origin', origin, '--key', keyFile, '--listen', '127.0.0.1:0', '--interval', '100ms', '--witness', w.url, '--witness-vkey', w.vkey]);
    const again = await waitFor('the "log listening" line', () => {
      if (r.child.exitCode !== null) throw new Error(`exited early: ${r.stderr()} ${r.stdout()}`);
      return logLine(r.stdout(), 'log listening');
    }, DEADLINE_MS);
    expect(again.vkey).toBe(logVkey);
    const url: string = again.url;
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/add`, { method: 'POST', body: `entry ${i}` })).status).toBe(200);
    const note = await waitFor('a cosigned checkpoint of size 5', async () => {
      const { note, checkpoint } = await fetchCheckpoint(url, logVkey);
      return checkpoint.size === 5n && note.split('\n— ').length === 3 ? note : undefined;
    }, DEADLINE_MS);
    const noteFile = join(dir, 'checkpoint');
    writeFileSync(noteFile, note);
    const policyFile = join(dir, 'policy');
    writeFileSync(policyFile, `log ${logVkey}\nwitness w1 ${w.vkey}\nquorum w1\n`);
    const verified = await runToEnd(['verify', '--policy', policyFile, '--strict', '--max-age', '600', noteFile]);
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/w1/);
    // Without the witness's cosignature line the quorum fails.
    writeFileSync(noteFile, note.split('\n').filter((l) => !l.startsWith('\u2014 witness.example/cli-pq ')).join('\n'));
    expect((await runToEnd(['verify', '--policy', policyFile, noteFile])).code).toBe(1);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
  });
});
