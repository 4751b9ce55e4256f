import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MemoryTree, hashChildren, hashLeaf, treeHash, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { toHex } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('MemoryTree', () => {
  it('appending data and appending its leaf hash give the same tree; indexes are returned as bigint', () => {
    const a = new MemoryTree();
    const b = new MemoryTree();
    for (let i = 0; i < 37; i++) {
      expect(a.append(enc(`leaf ${i}`))).toBe(BigInt(i));
      expect(b.appendLeafHash(hashLeaf(enc(`leaf ${i}`)))).toBe(BigInt(i));
    }
    expect(a.size).toBe(37n);
    expect(toHex(a.root())).toBe(toHex(b.root()));
    expect(toHex(new MemoryTree(Array.from({ length: 37 }, (_, i) => enc(`leaf ${i}`))).root())).toBe(toHex(a.root()));
  });

  it('stores complete nodes: node(h, k) is the hash of its two children and incomplete nodes do not exist', () => {
    const t = new MemoryTree(Array.from({ length: 13 }, (_, i) => enc(`${i}`)));
    expect(toHex(t.node(1, 2n))).toBe(toHex(hashChildren(t.leafHash(4n), t.leafHash(5n))));
    expect(toHex(t.node(3, 0n))).toBe(toHex(hashChildren(t.node(2, 0n), t.node(2, 1n))));
    expect(toHex(t.node(3, 0n))).toBe(toHex(t.root(8n)));
    expect(() => t.node(3, 1n)).toThrow(RangeError); // leaves 8..15: incomplete at size 13
    expect(() => t.node(2, 3n)).toThrow(RangeError); // leaves 12..15
    expect(() => t.node(4, 0n)).toThrow(RangeError);
    expect(() => t.leafHash(13n)).toThrow(RangeError);
    expect(() => t.leafHash(-1n)).toThrow(RangeError);
  });

  it('returned hashes are copies: mutating them does not corrupt the tree', () => {
    const t = new MemoryTree([enc('a'), enc('b'), enc('c')]);
    const before = toHex(t.root());
    t.leafHash(0n).fill(0);
    t.node(1, 0n).fill(0);
    t.subtreeHash(0n, 2n).fill(0);
    for (const h of t.inclusionProof(2n)) h.fill(0);
    expect(toHex(t.root())).toBe(before);
  });

  it('root(size) of every prefix equals treeHash of that prefix; size 0 is the empty root', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => hashLeaf(enc(`x${i}`)));
    const t = MemoryTree.fromLeafHashes(leaves);
    expect(toHex(t.root(0n))).toBe(toHex(EMPTY_ROOT));
    for (let n = 0; n <= 70; n++) expect(toHex(t.root(BigInt(n)))).toBe(toHex(treeHash(leaves.slice(0, n))));
  });

  it('refuses sizes, ranges and hashes outside the tree', () => {
    const t = new MemoryTree([enc('a'), enc('b')]);
    expect(() => t.root(3n)).toThrow(RangeError);
    expect(() => t.root(-1n)).toThrow(RangeError);
    expect(() => t.subtreeHash(1n, 3n)).toThrow(RangeError);
    expect(() => t.subtreeHash(1n, 1n)).toThrow(RangeError);
    expect(() => t.inclusionProof(2n)).toThrow(RangeError);
    expect(() => t.inclusionProof(0n, 3n)).toThrow(RangeError);
    expect(() => t.consistencyProof(3n, 2n)).toThrow(RangeError);
    expect(() => t.consistencyProof(1n, 3n)).toThrow(RangeError);
    expect(() => t.appendLeafHash(new Uint8Array(31))).toThrow(TypeError);
    expect(() => (t as any).root(1)).toThrow(TypeError); // numbers are not sizes
  });

  it('handles 2^16 + 3 leaves: root equals treeHash and proofs at the far end verify', () => {
    const n = 2 ** 16 + 3;
    const leaves: Uint8Array[] = [];
    const t = new MemoryTree();
    for (let i = 0; i < n; i++) {
      const h = hashLeaf(enc(`big ${i}`));
      leaves.push(h);
      t.appendLeafHash(h);
    }
    const N = BigInt(n);
    const root = t.root();
    expect(toHex(root)).toBe(toHex(treeHash(leaves)));
    for (const i of [0n, 32767n, 65535n, 65536n, N - 1n]) {
      expect(verifyInclusion(i, N, leaves[Number(i)], t.inclusionProof(i), root)).toBe(true);
    }
    for (const m of [1n, 1000n, 65536n, N - 1n]) {
      expect(verifyConsistency(m, N, t.root(m), root, t.consistencyProof(m))).toBe(true);
    }
  });
});
