// The README's "Run one witness" on the embedded defaults (network-config/witness.yaml): a local
// log with the published TEST key, a witness that pulls from it and cosigns, state written beside
// the copied config (the state folder), and a readiness check that proves it talks to THIS witness
// (its vkey in /status.json), not to whatever else holds the port. Ports are free ones here.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originHash } from '../../src/checkpoint/checkpoint.js';
import { readKeyFile } from '../../src/keys/keyfile.js';
import { waitFor } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEADLINE_MS = 30_000;
const state = mkdtempSync(join(tmpdir(), 'gw-first-hour-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));
const children = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end();
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, out: () => out, err: () => err, exited };
}
/** f() until it gives a value; a failed try (a fetch before the server answers) counts as none. */
const until = <T>(what: string, f: () => Promise<T | undefined>) => waitFor(() => f().catch(() => undefined), { what, timeoutMs: DEADLINE_MS, intervalMs: 50 });
// An exit fails at once (not swallowed as a failed try).
const logLine = (r: ReturnType<typeof start>, msg: string) =>
  waitFor(() => {
    if (r.child.exitCode !== null) throw new Error(`exited before ${JSON.stringify(msg)}: ${r.err()}`);
    for (const l of r.out().split('\n')) {
      try {
        const o = JSON.parse(l);
        if (o.msg === msg) return o as Record<string, any>;
      } catch {
        // not JSON
      }
    }
    return undefined;
  }, { what: msg, timeoutMs: DEADLINE_MS, intervalMs: 50, detail: r.err });
/** The README's readiness check: /status.json names THIS witness's vkey. */
async function isThisWitness(url: string, vkey: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/status.json`, { signal: AbortSignal.timeout(2000) });
    if (r.status !== 200) return false;
    const s = (await r.json()) as { node?: { vkeys?: string[] } };
    return s.node?.vkeys?.includes(vkey) ?? false;
  } catch {
    return false;
  }
}

describe('first hour: network-config/witness.yaml beside a local log', () => {
  it('the embedded log vkey is the published TEST key', () => {
    const key = readFileSync(join(ROOT, 'network-config/first-log.TEST-ONLY.skey'), 'utf8').trim();
    const vkeyLine = readFileSync(join(ROOT, 'network-config/witness.yaml'), 'utf8').match(/example\.local\/first-log\+[0-9a-f]{8}\+\S+(?=")/)![0];
    copyFileSync(join(ROOT, 'network-config/first-log.TEST-ONLY.skey'), join(state, 'k'));
    chmodSync(join(state, 'k'), 0o600);
    expect(readKeyFile(join(state, 'k')).vkey).toBe(vkeyLine);
    expect(key).toMatch(/^PRIVATE\+KEY\+example\.local\/first-log\+/);
  });

  it('the witness pulls from the log and cosigns; state stays in the state folder; the check tells it from another process', async () => {
    copyFileSync(join(ROOT, 'network-config/first-log.TEST-ONLY.skey'), join(state, 'first-log.key'));
    chmodSync(join(state, 'first-log.key'), 0o600);
    const log = start(['log', 'serve', '--origin', 'example.local/first-log', '--key', join(state, 'first-log.key'), '--dir', join(state, 'first-log'), '--listen', '127.0.0.1:0', '--interval', '200ms']);
    const { url: logUrl } = await logLine(log, 'log listening');
    // The shipped config, with free ports instead of 7380/7390.
    const text = readFileSync(join(ROOT, 'network-config/witness.yaml'), 'utf8');
    expect(text).toContain('listen: 127.0.0.1:7380');
    expect(text).toContain('url: "http://127.0.0.1:7390"');
    writeFileSync(join(state, 'witness.yaml'), text.replace('listen: 127.0.0.1:7380', 'listen: 127.0.0.1:0').replace('"http://127.0.0.1:7390"', JSON.stringify(logUrl)).replace('interval: 2s', 'interval: 200ms'));
    const pv = start(['serve', '--config', join(state, 'witness.yaml'), '--print-vkey']);
    expect(await pv.exited).toBe(0);
    const vkey = pv.out().trim().split('\n')[0];
    const w = start(['serve', '--config', join(state, 'witness.yaml')]);
    const { url } = await logLine(w, 'witness listening');
    await until('the readiness check', async () => ((await isThisWitness(url, vkey)) ? true : undefined));
    for (let i = 0; i < 3; i++) expect((await fetch(`${logUrl}/add`, { method: 'POST', body: `hello ${i}` })).status).toBe(200);
    const cosigned = await until('a pulled, cosigned checkpoint of size 3', async () => {
      const r = await fetch(`${url}/${originHash('example.local/first-log')}/checkpoint`);
      const body = await r.text();
      return r.status === 200 && body.startsWith('example.local/first-log\n3\n') ? body : undefined;
    });
    expect(cosigned).toContain('\u2014 witness.local/w1 ');
    // State: the key and the data beside the copied config, nothing new in network-config/.
    expect(existsSync(join(state, 'witness.key'))).toBe(true);
    expect(existsSync(join(state, 'witness-data'))).toBe(true);
    expect(readdirSync(join(ROOT, 'network-config')).filter((f) => f === 'witness.key' || f === 'witness-data')).toEqual([]);
    // Another process on a port: healthz says ok, but it is not this witness.
    const other = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/status.json' ? JSON.stringify({ node: { name: 'someone else', vkeys: ['other+00000000+AAAA'] } }) : 'ok');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherUrl = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    try {
      expect((await fetch(`${otherUrl}/healthz`)).status).toBe(200);
      expect(await isThisWitness(otherUrl, vkey)).toBe(false);
      // And a second witness on a taken port exits at once with the transient code (75).
      writeFileSync(join(state, 'second.yaml'), readFileSync(join(state, 'witness.yaml'), 'utf8').replace('listen: 127.0.0.1:0', `listen: ${otherUrl.slice(7)}`).replace('witness-data', 'second-data'));
      const second = start(['serve', '--config', join(state, 'second.yaml')]);
      expect(await second.exited).toBe(75);
      expect(second.err()).toMatch(/EADDRINUSE|address already in use/);
    } finally {
      await new Promise((r) => other.close(r));
    }
    w.child.kill('SIGTERM');
    log.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    await log.exited;
  }, 90_000);
});
