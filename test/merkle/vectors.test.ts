import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  MemoryTree,
  consistencyProof,
  consistencyRoots,
  hashChildren,
  hashLeaf,
  inclusionProof,
  isPowerOfTwo,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { b64, big, fixture, hex, toHex } from './helpers.js';

const merkle = fixture('merkle-rfc6962.json');
const icarus = fixture('consistency-ct-icarus-real.json');
const rekor = fixture('inclusion-proofs-rekor-real.json');
const armory = fixture('armory-drive-log-real.json');

const refLeaves: Uint8Array[] = merkle.reference_tree.leaf_inputs_hex.map(hex);
const refTree = new MemoryTree(refLeaves);
const refRoots: string[] = merkle.reference_tree.root_by_size_hex;

describe('RFC 6962 hashing on the reference 8-leaf tree (transparency-dev/merkle testonly)', () => {
  it('leaf hash is SHA-256(0x00 || data)', () => {
    expect(refLeaves.map((l) => toHex(hashLeaf(l)))).toEqual(merkle.reference_tree.leaf_hashes_hex);
  });

  it('the empty tree root is SHA-256("")', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(treeHash([]))).toBe(refRoots[0]);
    expect(toHex(new MemoryTree().root())).toBe(refRoots[0]);
  });

  it.each(refRoots.map((r, n) => [n, r]))('MTH of the first %i leaves matches the reference root', (n, root) => {
    const leafHashes = refLeaves.slice(0, n as number).map(hashLeaf);
    expect(toHex(treeHash(leafHashes))).toBe(root);
    expect(toHex(refTree.root(BigInt(n)))).toBe(root);
    expect(toHex(MemoryTree.fromLeafHashes(leafHashes).root())).toBe(root);
  });

  it('interior node is SHA-256(0x01 || left || right)', () => {
    const [l0, l1] = refLeaves.slice(0, 2).map(hashLeaf);
    expect(toHex(hashChildren(l0, l1))).toBe(refRoots[2]);
  });

  it('hashChildren rejects hashes that are not 32 bytes', () => {
    expect(() => hashChildren(new Uint8Array(31), new Uint8Array(32))).toThrow(TypeError);
    expect(() => hashChildren(new Uint8Array(32), new Uint8Array(33))).toThrow(TypeError);
  });
});

