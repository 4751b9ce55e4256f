// `gossip-witness launch --network FILE`: starts the network, prints the witnesses, stops
// everything on SIGINT; a bad network file is a usage error (exit 2) naming the field.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(join(tmpdir(), 'gw-launch-'));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe('gossip-witness launch', () => {
  it('starts a log and two witnesses, and stops them all on SIGINT', async () => {
    const file = join(dir, 'net.yaml');
    writeFileSync(file, 'logs:\n  - { name: log1 }\nwitnesses:\n  - { name: w0 }\n  - { name: w1 }\n');
    const r = run(['launch', '--network', file]);
    await waitFor(() => r.out().includes('Ctrl-C stops everything') || r.child.exitCode !== null, 'the network is up', 30_000);
    expect(r.out()).toMatch(/^witness w0: http:\/\/127\.0\.0\.1:\d+ vkey w0\.example\.local\+[0-9a-f]{8}\+\S+ p2p \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo\w+$/m);
    const url = /witness w1: (\S+)/.exec(r.out())![1];
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  }, 40_000);

  it('a bad network file is a usage error naming the field', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'logs:\n  - { name: log1 }\nwitnesses:\n  - { name: w0, pull: [nope] }\n');
    const r = run(['launch', '--network', file]);
    expect(await r.exited).toBe(2);
    expect(r.err()).toContain(`network ${file}: witnesses.0.pull: unknown log nope`);
  }, 20_000);
});
