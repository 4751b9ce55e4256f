import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import {
  parseCheckpoint,
  formatCheckpoint,
  CheckpointError,
  hasValidEmptyTreeRoot,
  originHash,
  MAX_TREE_SIZE,
  openCheckpoint,
  sameTree,
  sameSizeOtherRoot,
} from '../../src/checkpoint/index.js';
import { parseVkey } from '../../src/note/index.js';

const ROOT = 'TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=';

describe('tlog-checkpoint parsing', () => {
  const sumdb = fixture('checkpoints-go-sumdb-real.json');
  it('Go ParseTree golden text round-trips', () => {
    const g = sumdb.parse_tree_vectors.format_golden;
    const c = parseCheckpoint(g.text);
    expect(c.origin).toBe('go.sum database tree');
    expect(c.size).toBe(BigInt(g.size));
    expect(Buffer.from(c.root).toString('base64')).toBe(g.hash_b64);
    expect(formatCheckpoint(c)).toBe(g.text);
  });
  it('Go ParseTree bad inputs (size and root) are refused', () => {
    // The first "bad" vector differs only in origin, which is bad for ParseTree's fixed origin
    // but a fine checkpoint origin in general; the other two must fail.
    for (const t of sumdb.parse_tree_vectors.bad.slice(1)) expect(() => parseCheckpoint(t)).toThrow(CheckpointError);
  });
  it('every real checkpoint parses to its expected origin, size and root', () => {
    for (const v of sumdb.vectors.filter((v: any) => v.tree_size)) {
      const c = openCheckpoint(v.note, [parseVkey(v.verifier_key)]).checkpoint;
      expect(c.origin).toBe(v.origin);
      expect(c.size).toBe(BigInt(v.tree_size));
      if (v.root_hash_b64) expect(Buffer.from(c.root).toString('base64')).toBe(v.root_hash_b64);
    }
    const armory = fixture('armory-drive-log-real.json');
    for (const v of armory.checkpoints) {
      const c = openCheckpoint(v.note, [parseVkey(armory.log_vkey)]).checkpoint;
      expect(c.origin).toBe(armory.origin);
      expect(c.size).toBe(BigInt(v.tree_size));
      expect(hasValidEmptyTreeRoot(c)).toBe(true);
    }
  });
  it('keeps extension lines (old Rekor Timestamp line)', () => {
    const rekor = fixture('checkpoints-rekor-real.json').vectors.find((v: any) => v.case.includes('sigstore.js'));
    const c = openCheckpoint(rekor.note, [parseVkey(rekor.verifier_key)]).checkpoint;
    expect(c.extensions).toHaveLength(1);
    expect(c.extensions[0]).toMatch(/^Timestamp: \d+$/);
  });
  it('Rekor v2 staging notes with a missing origin, size or root do not parse as checkpoints', () => {
    const f = fixture('checkpoints-rekor-v2-staging.json');
    for (const v of f.vectors.filter((v: any) => /missing-(origin|size|root)/.test(v.case))) {
      const text = v.note.slice(0, v.note.lastIndexOf('\n\n') + 1);
      expect(() => parseCheckpoint(text), v.case).toThrow(CheckpointError);
    }
  });
  it.each([
    ['no final newline', `o\n1\n${ROOT}`],
    ['too few lines', `o\n1\n`],
    ['empty origin', `\n1\n${ROOT}\n`],
    ['leading zero', `o\n01\n${ROOT}\n`],
    ['plus sign', `o\n+1\n${ROOT}\n`],
    ['hex size', `o\n0x1\n${ROOT}\n`],
    ['negative size', `o\n-1\n${ROOT}\n`],
    ['size 2^63', `o\n9223372036854775808\n${ROOT}\n`],
    ['20 digits', `o\n10000000000000000000\n${ROOT}\n`],
    ['short root', `o\n1\nAAAA\n`],
    ['root not base64', `o\n1\n${ROOT.replace('T', '!')}\n`],
    ['empty extension line', `o\n1\n${ROOT}\n\n`],
    ['space before size', `o\n 1\n${ROOT}\n`],
  ])('refuses %s', (_name, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointError);
  });
  it('accepts sizes up to 2^63 - 1 without precision loss', () => {
    const c = parseCheckpoint(`o\n9223372036854775807\n${ROOT}\n`);
    expect(c.size).toBe(MAX_TREE_SIZE);
    expect(parseCheckpoint(`o\n9007199254740993\n${ROOT}\n`).size).toBe(9007199254740993n);
  });
  it('origins may contain spaces', () => {
    expect(parseCheckpoint(`rekor.sigstore.dev - 2605736670972794746\n1\n${ROOT}\n`).origin).toBe('rekor.sigstore.dev - 2605736670972794746');
  });
  it('empty tree root rule', () => {
    expect(hasValidEmptyTreeRoot(parseCheckpoint(`o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`))).toBe(true);
    expect(hasValidEmptyTreeRoot(parseCheckpoint(`o\n0\n${ROOT}\n`))).toBe(false);
    expect(hasValidEmptyTreeRoot(parseCheckpoint(`o\n1\n${ROOT}\n`))).toBe(true);
  });
  it('origin hash for the monitoring path (origin-ids.json)', () => {
    for (const v of fixture('origin-ids.json').vectors) expect(originHash(v.origin)).toBe(v.c2sp_origin_hash_derived);
  });
});

describe('sameTree / sameSizeOtherRoot (the one "same size, other root" rule)', () => {
  const r = (b: number) => new Uint8Array(32).fill(b);
  it('same size and root: the same tree, not a fork', () => {
    expect(sameTree({ size: 5n, root: r(1) }, { size: 5n, root: r(1) })).toBe(true);
    expect(sameSizeOtherRoot({ size: 5n, root: r(1) }, { size: 5n, root: r(1) })).toBe(false);
  });
  it('same size, another root: a fork, not the same tree', () => {
    expect(sameSizeOtherRoot({ size: 5n, root: r(1) }, { size: 5n, root: r(2) })).toBe(true);
    expect(sameTree({ size: 5n, root: r(1) }, { size: 5n, root: r(2) })).toBe(false);
  });
  it('different sizes: neither (a proof decides)', () => {
    expect(sameSizeOtherRoot({ size: 5n, root: r(1) }, { size: 6n, root: r(2) })).toBe(false);
    expect(sameTree({ size: 5n, root: r(1) }, { size: 6n, root: r(1) })).toBe(false);
  });
});
