// Subtrees (draft-ietf-plants-merkle-tree-certs §4.1) and subtree consistency proofs (§4.4):
// the draft's accumulated test vectors, the draft's worked examples, the tlog-witness example
// request, and properties against MemoryTree.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EMPTY_ROOT, MemoryTree, hashLeaf, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import {
  bitCeil,
  isValidSubtree,
  subtreeConsistencyProof,
  subtreeConsistencyProofAsync,
  subtreeHash,
  verifySubtreeConsistency,
} from '../../src/merkle/subtree.js';
import { b64, big, fixture, hex, toHex } from './helpers.js';

// The tree of the draft's "Subtree Test Vectors" appendix: d[i] = the single byte i.
const VECTOR_MAX = 130;
const vectorTree = new MemoryTree(Array.from({ length: VECTOR_MAX }, (_, i) => Uint8Array.of(i)));

const vectors = fixture('subtree-vectors.json');

const accumulated: Array<[string, any]> = vectors.accumulated.map((v: any) => [v.source, v]);
describe.each(accumulated)('accumulated vectors: %s', (_source, v) => {
  const opts = { allowEmpty: v.allow_empty as boolean };
  const max = BigInt(v.max);
  it(`subtree hashes: ${v.subtree_hashes.slice(0, 8)}…`, () => {
    const h = createHash('sha256');
    for (let end = 0n; end <= max; end++) {
      for (let start = 0n; start <= end; start++) {
        if (!isValidSubtree(start, end, opts)) continue;
        h.update(`[${start}, ${end}) ${toHex(subtreeHash(start, end, vectorTree.hasher, opts))}\n`);
      }
    }
    expect(h.digest('hex')).toBe(v.subtree_hashes);
  });

  it(`subtree consistency proofs: ${v.consistency_proofs.slice(0, 8)}…, and every one of them verifies`, () => {
    const h = createHash('sha256');
    let count = 0;
    for (let n = 0n; n <= max; n++) {
      const root = vectorTree.root(n);
      for (let end = 0n; end <= n; end++) {
        for (let start = 0n; start <= end; start++) {
          if (!isValidSubtree(start, end, opts)) continue;
          const proof = subtreeConsistencyProof(start, end, n, vectorTree.hasher, opts);
          h.update(`[${start}, ${end}) ${n}${proof.map((p) => ' ' + toHex(p)).join('')}\n`);
          const node = subtreeHash(start, end, vectorTree.hasher, opts);
          if (!verifySubtreeConsistency(start, end, n, proof, node, root, opts)) {
            throw new Error(`proof for [${start}, ${end}) in ${n} does not verify`);
          }
          count++;
        }
      }
    }
    expect(h.digest('hex')).toBe(v.consistency_proofs);
    expect(count).toBeGreaterThan(10_000);
  });
});

describe(`validity cases (${vectors.validity.source})`, () => {
  const cases: Array<[bigint, bigint, boolean]> = vectors.validity.cases.map((c: any[]) => [big(c[0]), big(c[1]), c[2]]);
  it.each(cases)('[%s, %s) → %s', (start, end, want) => {
    expect(isValidSubtree(start, end)).toBe(want);
  });
});

describe(`RFC 6962 reference roots as subtree hashes (${vectors.rfc6962_roots.source})`, () => {
  it('[0, n) for n = 0..8', () => {
    const t = new MemoryTree(vectors.rfc6962_roots.entries_hex.map(hex));
    vectors.rfc6962_roots.roots_hex.forEach((want: string, n: number) => {
      expect(toHex(n === 0 ? subtreeHash(0n, 0n, t.hasher, { allowEmpty: true }) : subtreeHash(0n, BigInt(n), t.hasher))).toBe(want);
    });
  });
});

