import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJsonLossless, toBigIntSize } from '../../src/util/json.js';
import { checkConsistencyInput, checkInclusionInput } from '../../src/cli/proof.js';
import { MemoryTree } from '../../src/merkle/index.js';
import { fixture } from '../merkle/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const merkle = fixture('merkle-rfc6962.json');
const icarus = fixture('consistency-ct-icarus-real.json');

// At most a few CLI processes at once: each is a full `npx tsx` start-up.
const MAX_PROCS = 3;
let active = 0;
const waiting: (() => void)[] = [];

async function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  while (active >= MAX_PROCS) await new Promise<void>((r) => waiting.push(r));
  active++;
  try {
    return await spawnCli(args, stdin);
  } finally {
    active--;
    waiting.shift()?.();
  }
}

function spawnCli(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli/main.ts', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'gw-proof-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileNo = 0;
function file(text: string): string {
  const p = join(tmp, `in${fileNo++}.json`);
  writeFileSync(p, text);
  return p;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const realIcarus = icarus.vectors[0];
const icarusJson = (size2: string) =>
  `{"size1": 129596132, "size2": ${size2}, "root1": "${realIcarus.first_hash_b64}", "root2": "${realIcarus.second_hash_b64}", "proof": ${JSON.stringify(realIcarus.proof_b64)}}`;

describe('parseJsonLossless and toBigIntSize', () => {
  it('keeps integers above 2^53 exact (as bigint) and safe ones as numbers', () => {
    const v = parseJsonLossless('{"a": 18446744073709551615, "b": 9007199254740993, "c": 12, "d": -9007199254740993, "e": 1.5, "f": 1e3}') as any;
    expect(v).toEqual({ a: 18446744073709551615n, b: 9007199254740993n, c: 12, d: -9007199254740993n, e: 1.5, f: 1000 });
  });

  it('parses the same values as JSON.parse for ordinary JSON', () => {
    const texts = [
      '{"x": [1, 2, {"y": null, "z": true, "w": false}], "s": "a\\u00e9\\n\\"\\\\/", "e": {}, "l": []}',
      ' [ -0.5e-3 , 0 , "" , "\u2014" ] ',
      '"just a string"',
      '123',
      '{"__proto__": {"polluted": 1}}',
      '{"dup": 1, "dup": 2}',
    ];
    for (const t of texts) expect(parseJsonLossless(t)).toEqual(JSON.parse(t));
    const p = parseJsonLossless('{"__proto__": {"polluted": 1}}') as any;
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('rejects what JSON.parse rejects', () => {
    for (const t of ['', '{', '{"a":1,}', '[1,]', '01', '1.', '.5', '-', '+1', 'NaN', 'tru', '"\t"', '"\\x"', '{a:1}', "{'a':1}", '1 2', '[1] x', '"unterminated', '{"a" 1}']) {
      expect(() => JSON.parse(t), t).toThrow(SyntaxError);
      expect(() => parseJsonLossless(t), t).toThrow(SyntaxError);
    }
    expect(() => parseJsonLossless('['.repeat(100000))).toThrow(SyntaxError);
  });

  it('toBigIntSize accepts numbers, bigints and decimal strings in [0, 2^63-1] and names the field otherwise', () => {
    expect(toBigIntSize(5, 'size1')).toBe(5n);
    expect(toBigIntSize(9223372036854775807n, 'size1')).toBe(9223372036854775807n);
    expect(toBigIntSize('9223372036854775807', 'size1')).toBe(9223372036854775807n);
    expect(toBigIntSize('0', 'size1')).toBe(0n);
    for (const bad of [-1, 1.5, 2 ** 60, 9223372036854775808n, '9223372036854775808', '-1', ' 1', '1e3', '0x10', '', null, true, [], undefined]) {
      expect(() => toBigIntSize(bad, 'treeSize')).toThrow(/treeSize/);
    }
  });
});

describe('CLI proof checks on every transparency-dev/merkle vector (in-process)', () => {
  it.each((merkle.consistency_vectors as any[]).map((v, i) => [i, v.desc, v]))('consistency vector %i (%s)', (_i, _d, v: any) => {
    const r = checkConsistencyInput(v);
    // The CLI requires 32-byte roots even when the sizes are equal; the Go library does not
    // (vector "sizes are equal (one) and proof is empty" uses 12-byte roots and expects success).
    const shortRoots = Buffer.from(v.root1 ?? '', 'base64').length !== 32 || Buffer.from(v.root2 ?? '', 'base64').length !== 32;
    expect(r.valid).toBe(!v.wantErr && !shortRoots);
  });

  it.each((merkle.inclusion_vectors as any[]).map((v, i) => [i, v.desc, v]))('inclusion vector %i (%s)', (_i, _d, v: any) => {
    expect(checkInclusionInput(v).valid).toBe(!v.wantErr);
  });
});

describe('CLI proof checks: reasons for structurally bad input (in-process)', () => {
  const tree = new MemoryTree(Array.from({ length: 8 }, (_, i) => new Uint8Array([i])));
  const base = {
    size1: 3,
    size2: 8,
    root1: b64(tree.root(3n)),
    root2: b64(tree.root(8n)),
    proof: tree.consistencyProof(3n, 8n).map(b64),
  };
  it.each([
    [{ ...base }, null],
    [{ ...base, size1: '3', size2: 8n }, null],
    [{ ...base, root1: undefined }, 'root1: missing'],
    [{ ...base, root2: 'not base64!' }, 'root2: not valid base64'],
    [{ ...base, root2: base.root2.replace('=', '') }, 'root2: not valid base64'],
    [{ ...base, root1: b64(new Uint8Array(31)) }, 'root1: 31 bytes, want 32'],
    [{ ...base, root1: 7 }, 'root1: must be a base64 string'],
    [{ ...base, proof: 'abc' }, 'proof: not an array'],
    [{ ...base, proof: {} }, 'proof: not an array'],
    [{ ...base, proof: undefined }, 'proof: missing'],
    [{ ...base, proof: [...base.proof.slice(1), 'AAAA'] }, 'proof[3]: 3 bytes, want 32'],
    [{ ...base, proof: [null] }, 'proof[0]: must be a base64 string'],
    [{ ...base, size1: -3 }, 'size1: -3 out of range [0, 2^63-1]'],
    [{ ...base, size1: undefined }, 'size1: missing'],
    [{ ...base, size2: 8.5 }, 'size2: not an integer (or not exactly representable): 8.5'],
    [{ ...base, size2: 9223372036854775808n }, 'size2: 9223372036854775808 out of range [0, 2^63-1]'],
    [{ ...base, size1: 9, size2: 8 }, 'size1 9 is greater than size2 8'],
    [{ ...base, size1: 0, proof: [] }, 'consistency proof from the empty tree (size1 0) is meaningless'],
    [{ ...base, size1: 8, proof: [] }, 'sizes are equal but the roots differ'],
    [{ ...base, size1: 8, root1: base.root2 }, 'sizes are equal but the proof is not empty'],
    [{ ...base, size1: 8, root1: base.root2, proof: null }, null],
  ].map(([input, reason], i) => [i, reason ?? 'valid', input, reason]))('consistency input %i: %s', (_i, _name, input, reason) => {
    // Field errors (missing, undecodable, out of range) make the input unparsable (exit 2); the rest are refusals (exit 1).
    const malformed = typeof reason === 'string' && /^(root[12]|proof(\[\d+\])?|size[12]): /.test(reason);
    expect(checkConsistencyInput(input as any)).toEqual(reason === null ? { valid: true } : { valid: false, reason, ...(malformed ? { malformed: true } : {}) });
  });

  it('inclusion: a null proof is the empty proof (Go decodes null to a nil slice)', () => {
    const t1 = new MemoryTree([new Uint8Array([1])]);
    const v = { leafIdx: 0, treeSize: 1, root: b64(t1.root()), leafHash: b64(t1.leafHash(0n)), proof: null };
    expect(checkInclusionInput(v)).toEqual({ valid: true });
    expect(checkInclusionInput({ ...v, proof: [] })).toEqual({ valid: true });
    expect(checkInclusionInput({ ...v, treeSize: 0 })).toEqual({ valid: false, reason: 'leafIdx 0 is not below treeSize 0' });
  });
});

describe.concurrent('gossip-witness proof verify-consistency / verify-inclusion (npx tsx)', { timeout: 180_000 }, () => {
  const tree = new MemoryTree(Array.from({ length: 8 }, (_, i) => new Uint8Array([i])));
  const cons = (m: bigint, n: bigint, proof = tree.consistencyProof(m, n)) => ({
    size1: Number(m),
    size2: Number(n),
    root1: b64(tree.root(m)),
    root2: b64(tree.root(n)),
    proof: proof.map(b64),
  });

  it('a valid consistency proof from a file prints "valid" and exits 0', async () => {
    const r = await run(['proof', 'verify-consistency', file(JSON.stringify(cons(3n, 8n)))]);
    expect(r).toMatchObject({ code: 0, stdout: 'valid\n', stderr: '' });
  });

  it('reads stdin when FILE is absent or "-"', async () => {
    const [a, b] = await Promise.all([
      run(['proof', 'verify-consistency'], JSON.stringify(cons(5n, 8n))),
      run(['proof', 'verify-consistency', '-'], JSON.stringify(cons(4n, 8n))),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
  });

  it('the real Icarus proof is valid with sizes as decimal strings', async () => {
    const r = await run(['proof', 'verify-consistency'], icarusJson('"129721434"').replace('"size1": 129596132', '"size1": "129596132"'));
    expect(r).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('a proof that does not verify exits 1 with a one-line reason on stderr', async () => {
    const bad = cons(3n, 8n);
    bad.root2 = bad.root1;
    const r = await run(['proof', 'verify-consistency', file(JSON.stringify(bad))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/invalid: consistency proof does not verify\n$/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
  });

  it('sizes above 2^53 are read without precision loss: 2^53+1 is not treated as 2^53', async () => {
    // Equal sizes with equal roots and an empty proof are valid at any exact size; 2^63 is out of range.
    const same = (s: string) => `{"size1": ${s}, "size2": ${s}, "root1": "${b64(tree.root(8n))}", "root2": "${b64(tree.root(8n))}", "proof": []}`;
    const [a, c] = await Promise.all([
      run(['proof', 'verify-consistency'], same('9223372036854775807')),
      run(['proof', 'verify-consistency'], `{"size1": 9007199254740992, "size2": 9007199254740993, "root1": "${b64(tree.root(8n))}", "root2": "${b64(tree.root(8n))}", "proof": []}`),
    ]);
    expect(a.code).toBe(0);
    // Rounded through Number these two sizes would be equal and the empty proof would be accepted.
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/invalid: consistency proof does not verify/);
  });

  it('consistency from size 0 is rejected (exit 1), like Go tlog.CheckTree', async () => {
    const r = await run(['proof', 'verify-consistency'], JSON.stringify({ ...cons(3n, 8n), size1: 0, proof: [] }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid: .*empty tree/);
  });

  it('structurally bad input does not parse (exit 2, bad input): missing field, bad base64, short hash, proof not an array', async () => {
    const base = cons(3n, 8n);
    const cases: [object, RegExp][] = [
      [{ ...base, root1: undefined }, /invalid: root1: missing/],
      [{ ...base, root2: 'not base64!' }, /invalid: root2: not valid base64/],
      [{ ...base, root1: b64(new Uint8Array(31)) }, /invalid: root1: 31 bytes, want 32/],
      [{ ...base, proof: 'abc' }, /invalid: proof: not an array/],
    ];
    const results = await Promise.all(cases.map(([obj]) => run(['proof', 'verify-consistency'], JSON.stringify(obj))));
    results.forEach((r, i) => {
      expect(r.code, String(cases[i][1])).toBe(2);
      expect(r.stderr).toMatch(cases[i][1]);
    });
  });

  it('unreadable input, non-JSON and non-object JSON exit 2', async () => {
    const results = await Promise.all([
      run(['proof', 'verify-consistency', join(tmp, 'does-not-exist.json')]),
      run(['proof', 'verify-consistency'], 'not json'),
      run(['proof', 'verify-inclusion'], '[1, 2]'),
      run(['proof', 'verify-inclusion', '--bogus-flag']),
    ]);
    for (const r of results) expect(r.code).toBe(2);
  });

  it('inclusion: valid, wrong leaf, index out of range, index 2^64-1', async () => {
    const inc = (i: bigint, n: bigint) => ({
      leafIdx: Number(i),
      treeSize: String(n),
      root: b64(tree.root(n)),
      leafHash: b64(tree.leafHash(i)),
      proof: tree.inclusionProof(i, n).map(b64),
    });
    const [ok, wrongLeaf, outOfRange, bigIdx] = await Promise.all([
      run(['proof', 'verify-inclusion', file(JSON.stringify(inc(5n, 7n)))]),
      run(['proof', 'verify-inclusion'], JSON.stringify({ ...inc(5n, 7n), leafHash: b64(tree.leafHash(4n)) })),
      run(['proof', 'verify-inclusion'], JSON.stringify({ ...inc(5n, 7n), leafIdx: 7 })),
      run(['proof', 'verify-inclusion'], JSON.stringify(inc(5n, 7n)).replace('"leafIdx":5', '"leafIdx":18446744073709551615')),
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: 'valid\n' });
    expect(wrongLeaf.code).toBe(1);
    expect(wrongLeaf.stderr).toMatch(/invalid: inclusion proof does not verify/);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toMatch(/invalid: leafIdx 7 is not below treeSize 7/);
    expect(bigIdx.code).toBe(2); // does not parse as a tree index: bad input
    expect(bigIdx.stderr).toMatch(/invalid: leafIdx: 18446744073709551615 out of range/);
  });
});
