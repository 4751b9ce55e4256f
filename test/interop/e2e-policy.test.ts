// End to end against a real peer (issue 6): the local log pushes to our witness and to
// sigsum-witness and serves their cosignatures; a 2-of-2 policy over the two passes; once either
// witness is stopped and the log advances, the new checkpoint fails the policy, and with a
// freshness limit so does the old one once it ages out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ed25519KeyFromSeed } from '../../src/note/index.js';
import { parseConfig } from '../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../src/node/witness-node.js';
import { startLocalLog } from '../../src/logs/local-log/index.js';
import { parsePolicy, verifyCosignedCheckpoint } from '../../src/policy/index.js';
import { reportSkip } from './harness.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../../src/util/ports.js';

const DEADLINE_MS = 15_000;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const why =
  process.env.INTEROP_SKIP === '1'
    ? 'disabled by INTEROP_SKIP=1'
    : !has('sigsum-witness') || !has('sigsum-key')
      ? 'sigsum-witness/sigsum-key not installed (see .ci/install-interop.sh)'
      : '';
if (why && process.env.INTEROP_REQUIRED === '1') throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
const skipReason = why ? reportSkip('end-to-end policy with sigsum-witness', why) : '';

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: DEADLINE_MS });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}


describe.skipIf(!!skipReason)(`2-of-2 policy over our witness and sigsum-witness${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-e2e-policy-'));
  const seed = randomBytes(32);
  const pub = ed25519KeyFromSeed('x', seed).publicKey;
  const origin = `sigsum.org/v1/tree/${createHash('sha256').update(pub).digest('hex')}`;
  const logKey = ed25519KeyFromSeed(origin, seed);
  let sigsum: ChildProcess | undefined;
  let ours: WitnessNode | undefined;
  let log: Awaited<ReturnType<typeof startLocalLog>> | undefined;
  let policyText = '';

  beforeAll(async () => {
    run('sigsum-key', ['gen', '-o', join(dir, 'witness.key')]);
    const hash = run('sigsum-key', ['to-hash', '-k', join(dir, 'witness.key.pub')]).trim();
    const sigsumVkey = run('sigsum-key', ['to-vkey', '-k', join(dir, 'witness.key.pub'), '-n', `sigsum.org/v1/witness/${hash}`, '-t', 'cosignature/v1']).trim();
    writeFileSync(join(dir, 'log.pub'), run('sigsum-key', ['from-vkey'], logKey.vkey + '\n'));
    const port = await freePort();
    sigsum = spawn('sigsum-witness', ['-k', join(dir, 'witness.key'), '--log-key', join(dir, 'log.pub'), '--state-file', join(dir, 'state.txt'), `127.0.0.1:${port}`], {
      env: { ...process.env, GODEBUG: 'httpmuxgo121=0' },
      stdio: 'ignore',
    });
    const sigsumUrl = `http://127.0.0.1:${port}`;
    await waitFor(
      () => {
        if (sigsum!.exitCode !== null) throw new Error(`sigsum-witness exited (${sigsum!.exitCode}) before answering`);
        return fetch(`${sigsumUrl}/add-checkpoint`).then(() => true, () => false);
      },
      { what: 'sigsum-witness to answer', timeoutMs: DEADLINE_MS, intervalMs: 20 },
    );
    const config = parseConfig(
      `name: gossip-witness.example/e2e\nkey: ours.key\ndata: ours-data\nhttp: { listen: "127.0.0.1:0" }\nlogs:\n  - { origin: "${origin}", vkeys: [ "${logKey.vkey}" ] }\n`,
      join(dir, 'ours.yaml'),
    );
    ours = await startWitnessNode(config);
    log = await startLocalLog({
      origin,
      key: logKey,
      intervalMs: 0,
      witnesses: [
        { url: ours.url, vkey: ours.vkeys[0] },
        { url: sigsumUrl, vkey: sigsumVkey },
      ],
    });
    policyText = `log ${logKey.vkey}\nwitness ours ${ours.vkeys[0]}\nwitness sigsum ${sigsumVkey}\ngroup both all ours sigsum\nquorum both\n`;
  }, 60_000);

  afterAll(async () => {
    await log?.stop();
    if (sigsum && sigsum.exitCode === null && sigsum.signalCode === null) sigsum.kill('SIGKILL');
    await ours?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes with both cosignatures, fails once a witness is stopped and the log advances, and ages out', async () => {
    const policy = parsePolicy(policyText);
    await log!.append([new TextEncoder().encode('entry 1'), new TextEncoder().encode('entry 2')]);
    await log!.publish();
    const first = log!.checkpoint('a');
    const ok = verifyCosignedCheckpoint(first, policy);
    expect(ok.reason).toBeTruthy();
    expect(ok.ok).toBe(true);
    expect(ok.cosigners.length).toBe(2);

    // Advance once more with both up: still 2-of-2, so sigsum-witness followed the consistency proof.
    await log!.append([new TextEncoder().encode('entry 3')]);
    await log!.publish();
    const second = log!.checkpoint('a');
    expect(verifyCosignedCheckpoint(second, policy).ok).toBe(true);

    // Stop sigsum-witness; the log advances; the new checkpoint carries only our cosignature.
    sigsum!.kill('SIGKILL');
    await new Promise<void>((r) => (sigsum!.exitCode !== null || sigsum!.signalCode !== null ? r() : sigsum!.once('exit', () => r())));
    await log!.append([new TextEncoder().encode('entry 4')]);
    await log!.publish();
    const third = log!.checkpoint('a');
    expect(third).not.toBe(second);
    const refused = verifyCosignedCheckpoint(third, policy);
    expect(refused).toMatchObject({ ok: false, code: 'quorum' });

    // Freshness: the old fully cosigned checkpoint passes now and fails once it ages out.
    const nowSec = Math.floor(Date.now() / 1000);
    expect(verifyCosignedCheckpoint(second, policy, { maxAge: 600, now: () => nowSec }).ok).toBe(true);
    expect(verifyCosignedCheckpoint(second, policy, { maxAge: 600, now: () => nowSec + 3600 })).toMatchObject({ ok: false });
  }, 60_000);
});
