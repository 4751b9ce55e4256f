// `gossip-witness launch --network FILE`: starts the network, prints the witnesses, stops
// everything on SIGINT; a bad network file is a usage error (exit 2) naming the field.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './helpers.js';
import { loadConfig } from '../../src/config.js';
import { parseNote, parseVkey } from '../../src/note/index.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';

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

  // gossip (p2p.version, p2p.meshDegree) for every witness, and keyType ml-dsa-44 for one.
  const PQ_NET = 'gossip: { version: 2, meshDegree: 3 }\nlogs:\n  - { name: log1, interval: 200ms }\nwitnesses:\n  - { name: w0 }\n  - { name: w1, keyType: ml-dsa-44 }\n';

  it('--prepare writes p2p.version, meshDegree and an ML-DSA-44 witness key that the other witness tracks', async () => {
    const file = join(dir, 'pq.yaml');
    writeFileSync(file, PQ_NET);
    const r = run(['launch', '--network', file, '--prepare', 'local', '--dir', join(dir, 'pq-prep')]);
    expect(await r.exited).toBe(0);
    const vkeyOf = (w: string) => new RegExp(`^witness ${w}: config \\S+ vkey (\\S+)`, 'm').exec(r.out())![1];
    expect(parseVkey(vkeyOf('w0')).type).toBe(0x04);
    expect(parseVkey(vkeyOf('w1')).type).toBe(0x06);
    const c0 = loadConfig(join(dir, 'pq-prep', 'w0', 'witness.yaml'));
    expect(c0.p2p).toMatchObject({ version: 2, meshDegree: 3 });
    expect((c0.witnesses ?? []).map((w) => w.vkey)).toEqual([vkeyOf('w1')]);
    expect(r.out()).not.toMatch(/also vkey/);
    // A dual-key witness: its first vkey on its line, the other on an "also vkey" line.
    writeFileSync(file, PQ_NET.replace('keyType: ml-dsa-44', 'keyType: [ed25519, ml-dsa-44]'));
    const rd = run(['launch', '--network', file, '--prepare', 'local', '--dir', join(dir, 'pq-dual')]);
    expect(await rd.exited).toBe(0);
    const main = new RegExp('^witness w1: config \\S+ vkey (\\S+)', 'm').exec(rd.out())![1]!;
    const also = [...rd.out().matchAll(/^witness w1: also vkey (\S+)$/gm)].map((m) => m[1]!);
    expect([parseVkey(main).type, also.map((v) => parseVkey(v).type)]).toEqual([0x04, [0x06]]);
    // A per-witness setting overrides the network's; a bad one names the field.
    writeFileSync(file, PQ_NET.replace('{ name: w0 }', '{ name: w0, gossip: { version: 1 } }'));
    const r2 = run(['launch', '--network', file, '--prepare', 'local', '--dir', join(dir, 'pq-prep2')]);
    expect([await r2.exited, r2.err()]).toEqual([0, ""]);
    expect(loadConfig(join(dir, 'pq-prep2', 'w0', 'witness.yaml')).p2p).toMatchObject({ version: 1, meshDegree: 3 });
    expect(loadConfig(join(dir, 'pq-prep2', 'w1', 'witness.yaml')).p2p).toMatchObject({ version: 2 });
    writeFileSync(file, PQ_NET.replace('keyType: ml-dsa-44', 'keyType: rsa'));
    const r3 = run(['launch', '--network', file, '--prepare', 'local', '--dir', join(dir, 'pq-prep3')]);
    expect(await r3.exited).toBe(2);
    expect(r3.err()).toContain('witnesses.1.keyType: must be ed25519 or ml-dsa-44');
  }, 40_000);

  it('a launched version 2 network with an ML-DSA-44 witness: the log carries its 0x06 cosignature beside the 0x04 one', async () => {
    const file = join(dir, 'pq-run.yaml');
    writeFileSync(file, PQ_NET);
    const r = run(['launch', '--network', file]);
    await waitFor(() => r.out().includes('Ctrl-C stops everything') || r.child.exitCode !== null, 'the network is up', 40_000);
    const [, logUrl, logVkey] = /^log log1: (\S+) origin \S+ vkey (\S+)$/m.exec(r.out())!;
    const vkeyOf = (w: string) => new RegExp(`^witness ${w}: \\S+ vkey (\\S+)`, 'm').exec(r.out())![1];
    const policy = parsePolicy(`log ${logVkey}\nwitness w0 ${vkeyOf('w0')}\nwitness w1 ${vkeyOf('w1')}\ngroup both 2 w0 w1\nquorum both\n`);
    // A checkpoint with an entry (the size-0 one is not pushed for cosigning).
    expect((await fetch(`${logUrl}/add`, { method: 'POST', body: 'entry' })).status).toBe(200);
    let note = '';
    await waitFor(async () => {
      const res = await fetch(`${logUrl}/checkpoint`).catch(() => null);
      note = res && res.ok ? await res.text() : '';
      return note !== '' && verifyCosignedCheckpoint(note, policy).ok;
    }, 'a checkpoint cosigned by both witnesses', 30_000);
    // The log's line, w0's cosignature/v1 (8 + 64 bytes) and w1's ML-DSA-44 line (8 + 2420 bytes).
    const byName = new Map(parseNote(note).signatures.map((l) => [l.name, l.sig.length]));
    expect(byName.get('w0.example.local')).toBe(72);
    expect(byName.get('w1.example.local')).toBe(2428);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
  }, 60_000);
});
