// `gossip-witness verify --proof FILE.tlog-proof`, `gossip-witness log proof`, and the CLI's exit-code
// table (src/cli/errors.ts): unknown flags, unparsable input, network failure. Run as processes.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTlogProof } from '../../src/policy/index.js';
import { hashLeaf } from '../../src/merkle/index.js';
import { encodeBase64 } from '../../src/util/bytes.js';
import { generateKey, cosigner } from '../../src/note/keys.js';
import { writeKeyFile } from '../../src/keys/keyfile.js';
import { Network } from '../policy/helpers.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEADLINE_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'gw-tlog-proof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const children = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}
function start(args: string[], stdin = ''): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdin.end(stdin);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, out: () => out, err: () => err, exited };
}
async function cli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = start(args, stdin);
  const code = await withDeadline(r.exited, { what: `exit of ${args.join(' ')}`, timeoutMs: DEADLINE_MS });
  return { code, stdout: r.out(), stderr: r.err() };
}
function waitForLine(r: Running, msg: string): Promise<Record<string, any>> {
  return waitFor(
    () => {
      for (const line of r.out().split('\n')) {
        try {
          const o = JSON.parse(line);
          if (o.msg === msg) return o as Record<string, any>;
        } catch {
          // not JSON
        }
      }
      if (r.child.exitCode !== null) throw new Error(`exited before ${JSON.stringify(msg)}: ${r.err()} ${r.out()}`);
      return undefined;
    },
    { what: JSON.stringify(msg), timeoutMs: DEADLINE_MS, intervalMs: 25, detail: r.err },
  );
}
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('verify --proof FILE.tlog-proof', () => {
  const net = new Network('example.com/cli-tlog-proof', 3, 13);
  const policy = file('policy.txt', net.policy(['group g 2 w0 w1 w2', 'quorum g']));
  const note = net.cosigned([0, 2], 1_000_000_000n);
  const entry = file('entry7', 'main leaf 7');
  const proof = file('e7.tlog-proof', formatTlogProof({ index: 7n, hashes: net.log.tree.inclusionProof(7n, 13n), checkpoint: note }));

  it('exits 0 with --entry or --leaf-hash; no --max-age needed, however old the cosignatures', async () => {
    const a = await cli(['verify', '--policy', policy, '--proof', proof, '--entry', entry]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('entry: included at index 7');
    expect(a.stdout).toMatch(/^OK: /m);
    const leafHash = encodeBase64(hashLeaf(new TextEncoder().encode('main leaf 7')));
    const b = await cli(['verify', '--policy', policy, '--proof', proof, '--leaf-hash', leafHash]);
    expect(b.code, b.stderr).toBe(0);
  });

  it('exits 1 for another entry or too few cosignatures; 2 for a malformed proof or misused flags', async () => {
    const wrong = await cli(['verify', '--policy', policy, '--proof', proof, '--entry', file('entry8', 'main leaf 8')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused \(inclusion\)/);
    const few = file('few.tlog-proof', formatTlogProof({ index: 7n, hashes: net.log.tree.inclusionProof(7n, 13n), checkpoint: net.cosigned([1], 1_000_000_000n) }));
    const q = await cli(['verify', '--policy', policy, '--proof', few, '--entry', entry]);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/refused \(quorum\)/);
    const lax = file('lax.tlog-proof', readFileSync(proof, 'utf8').replace('index 7\n', 'index 007\n'));
    const m = await cli(['verify', '--policy', policy, '--proof', lax, '--entry', entry]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/line 2: must be "index N"/);
    const [withCp, maxAge, both, none] = await Promise.all([
      cli(['verify', '--policy', policy, '--proof', proof, '--entry', entry, file('cp', note)]),
      cli(['verify', '--policy', policy, '--proof', proof, '--entry', entry, '--max-age', '60']),
      cli(['verify', '--policy', policy, '--proof', proof, '--entry', entry, '--leaf-hash', encodeBase64(new Uint8Array(32))]),
      cli(['verify', '--policy', policy, '--proof', proof]),
    ]);
    expect(withCp.code).toBe(2);
    expect(maxAge.code).toBe(2);
    expect(maxAge.stderr).toMatch(/--max-age does not apply to a tlog-proof/);
    expect(both.code).toBe(2);
    expect(none.code).toBe(2);
  });

  it('the JSON proof form still works beside it (told apart by the first line)', async () => {
    const json = file('p.json', JSON.stringify({ leafIndex: 7, treeSize: 13, hashes: net.log.tree.inclusionProof(7n, 13n).map(encodeBase64) }));
    const r = await cli(['verify', '--policy', policy, '--entry', entry, '--proof', json, file('cp2', note)]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('exit codes (one table: src/cli/errors.ts)', () => {
  it('a misspelt flag is reported as unknown, not as a missing required one (exit 2)', async () => {
    const r = await cli(['verify', '--polcy', 'x.txt', 'cp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--polcy'/);
    expect(r.stderr).not.toMatch(/required option/);
  });

  it('fetch with every witness unreachable exits 3 (network failure), not 1 (refused)', async () => {
    const net = new Network('example.com/unreachable', 2, 4);
    const [p0, p1] = [await closedPort(), await closedPort()];
    const policy = file(
      'unreachable.txt',
      [`log ${net.log.key.vkey}`, `witness w0 ${net.witnesses[0].vkey} http://127.0.0.1:${p0}`, `witness w1 ${net.witnesses[1].vkey} http://127.0.0.1:${p1}`, 'group g any w0 w1', 'quorum g', ''].join('\n'),
    );
    const r = await cli(['fetch', '--policy', policy, '--timeout', '3000']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/no witness could be reached/);
  });

  it('a config with three problems reports all three (exit 2, permanent)', async () => {
    const cfg = file('three.yaml', 'name: w\nkey: 17\nlogs:\n  - { origin: "", vkeys: [ "o+00000000+AAAA" ] }\nbogus: 1\n');
    const r = await cli(['serve', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`config ${cfg}: key:`);
    expect(r.stderr).toContain(`config ${cfg}: logs[0].origin: must not be empty`);
    expect(r.stderr).toContain(`config ${cfg}: bogus: unknown key`);
  });

  it('unparsable content exits 2 from every command (note, proof, evidence, verify)', async () => {
    const garbage = file('garbage', 'not a note at all');
    const k = generateKey('example.com/k');
    const results = await Promise.all([
      cli(['note', 'verify', '--vkey', k.vkey, garbage]),
      cli(['proof', 'verify-inclusion'], '{"leafIdx": 1, "treeSize": 2, "root": "nope", "leafHash": "x", "proof": []}'),
      cli(['evidence', 'verify', '--vkey', k.vkey, garbage]),
      cli(['verify', '--policy', file('p1', `log ${k.vkey}\nquorum none\n`), garbage]),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(2);
  });
});

describe('log proof --url URL --index N', () => {
  it("writes a tlog-proof with the witness's cosignature that verify accepts", async () => {
    const origin = 'example.com/cli-log-proof';
    const logKey = generateKey(origin);
    writeKeyFile(join(dir, 'log.key'), logKey);
    const wKey = generateKey('witness.example/lp');
    writeKeyFile(join(dir, 'w.key'), wKey);
    const config = file('w.yaml', `name: witness.example/lp\nkey: w.key\ndata: w-data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: ${origin}, vkeys: [ "${logKey.vkey}" ] }\n`);
    const w = start(['serve', '--config', config]);
    const { url: wurl } = await waitForLine(w, 'witness listening');
    const wvkey = cosigner(wKey).vkey;
    const log = start(['log', 'serve', '--origin', origin, '--key', join(dir, 'log.key'), '--listen', '127.0.0.1:0', '--interval', '100ms', '--witness', wurl, '--witness-vkey', wvkey]);
    const { url: lurl } = await waitForLine(log, 'log listening');
    for (let i = 0; i < 5; i++) expect((await fetch(`${lurl}/add`, { method: 'POST', body: `entry ${i}` })).status).toBe(200);
    const out = join(dir, 'e3.tlog-proof');
    const p = await cli(['log', 'proof', '--url', lurl, '--index', '3', '--cosignatures', '1', '--timeout', '20s', '--out', out]);
    expect(p.code, p.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n').slice(0, 2)).toEqual(['c2sp.org/tlog-proof@v1', 'index 3']);
    expect(text).toContain('\u2014 witness.example/lp ');
    const policy = file('lp-policy.txt', `log ${logKey.vkey}\nwitness lp ${wvkey}\ngroup g any lp\nquorum g\n`);
    const v = await cli(['verify', '--policy', policy, '--proof', out, '--entry', file('e3', 'entry 3')]);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.stdout).toMatch(/witness lp: verified/);
    const leaf = /leaf hash (\S+)/.exec(p.stderr)![1];
    expect((await cli(['verify', '--policy', policy, '--proof', out, '--leaf-hash', leaf])).code).toBe(0);
    const past = await cli(['log', 'proof', '--url', lurl, '--index', '99', '--timeout', '300ms']);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/entry 99 is not in the log's checkpoint/);
    const nowhere = await cli(['log', 'proof', '--url', `http://127.0.0.1:${await closedPort()}`, '--index', '0']);
    expect(nowhere.code).toBe(3);
    log.child.kill('SIGTERM');
    w.child.kill('SIGTERM');
    await Promise.all([log.exited, w.exited]);
  }, 90_000);
});
