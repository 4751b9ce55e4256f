// Timestamp 0 and --max-age in the CLI (verify and fetch), as the client policy rules it
// (docs/client.md, "Timestamp 0"): a witness cosignature with timestamp 0 (ML-DSA-44 subtree/v1,
// as MTC and sign-subtree use) never meets --max-age (status "undated", exit 1 with code stale),
// and counts without --max-age; a log's own 0x06 signature with timestamp 0 is not subject to
// --max-age at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cosigner, generateKey, parseNote, signNote, signatureLines, type Signer } from '../../src/note/index.js';
import { mlDsa44KeyFromSeed } from '../../src/note/mldsa-keys.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { FakeWitnesses } from '../policy/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'gw-ts0-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = (s: string) => {
  const p = join(tmp, `f${n++}`);
  writeFileSync(p, s);
  return p;
};

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const T = 1_700_000_000n;
const pqWitness = mlDsa44KeyFromSeed('pq.witness.example/w1', new Uint8Array(32).fill(1));
const pqLog = mlDsa44KeyFromSeed('pq.example/log', new Uint8Array(32).fill(3));
const edLog = generateKey('ed.example/log');
const edWitness = generateKey('ed.witness.example');
const t = new MemoryTree();
for (let i = 0; i < 4; i++) t.append(new TextEncoder().encode(`leaf ${i}`));

function cosigned(logSigner: Signer, witnesses: Signer[]): string {
  const note = signNote(formatCheckpoint({ origin: logSigner.name, size: t.size, root: t.root() }), [logSigner]);
  return note + signatureLines(parseNote(note).textBytes, witnesses);
}

// Timestamp-0 ML-DSA-44 cosignature by the witness (its logSigner writes timestamp 0).
const zeroCosigned = file(cosigned(edLog, [pqWitness.logSigner(() => 0n)]));
const pqOnly = file(`log ${edLog.vkey}\nwitness pq ${pqWitness.vkey}\nquorum pq\n`);
// A log that signs with ML-DSA-44 and timestamp 0, cosigned by an Ed25519 witness at T.
const zeroLogSigned = file(cosigned(pqLog.logSigner(() => 0n), [cosigner(edWitness, () => T)]));
const pqLogPolicy = file(`log ${pqLog.vkey}\nwitness ed ${edWitness.vkey}\nquorum ed\n`);
const now = String(T + 10n);

describe.concurrent('verify --max-age and timestamp 0', () => {
  it('a timestamp-0 cosignature counts without --max-age', async () => {
    const r = await cli(['verify', '--policy', pqOnly, zeroCosigned]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('witness pq: verified with timestamp 0 (no time claimed)');
  });

  it('never meets --max-age, however large: undated, exit 1 (stale)', async () => {
    for (const maxAge of ['60', '999999999999']) {
      const r = await cli(['verify', '--policy', pqOnly, '--max-age', maxAge, '--now', now, zeroCosigned]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('witness pq: undated with timestamp 0 (no time claimed)');
      expect(r.stderr).toMatch(/refused \(stale\): .*a timestamp of 0 claims no time/);
    }
  });

  it("a log's 0x06 signature with timestamp 0 is not judged by --max-age (the cosignature is)", async () => {
    expect((await cli(['verify', '--policy', pqLogPolicy, '--max-age', '60', '--now', now, zeroLogSigned])).code).toBe(0);
    const late = await cli(['verify', '--policy', pqLogPolicy, '--max-age', '60', '--now', String(T + 100_000n), zeroLogSigned]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/refused \(stale\)/);
  });
});

describe('fetch --max-age and timestamp 0', () => {
  const server = new FakeWitnesses();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(() => server.stop());

  it('a served timestamp-0 cosignature satisfies the policy only without --max-age', async () => {
    server.answers.set(0, cosigned(edLog, [pqWitness.logSigner(() => 0n)]));
    const policy = file(`log ${edLog.vkey}\nwitness pq ${pqWitness.vkey} ${server.url(0)}\nquorum pq\n`);
    const ok = await cli(['fetch', '--policy', policy, '--timeout', '5000']);
    expect(ok.code, ok.stderr).toBe(0);
    const refused = await cli(['fetch', '--policy', policy, '--timeout', '5000', '--max-age', '60', '--now', now]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/does not satisfy the policy \(stale\)/);
  });
});
