// Interop: our Merkle tree code (src/merkle) against Go's golang.org/x/mod/sumdb/tlog (x/mod 0.7.0):
// tree hashes, inclusion and consistency proofs, both directions, and the verdicts of both
// verifiers on mutated proofs. Go's side is test/interop/go (gointerop); see harness.ts.
// A failure prints the seed: rerun with INTEROP_SEED=<seed> to replay it.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, parseCheckpoint } from '../../src/checkpoint/index.js';
import { EMPTY_ROOT, MemoryTree, hashLeaf, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { goHelper, interopRequired, interopStatus, prng, reportSkip, testSeed, type GoCheckRecord, type GoCheckTree, type GoTreeResult } from './harness.js';

const go = goHelper();
const skipReason = go ? '' : reportSkip('Go x/mod tlog interop', interopStatus().go.reason);
const seed = testSeed();
const rnd = prng(seed);

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Leaf i's data, as the Go helper makes it: SHA-256(utf8(seed) || u64be(i)). */
function leafData(treeSeed: string, i: number): Uint8Array {
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64BE(BigInt(i));
  return new Uint8Array(createHash('sha256').update(treeSeed, 'utf8').update(idx).digest());
}

function buildTree(treeSeed: string, n: number): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < n; i++) t.append(leafData(treeSeed, i));
  return t;
}

interface Tree {
  seed: string;
  n: number;
  ours: MemoryTree;
  go: GoTreeResult;
  roots: string[]; // our roots, index = size (0 included)
}

function makeTree(n: number, consistency: [number, number][], inclusion: [number, number][]): Tree {
  const treeSeed = `gossip-witness interop ${seed} ${n}`;
  const res = go!.tree({ seed: treeSeed, n, consistency, inclusion });
  expect(res.error).toBeUndefined();
  const ours = buildTree(treeSeed, n);
  const roots = Array.from({ length: n + 1 }, (_, s) => b64(ours.root(BigInt(s))));
  return { seed: treeSeed, n, ours, go: res, roots };
}

const allPairs = (n: number): { cons: [number, number][]; incl: [number, number][] } => {
  const cons: [number, number][] = [];
  const incl: [number, number][] = [];
  for (let s = 1; s <= n; s++) {
    for (let m = 1; m <= s; m++) cons.push([m, s]);
    for (let i = 0; i < s; i++) incl.push([i, s]);
  }
  return { cons, incl };
};

/** Boundary-heavy random sizes in [1, n]. */
function randomSize(n: number): number {
  const r = rnd.next();
  if (r < 0.3) {
    const k = 1 + rnd.int(Math.floor(Math.log2(n)));
    const p = 2 ** k;
    return Math.min(n, Math.max(1, p + rnd.pick([-1, 0, 0, 1])));
  }
  return 1 + rnd.int(n);
}

// ---------- mutations of proofs: each gives a request for both verifiers ----------

interface TreeCase extends GoCheckTree {
  what: string;
}
interface RecordCase extends GoCheckRecord {
  what: string;
}

function flipByte(h: string): string {
  const b = unb64(h);
  b[rnd.int(32)] ^= 1 << rnd.int(8);
  return b64(b);
}

