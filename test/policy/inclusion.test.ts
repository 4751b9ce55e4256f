import { describe, expect, it } from 'vitest';
import {
  formatInclusionProof,
  parseInclusionProof,
  parsePolicy,
  ProofFormatError,
  verifyCosignedCheckpoint,
  verifyEntryInclusion,
  verifyInclusionAgainst,
  verifyInclusionInCheckpoint,
} from '../../src/policy/index.js';
import { hashLeaf } from '../../src/merkle/index.js';
import { encodeBase64 } from '../../src/util/bytes.js';
import { Network } from './helpers.js';

const net = new Network('example.com/inclusion', 3, 21);
const policy = parsePolicy(net.policy(['group g 2 w0 w1 w2', 'quorum g']));
const note = net.cosigned([0, 2]);
const entry = (i: number) => new TextEncoder().encode(`main leaf ${i}`);
const proofJson = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ leafIndex: i, treeSize: 21, hashes: net.log.tree.inclusionProof(BigInt(i), 21n).map(encodeBase64), ...extra });

describe('inclusion in a policy-verified checkpoint', () => {
  it('every entry of the tree is included; the whole check passes', () => {
    for (let i = 0; i < 21; i++) {
      const v = verifyEntryInclusion(note, policy, { entry: entry(i) }, parseInclusionProof(proofJson(i)));
      expect({ ok: v.ok, reason: v.reason }).toMatchObject({ ok: true });
      expect(v.reason).toMatch(new RegExp(`entry included at index ${i}$`));
      expect(v.cosigners).toEqual(['w0', 'w2']);
    }
  });

  it('a wrong entry, index, size or hash fails with code "inclusion"', () => {
    const p = parseInclusionProof(proofJson(5));
    const wrongEntry = verifyEntryInclusion(note, policy, { entry: entry(6) }, p);
    expect(wrongEntry).toMatchObject({ ok: false, code: 'inclusion', inclusion: { ok: false } });
    expect(wrongEntry.reason).toMatch(/does not lead to the root of example.com\/inclusion at size 21/);
    expect(verifyEntryInclusion(note, policy, { entry: entry(5) }, { ...p, leafIndex: 4n }).code).toBe('inclusion');
    const size = verifyEntryInclusion(note, policy, { entry: entry(5) }, parseInclusionProof(proofJson(5, { treeSize: 20 })));
    expect(size.reason).toMatch(/the proof is for tree size 20, the checkpoint has size 21/);
    const tampered = { ...p, hashes: p.hashes.map((h, i) => (i === 1 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h)) };
    expect(verifyEntryInclusion(note, policy, { entry: entry(5) }, tampered).code).toBe('inclusion');
    expect(verifyEntryInclusion(note, policy, { entry: entry(5) }, { ...p, hashes: p.hashes.slice(1) }).code).toBe('inclusion');
    expect(verifyEntryInclusion(note, policy, { entry: entry(5) }, { leafIndex: 21n, hashes: p.hashes }).reason).toMatch(/not below the checkpoint size 21/);
    // By leaf hash instead of entry data.
    expect(verifyEntryInclusion(note, policy, { leafHash: hashLeaf(entry(5)) }, p).ok).toBe(true);
  });

  it('refuses inclusion against a checkpoint that does not satisfy the policy', () => {
    const weak = net.cosigned([1]);
    const v = verifyEntryInclusion(weak, policy, { entry: entry(5) }, parseInclusionProof(proofJson(5)));
    expect(v).toMatchObject({ ok: false, code: 'quorum' });
    expect(v.inclusion).toBeUndefined();
    const r = verifyInclusionAgainst(verifyCosignedCheckpoint(weak, policy), { entry: entry(5) }, parseInclusionProof(proofJson(5)));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/does not satisfy the policy/) });
  });

  it('a one-leaf tree has an empty proof', () => {
    const one = new Network('example.com/one', 1, 1);
    const p = parsePolicy(one.policy(['quorum w0']));
    expect(verifyEntryInclusion(one.cosigned([0]), p, { entry: entry(0) }, parseInclusionProof('{"leafIndex": 0, "hashes": []}')).ok).toBe(true);
  });
});

describe('proof file format', () => {
  it('round-trips, and keeps sizes above 2^53 exact', () => {
    const p = parseInclusionProof('{"leafIndex": 9007199254740993, "treeSize": "9223372036854775807", "hashes": []}');
    expect(p).toEqual({ leafIndex: 9007199254740993n, treeSize: 9223372036854775807n, hashes: [] });
    expect(parseInclusionProof(formatInclusionProof(p))).toEqual(p);
    const q = parseInclusionProof(proofJson(3));
    expect(parseInclusionProof(formatInclusionProof(q))).toEqual(q);
    expect(parseInclusionProof(new TextEncoder().encode('\uFEFF{"leafIndex": 1, "hashes": []}'))).toEqual({ leafIndex: 1n, hashes: [] });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['no leafIndex', '{"hashes": []}', /leafIndex: missing/],
    ['negative index', '{"leafIndex": -1, "hashes": []}', /leafIndex/],
    ['fractional index', '{"leafIndex": 1.5, "hashes": []}', /leafIndex/],
    ['index above 2^63-1', '{"leafIndex": 9223372036854775808, "hashes": []}', /out of range/],
    ['no hashes', '{"leafIndex": 1}', /hashes: must be an array/],
    ['short hash', `{"leafIndex": 1, "hashes": ["${encodeBase64(new Uint8Array(31))}"]}`, /hashes\[0\]: must be base64 of 32 bytes/],
    ['bad base64', '{"leafIndex": 1, "hashes": ["!!!!"]}', /hashes\[0\]/],
    ['index not below size', '{"leafIndex": 5, "treeSize": 5, "hashes": []}', /not below treeSize 5/],
    ['too many hashes', `{"leafIndex": 1, "hashes": [${Array(65).fill(`"${encodeBase64(new Uint8Array(32))}"`).join(',')}]}`, /at most 64/],
  ])('%s: ProofFormatError', (_n, text, message) => {
    expect(() => parseInclusionProof(text)).toThrow(ProofFormatError);
    expect(() => parseInclusionProof(text)).toThrow(message);
  });

  it('verifyInclusionInCheckpoint takes a checkpoint directly', () => {
    const v = verifyCosignedCheckpoint(note, policy);
    expect(verifyInclusionInCheckpoint(v.checkpoint!, { entry: entry(7) }, parseInclusionProof(proofJson(7)))).toMatchObject({ ok: true });
  });
});