describe('subtree validity (§4.1 of draft -03)', () => {
  it('examples', () => {
    expect(isValidSubtree(4n, 8n)).toBe(true);
    expect(isValidSubtree(8n, 13n)).toBe(true);
    expect(isValidSubtree(0n, 13n)).toBe(true);
    expect(isValidSubtree(3n, 5n)).toBe(false); // 3 is not a multiple of BIT_CEIL(2)
    expect(isValidSubtree(16n, 100n)).toBe(false); // BIT_CEIL(84) = 128
    expect(isValidSubtree(7n, 9n)).toBe(false);
    expect(isValidSubtree(5n, 6n)).toBe(true); // single leaf
    expect(isValidSubtree(5n, 5n)).toBe(false); // empty: not a subtree in -03
    expect(isValidSubtree(5n, 5n, { allowEmpty: true })).toBe(true);
    expect(isValidSubtree(0n, 0n)).toBe(false);
    expect(isValidSubtree(6n, 5n)).toBe(false);
    expect(isValidSubtree(-1n, 5n)).toBe(false);
  });
  it('does not overflow where fixed-width BIT_CEIL would (the draft\'s 2^63 + 1 example)', () => {
    expect(isValidSubtree(0n, (1n << 63n) - 1n)).toBe(true);
    expect(isValidSubtree(1n << 62n, (1n << 63n) - 1n)).toBe(true); // size 2^62 - 1, BIT_CEIL 2^62
    expect(isValidSubtree(1n << 61n, (1n << 63n) - 1n)).toBe(false);
    expect(isValidSubtree(0n, (1n << 63n) + 1n)).toBe(false); // beyond a tree size
  });
  it('BIT_CEIL', () => {
    expect([0n, 1n, 2n, 3n, 4n, 5n, 8n, 9n].map(bitCeil)).toEqual([1n, 1n, 2n, 4n, 4n, 8n, 8n, 16n]);
  });
});

describe('worked examples (§4.4.2 of draft -03)', () => {
  const tree = new MemoryTree(Array.from({ length: 14 }, (_, i) => Uint8Array.of(i)));
  it('[4, 8) in 14: MTH(D[0:4]), MTH(D[8:14])', () => {
    expect(subtreeConsistencyProof(4n, 8n, 14n, tree.hasher).map(toHex)).toEqual([tree.subtreeHash(0n, 4n), tree.subtreeHash(8n, 14n)].map(toHex));
  });
  it('[8, 13) in 14: MTH({d[12]}), MTH({d[13]}), MTH(D[8:12]), MTH(D[0:8])', () => {
    expect(subtreeConsistencyProof(8n, 13n, 14n, tree.hasher).map(toHex)).toEqual(
      [tree.leafHash(12n), tree.leafHash(13n), tree.subtreeHash(8n, 12n), tree.subtreeHash(0n, 8n)].map(toHex),
    );
  });
});

describe('the tlog-witness sign-subtree example request (c2sp.org/tlog-witness@5ba5ee83)', () => {
  // subtree 8 13 with four proof lines against a checkpoint of size 14. The example's hashes are
  // illustrative, not computed from a tree (they do not verify, and match neither d[i] = i nor
  // d[i] = "i" leaves): only its shape is a vector.
  const node = b64('mbsQCg+dEIMGlpqeGgk94JutQwKKS2Lo5IuDhKmDjiU=');
  const proof = ['CD82D2LDm0phY0+xKbHyZfq3Hw21lVkuV7Zis5EFg0k=', 'h/ghL5nyaXTIBAklqDnisM+SFdbA3izoGZ5oRYMZzc0=', '8qtnAAU9sTKQx/zt3E4v8Jt2a9IMQUf0QUawvePF9y0=', 'KuO5BNOmginG34Lm5G3e2GuiWliGo3K0ebzGpvI0fEg='].map(b64);
  const root = b64('/CcKVZM9n65aH7jLaIZuUB4/MSlEFQ4+ldwUC21rDHM=');
  it('has the proof length the draft prescribes for [8, 13) in 14', () => {
    expect(subtreeConsistencyProof(8n, 13n, 14n, new MemoryTree(Array.from({ length: 14 }, (_, i) => Uint8Array.of(i))).hasher)).toHaveLength(proof.length);
  });
  it('its made-up hashes do not verify (pinned)', () => {
    expect(verifySubtreeConsistency(8n, 13n, 14n, proof, node, root)).toBe(false);
  });
});