function mutateTree(c: GoCheckTree, roots: string[], maxSize: number): TreeCase[] {
  const out: TreeCase[] = [];
  const p = c.proof;
  const withSizes = (what: string, old_size: number, new_size: number): TreeCase | null =>
    old_size >= 0 && new_size >= 0 && new_size <= maxSize
      ? { what, ...c, old_size, new_size, old_root: roots[old_size] ?? c.old_root, new_root: roots[new_size] ?? c.new_root }
      : null;
  out.push({ what: 'valid', ...c });
  if (p.length > 0) {
    const i = rnd.int(p.length);
    out.push({ what: 'flip proof byte', ...c, proof: p.map((h, j) => (j === i ? flipByte(h) : h)) });
    out.push({ what: 'drop first', ...c, proof: p.slice(1) });
    out.push({ what: 'drop last', ...c, proof: p.slice(0, -1) });
    out.push({ what: 'empty proof', ...c, proof: [] });
    out.push({ what: 'duplicate element', ...c, proof: [...p.slice(0, i), p[i], ...p.slice(i)] });
    if (p.length > 1) {
      const j = (i + 1) % p.length;
      out.push({ what: 'swap elements', ...c, proof: p.map((h, k) => (k === i ? p[j] : k === j ? p[i] : h)) });
    }
  }
  out.push({ what: 'append garbage', ...c, proof: [...p, b64(rnd.bytes(32))] });
  out.push({ what: 'prepend old root', ...c, proof: [c.old_root, ...p] });
  out.push({ what: 'prepend garbage', ...c, proof: [b64(rnd.bytes(32)), ...p] });
  out.push({ what: 'swap roots', ...c, old_root: c.new_root, new_root: c.old_root });
  out.push({ what: 'wrong old root', ...c, old_root: flipByte(c.old_root) });
  out.push({ what: 'wrong new root', ...c, new_root: flipByte(c.new_root) });
  // Size mutations keep the proof and the ORIGINAL roots (a forged claim), and also try the
  // true roots of the mutated sizes.
  const sizeMuts: [string, number, number][] = [
    ['new+1', c.old_size, c.new_size + 1],
    ['new-1', c.old_size, c.new_size - 1],
    ['old+1', c.old_size + 1, c.new_size],
    ['old-1', c.old_size - 1, c.new_size],
    ['new*2', c.old_size, c.new_size * 2],
    ['new/2', c.old_size, Math.floor(c.new_size / 2)],
    ['old*2', c.old_size * 2, c.new_size],
    ['old/2', Math.floor(c.old_size / 2), c.new_size],
    ['old=0', 0, c.new_size],
    ['old=new', c.new_size, c.new_size],
    ['new xor low bit', c.old_size, c.new_size ^ 1],
    ['new xor bit 1', c.old_size, c.new_size ^ 2],
  ];
  for (const [what, m, n] of sizeMuts) {
    if (m < 0 || n < 0 || n > maxSize * 4) continue;
    out.push({ what: `${what} (same roots)`, ...c, old_size: m, new_size: n });
    const t = withSizes(`${what} (true roots)`, m, n);
    if (t) out.push(t);
  }
  return out;
}

function mutateRecord(c: GoCheckRecord, roots: string[], leaves: string[], maxSize: number): RecordCase[] {
  const out: RecordCase[] = [];
  const p = c.proof;
  out.push({ what: 'valid', ...c });
  if (p.length > 0) {
    const i = rnd.int(p.length);
    out.push({ what: 'flip proof byte', ...c, proof: p.map((h, j) => (j === i ? flipByte(h) : h)) });
    out.push({ what: 'drop first', ...c, proof: p.slice(1) });
    out.push({ what: 'drop last', ...c, proof: p.slice(0, -1) });
    out.push({ what: 'empty proof', ...c, proof: [] });
    if (p.length > 1) out.push({ what: 'reverse', ...c, proof: [...p].reverse() });
  }
  out.push({ what: 'append garbage', ...c, proof: [...p, b64(rnd.bytes(32))] });
  out.push({ what: 'prepend leaf', ...c, proof: [c.leaf_hash, ...p] });
  out.push({ what: 'wrong leaf', ...c, leaf_hash: flipByte(c.leaf_hash) });
  out.push({ what: 'wrong root', ...c, root: flipByte(c.root) });
  out.push({ what: 'leaf is root', ...c, leaf_hash: c.root });
  const muts: [string, number, number][] = [
    ['index+1', c.index + 1, c.size],
    ['index-1', c.index - 1, c.size],
    ['index xor 1', c.index ^ 1, c.size],
    ['size+1', c.index, c.size + 1],
    ['size-1', c.index, c.size - 1],
    ['size*2', c.index, c.size * 2],
    ['size/2', c.index, Math.floor(c.size / 2)],
    ['size xor low bit', c.index, c.size ^ 1],
    ['index=size', c.size, c.size],
  ];
  for (const [what, i, n] of muts) {
    if (i < 0 || n < 0) continue;
    out.push({ what: `${what} (same leaf and root)`, ...c, index: i, size: n });
    if (n <= maxSize && i < n && leaves[i]) out.push({ what: `${what} (true leaf and root)`, ...c, index: i, size: n, leaf_hash: leaves[i], root: roots[n] });
  }
  return out;
}

function oursTree(c: GoCheckTree): boolean {
  return verifyConsistency(BigInt(c.old_size), BigInt(c.new_size), unb64(c.old_root), unb64(c.new_root), c.proof.map(unb64));
}

function oursRecord(c: GoCheckRecord): boolean {
  return verifyInclusion(BigInt(c.index), BigInt(c.size), unb64(c.leaf_hash), c.proof.map(unb64), unb64(c.root));
}

