// Sigsum proof files without sigsum-go installed: the stored file sigsum-go wrote and sigsum-verify
// accepted (test/fixtures/sigsum-proof-vectors.json); the interop test makes fresh ones.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOpenSshEd25519, parsePolicy, parseSigsumProof, SigsumProofError, verifySigsumProof, isSigsumProof } from '../../src/policy/index.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/sigsum-proof-vectors.json', import.meta.url), 'utf8')) as {
  policy: string;
  submit_key: string;
  message: string;
  vectors: { proof: string }[];
};
const policy = parsePolicy(fx.policy);
const key = parseOpenSshEd25519(fx.submit_key)!;
const proof = fx.vectors[0].proof;
const msg = { message: new TextEncoder().encode(fx.message) };

describe('Sigsum proof files', () => {
  it('verifies as sigsum-verify did: 2 of 3 witnesses, entry at index 6', () => {
    expect(isSigsumProof(proof)).toBe(true);
    const v = verifySigsumProof(proof, policy, msg, [key]);
    expect({ ok: v.ok, code: v.code, cosigners: v.cosigners }).toEqual({ ok: true, code: undefined, cosigners: ['w1', 'w2'] });
    expect(v.proof?.leafIndex).toBe(6n);
  });
  it('refuses another message or submitter (leaf), a changed node hash (inclusion), a stricter quorum (quorum)', () => {
    expect(verifySigsumProof(proof, policy, { message: new TextEncoder().encode('other\n') }, [key]).code).toBe('leaf');
    expect(verifySigsumProof(proof, policy, msg, [new Uint8Array(32)]).code).toBe('leaf');
    const changed = proof.replace(/node_hash=([0-9a-f])/, (_m, c: string) => `node_hash=${c === '0' ? '1' : '0'}`);
    expect(verifySigsumProof(changed, policy, msg, [key]).code).toBe('inclusion');
    const strict = parsePolicy(fx.policy.replace('group g 2 w1 w2 w3', 'group g 3 w1 w2 w3'));
    expect(verifySigsumProof(proof, strict, msg, [key]).code).toBe('quorum');
  });
  it('parses strictly', () => {
    for (const bad of [
      proof.replace('version=2', 'version=3'),
      proof.replace('leaf_index=6', 'leaf_index=06'),
      proof.replace(/root_hash=[0-9a-f]{64}/, (m) => m.toUpperCase().replace('ROOT_HASH', 'root_hash')),
      proof.replace('\n\nsize=', '\nsize='),
      proof.replace(/\n/g, '\r\n'),
      proof.slice(0, -1),
      proof + 'node_hash=' + '0'.repeat(64) + '\n\n',
    ]) {
      expect(() => parseSigsumProof(bad), JSON.stringify(bad.slice(0, 40))).toThrow(SigsumProofError);
      expect(verifySigsumProof(bad, policy, msg, [key]).code).toBe('malformed');
    }
  });
});
