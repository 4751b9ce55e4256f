// Sigsum proof files (sigsum-go 0.11.1): keys from `sigsum-key generate`, the proof written by
// sigsum-go's own proof.SigsumProof.ToASCII (the file sigsum-submit saves; helper `make-proof`,
// test/interop/sigsum), the reference verdict from `sigsum-verify`, and ours from
// `gossip-witness verify --policy P --proof FILE --entry MSG --submit-key KEYS` with the same
// Sigsum policy file. Skips with the reason when the tools are missing; fails under INTEROP_REQUIRED=1.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interopRequired, interopStatus, reportSkip, sigsumHelper } from './harness.js';
import { parsePolicy, parseSigsumProof, verifySigsumProof, parseOpenSshEd25519 } from '../../src/policy/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const hasCommand = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
const sigsum = sigsumHelper();
const missingTools = ['sigsum-key', 'sigsum-verify'].filter((c) => !hasCommand(c));
const skipReason = !sigsum ? interopStatus().sigsum.reason : missingTools.length ? `${missingTools.join(', ')} not installed (.ci/install-interop.sh)` : '';
if (skipReason) reportSkip('Sigsum proof files', skipReason);

const dir = mkdtempSync(join(tmpdir(), 'gw-sigsum-proof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sh = (cmd: string, args: string[], input?: string) => spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', input, timeout: 30_000 });
const gw = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe.skipIf(!!skipReason)(`Sigsum proofs against sigsum-go${skipReason ? ` (SKIPPED: ${skipReason})` : ''}`, () => {
  const proofFor = (leaves: number, index: number, witnesses: string[], message: string) => {
    const r = sigsum!.call<{ proof?: string; error?: string }>('make-proof', {
      submit_key_file: join(dir, 'submit'),
      log_key_file: join(dir, 'log'),
      witness_key_files: witnesses.map((w) => join(dir, w)),
      message_b64: Buffer.from(message).toString('base64'),
      leaves,
      index,
      timestamp: 1_700_000_000,
    });
    if (!r.proof) throw new Error(r.error);
    return r.proof;
  };
  const refVerify = (proofFile: string, msgFile: string) => sh('sh', ['-c', `sigsum-verify -k submit.pub -p policy ${proofFile} < ${msgFile}`]).status;

  it('sigsum-verify and gossip-witness agree: accepted, wrong message, too few cosignatures, one-leaf tree, other submitter', () => {
    for (const k of ['submit', 'other', 'log', 'w1', 'w2', 'w3']) expect(sh('sigsum-key', ['generate', '-o', k]).status).toBe(0);
    const hex = (k: string) => sh('sigsum-key', ['to-hex', '-k', `${k}.pub`]).stdout.trim();
    writeFileSync(join(dir, 'policy'), `log ${hex('log')}\nwitness w1 ${hex('w1')}\nwitness w2 ${hex('w2')}\nwitness w3 ${hex('w3')}\ngroup g 2 w1 w2 w3\nquorum g\n`);
    writeFileSync(join(dir, 'msg'), 'hello sigsum\n');
    writeFileSync(join(dir, 'wrong'), 'hello sigsum!\n');
    const cases: [string, string, string, number][] = [
      ['ok.proof', proofFor(11, 6, ['w1', 'w2'], 'hello sigsum\n'), 'msg', 0],
      ['ok.proof', '', 'wrong', 1],
      ['few.proof', proofFor(11, 6, ['w3'], 'hello sigsum\n'), 'msg', 1],
      ['one.proof', proofFor(1, 0, ['w1', 'w3'], 'hello sigsum\n'), 'msg', 0],
      ['big.proof', proofFor(300, 257, ['w1', 'w2', 'w3'], 'hello sigsum\n'), 'msg', 0],
    ];
    for (const [file, text, msg, want] of cases) {
      if (text) writeFileSync(join(dir, file), text);
      const ref = refVerify(file, msg);
      const ours = gw(['verify', '--policy', join(dir, 'policy'), '--proof', join(dir, file), '--entry', join(dir, msg), '--submit-key', join(dir, 'submit.pub')]);
      expect(ref === 0 ? 0 : 1, `sigsum-verify on ${file} ${msg}`).toBe(want);
      expect(ours.status, `gossip-witness on ${file} ${msg}: ${ours.stderr}`).toBe(want);
    }
    // Another submitter key: both refuse.
    expect(sh('sh', ['-c', 'sigsum-verify -k other.pub -p policy ok.proof < msg']).status).not.toBe(0);
    expect(gw(['verify', '--policy', join(dir, 'policy'), '--proof', join(dir, 'ok.proof'), '--entry', join(dir, 'msg'), '--submit-key', join(dir, 'other.pub')]).status).toBe(1);
    // The library, directly, and a mangled file (exit 2 for us; sigsum-verify refuses it too).
    const policy = parsePolicy(readFileSync(join(dir, 'policy')));
    const keys = [parseOpenSshEd25519(readFileSync(join(dir, 'submit.pub'), 'utf8'))!];
    const v = verifySigsumProof(readFileSync(join(dir, 'ok.proof')), policy, { message: readFileSync(join(dir, 'msg')) }, keys);
    expect({ ok: v.ok, cosigners: v.cosigners }).toEqual({ ok: true, cosigners: ['w1', 'w2'] });
    expect(parseSigsumProof(readFileSync(join(dir, 'ok.proof'))).leafIndex).toBe(6n);
    writeFileSync(join(dir, 'bad.proof'), readFileSync(join(dir, 'ok.proof'), 'utf8').replace('leaf_index=6', 'leaf_index=06'));
    expect(refVerify('bad.proof', 'msg')).not.toBe(0);
    expect(gw(['verify', '--policy', join(dir, 'policy'), '--proof', join(dir, 'bad.proof'), '--entry', join(dir, 'msg'), '--submit-key', join(dir, 'submit.pub')]).status).toBe(2);
  }, 180_000);
});

if (skipReason && interopRequired) {
  describe('Sigsum proof interop (INTEROP_REQUIRED=1)', () => {
    it('has sigsum-go tools and the helper', () => expect.fail(skipReason));
  });
}