// ---------- the tests ----------

describe.skipIf(!go)(`Go x/mod sumdb/tlog interop${go ? '' : ` (SKIPPED: ${skipReason})`}`, () => {
  // The describe body also runs when skipped (collection): everything that calls Go is in hooks/tests.

  const SMALL = 64;
  const BIG = 3000 + (seed % 1000);
  let small: Tree;
  let big: Tree;

  const smallPairs = allPairs(SMALL);
  const bigCons: [number, number][] = [];
  const bigIncl: [number, number][] = [];
  for (let k = 0; k < 2000; k++) {
    const n = randomSize(BIG);
    const m = rnd.next() < 0.2 ? randomSize(n) : 1 + rnd.int(n);
    bigCons.push([Math.min(m, n), n]);
    bigIncl.push([rnd.next() < 0.2 ? rnd.pick([0, n - 1, Math.floor(n / 2)]) : rnd.int(n), n]);
  }
  bigCons.push([1, BIG], [BIG, BIG], [BIG - 1, BIG], [2048, BIG], [2047, 2049]);
  bigIncl.push([0, BIG], [BIG - 1, BIG], [2047, 2048], [2048, 2049]);

  beforeAll(() => {
    console.log(`go-tlog interop: seed=${seed} (INTEROP_SEED to replay), helper ${go!.binary}`);
    small = makeTree(SMALL, smallPairs.cons, smallPairs.incl);
    big = makeTree(BIG, bigCons, bigIncl);
  }, 120_000);

  it(`computes the same leaf hashes and roots as tlog.TreeHash (sizes 1..${SMALL} and 1..${BIG})`, () => {
    for (const t of [small, big]) {
      for (let i = 0; i < t.n; i++) expect(b64(t.ours.leafHash(BigInt(i)))).toBe(t.go.leaf_hashes![i]);
      expect(b64(hashLeaf(leafData(t.seed, 0)))).toBe(t.go.leaf_hashes![0]);
      // Go's TreeHash(0) is 32 zero bytes; the C2SP empty-tree root (ours) is SHA-256("").
      expect(t.go.roots![0]).toBe(b64(new Uint8Array(32)));
      expect(t.roots[0]).toBe(b64(EMPTY_ROOT));
      expect(t.roots.slice(1)).toEqual(t.go.roots!.slice(1));
    }
  });

  it(`produces byte-identical consistency proofs to tlog.ProveTree and verifies Go's (${SMALL * (SMALL + 1) / 2} + ${bigCons.length} pairs)`, () => {
    for (const t of [small, big]) {
      for (const c of t.go.consistency) {
        expect(c.error, JSON.stringify(c)).toBeUndefined();
        const mine = t.ours.consistencyProof(BigInt(c.old), BigInt(c.new)).map(b64);
        expect(mine, `${t.n}: ${c.old} -> ${c.new}`).toEqual(c.proof);
        const ok = verifyConsistency(BigInt(c.old), BigInt(c.new), unb64(t.roots[c.old]), unb64(t.roots[c.new]), c.proof!.map(unb64));
        expect(ok, `${t.n}: ${c.old} -> ${c.new}`).toBe(true);
      }
    }
  });

  it(`produces byte-identical inclusion proofs to tlog.ProveRecord and verifies Go's (${SMALL * (SMALL + 1) / 2} + ${bigIncl.length})`, () => {
    for (const t of [small, big]) {
      for (const c of t.go.inclusion) {
        expect(c.error, JSON.stringify(c)).toBeUndefined();
        const mine = t.ours.inclusionProof(BigInt(c.index), BigInt(c.size)).map(b64);
        expect(mine, `${t.n}: ${c.index} in ${c.size}`).toEqual(c.proof);
        const ok = verifyInclusion(BigInt(c.index), BigInt(c.size), unb64(t.go.leaf_hashes![c.index]), c.proof!.map(unb64), unb64(t.roots[c.size]));
        expect(ok, `${t.n}: ${c.index} in ${c.size}`).toBe(true);
      }
    }
  });

  it('our proofs verify with tlog.CheckTree and tlog.CheckRecord', () => {
    const treeReqs: GoCheckTree[] = [];
    const recReqs: GoCheckRecord[] = [];
    for (const t of [small, big]) {
      for (const c of t.go.consistency) {
        treeReqs.push({
          old_size: c.old,
          new_size: c.new,
          old_root: t.roots[c.old],
          new_root: t.roots[c.new],
          proof: t.ours.consistencyProof(BigInt(c.old), BigInt(c.new)).map(b64),
        });
      }
      for (const c of t.go.inclusion) {
        recReqs.push({
          index: c.index,
          size: c.size,
          leaf_hash: b64(t.ours.leafHash(BigInt(c.index))),
          root: t.roots[c.size],
          proof: t.ours.inclusionProof(BigInt(c.index), BigInt(c.size)).map(b64),
        });
      }
    }
    const tr = go!.checkTree(treeReqs);
    const rr = go!.checkRecord(recReqs);
    tr.forEach((r, i) => expect(r, JSON.stringify(treeReqs[i])).toEqual({ ok: true }));
    rr.forEach((r, i) => expect(r, JSON.stringify(recReqs[i])).toEqual({ ok: true }));
    console.log(`go-tlog: Go verified ${tr.length} consistency and ${rr.length} inclusion proofs of ours`);
  });

  it('gives the same verdict as tlog.CheckTree on mutated consistency proofs', () => {
    const cases: TreeCase[] = [];
    for (const t of [small, big]) {
      const sample = t === small ? t.go.consistency : t.go.consistency.slice(0, 800);
      for (const c of sample) {
        if (c.old === 0) continue;
        const base: GoCheckTree = { old_size: c.old, new_size: c.new, old_root: t.roots[c.old], new_root: t.roots[c.new], proof: c.proof! };
        cases.push(...mutateTree(base, t.roots, t.n));
      }
    }
    const res = go!.checkTree(cases.map(({ what: _w, ...c }) => c));
    const mismatches: string[] = [];
    const tally = new Map<string, [number, number]>();
    cases.forEach((c, i) => {
      const g = res[i].ok;
      const o = oursTree(c);
      const k = tally.get(c.what) ?? [0, 0];
      k[g ? 0 : 1]++;
      tally.set(c.what, k);
      if (g !== o) mismatches.push(`${c.what}: go=${g} (${res[i].error ?? ''}) ours=${o} ${JSON.stringify({ ...c, what: undefined })}`);
    });
    console.log(`go-tlog: ${cases.length} consistency cases; Go [accepted, rejected] by mutation: ${JSON.stringify(Object.fromEntries(tally))}`);
    expect(mismatches.slice(0, 5), `${mismatches.length} mismatches (seed ${seed})`).toEqual([]);
  }, 180_000);

  it('gives the same verdict as tlog.CheckRecord on mutated inclusion proofs', () => {
    const cases: RecordCase[] = [];
    for (const t of [small, big]) {
      const sample = t === small ? t.go.inclusion : t.go.inclusion.slice(0, 800);
      for (const c of sample) {
        const base: GoCheckRecord = { index: c.index, size: c.size, leaf_hash: t.go.leaf_hashes![c.index], root: t.roots[c.size], proof: c.proof! };
        cases.push(...mutateRecord(base, t.roots, t.go.leaf_hashes!, t.n));
      }
    }
    const res = go!.checkRecord(cases.map(({ what: _w, ...c }) => c));
    const mismatches: string[] = [];
    const tally = new Map<string, [number, number]>();
    cases.forEach((c, i) => {
      const g = res[i].ok;
      const o = oursRecord(c);
      const k = tally.get(c.what) ?? [0, 0];
      k[g ? 0 : 1]++;
      tally.set(c.what, k);
      if (g !== o) mismatches.push(`${c.what}: go=${g} (${res[i].error ?? ''}) ours=${o} ${JSON.stringify({ ...c, what: undefined })}`);
    });
    console.log(`go-tlog: ${cases.length} inclusion cases; Go [accepted, rejected] by mutation: ${JSON.stringify(Object.fromEntries(tally))}`);
    expect(mismatches.slice(0, 5), `${mismatches.length} mismatches (seed ${seed})`).toEqual([]);
  }, 180_000);

  it('edge cases: old size 0 and equal sizes (Go rejects old 0; a witness special-cases it before verifying)', () => {
    const root = small.roots[5];
    const r = go!.checkTree([
      { old_size: 0, new_size: 5, old_root: b64(EMPTY_ROOT), new_root: root, proof: [] },
      { old_size: 0, new_size: 0, old_root: b64(EMPTY_ROOT), new_root: b64(EMPTY_ROOT), proof: [] },
      { old_size: 5, new_size: 5, old_root: root, new_root: root, proof: [] },
      { old_size: 5, new_size: 5, old_root: root, new_root: small.roots[4], proof: [] },
      { old_size: 5, new_size: 5, old_root: root, new_root: root, proof: [root] },
      { old_size: 6, new_size: 5, old_root: small.roots[6], new_root: root, proof: [] },
    ]);
    expect(r.map((x) => x.ok)).toEqual([false, false, true, false, false, false]);
    expect(r[0].error).toBe('tlog: invalid inputs in CheckTree');
    const e = unb64;
    expect([
      verifyConsistency(0n, 5n, EMPTY_ROOT, e(root), []),
      verifyConsistency(0n, 0n, EMPTY_ROOT, EMPTY_ROOT, []),
      verifyConsistency(5n, 5n, e(root), e(root), []),
      verifyConsistency(5n, 5n, e(root), e(small.roots[4]), []),
      verifyConsistency(5n, 5n, e(root), e(root), [e(root)]),
      verifyConsistency(6n, 5n, e(small.roots[6]), e(root), []),
    ]).toEqual([false, false, true, false, false, false]);
  });
});

