// `gossip-witness serve` as a child process: start on a free port, push a checkpoint over real
// HTTP, stop with SIGTERM/SIGINT (exit 0), restart on the same data, --print-vkey, config errors.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestLog } from '../helpers/fork.js';
import { openNote, parseCosignatureVkey } from '../../src/note/index.js';
import { originHash } from '../../src/checkpoint/checkpoint.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_DEADLINE_MS = 20_000;
const EXIT_DEADLINE_MS = 15_000;

const dir = mkdtempSync(join(tmpdir(), 'gw-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const stdout: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    stdout.push(...parts);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => {
      if (partial) stdout.push(partial);
      res({ code, signal });
    }),
  );
  return { child, stdout, stderr: () => err, exited };
}


/** Waits for a JSON log line with the given msg (bounded), returning it parsed. */
async function waitForLog(r: Running, msg: string): Promise<Record<string, any>> {
  let exitedEarly = false;
  void r.exited.then(() => (exitedEarly = true));
  return waitFor(
    () => {
      for (const line of r.stdout) {
        try {
          const o = JSON.parse(line);
          if (o.msg === msg) return o as Record<string, any>;
        } catch {
          // not JSON: ignore
        }
      }
      if (exitedEarly) throw new Error(`exited before logging ${JSON.stringify(msg)}: ${r.stderr()} ${r.stdout.join('\n')}`);
      return undefined;
    },
    { what: `a ${JSON.stringify(msg)} log line`, timeoutMs: START_DEADLINE_MS, intervalMs: 25, detail: () => `${r.stderr()} ${r.stdout.join('\n')}` },
  );
}

function writeConfig(name: string, log: TestLog, extra = ''): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `name: witness.example/w1
key: ${name}.key
data: ${name}-data
http: { listen: "127.0.0.1:0" }
logs:
  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }
${extra}`,
  );
  return file;
}

describe('gossip-witness serve', () => {
  it('starts on a free port, cosigns over HTTP, stops on SIGTERM with exit 0, and keeps its state', async () => {
    const log = new TestLog('example.com/serve-log').append(4);
    const config = writeConfig('w1', log);

    let r = run(['serve', '--config', config]);
    const started = await waitForLog(r, 'witness listening');
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.url).not.toMatch(/:0$/);
    expect(started.vkeys).toHaveLength(1);
    expect(started.vkeys[0]).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B/);
    expect(statSync(join(dir, 'w1.key')).mode & 0o777).toBe(0o600);

    const note = log.checkpoint(2n);
    let res = await fetch(`${started.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${note}` });
    expect(res.status).toBe(200);
    const lines = await res.text();
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    expect(openNote(text + '\n' + lines, [parseCosignatureVkey(started.vkeys[0])]).verified).toHaveLength(1);
    res = await fetch(`${started.url}/${originHash(log.origin)}/checkpoint`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(lines);
    expect((await fetch(`${started.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${started.url}/metrics`)).text()).toContain(`witness_cosignatures_total{origin="${log.origin}"} 1`);

    r.child.kill('SIGTERM');
    expect(await withDeadline(r.exited, { what: 'exit after SIGTERM', timeoutMs: EXIT_DEADLINE_MS })).toEqual({ code: 0, signal: null });

    // Same data directory: the witness still holds size 2, and the same key.
    r = run(['serve', '--config', config]);
    const again = await waitForLog(r, 'witness listening');
    expect(again.vkeys).toEqual(started.vkeys);
    res = await fetch(`${again.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${log.checkpoint(4n)}` });
    expect(res.status).toBe(409);
    expect(await res.text()).toBe('2\n');
    const proof = log.tree.consistencyProof(2n, 4n).map((h) => Buffer.from(h).toString('base64') + '\n').join('');
    res = await fetch(`${again.url}/add-checkpoint`, { method: 'POST', body: `old 2\n${proof}\n${log.checkpoint(4n)}`, headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    r.child.kill('SIGINT');
    expect(await withDeadline(r.exited, { what: 'exit after SIGINT', timeoutMs: EXIT_DEADLINE_MS })).toEqual({ code: 0, signal: null });
    expect(r.stdout.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it('--print-vkey prints the cosignature vkey(s), one per line, creating a missing key', async () => {
    const log = new TestLog('example.com/print-log');
    const config = writeConfig('w2', log);
    const r = run(['serve', '--config', config, '--print-vkey']);
    expect(await withDeadline(r.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).toEqual({ code: 0, signal: null });
    expect(r.stdout.filter((l) => l !== '')).toHaveLength(1);
    expect(r.stdout[0]).toMatch(/^witness\.example\/w1\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/);
    parseCosignatureVkey(r.stdout[0]);

    // Key rotation: two key files, both cosign.
    const two = join(dir, 'w2-rot.yaml');
    writeFileSync(two, `name: witness.example/w1\nkey: [w2.key, w2-next.key]\ndata: w2-data\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
    const r2 = run(['serve', '--config', two, '--print-vkey']);
    expect(await withDeadline(r2.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).toEqual({ code: 0, signal: null });
    const vkeys = r2.stdout.filter((l) => l !== '');
    expect(vkeys).toHaveLength(2);
    expect(vkeys[0]).toBe(r.stdout[0]);
    expect(vkeys[1]).not.toBe(vkeys[0]);
  });

  it('a config error exits 2 naming the file and the field', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, `name: w\nkey: k\ndata: d\nlogs:\n  - { origin: o, vkeys: [ "o+00000000+AAAA" ] }\nbogus: 1\n`);
    const r = run(['serve', '--config', config]);
    const exit = await withDeadline(r.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS });
    expect(exit.code).toBe(2);
    expect(r.stderr()).toContain(`config ${config}: bogus: unknown key`);
    const missing = run(['serve', '--config', join(dir, 'nope.yaml')]);
    expect((await withDeadline(missing.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).code).toBe(2);
    expect(missing.stderr()).toMatch(/config .*nope\.yaml: cannot read: no such file/);
    const noFlag = run(['serve']);
    expect((await withDeadline(noFlag.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).code).toBe(2);
  });

  it('a port in use exits 75 (transient: EX_TEMPFAIL, systemd restarts it), not 2 (permanent)', async () => {
    const log = new TestLog('example.com/port-log');
    const first = run(['serve', '--config', writeConfig('w3', log)]);
    const { url } = await waitForLog(first, 'witness listening');
    const port = new URL(url).port;
    const config = join(dir, 'w4.yaml');
    writeFileSync(config, `name: witness.example/w1\nkey: w4.key\ndata: w4-data\nhttp: { listen: "127.0.0.1:${port}" }\nlogs:\n  - { origin: ${log.origin}, vkeys: [ "${log.key.vkey}" ] }\n`);
    const second = run(['serve', '--config', config]);
    expect((await withDeadline(second.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).code).toBe(75);
    expect(second.stderr()).toMatch(/EADDRINUSE|address already in use/);
    first.child.kill('SIGTERM');
    expect((await withDeadline(first.exited, { what: 'exit', timeoutMs: EXIT_DEADLINE_MS })).code).toBe(0);
  });
});