describe('transparency-dev/merkle consistency vectors (library-level semantics)', () => {
  const vectors: any[] = merkle.consistency_vectors;
  it('the fixture has all 98 consistency vectors', () => expect(vectors.length).toBe(98));

  it.each(vectors.map((v, i) => [i, `${v.size1}->${v.size2} ${v.desc}`, v]))(
    'vector %i (%s) verifies iff wantErr is false',
    (_i, _d, v: any) => {
      const proof = (v.proof ?? []).map(b64);
      expect(verifyConsistency(big(v.size1), big(v.size2), b64(v.root1), b64(v.root2), proof)).toBe(!v.wantErr);
    },
  );

  it('a consistency proof from size 0 is rejected even when empty (a witness special-cases old size 0)', () => {
    expect(verifyConsistency(0n, 0n, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(0n, 5n, EMPTY_ROOT, refTree.root(5n), [])).toBe(false);
  });
});

describe('transparency-dev/merkle inclusion vectors', () => {
  const vectors: any[] = merkle.inclusion_vectors;
  it('the fixture has all 98 inclusion vectors', () => expect(vectors.length).toBe(98));

  it.each(vectors.map((v, i) => [i, `${v.leafIdx}/${v.treeSize} ${v.desc}`, v]))(
    'vector %i (%s) verifies iff wantErr is false',
    (_i, _d, v: any) => {
      const proof = (v.proof ?? []).map(b64);
      expect(verifyInclusion(big(v.leafIdx), big(v.treeSize), b64(v.leafHash), proof, b64(v.root))).toBe(!v.wantErr);
    },
  );

  it('leafIdx 2^64-1 is read without precision loss and rejected, not thrown on', () => {
    const v = vectors.find((x) => typeof x.leafIdx === 'bigint');
    expect(v.leafIdx).toBe(18446744073709551615n);
    expect(() => verifyInclusion(v.leafIdx, big(v.treeSize), b64(v.leafHash), [], b64(v.root))).not.toThrow();
  });
});

describe('derived all-pairs proofs on the reference tree: produced byte-for-byte and verified', () => {
  const pairs: any[] = merkle.derived_all_pairs_consistency;
  const incl: any[] = merkle.derived_all_inclusion;

  it.each(pairs.map((p) => [p.size1, p.size2, p]))('consistency proof %i -> %i', (m, n, p: any) => {
    const want: string[] = p.proof_hex;
    const got = consistencyProof(big(m), big(n), refTree.hasher);
    expect(got.map(toHex)).toEqual(want);
    expect(refTree.consistencyProof(big(m), big(n)).map(toHex)).toEqual(want);
    const ok = verifyConsistency(big(m), big(n), refTree.root(big(m)), refTree.root(big(n)), want.map(hex));
    // Library semantics: size1 == 0 never verifies; otherwise every derived proof must verify.
    expect(ok).toBe(m !== 0);
  });

  it.each(incl.map((p) => [p.leaf_index, p.tree_size, p]))('inclusion proof of leaf %i in tree %i', (i, n, p: any) => {
    const want: string[] = p.proof_hex;
    expect(inclusionProof(big(i), big(n), refTree.hasher).map(toHex)).toEqual(want);
    expect(refTree.inclusionProof(big(i), big(n)).map(toHex)).toEqual(want);
    expect(verifyInclusion(big(i), big(n), refTree.leafHash(big(i)), want.map(hex), refTree.root(big(n)))).toBe(true);
  });

  it('covers every pair 0 <= m <= n <= 8 and every (i, n)', () => {
    expect(pairs.length).toBe(45);
    expect(incl.length).toBe(36);
  });

  it('the protocols.md worked examples match (4->8 omits the old root; 3->8 starts with the node the old tree ends in)', () => {
    expect(refTree.consistencyProof(4n, 8n).map((h) => toHex(h).slice(0, 8))).toEqual(['6b47aaf2']);
    expect(refTree.consistencyProof(3n, 8n).map((h) => toHex(h).slice(0, 8))).toEqual(['0298d122', '07506a85', 'fac54203', '6b47aaf2']);
    expect(refTree.consistencyProof(6n, 8n).map((h) => toHex(h).slice(0, 8))).toEqual(['0ebc5d34', 'ca854ea1', 'd37ee418']);
  });
});

describe('consistencyRoots returns the roots a proof implies', () => {
  it('for every pair 0 < m < n <= 8 of the reference tree (old root explicit when m is a power of two)', () => {
    for (let m = 1n; m < 8n; m++) {
      for (let n = m + 1n; n <= 8n; n++) {
        const p = refTree.consistencyProof(m, n);
        const r = consistencyRoots(m, n, p, isPowerOfTwo(m) ? refTree.root(m) : undefined);
        expect(r).not.toBeNull();
        expect(toHex(r!.oldRoot)).toBe(refRoots[Number(m)]);
        expect(toHex(r!.newRoot)).toBe(refRoots[Number(n)]);
      }
    }
  });

  it('requires the old root exactly when size1 is a power of two', () => {
    expect(() => consistencyRoots(4n, 8n, refTree.consistencyProof(4n, 8n))).toThrow(TypeError);
    expect(() => consistencyRoots(3n, 8n, refTree.consistencyProof(3n, 8n), refTree.root(3n))).toThrow(TypeError);
  });

  it('returns null for malformed proofs and sizes instead of throwing', () => {
    const p = refTree.consistencyProof(3n, 8n);
    expect(consistencyRoots(3n, 8n, p.slice(1))).toBeNull();
    expect(consistencyRoots(3n, 8n, [...p, p[0]])).toBeNull();
    expect(consistencyRoots(3n, 8n, [p[0].subarray(1), ...p.slice(1)])).toBeNull();
    expect(consistencyRoots(0n, 8n, p)).toBeNull();
    expect(consistencyRoots(8n, 8n, p)).toBeNull();
    expect(consistencyRoots(9n, 8n, p)).toBeNull();
    expect(consistencyRoots(4n, 8n, [], refTree.root(4n))).toBeNull();
    expect(consistencyRoots(4n, 8n, refTree.consistencyProof(4n, 8n), new Uint8Array(31))).toBeNull();
  });
});

describe('Icarus CT log: a real 24-hash consistency proof (129596132 -> 129721434)', () => {
  for (const v of icarus.vectors as any[]) {
    it(`${v.name}: ${v.expect}`, () => {
      const proof = v.proof_b64.map(b64);
      expect(verifyConsistency(big(v.first), big(v.second), b64(v.first_hash_b64), b64(v.second_hash_b64), proof)).toBe(
        v.expect === 'valid',
      );
    });
  }

  it('the low bit of size2 is not authenticated: the proof also verifies for 129721433, so sizes must come from signed checkpoints', () => {
    const real = icarus.vectors[0];
    const proof = real.proof_b64.map(b64);
    const args = [b64(real.first_hash_b64), b64(real.second_hash_b64), proof] as const;
    expect(verifyConsistency(129596132n, 129721434n, ...args)).toBe(true);
    expect(verifyConsistency(129596132n, 129721433n, ...args)).toBe(true);
    // In fact the last proof element is one right-edge hash whose extent the proof does not fix:
    // every size2 with the same bits above bit 17 of size2-1 verifies, i.e. [129630209, 129761280].
    const lo = 129630209n;
    const hi = 129761280n;
    expect(hi - lo + 1n).toBe(1n << 17n);
    expect(((lo - 1n) >> 17n) === (129721434n - 1n) >> 17n && ((hi - 1n) >> 17n) === (129721434n - 1n) >> 17n).toBe(true);
    for (const n of [lo, lo + 1n, 129721435n, hi - 1n, hi]) expect(verifyConsistency(129596132n, n, ...args)).toBe(true);
    for (const n of [lo - 1n, hi + 1n, 129721434n * 2n]) expect(verifyConsistency(129596132n, n, ...args)).toBe(false);
    // The old size is fully authenticated here.
    expect(verifyConsistency(129596131n, 129721434n, ...args)).toBe(false);
    expect(verifyConsistency(129596133n, 129721434n, ...args)).toBe(false);
    expect(proof.length).toBe(24);
  });

  it('consistencyRoots recovers both real STH roots from the real proof', () => {
    const real = icarus.vectors[0];
    const r = consistencyRoots(129596132n, 129721434n, real.proof_b64.map(b64));
    expect(r).not.toBeNull();
    expect(Buffer.from(r!.oldRoot).toString('base64')).toBe(icarus.sth_first.sha256_root_hash);
    expect(Buffer.from(r!.newRoot).toString('base64')).toBe(icarus.sth_second.sha256_root_hash);
  });
});

describe('Rekor v1: real inclusion proofs (Merkle part)', () => {
  const parseCheckpoint = (note: string) => {
    const [, size, root] = note.split('\n');
    return { size: BigInt(size), root };
  };

  for (const v of rekor.vectors as any[]) {
    it(`${v.case}: leaf hash from leaf data, then the proof is ${v.expect.inclusion_proof} against its root`, () => {
      const leafHash = hashLeaf(b64(v.leaf_data_b64));
      expect(toHex(leafHash)).toBe(v.leaf_hash_hex);
      const proof = v.hashes_b64.map(b64);
      const ok = verifyInclusion(big(v.leaf_index), big(v.tree_size), leafHash, proof, b64(v.root_hash_b64));
      expect(ok).toBe(v.expect.inclusion_proof === 'valid');
      const cp = parseCheckpoint(v.checkpoint);
      expect(cp.size === big(v.tree_size) && cp.root === v.root_hash_b64).toBe(v.expect.checkpoint_matches_proof_root_and_size);
    });
  }

  it('a real proof fails with the global log index instead of the shard-local one', () => {
    const v = rekor.vectors.find((x: any) => x.case === 'happy-path-v0.3');
    const leafHash = hashLeaf(b64(v.leaf_data_b64));
    const proof = v.hashes_b64.map(b64);
    expect(verifyInclusion(big(v.leaf_index), big(v.tree_size), leafHash, proof, b64(v.root_hash_b64))).toBe(true);
    expect(verifyInclusion(big(v.global_log_index), big(v.tree_size), leafHash, proof, b64(v.root_hash_b64))).toBe(false);
    expect(verifyInclusion(big(v.leaf_index) - 1n, big(v.tree_size), leafHash, proof, b64(v.root_hash_b64))).toBe(false);
    expect(verifyInclusion(big(v.leaf_index), big(v.tree_size), hashLeaf(new Uint8Array(1)), proof, b64(v.root_hash_b64))).toBe(false);
  });
});

describe('Armory Drive Prod 2: real leaves, derived proofs', () => {
  const leaves: Uint8Array[] = armory.leaves.map((l: any) => b64(l.data_b64));
  const tree = new MemoryTree(leaves);
  const roots = Object.fromEntries(armory.checkpoints.map((c: any) => [c.tree_size, b64(c.root_hash_b64)]));

  it('the real leaf hashes and the real checkpoint roots (sizes 0, 1, 2) are reproduced', () => {
    expect(armory.leaves.map((l: any) => l.leaf_hash_hex)).toEqual([0n, 1n].map((i) => toHex(tree.leafHash(i))));
    for (const c of armory.checkpoints) expect(toHex(tree.root(big(c.tree_size)))).toBe(toHex(b64(c.root_hash_b64)));
  });

  it('the derived proofs are produced byte-for-byte and verify', () => {
    const d = armory.derived_proofs;
    const enc = (p: Uint8Array[]) => p.map((h) => Buffer.from(h).toString('base64'));
    expect(enc(tree.consistencyProof(0n, 1n))).toEqual(d.consistency_0_to_1);
    expect(enc(tree.consistencyProof(0n, 2n))).toEqual(d.consistency_0_to_2);
    expect(enc(tree.consistencyProof(1n, 2n))).toEqual(d.consistency_1_to_2_b64);
    expect(enc(tree.inclusionProof(0n, 2n))).toEqual(d.inclusion_leaf0_in_2_b64);
    expect(enc(tree.inclusionProof(1n, 2n))).toEqual(d.inclusion_leaf1_in_2_b64);
    expect(verifyConsistency(1n, 2n, roots[1], roots[2], d.consistency_1_to_2_b64.map(b64))).toBe(true);
    expect(verifyInclusion(0n, 2n, tree.leafHash(0n), d.inclusion_leaf0_in_2_b64.map(b64), roots[2])).toBe(true);
    expect(verifyInclusion(1n, 2n, tree.leafHash(1n), d.inclusion_leaf1_in_2_b64.map(b64), roots[2])).toBe(true);
    // Swapping the two leaves' proofs must fail.
    expect(verifyInclusion(0n, 2n, tree.leafHash(0n), d.inclusion_leaf1_in_2_b64.map(b64), roots[2])).toBe(false);
  });
});