describe.skipIf(!go)(`Go x/mod tlog.ParseTree vs parseCheckpoint${go ? '' : ` (SKIPPED: ${skipReason})`}`, () => {
  it('parses sumdb tree notes (mutated size and root lines) as tlog.ParseTree does', () => {
    const good = b64(rnd.bytes(32));
    const sizes = ['0', '1', '42', '007', '00', '-1', '+1', '-0', '1e3', ' 1', '1 ', '1_000', '0x10', '\uff11', '',
      '9223372036854775807', '9223372036854775808', '18446744073709551615', '99999999999999999999',
      ...Array.from({ length: 20 }, () => String(rnd.int(2 ** 31) * rnd.int(2 ** 20)))];
    const nonCanonical = good.slice(0, 42) + 'BCD'[rnd.int(3)] + '=';
    const roots = [good, good.replace(/=$/, ''), b64(rnd.bytes(31)), b64(rnd.bytes(33)), good.replace(/[+/]/g, (c) => (c === '+' ? '-' : '_')),
      nonCanonical, good + '\r', ' ' + good, good + '=', good.slice(0, 20) + '\r' + good.slice(20), ''];
    const texts: string[] = [];
    for (const sz of sizes) texts.push(`go.sum database tree\n${sz}\n${good}\n`);
    for (const r of roots) texts.push(`go.sum database tree\n5\n${r}\n`);
    // Shape variations: missing final newline, extension lines (Go ignores everything after line 3).
    const extras = ['', 'ext\n', '\n', 'a\n\nb\n', 'no newline', '\u00ff\n'];
    for (const e of extras) texts.push(`go.sum database tree\n5\n${good}\n${e}`);
    texts.push(`go.sum database tree\n5\n${good}`, `go.sum database tree\n5\n`);
    const res = go!.call<{ ok: boolean; size?: string; root?: string; error?: string }[]>('parse-tree', texts.map((text) => ({ text })));
    const mismatches: string[] = [];
    const known: string[] = [];
    texts.forEach((text, i) => {
      let mine: { ok: boolean; size?: string; root?: string };
      try {
        const c = parseCheckpoint(text);
        mine = { ok: true, size: c.size.toString(), root: b64(c.root) };
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        mine = { ok: false };
      }
      const theirs = res[i].ok ? { ok: true, size: res[i].size, root: res[i].root } : { ok: false };
      if (JSON.stringify(mine) === JSON.stringify(theirs)) return;
      // Known: Go ignores whatever follows the third line (even empty lines), and its base64
      // decoder skips CR/LF; parseCheckpoint is strict (C2SP: no empty lines; a note cannot hold CR).
      const afterThird = text.split('\n').slice(3).join('\n');
      if (theirs.ok && !mine.ok && (afterThird !== '' || text.includes('\r'))) known.push(JSON.stringify(text));
      else mismatches.push(`${JSON.stringify(text)}: go=${JSON.stringify(res[i])} ours=${JSON.stringify(mine)}`);
    });
    console.log(`go-tlog: ParseTree on ${texts.length} texts; known differences (Go lenient, ours strict): ${known.join(' ')}`);
    expect(mismatches).toEqual([]);
  });
});

if (!go && interopRequired) {
  describe('Go x/mod tlog interop required (INTEROP_REQUIRED=1)', () => {
    it('has the Go helper', () => expect.fail(skipReason));
  });
}
