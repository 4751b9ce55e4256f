// `gossip-witness verify` and `gossip-witness fetch`, run as processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBase64 } from '../../src/util/bytes.js';
import { decodeEvidence, encodeEvidence, makeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { openNote, parseVkey } from '../../src/note/index.js';
import { parseCheckpoint } from '../../src/checkpoint/index.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { armored, FakeWitnesses, Network, staging, stagingPolicy } from '../policy/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAX_PROCS = 3;
let active = 0;
const waiting: (() => void)[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], stdin = ''): Promise<Run> {
  while (active >= MAX_PROCS) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });
  } finally {
    active--;
    waiting.shift()?.();
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'gw-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function file(content: string | Uint8Array): string {
  const p = join(tmp, `f${n++}`);
  writeFileSync(p, content);
  return p;
}

const note = file(staging.note);
const p2 = file(stagingPolicy(2));
const p3 = file(stagingPolicy(3));
const noMullvad = file(staging.derived_negatives.find((x) => x.name.startsWith('Mullvad line removed'))!.note);
const TS = staging.cosignature_timestamps['witness.stagemole.eu'];

describe.concurrent('gossip-witness verify', () => {
  it('exit 0 when the policy is satisfied, printing who cosigned', async () => {
    const r = await cli(['verify', '--policy', p2, note]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('log: verified (log2025-alpha3.rekor.sigstage.dev+d3d3a70c)');
    expect(r.stdout).toContain('witness geomys: verified at 2026-05-13T19:23:34Z [witness.navigli.sunlight.geomys.org+a3e00fe2]');
    expect(r.stdout).toContain('witness mullvad: verified');
    expect(r.stdout).toContain('group staging (2 of 3): satisfied by geomys, mullvad, trustfabric');
    expect(r.stdout).toMatch(/OK: .*cosigned by geomys, mullvad, trustfabric/);
  });

  it('reads the checkpoint from stdin', async () => {
    const r = await cli(['verify', '--policy', p2], staging.note);
    expect(r.code).toBe(0);
  });

  it('exit 1 with the reason when the quorum is not met', async () => {
    const r = await cli(['verify', '--policy', p3, noMullvad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('witness mullvad: absent');
    expect(r.stderr).toMatch(/^gossip-witness: refused \(quorum\): .*group staging needs 3 of 3 and has 2/);
  });

  it('freshness: --max-age with --now', async () => {
    expect((await cli(['verify', '--policy', p2, '--max-age', '3600', '--now', String(TS + 100), note])).code).toBe(0);
    const r = await cli(['verify', '--policy', p2, '--max-age', '3600', '--now', String(TS + 86400), note]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused \(stale\)/);
  });

  it('exit 2 on unusable input: bad policy, bad flags, unreadable files', async () => {
    const bad = await cli(['verify', '--policy', file(stagingPolicy(2).replace('quorum staging', 'quorum nobody')), note]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/policy .*: line 6: "nobody" is not defined/);
    expect((await cli(['verify', '--policy', join(tmp, 'missing'), note])).code).toBe(2);
    expect((await cli(['verify', note])).code).toBe(2); // --policy is required
    expect((await cli(['verify', '--policy', p2, '--max-age', 'soon', note])).code).toBe(2);
  });

  it('a garbage checkpoint does not parse (exit 2, bad input; malformed)', async () => {
    const r = await cli(['verify', '--policy', p2, file('not a note')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused \(malformed\)/);
  });

  it('the origin extension and --strict', async () => {
    const v = armored.vectors[0];
    const text = [`log ${v.log_vkey}`, `origin ${v.note.split('\n')[0]}`, ...armored.witness_vkeys_as_published_type01.map((k, i) => `witness a${i} ${k}`), 'group g 2 a0 a1 a2 a3', 'quorum g'].join('\n');
    const policy = file(text);
    const ok = await cli(['verify', '--policy', policy, file(v.note)]);
    expect(ok.code).toBe(0);
    const strict = await cli(['verify', '--strict', '--policy', policy, file(v.note)]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/line 2: the "origin" line is an extension/);
  });

  it('--entry and --proof: inclusion', async () => {
    const net = new Network('example.com/cli', 2, 13);
    const policy = file(net.policy(['group g all w0 w1', 'quorum g']));
    const cp = file(net.cosigned([0, 1]));
    const proof = file(JSON.stringify({ leafIndex: 7, treeSize: 13, hashes: net.log.tree.inclusionProof(7n, 13n).map(encodeBase64) }));
    const entry = file('main leaf 7');
    const ok = await cli(['verify', '--policy', policy, '--entry', entry, '--proof', proof, cp]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('entry: included at index 7');
    const wrong = await cli(['verify', '--policy', policy, '--entry', file('main leaf 8'), '--proof', proof, cp]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused \(inclusion\): the inclusion proof for leaf 7 does not lead to the root/);
    const badProof = await cli(['verify', '--policy', policy, '--entry', entry, '--proof', file('{"leafIndex": "x", "hashes": []}'), cp]);
    expect(badProof.code).toBe(2);
    expect(badProof.stderr).toMatch(/leafIndex: not a decimal integer/);
    expect((await cli(['verify', '--policy', policy, '--entry', entry, cp])).code).toBe(2);
  });

  it('--evidence refuses an origin with proven split-view evidence', async () => {
    const net = new Network('example.com/evil', 1, 10);
    const fork = net.log.fork(3n).append(7, 'evil');
    const side = (cp: string) => {
      const opened = openNote(cp, [parseVkey(net.log.key.vkey)]);
      return { note: opened, checkpoint: parseCheckpoint(opened.text) };
    };
    const ev = file(encodeEvidence(makeEvidence(side(net.log.checkpoint()), side(fork.checkpoint()))));
    const policy = file(net.policy(['quorum w0']));
    const r = await cli(['verify', '--policy', policy, '--evidence', ev, file(net.cosigned([0]))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused \(known-evidence\)/);
  });
});

describe('gossip-witness fetch', () => {
  const server = new FakeWitnesses();
  const net = new Network('example.com/fetch', 3, 10);
  let policy = '';
  beforeAll(async () => {
    await server.start();
    policy = file([`log ${net.log.key.vkey}`, ...net.witnesses.map((w, i) => `witness w${i} ${w.vkey} ${server.url(i)}`), 'group g 2 w0 w1 w2', 'quorum g'].join('\n'));
  });
  afterAll(() => server.stop());

  it('prints the best cosigned checkpoint it can assemble (exit 0), or the split view (exit 1, evidence)', async () => {
    for (const i of [0, 1, 2]) server.answers.set(i, net.cosigned([i]));
    const ok = await cli(['fetch', '--policy', policy, '--timeout', '5000']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('fetch: w0: ok (size 10)');
    const v = verifyCosignedCheckpoint(ok.stdout, parsePolicy(net.policy(['group g all w0 w1 w2', 'quorum g'])));
    expect(v.ok).toBe(true);

    server.answers.set(2, net.cosigned([2], 1n, net.log.fork(5n).append(5, 'evil')));
    const split = await cli(['fetch', '--policy', policy, '--origin', 'example.com/fetch']);
    expect(split.code).toBe(1);
    expect(split.stderr).toMatch(/gossip-witness: witnesses disagree about "example.com\/fetch": PROVEN split view/);
    const evidence = decodeEvidence(new TextEncoder().encode(split.stdout.trim()));
    expect(verifyEvidence(evidence, () => [parseVkey(net.log.key.vkey)]).ok).toBe(true);

    const unknown = await cli(['fetch', '--policy', policy, '--origin', 'example.com/nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no log for origin/);
  });
});
