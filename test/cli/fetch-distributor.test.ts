// `gossip-witness fetch --distributor URL [--min-cosignatures N]`, run as a process, against
// distributors served by the project's own routes (src/http/distributor.ts) on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/index.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { distributorLogId } from '../../src/http/distributor.js';
import { FakeWitnesses, Network } from '../policy/helpers.js';
import { TestDistributor } from '../policy/distributor-helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MAX_PROCS = 3;
let active = 0;
const waiting: (() => void)[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Run> {
  while (active >= MAX_PROCS) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    active--;
    waiting.shift()?.();
  }
}

const ORIGIN = 'example.com/fetch-distributor';
const net = new Network(ORIGIN, 3, 10);
const witnesses = new FakeWitnesses();
const honest = new TestDistributor(ORIGIN); // holds the checkpoint cosigned by all three
const partial = new TestDistributor(ORIGIN); // holds it cosigned by w0 only
const forked = new TestDistributor(ORIGIN); // holds a different tree of the same size
const tmp = mkdtempSync(join(tmpdir(), 'gw-fetch-distributor-'));
let policy = '';
let noUrls = '';

beforeAll(async () => {
  await Promise.all([witnesses.start(), honest.start(), partial.start(), forked.start()]);
  honest.notes = [net.cosigned([0, 1, 2])];
  partial.notes = [net.cosigned([0])];
  forked.notes = [net.cosigned([2], 1_700_000_000n, net.log.fork(5n).append(5, 'evil'))];
  for (const i of [0, 1, 2]) witnesses.answers.set(i, net.cosigned([i]));
  // Witnesses with URLs (which --distributor must not ask), and a policy without any URL.
  policy = join(tmp, 'policy');
  writeFileSync(policy, [`log ${net.log.key.vkey}`, ...net.witnesses.map((w, i) => `witness w${i} ${w.vkey} ${witnesses.url(i)}`), 'group g 2 w0 w1 w2', 'quorum g'].join('\n'));
  noUrls = join(tmp, 'policy-no-urls');
  writeFileSync(noUrls, net.policy(['group g 2 w0 w1 w2', 'quorum g']));
});
afterAll(async () => {
  await Promise.all([witnesses.stop(), honest.stop(), partial.stop(), forked.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

describe.concurrent('gossip-witness fetch --distributor', () => {
  it('exit 0: checkpoint.N from a distributor, verified; the witnesses are not asked', async () => {
    const before = witnesses.requests;
    const r = await cli(['fetch', '--policy', policy, '--distributor', honest.base, '--min-cosignatures', '3', '--timeout', '5000']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`fetch: distributor ${honest.base}: ok (size 10, 3 policy cosignature lines)`);
    expect(r.stderr).not.toMatch(/fetch: w0:/);
    expect(r.stderr).toMatch(/fetch: OK: .*\(1 of 1 distributor answered\)/);
    expect(honest.requests).toContain(`/distributor/v0/logs/${distributorLogId(ORIGIN)}/checkpoint.3`);
    expect(witnesses.requests).toBe(before);
    const v = verifyCosignedCheckpoint(r.stdout, parsePolicy(net.policy(['group g all w0 w1 w2', 'quorum g'])));
    expect(v.ok).toBe(true);
  });

  it('exit 0 with a policy that gives no witness URL, merging two distributors', async () => {
    const r = await cli(['fetch', '--policy', noUrls, '--distributor', partial.base, '--distributor', `${honest.base}/`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`fetch: distributor ${partial.base}: ok (size 10, 1 policy cosignature line)`);
    expect(r.stderr).toContain(`fetch: size 10 served by ${partial.base}, ${honest.base}: satisfies the policy`);
  });

  it('exit 1: too few cosignatures (the distributor answers 404 for checkpoint.N)', async () => {
    const r = await cli(['fetch', '--policy', policy, '--distributor', partial.base, '--min-cosignatures', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`fetch: distributor ${partial.base}: not-found (HTTP 404: no checkpoint with at least 2 cosignatures)`);
    expect(r.stderr).toMatch(/gossip-witness: no distributor returned a checkpoint/);
  });

  it('exit 1: two distributors with different trees of one size (proven evidence on stdout)', async () => {
    const r = await cli(['fetch', '--policy', policy, '--distributor', honest.base, '--distributor', forked.base]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gossip-witness: distributors disagree about "example.com\/fetch-distributor": PROVEN split view/);
    const evidence = decodeEvidence(new TextEncoder().encode(r.stdout.trim()));
    expect(verifyEvidence(evidence, () => [parseVkey(net.log.key.vkey)]).ok).toBe(true);
  });

  it('exit 3: no distributor could be reached', async () => {
    const r = await cli(['fetch', '--policy', policy, '--distributor', 'http://127.0.0.1:9', '--timeout', '3000']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/fetch: distributor http:\/\/127\.0\.0\.1:9: network-error/);
    expect(r.stderr).toMatch(/gossip-witness: no distributor could be reached \(distributor http:\/\/127\.0\.0\.1:9: /);
  });

  it('exit 2 on bad flags', async () => {
    const cases: [string[], RegExp][] = [
      [['--min-cosignatures', '2'], /--min-cosignatures needs --distributor/],
      [['--distributor', honest.base, '--min-cosignatures', '0'], /--min-cosignatures must be a whole number from 1 to 100, not "0"/],
      [['--distributor', honest.base, '--min-cosignatures', '101'], /from 1 to 100, not "101"/],
      [['--distributor', honest.base, '--min-cosignatures', '2x'], /from 1 to 100, not "2x"/],
      [['--distributor', honest.base, '--min-cosignatures', '4'], /--min-cosignatures 4: the policy has only 3 witnesses/],
      [['--distributor', 'ftp://d.example'], /--distributor "ftp:\/\/d.example": only http and https URLs/],
      [['--distributor', 'd.example'], /--distributor "d.example" is not a URL/],
      [['--distributor', `${honest.base}/?x=1`], /a base URL has no query or fragment/],
    ];
    const runs = await Promise.all(cases.map(([flags]) => cli(['fetch', '--policy', policy, ...flags])));
    runs.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stdout).toBe('');
    });
    // Without --distributor a policy must give witness URLs (as before).
    const none = await cli(['fetch', '--policy', noUrls]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no witness in the policy has a URL to fetch from \(or pass --distributor URL\)/);
  });

  it('--help documents the flags', async () => {
    const r = await cli(['fetch', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--distributor <url>/);
    expect(r.stdout).toMatch(/--min-cosignatures <n>/);
  });
});
