import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatTlogProof,
  isTlogProof,
  parsePolicy,
  parseTlogProof,
  TlogProofError,
  verifyTlogProof,
  ProofFormatError,
} from '../../src/policy/index.js';
import { hashLeaf } from '../../src/merkle/index.js';
import { encodeBase64 } from '../../src/util/bytes.js';
import { Network } from './helpers.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/tlog-proof-vectors.json', import.meta.url), 'utf8')) as {
  vectors: { name: string; proof: string; expect: 'valid' | { error: string }; index?: string; hashes?: string[]; extra?: string }[];
};

describe('tlog-proof parse vectors (test/fixtures/tlog-proof-vectors.json)', () => {
  for (const v of fx.vectors) {
    it(v.name, () => {
      if (v.expect === 'valid') {
        const p = parseTlogProof(v.proof);
        expect(p.index.toString()).toBe(v.index);
        expect(p.hashes.map(encodeBase64)).toEqual(v.hashes);
        expect(p.extra === undefined ? undefined : encodeBase64(p.extra)).toBe(v.extra);
        expect(formatTlogProof(p)).toBe(v.proof);
        expect(parseTlogProof(new TextEncoder().encode(v.proof))).toEqual(p);
        expect(isTlogProof(v.proof)).toBe(true);
      } else {
        let err: unknown;
        try {
          parseTlogProof(v.proof);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(TlogProofError);
        expect(err).toBeInstanceOf(ProofFormatError);
        expect((err as Error).message).toContain(v.expect.error);
      }
    });
  }
  it('has both accepted and refused vectors', () => {
    expect(fx.vectors.filter((v) => v.expect === 'valid').length).toBeGreaterThanOrEqual(4);
    expect(fx.vectors.filter((v) => v.expect !== 'valid').length).toBeGreaterThanOrEqual(20);
  });
});

describe('verifyTlogProof against a k-of-n policy and a caller-supplied leaf', () => {
  const net = new Network('example.com/tlog-proof', 3, 13);
  const policy = parsePolicy(net.policy(['group g 2 w0 w1 w2', 'quorum g']));
  const entry = (i: number) => new TextEncoder().encode(`main leaf ${i}`);
  const ts = 1_000_000_000n; // very old: proofs ignore cosignature age
  const note = net.cosigned([0, 1, 2], ts);
  const proofFor = (i: number, n = note, extra?: Uint8Array) =>
    formatTlogProof({ index: BigInt(i), hashes: net.log.tree.inclusionProof(BigInt(i), 13n), checkpoint: n, ...(extra ? { extra } : {}) });

  it('the spec shape (extra, index, hashes, blank line, checkpoint with a log signature and three cosignatures) verifies for every entry', () => {
    for (let i = 0; i < 13; i++) {
      const text = proofFor(i, note, new TextEncoder().encode('age-v1.2.1-darwin-arm64.tar.gz'));
      expect(text.split('\n')[0]).toBe('c2sp.org/tlog-proof@v1');
      expect(text.split('\n')[1]).toMatch(/^extra /);
      expect(text.split('\n')[2]).toBe(`index ${i}`);
      const v = verifyTlogProof(text, policy, { entry: entry(i) });
      expect({ ok: v.ok, reason: v.reason }).toMatchObject({ ok: true });
      expect(v.cosigners).toEqual(['w0', 'w1']);
      const byHash = verifyTlogProof(text, policy, { leafHash: hashLeaf(entry(i)) });
      expect(byHash.ok).toBe(true);
    }
  });

  it('cosignature age is not checked (maxAge, clockSkew and now are ignored)', () => {
    const v = verifyTlogProof(proofFor(3), policy, { entry: entry(3) }, { maxAge: 1, now: () => 2_000_000_000 } as never);
    expect(v.ok).toBe(true);
  });

  it('a wrong leaf, a wrong index or a changed hash fails with code "inclusion"', () => {
    expect(verifyTlogProof(proofFor(3), policy, { entry: entry(4) })).toMatchObject({ ok: false, code: 'inclusion' });
    const p = parseTlogProof(proofFor(3));
    expect(verifyTlogProof({ ...p, index: 2n }, policy, { entry: entry(3) }).code).toBe('inclusion');
    expect(verifyTlogProof({ ...p, index: 13n }, policy, { entry: entry(3) }).reason).toMatch(/not below the checkpoint size 13/);
    const h = p.hashes.map((x) => x.slice());
    h[0][0] ^= 1;
    expect(verifyTlogProof({ ...p, hashes: h }, policy, { entry: entry(3) }).code).toBe('inclusion');
    expect(verifyTlogProof({ ...p, hashes: p.hashes.slice(1) }, policy, { entry: entry(3) }).code).toBe('inclusion');
  });

  it('the policy decides: too few cosignatures (quorum), another log (log-signature), a malformed file (malformed)', () => {
    expect(verifyTlogProof(proofFor(3, net.cosigned([2], ts)), policy, { entry: entry(3) })).toMatchObject({ ok: false, code: 'quorum' });
    const other = new Network('example.com/other', 3, 13);
    const foreign = formatTlogProof({ index: 3n, hashes: other.log.tree.inclusionProof(3n, 13n), checkpoint: other.cosigned([0, 1, 2], ts) });
    expect(verifyTlogProof(foreign, policy, { entry: entry(3) })).toMatchObject({ ok: false, code: 'log-signature' });
    const bad = verifyTlogProof(proofFor(3).replace('index 3', 'index 03'), policy, { entry: entry(3) });
    expect(bad).toMatchObject({ ok: false, code: 'malformed', logVerified: false });
    expect(bad.reason).toMatch(/line 2: must be "index N"/);
  });

  it('the extra data is not authenticated and not used: changing it changes nothing', () => {
    const a = verifyTlogProof(proofFor(5, note, new Uint8Array([1, 2, 3])), policy, { entry: entry(5) });
    const b = verifyTlogProof(proofFor(5, note, new Uint8Array([9])), policy, { entry: entry(5) });
    expect(a.ok && b.ok).toBe(true);
    expect(a.proof?.extra).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('isTlogProof tells a tlog-proof from a JSON proof by the first line', () => {
    expect(isTlogProof(proofFor(1))).toBe(true);
    expect(isTlogProof(new TextEncoder().encode(proofFor(1)))).toBe(true);
    expect(isTlogProof('{"leafIndex":1,"hashes":[]}')).toBe(false);
    expect(isTlogProof('c2sp.org/tlog-proof@v1')).toBe(false);
  });

  it('formatTlogProof refuses what it could not parse back', () => {
    expect(() => formatTlogProof({ index: -1n, hashes: [], checkpoint: note })).toThrow(TlogProofError);
    expect(() => formatTlogProof({ index: 1n, hashes: [new Uint8Array(31)], checkpoint: note })).toThrow(TlogProofError);
    expect(() => formatTlogProof({ index: 1n, hashes: [], checkpoint: 'not a note\n' })).toThrow(TlogProofError);
  });
});