describe('relations to RFC 9162 proofs (stated in §4.4.1)', () => {
  const tree = new MemoryTree(Array.from({ length: 70 }, (_, i) => new TextEncoder().encode(`leaf ${i}`)));
  it('SUBTREE_PROOF(0, end, D_n) = PROOF(end, D_n) and SUBTREE_PROOF(i, i + 1, D_n) = PATH(i, D_n)', () => {
    for (let n = 1n; n <= 70n; n++) {
      for (let end = 1n; end <= n; end++) {
        expect(subtreeConsistencyProof(0n, end, n, tree.hasher).map(toHex)).toEqual(tree.consistencyProof(end, n).map(toHex));
      }
      for (let i = 0n; i < n; i++) {
        expect(subtreeConsistencyProof(i, i + 1n, n, tree.hasher).map(toHex)).toEqual(tree.inclusionProof(i, n).map(toHex));
      }
    }
  });
  it('so verification agrees with the RFC 9162 verifiers on those proofs', () => {
    const root = tree.root(70n);
    const flip = (p: Uint8Array[], i: number) => p.map((h, j) => (j === i % p.length ? Uint8Array.from(h, (x, k) => (k === 0 ? x ^ 1 : x)) : h));
    for (let end = 1n; end <= 70n; end++) {
      for (const p of [tree.consistencyProof(end, 70n), flip(tree.consistencyProof(end, 70n), Number(end))]) {
        if (p.length === 0) continue;
        const want = verifyConsistency(end, 70n, tree.root(end), root, p);
        expect(verifySubtreeConsistency(0n, end, 70n, p, tree.root(end), root)).toBe(want);
      }
      expect(verifySubtreeConsistency(0n, end, 70n, tree.consistencyProof(end, 70n), tree.root(end), root)).toBe(true);
    }
    for (let i = 0n; i < 70n; i++) {
      for (const p of [tree.inclusionProof(i, 70n), flip(tree.inclusionProof(i, 70n), Number(i))]) {
        const want = verifyInclusion(i, 70n, tree.leafHash(i), p, root);
        expect(verifySubtreeConsistency(i, i + 1n, 70n, p, tree.leafHash(i), root)).toBe(want);
      }
      expect(verifySubtreeConsistency(i, i + 1n, 70n, tree.inclusionProof(i, 70n), tree.leafHash(i), root)).toBe(true);
    }
  });
});

describe('refusals', () => {
  const tree = new MemoryTree(Array.from({ length: 20 }, (_, i) => Uint8Array.of(i)));
  const root = tree.root();
  const node = tree.subtreeHash(8n, 13n);
  const proof = subtreeConsistencyProof(8n, 13n, 20n, tree.hasher);
  it('accepts the honest proof', () => {
    expect(verifySubtreeConsistency(8n, 13n, 20n, proof, node, root)).toBe(true);
  });
  it('rejects invalid subtrees, end > n and bad lengths without throwing', () => {
    expect(verifySubtreeConsistency(7n, 13n, 20n, proof, node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 12n, proof, node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 8n, 20n, [], EMPTY_ROOT, root)).toBe(false); // -03: empty is not a subtree
    expect(verifySubtreeConsistency(8n, 8n, 20n, [], EMPTY_ROOT, root, { allowEmpty: true })).toBe(true);
    expect(verifySubtreeConsistency(8n, 8n, 20n, [], node, root, { allowEmpty: true })).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, proof, node.subarray(1), root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, proof, node, root.subarray(1))).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, [...proof.slice(0, -1), proof[proof.length - 1].subarray(1)], node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, proof.slice(1), node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, [...proof, root], node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, [], node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 20n, Array(65).fill(root), node, root)).toBe(false);
    expect(verifySubtreeConsistency(8n, 13n, 1n << 64n, proof, node, root)).toBe(false);
  });
  it('production refuses invalid subtrees and end > n', () => {
    expect(() => subtreeConsistencyProof(7n, 13n, 20n, tree.hasher)).toThrow(RangeError);
    expect(() => subtreeConsistencyProof(8n, 13n, 12n, tree.hasher)).toThrow(RangeError);
    expect(() => subtreeHash(3n, 5n, tree.hasher)).toThrow(RangeError);
  });
});

describe('properties against MemoryTree (fast-check)', () => {
  const MAX = 300;
  const tree = new MemoryTree(Array.from({ length: MAX }, (_, i) => new TextEncoder().encode(`p${i}`)));
  // A random valid subtree of a random tree size: pick n, a size class, and an aligned start.
  const arb = fc
    .record({ n: fc.integer({ min: 1, max: MAX }), level: fc.integer({ min: 0, max: 9 }), a: fc.nat(), len: fc.nat() })
    .map(({ n, level, a, len }) => {
      const w = 1 << level; // start is a multiple of w; size in (w/2, w]
      const starts = Math.floor((n - 1) / w) + 1;
      const start = (a % starts) * w;
      const maxSize = Math.min(w, n - start);
      const minSize = Math.min(maxSize, Math.floor(w / 2) + 1);
      const size = minSize + (len % (maxSize - minSize + 1));
      return { n: BigInt(n), start: BigInt(start), end: BigInt(start + size) };
    });

  it('every generated interval is a subtree, and its hash is MTH of its leaves', () => {
    fc.assert(
      fc.property(arb, ({ start, end }) => {
        expect(isValidSubtree(start, end)).toBe(true);
        const leaves = Array.from({ length: Number(end - start) }, (_, i) => tree.leafHash(start + BigInt(i)));
        expect(toHex(subtreeHash(start, end, tree.hasher))).toBe(toHex(MemoryTree.fromLeafHashes(leaves).root()));
      }),
      { numRuns: 200 },
    );
  });

  it('honest proofs verify; a flipped bit, a wrong size or a wrong node never does', () => {
    fc.assert(
      fc.property(arb, fc.nat(), ({ n, start, end }, r) => {
        const proof = subtreeConsistencyProof(start, end, n, tree.hasher);
        const node = tree.subtreeHash(start, end);
        const root = tree.root(n);
        expect(verifySubtreeConsistency(start, end, n, proof, node, root)).toBe(true);
        if (proof.length > 0) {
          const i = r % proof.length;
          const bad = proof.map((p) => p.slice());
          bad[i][r % 32] ^= 1 << (r % 8);
          expect(verifySubtreeConsistency(start, end, n, bad, node, root)).toBe(false);
        }
        const badNode = node.slice();
        badNode[r % 32] ^= 1;
        expect(verifySubtreeConsistency(start, end, n, proof, badNode, root)).toBe(false);
        if (n < BigInt(MAX)) expect(verifySubtreeConsistency(start, end, n + 1n, proof, node, tree.root(n + 1n))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a proof for one tree does not verify another tree with different leaves in the subtree', () => {
    const other = new MemoryTree(Array.from({ length: MAX }, (_, i) => new TextEncoder().encode(i === 137 ? 'evil' : `p${i}`)));
    const start = 128n;
    const end = 160n;
    const n = 200n;
    const proof = subtreeConsistencyProof(start, end, n, tree.hasher);
    expect(verifySubtreeConsistency(start, end, n, proof, other.subtreeHash(start, end), tree.root(n))).toBe(false);
    expect(verifySubtreeConsistency(start, end, n, proof, tree.subtreeHash(start, end), other.root(n))).toBe(false);
  });

  it('async production equals sync production', async () => {
    const asyncHasher = async (a: bigint, b: bigint) => tree.subtreeHash(a, b);
    for (const [s, e, n] of [
      [8n, 13n, 14n],
      [64n, 128n, 300n],
      [0n, 77n, 300n],
      [256n, 300n, 300n],
    ]) {
      expect((await subtreeConsistencyProofAsync(s, e, n, asyncHasher)).map(toHex)).toEqual(subtreeConsistencyProof(s, e, n, tree.hasher).map(toHex));
    }
  });

  it('leaf hashes are RFC 6962 leaf hashes', () => {
    expect(toHex(tree.leafHash(0n))).toBe(toHex(hashLeaf(new TextEncoder().encode('p0'))));
  });
});
