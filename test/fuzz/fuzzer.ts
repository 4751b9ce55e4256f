// A deterministic, dependency-free fuzzer for the format parsers. Shared by the bounded run in
// test/fuzz/parsers.test.ts (fixed seed, part of `npm test`) and the long run in bench/fuzz-long.ts.
//
// Every input is derived from (seed, index) alone, so one failing input can be regenerated with
// generateInput(seed, index) without replaying the run. Inputs are fixture notes, keys, checkpoint
// texts and base64 tokens mutated by byte flips, truncation, splicing, inserted separators and huge
// lines, plus pure random bytes. Each input goes to every parser; a parser may only fail with its
// documented error class, must keep its output invariants, and must return within a time bound.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  parseNote,
  openNote,
  parseVkey,
  parseSkey,
  parseCosignatureVkey,
  VerifierSet,
  NoteError,
  KeyError,
  formatKeyId,
  isValidKeyName,
  keyLabel,
  type Verifier,
} from '../../src/note/index.js';
import { parseTlogProof, formatTlogProof, TlogProofError } from '../../src/policy/tlog-proof.js';
import { parseSigsumProof, SigsumProofError } from '../../src/policy/sigsum-proof.js';
import { parseCheckpoint, parseTreeSize, formatCheckpoint, CheckpointError, MAX_TREE_SIZE } from '../../src/checkpoint/index.js';
import { concatBytes, decodeBase64, encodeBase64, equalBytes } from '../../src/util/bytes.js';

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG: sfc32 seeded through splitmix32 from (seed, index).

function splitmix32(x: number): () => number {
  return () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    const sm = splitmix32((seed ^ Math.imul(stream, 0x27d4eb2d)) >>> 0);
    this.a = sm();
    this.b = sm() ^ stream;
    this.c = sm();
    this.d = sm() | 1;
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Seeds from the real fixtures.

const FIXTURES = [
  'checkpoints-go-sumdb-real.json',
  'checkpoints-rekor-real.json',
  'checkpoints-rekor-v2-staging.json',
  'checkpoints-static-ct-real.json',
  'cosignatures.json',
  'signed-note-c2sp-example.json',
  'signed-note-golang-x-mod.json',
  'armory-drive-log-real.json',
  'tlog-proof-vectors.json',
  'sigsum-proof-vectors.json',
  'tlog-witness-session-litewitness.json',
  'tlog-witness-transparency-dev-witness.json',
  'vkey-parsing.json',
  'key-pairs-test.json',
];

export interface Seeds {
  /** Whole signed notes (and a few unsigned texts). */
  notes: Uint8Array[];
  /** Checkpoint / note texts (everything before the separating blank line). */
  texts: Uint8Array[];
  keys: Uint8Array[];
  sigLines: Uint8Array[];
  tokens: Uint8Array[];
  /** Every seed, for splicing across kinds. */
  all: Uint8Array[];
  verifierSets: { name: string; set: VerifierSet; labels: Set<string> }[];
}

const enc = new TextEncoder();
const utf8 = (s: string) => enc.encode(s);

function walkStrings(x: unknown, out: { key: string; value: string }[], key = ''): void {
  if (typeof x === 'string') out.push({ key, value: x });
  else if (Array.isArray(x)) for (const v of x) walkStrings(v, out, key);
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) walkStrings(v, out, k);
}

let cachedSeeds: Seeds | undefined;

export function loadSeeds(): Seeds {
  if (cachedSeeds) return cachedSeeds;
  const strings: { key: string; value: string }[] = [];
  for (const f of FIXTURES) {
    walkStrings(JSON.parse(readFileSync(new URL(`../fixtures/${f}`, import.meta.url), 'utf8')), strings);
  }
  const notes = new Map<string, Uint8Array>();
  const texts = new Map<string, Uint8Array>();
  const keys = new Map<string, Uint8Array>();
  const sigLines = new Map<string, Uint8Array>();
  const tokens = new Map<string, Uint8Array>();
  const vkeys = new Set<string>();
  for (const { key, value } of strings) {
    if (key === 'note_base64') {
      const b = new Uint8Array(Buffer.from(value, 'base64'));
      notes.set(`b64:${value}`, b);
      continue;
    }
    if (value.includes('\n') && value.endsWith('\n') && !key.includes('description')) {
      // Notes, checkpoint texts, signed messages and add-checkpoint request bodies (which end in a note).
      notes.set(value, utf8(value));
      const split = value.lastIndexOf('\n\n');
      if (split > 0) texts.set(value.slice(0, split + 1), utf8(value.slice(0, split + 1)));
      else texts.set(value, utf8(value));
      for (const line of value.split('\n')) {
        if (line.startsWith('\u2014 ')) sigLines.set(line + '\n', utf8(line + '\n'));
        else if (line !== '') tokens.set(line, utf8(line));
      }
      continue;
    }
    if (value.startsWith('\u2014 ')) {
      sigLines.set(value.endsWith('\n') ? value : value + '\n', utf8(value.endsWith('\n') ? value : value + '\n'));
      continue;
    }
    if (/^PRIVATE\+KEY\+/.test(value)) {
      keys.set(value, utf8(value));
      continue;
    }
    if (/^[^\s+]+\+[0-9a-fA-F]{8}\+/.test(value)) {
      keys.set(value, utf8(value));
      vkeys.add(value);
      continue;
    }
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) tokens.set(value, utf8(value));
    else if (/^[0-9]{1,25}$/.test(value)) tokens.set(value, utf8(value));
  }
  for (const t of ['0', '1', '9223372036854775807', '9223372036854775808', '18446744073709551615', '01', '-1', '+1', '1e3', '0x10']) tokens.set(t, utf8(t));

  // Verifier set A: every parseable fixture vkey and the cosignature/v1 verifier derived from each
  // 0x01 one, one per (name, key ID). Set B is deliberately ambiguous: PeterNeumann twice (any
  // PeterNeumann line throws 'ambiguous-key'), plus EnochRoot and sum.golang.org.
  const byLabel = new Map<string, Verifier>();
  for (const v of vkeys) {
    try {
      const k = parseVkey(v);
      byLabel.set(keyLabel(k.name, k.keyId), k);
      const c = parseCosignatureVkey(v);
      byLabel.set(keyLabel(c.name, c.keyId), c);
    } catch {
      /* the invalid fixture vkeys are seeds only */
    }
  }
  const a = [...byLabel.values()];
  const peter = parseVkey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
  const b = [peter, parseVkey(peter.vkey), parseVkey('EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop')];
  const sumdb = a.find((v) => v.name === 'sum.golang.org');
  if (sumdb) b.push(sumdb);
  const seeds: Seeds = {
    notes: [...notes.values()],
    texts: [...texts.values()],
    keys: [...keys.values()],
    sigLines: [...sigLines.values()],
    tokens: [...tokens.values()],
    all: [],
    verifierSets: [
      { name: 'fixtures', set: new VerifierSet(a), labels: new Set(a.map((v) => keyLabel(v.name, v.keyId))) },
      { name: 'ambiguous', set: new VerifierSet(b), labels: new Set(b.map((v) => keyLabel(v.name, v.keyId))) },
    ],
  };
  seeds.all = [...seeds.notes, ...seeds.texts, ...seeds.keys, ...seeds.sigLines, ...seeds.tokens];
  cachedSeeds = seeds;
  return seeds;
}

// ---------------------------------------------------------------------------------------------
// Input generation.

const SPECIAL_BYTES = [0x0a, 0x0d, 0x00, 0x09, 0x20, 0x2b, 0x3d, 0x2f, 0x2d, 0x30, 0x41, 0x7f, 0x80, 0x94, 0xe2, 0xc0, 0xed, 0xef, 0xf4, 0xff];
const TOKENS = [
  '\n', '\r', '\r\n', '\n\n', '\u2014', '\u2014 ', '\n\u2014 ', '\u2013 ', '+', '=', '==', '\0', ' ', '\t', '\u00a0', '\u2028',
  '\u3000', '\ufffd', '\ufeff', 'A', '0', '00', '-', '/', 'PRIVATE+KEY+', '+00000000+', 'AQ==', 'Ag==', 'BA==', '\u2014 a AAAAAA==\n',
].map(utf8);
const RAW_TOKENS = [Uint8Array.of(0xe2, 0x80), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xc0, 0xaf), Uint8Array.of(0xf4, 0x90, 0x80, 0x80), Uint8Array.of(0xff)];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALPHABET = utf8('abz019+/=.- \n\u2014\u00e9');

function randomBase64(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += B64[r.int(64)];
  return s;
}

function hugeChunk(r: Rng): Uint8Array {
  const n = 1_000 + r.int(r.chance(0.2) ? 300_000 : 40_000);
  switch (r.int(5)) {
    case 0:
      return new Uint8Array(n).fill(0x41);
    case 1:
      return utf8('\u2014 a ' + randomBase64(r, n & ~3) + '\n');
    case 2:
      return utf8('='.repeat(n));
    case 3:
      return utf8('+'.repeat(n));
    default: {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = ALPHABET[r.int(ALPHABET.length)];
      return out;
    }
  }
}

function lineBounds(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      out.push([start, i + 1]);
      start = i + 1;
    }
  }
  if (start < b.length) out.push([start, b.length]);
  return out;
}

/**
 * Changes the decoded blob of one signature line and re-encodes it, so that the line stays
 * well-formed and keeps (usually) its key ID: this reaches the signature schemes' verify code with
 * wrong lengths, bad DER, timestamps >= 2^63 and flipped signature bits.
 */
function mutateSignatureBlob(r: Rng, b: Uint8Array): Uint8Array {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  const re = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/gm;
  const matches = [...s.matchAll(re)];
  if (matches.length === 0) return b;
  const m = r.pick(matches);
  const blob = new Uint8Array(Buffer.from(m[2], 'base64'));
  let out: Uint8Array = blob;
  switch (r.int(5)) {
    case 0: // a bit in the key ID, a timestamp or a length field
      if (blob.length > 0) blob[r.int(Math.min(blob.length, 16))] ^= 1 << r.int(8);
      break;
    case 1: // a bit anywhere
      if (blob.length > 0) blob[r.int(blob.length)] ^= 1 << r.int(8);
      break;
    case 2: // truncate (keeping at least the key ID and one byte, mostly)
      out = blob.subarray(0, Math.max(r.chance(0.9) ? 5 : 0, r.int(blob.length)));
      break;
    case 3: // extend
      out = concatBytes(blob, r.bytes(1 + r.int(8)));
      break;
    default: // set the top bit of a cosignature timestamp / a DER byte
      if (blob.length > 4) blob[4 + r.int(Math.min(8, blob.length - 4))] = r.pick([0x80, 0xff, 0x00, 0x30, 0x02, 0x04]);
  }
  const line = `\u2014 ${m[1]} ${Buffer.from(out).toString('base64')}`;
  return utf8(s.slice(0, m.index) + line + s.slice(m.index! + m[0].length));
}

function mutate(r: Rng, b: Uint8Array, seeds: Seeds): Uint8Array {
  const pos = (extra = 0) => r.int(b.length + extra);
  switch (r.int(18)) {
    case 15:
    case 16:
    case 17:
      return mutateSignatureBlob(r, b);
    case 0: {
      if (b.length === 0) return b;
      const out = b.slice();
      out[pos()] ^= 1 << r.int(8);
      return out;
    }
    case 1: {
      if (b.length === 0) return b;
      const out = b.slice();
      out[pos()] = r.chance(0.5) ? r.pick(SPECIAL_BYTES) : r.int(256);
      return out;
    }
    case 2: {
      if (b.length === 0) return b;
      const i = pos();
      return concatBytes(b.subarray(0, i), b.subarray(i + 1));
    }
    case 3: {
      const i = pos(1);
      const j = Math.min(b.length, i + 1 + r.int(16));
      return concatBytes(b.subarray(0, i), b.subarray(j));
    }
    case 4:
      return b.subarray(0, pos(1));
    case 5:
    case 6: {
      // Insert a token, a third of the time at a line start or just after a line's "\u2014 ".
      let i = pos(1);
      if (r.chance(0.33)) {
        const starts = lineBounds(b).map(([s]) => (b[s] === 0xe2 && b[s + 1] === 0x80 && b[s + 2] === 0x94 && b[s + 3] === 0x20 && r.chance(0.7) ? s + 4 : s));
        if (starts.length > 0) i = r.pick(starts);
      }
      const t = r.chance(0.8) ? r.pick(TOKENS) : r.pick(RAW_TOKENS);
      return concatBytes(b.subarray(0, i), t, b.subarray(i));
    }
    case 7: {
      // splice with another seed
      const o = r.pick(seeds.all);
      return concatBytes(b.subarray(0, pos(1)), o.subarray(r.int(o.length + 1)));
    }
    case 8: {
      // duplicate a range
      const i = pos(1);
      const j = Math.min(b.length, i + r.int(64));
      return concatBytes(b.subarray(0, j), b.subarray(i, j), b.subarray(j));
    }
    case 9: {
      // swap two lines
      const lines = lineBounds(b);
      if (lines.length < 2) return b;
      const x = r.int(lines.length);
      let y = r.int(lines.length);
      if (x === y) y = (y + 1) % lines.length;
      const [p, q] = x < y ? [lines[x], lines[y]] : [lines[y], lines[x]];
      return concatBytes(b.subarray(0, p[0]), b.subarray(q[0], q[1]), b.subarray(p[1], q[0]), b.subarray(p[0], p[1]), b.subarray(q[1]));
    }
    case 10: {
      // replace or insert a whole line taken from the seeds
      const lines = lineBounds(b);
      const l = r.chance(0.5) ? r.pick(seeds.sigLines) : concatBytes(r.pick(seeds.all), utf8('\n'));
      if (lines.length === 0) return l;
      const [s, e] = r.pick(lines);
      return r.chance(0.5) ? concatBytes(b.subarray(0, s), l, b.subarray(e)) : concatBytes(b.subarray(0, s), l, b.subarray(s));
    }
    case 11: {
      // repeat a signature line, sometimes around the 100-line limit
      const l = r.pick(seeds.sigLines);
      const n = r.chance(0.2) ? 95 + r.int(12) : 1 + r.int(4);
      const parts: Uint8Array[] = [b];
      for (let i = 0; i < n; i++) parts.push(l);
      return concatBytes(...parts);
    }
    case 12: {
      // a random base64 blob in place of a range
      const i = pos(1);
      const j = Math.min(b.length, i + r.int(120));
      return concatBytes(b.subarray(0, i), utf8(randomBase64(r, r.int(130))), b.subarray(j));
    }
    case 13: {
      if (!r.chance(0.05)) return concatBytes(b, r.pick(TOKENS));
      const i = pos(1);
      return concatBytes(b.subarray(0, i), hugeChunk(r), b.subarray(i));
    }
    default: {
      // random bytes in place of a range
      const i = pos(1);
      const j = Math.min(b.length, i + r.int(8));
      return concatBytes(b.subarray(0, i), r.bytes(r.int(8)), b.subarray(j));
    }
  }
}

export type InputKind = 'note' | 'text' | 'key' | 'token' | 'splice' | 'random' | 'structured';

export interface FuzzInput {
  kind: InputKind;
  bytes: Uint8Array;
  /** The string handed to the string parsers (UTF-8 with U+FFFD, sometimes with a lone surrogate). */
  str: string;
}

function structuredRandom(r: Rng): Uint8Array {
  const parts: string[] = [];
  const n = 1 + r.int(12);
  for (let i = 0; i < n; i++) {
    switch (r.int(9)) {
      case 0:
        parts.push('\u2014 ');
        break;
      case 1:
        parts.push(['a', 'example.com/foo', 'PeterNeumann', 'sum.golang.org', 'x\u00e9'][r.int(5)]);
        break;
      case 2:
        parts.push('+');
        break;
      case 3:
        parts.push(r.u32().toString(16).padStart(8, '0'));
        break;
      case 4:
        parts.push(randomBase64(r, 4 * r.int(30)) + ['', '=', '=='][r.int(3)]);
        break;
      case 5:
        parts.push('\n');
        break;
      case 6:
        parts.push(String(r.u32()) + (r.chance(0.5) ? String(r.u32()) : ''));
        break;
      case 7:
        parts.push(' ');
        break;
      default:
        parts.push('\n\n');
    }
  }
  return utf8(parts.join(''));
}

/** The input number `index` of a run with `seed`: a pure function of both. */
export function generateInput(seed: number, index: number, seeds: Seeds = loadSeeds()): FuzzInput {
  const r = new Rng(seed, index + 1);
  const roll = r.int(100);
  let kind: InputKind;
  let bytes: Uint8Array;
  if (roll < 40) {
    kind = 'note';
    bytes = r.pick(seeds.notes);
  } else if (roll < 52) {
    kind = 'key';
    bytes = r.pick(seeds.keys);
  } else if (roll < 62) {
    kind = 'text';
    bytes = r.pick(seeds.texts);
  } else if (roll < 70) {
    kind = 'token';
    bytes = r.pick(seeds.tokens);
  } else if (roll < 80) {
    kind = 'splice';
    const a = r.pick(seeds.all);
    const b = r.pick(seeds.all);
    bytes = concatBytes(a.subarray(0, r.int(a.length + 1)), b.subarray(r.int(b.length + 1)));
  } else if (roll < 92) {
    kind = 'random';
    bytes = r.bytes(r.int(r.chance(0.1) ? 2_000 : 200));
  } else {
    kind = 'structured';
    bytes = structuredRandom(r);
  }
  // 1 to 4 stacked mutations (none for a few seeds, so the parsers also see the valid originals).
  const rounds = kind === 'random' ? r.int(2) : r.chance(0.03) ? 0 : 1 + r.int(4);
  for (let i = 0; i < rounds; i++) bytes = mutate(r, bytes, seeds);
  let str = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (r.chance(0.02)) {
    const i = r.int(str.length + 1);
    str = str.slice(0, i) + (r.chance(0.5) ? '\ud800' : '\udc00') + str.slice(i);
  }
  return { kind, bytes, str };
}

/** Hand-made inputs run before the random ones: the size limits and the pathological shapes. */
export function specialInputs(): FuzzInput[] {
  const seeds = loadSeeds();
  const note = new TextDecoder().decode(seeds.notes[0]);
  const root = 'A'.repeat(43) + '=';
  const strs = [
    '',
    '\n',
    '\n\n',
    '\u2014 \n',
    '\n\n\u2014 \n',
    `o\n1\n${root}\n` + 'e\n'.repeat(600_000), // > 1e6 characters
    `${'o'.repeat(999_990)}\n1\n${root}\n`,
    `${'\u20ac'.repeat(400_000)}\n1\n${root}\n`, // 400,000 characters, 1.2 MB
    'x\n\n' + '\u2014 a AAAAAA==\n'.repeat(101),
    'x\n\n' + '\u2014 a AAAAAA==\n'.repeat(100),
    'a+' + 'f'.repeat(100_000) + '+AQ==',
    'a+00000000+' + 'A'.repeat(400_000),
    'a+00000000+' + 'A'.repeat(399_999) + '!',
    'PRIVATE+KEY+a+00000000+' + 'A'.repeat(200_000) + '==',
    '9'.repeat(200_000),
    '='.repeat(200_001),
    note.replace('\n\n', '\n' + 'x'.repeat(300_000) + '\n\n'),
    note + '\u2014 ' + 'a'.repeat(300_000) + ' AAAAAA==\n',
    '\n'.repeat(300_000),
    '\u2014 '.repeat(100_000) + '\n',
  ];
  return strs.map((s) => ({ kind: 'structured', bytes: utf8(s), str: s }));
}

// ---------------------------------------------------------------------------------------------
// Running the parsers.

export const TARGETS = [
  'parseNote',
  'openNote',
  'openNote(string)',
  'parseCheckpoint',
  'parseVkey',
  'parseCosignatureVkey',
  'parseSkey',
  'parseTreeSize',
  'decodeBase64',
  'parseTlogProof',
  'parseSigsumProof',
] as const;
export type Target = (typeof TARGETS)[number];

export interface Failure {
  seed: number;
  /** The input's index, or -1 - k for specialInputs()[k]. */
  index: number;
  target: Target;
  problem: string;
  /** The input as base64 (truncated to 4 KiB of input for huge inputs). */
  inputBase64: string;
  inputLength: number;
}

export interface TargetStats {
  calls: number;
  ok: number;
  errors: Record<string, number>;
  maxMs: number;
}

export interface FuzzStats {
  seed: number;
  inputs: number;
  calls: number;
  elapsedMs: number;
  /** The longest first measurement of any call. */
  maxMs: number;
  maxTarget: Target | '';
  /** Calls that stayed over the bound on every one of 3 re-measurements (the first 20). */
  slow: { target: Target; index: number; ms: number; length: number }[];
  failures: Failure[];
  targets: Record<Target, TargetStats>;
}

export interface FuzzOptions {
  seed: number;
  /** Number of generated inputs (the special inputs come on top). */
  count: number;
  /** A call counts as slow when it takes at least this long on every re-measurement. */
  boundMs?: number;
  /** Stop collecting after this many failures. */
  maxFailures?: number;
  onProgress?: (stats: FuzzStats) => void;
  progressEvery?: number;
}

const MAX_U64 = (1n << 63n) - 1n;

/** Independent oracle for strict padded standard base64 (no regex). */
function isStrictBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  for (let i = 0; i < s.length - pad; i++) if (!B64.includes(s[i])) return false;
  return true;
}

/** Independent oracle for a strict tree size. */
function isTreeSize(s: string): boolean {
  if (s.length === 0 || s.length > 19) return false;
  for (const c of s) if (c < '0' || c > '9') return false;
  if (s.length > 1 && s[0] === '0') return false;
  return BigInt(s) <= MAX_U64;
}

type Check = () => string | null;

/** Runs one call: returns null, or the problem (wrong error class or a broken invariant). */
function call(target: Target, fn: () => Check | null, allowed: (e: unknown) => boolean): { problem: string | null; error: string | null } {
  let check: Check | null;
  try {
    check = fn();
  } catch (e) {
    if (allowed(e)) return { problem: null, error: e instanceof NoteError ? `${e.name}:${e.code}` : (e as Error).name };
    // Stack traces are off during the run (they cost more than the parsers); re-run for one.
    let err = e as Error;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    try {
      fn();
    } catch (again) {
      err = again as Error;
    } finally {
      Error.stackTraceLimit = limit;
    }
    return { problem: `${target} threw ${err?.name ?? typeof e}: ${err?.message ?? String(e)}\n${err?.stack ?? ''}`, error: 'UNEXPECTED' };
  }
  if (!check) return { problem: null, error: null };
  try {
    const p = check();
    return { problem: p === null ? null : `${target}: ${p}`, error: null };
  } catch (e) {
    return { problem: `${target}: invariant check threw ${(e as Error).stack}`, error: null };
  }
}

function serializeNote(text: Uint8Array, sigs: { name: string; base64: string }[]): Uint8Array {
  return concatBytes(text, utf8('\n' + sigs.map((s) => `\u2014 ${s.name} ${s.base64}\n`).join('')));
}

function plans(input: FuzzInput, seeds: Seeds): [Target, () => Check | null, (e: unknown) => boolean][] {
  const { bytes, str } = input;
  const isNoteError = (e: unknown) => e instanceof NoteError;
  const isKeyError = (e: unknown) => e instanceof KeyError;
  const isCheckpointError = (e: unknown) => e instanceof CheckpointError;
  const never = () => false;
  const [setA, setB] = seeds.verifierSets;
  // A line of the input for the line-level parsers (the size and root lines of a checkpoint).
  const lines = str.split('\n');
  const line = lines.length >= 3 ? lines[1 + (bytes.length % 2)] : str;
  return [
    [
      'parseNote',
      () => {
        const n = parseNote(bytes);
        return () => {
          if (n.signatures.length < 1 || n.signatures.length > 100) return `${n.signatures.length} signature lines`;
          if (n.textBytes[n.textBytes.length - 1] !== 0x0a) return 'text does not end with a newline';
          if (!equalBytes(serializeNote(n.textBytes, n.signatures), bytes)) return 'text + signature lines do not reproduce the input';
          for (const s of n.signatures) {
            if (!isValidKeyName(s.name)) return `invalid key name ${JSON.stringify(s.name)}`;
            if (s.sig.length < 1) return 'empty signature';
          }
          return null;
        };
      },
      isNoteError,
    ],
    [
      'openNote',
      () => {
        const n = openNote(bytes, setA.set);
        return () => {
          if (n.verified.length === 0) return 'opened without a verified signature';
          const seen = new Set<string>();
          for (const s of n.verified) {
            const l = keyLabel(s.name, s.keyId);
            if (!setA.labels.has(l)) return `verified unknown key ${l}`;
            if (seen.has(l)) return `verified ${l} twice`;
            seen.add(l);
          }
          for (const s of n.unverified) if (setA.labels.has(keyLabel(s.name, s.keyId))) return 'known key listed as unverified';
          return null;
        };
      },
      isNoteError,
    ],
    [
      'openNote(string)',
      () => {
        const n = openNote(str, setB.set);
        return () => (n.verified.every((s) => setB.labels.has(keyLabel(s.name, s.keyId))) && n.verified.length > 0 ? null : 'bad verified list');
      },
      isNoteError,
    ],
    [
      'parseCheckpoint',
      () => {
        const c = parseCheckpoint(str);
        return () => {
          if (utf8(str).length > 1_000_000) return 'accepted a text over 1e6 bytes';
          if (c.origin === '' || c.origin.includes('\n')) return 'bad origin';
          if (c.size < 0n || c.size > MAX_U64) return 'size out of range';
          if (c.root.length !== 32) return 'root is not 32 bytes';
          if (c.extensions.some((e) => e === '' || e.includes('\n'))) return 'bad extension';
          const again = parseCheckpoint(formatCheckpoint(c));
          if (again.origin !== c.origin || again.size !== c.size || !equalBytes(again.root, c.root) || again.extensions.join('\n') !== c.extensions.join('\n')) {
            return 'format/parse round trip differs';
          }
          // Only the root line may differ from the canonical form (non-canonical final base64 bits).
          if (formatCheckpoint(c) !== str && encodeBase64(c.root) === str.split('\n')[2]) return 'formatCheckpoint does not reproduce the text';
          return null;
        };
      },
      isCheckpointError,
    ],
    [
      'parseVkey',
      () => {
        const v = parseVkey(str);
        return () => {
          if (!isValidKeyName(v.name)) return 'invalid name accepted';
          if (formatKeyId(v.keyId) !== str.split('+')[1].toLowerCase()) return 'key ID differs from the string';
          if (parseVkey(v.vkey).vkey !== v.vkey) return 'canonical vkey does not round-trip';
          return null;
        };
      },
      isKeyError,
    ],
    [
      'parseCosignatureVkey',
      () => {
        const v = parseCosignatureVkey(str);
        return () => ((v.type === 0x04 || v.type === 0x06) && parseVkey(v.vkey).keyId === v.keyId ? null : 'not a consistent cosignature/v1 or subtree/v1 verifier');
      },
      isKeyError,
    ],
    [
      'parseSkey',
      () => {
        const k = parseSkey(str);
        return () => {
          const again = parseSkey(k.skey);
          if (again.vkey !== k.vkey || !equalBytes(again.seed, k.seed)) return 'skey does not round-trip';
          if (parseVkey(k.vkey).keyId !== k.keyId) return 'derived vkey has another key ID';
          return null;
        };
      },
      isKeyError,
    ],
    [
      'parseTreeSize',
      () => {
        const a = parseTreeSize(str);
        const b = parseTreeSize(line);
        return () => {
          for (const [s, n] of [
            [str, a],
            [line, b],
          ] as const) {
            if ((n !== null) !== isTreeSize(s)) return `parseTreeSize(${JSON.stringify(s.slice(0, 40))}) = ${n}`;
            if (n !== null && n.toString() !== s) return 'size does not round-trip';
          }
          return null;
        };
      },
      never,
    ],
    [
      'decodeBase64',
      () => {
        const a = decodeBase64(str);
        const b = decodeBase64(line);
        return () => {
          for (const [s, d] of [
            [str, a],
            [line, b],
          ] as const) {
            if ((d !== null) !== isStrictBase64(s)) return `decodeBase64(${JSON.stringify(s.slice(0, 40))}) = ${d && encodeBase64(d)}`;
            if (d !== null) {
              const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
              if (d.length !== (s.length / 4) * 3 - pad) return `decoded length ${d.length} for ${s.length} characters`;
              if (!equalBytes(decodeBase64(encodeBase64(d))!, d)) return 'base64 round trip differs';
            }
          }
          return null;
        };
      },
      never,
    ],
    [
      'parseTlogProof',
      () => {
        const p = parseTlogProof(bytes);
        return () => {
          if (p.hashes.some((h) => h.length !== 32)) return 'a proof hash is not 32 bytes';
          if (p.index < 0n || p.index >= MAX_TREE_SIZE) return `index ${p.index} out of range`;
          // Strict: exactly one text is accepted for each proof, so formatting gives the input back.
          if (!equalBytes(utf8(formatTlogProof(p)), bytes)) return 'format/parse round trip differs from the input';
          return null;
        };
      },
      (e: unknown) => e instanceof TlogProofError,
    ],
    [
      'parseSigsumProof',
      () => {
        const p = parseSigsumProof(bytes);
        return () => {
          if (p.leafIndex >= p.size) return `leaf_index ${p.leafIndex} not below size ${p.size}`;
          if (p.nodeHashes.some((h) => h.length !== 32) || p.rootHash.length !== 32 || p.signature.length !== 64) return 'a hash or signature of the wrong length';
          if (p.size === 1n && p.nodeHashes.length !== 0) return 'a one-leaf tree with node hashes';
          return null;
        };
      },
      (e: unknown) => e instanceof SigsumProofError,
    ],
  ];
}

function emptyStats(seed: number): FuzzStats {
  const targets = {} as Record<Target, TargetStats>;
  for (const t of TARGETS) targets[t] = { calls: 0, ok: 0, errors: {}, maxMs: 0 };
  return { seed, inputs: 0, calls: 0, elapsedMs: 0, maxMs: 0, maxTarget: '', slow: [], failures: [], targets };
}

function runOne(input: FuzzInput, index: number, seeds: Seeds, stats: FuzzStats, boundMs: number, maxFailures: number): void {
  stats.inputs++;
  for (const [target, fn, allowed] of plans(input, seeds)) {
    const t0 = performance.now();
    const { problem, error } = call(target, fn, allowed);
    const ms = performance.now() - t0;
    const ts = stats.targets[target];
    ts.calls++;
    stats.calls++;
    if (error === null) ts.ok++;
    else ts.errors[error] = (ts.errors[error] ?? 0) + 1;
    if (ms > ts.maxMs) ts.maxMs = ms;
    if (ms > stats.maxMs) {
      stats.maxMs = ms;
      stats.maxTarget = target;
    }
    if (ms >= boundMs && stats.slow.length < 20) {
      // Re-measure: a GC pause or a descheduled process is not a pathological parser.
      let best = ms;
      for (let i = 0; i < 3 && best >= boundMs; i++) {
        const t1 = performance.now();
        call(target, fn, allowed);
        best = Math.min(best, performance.now() - t1);
      }
      if (best >= boundMs) stats.slow.push({ target, index, ms: best, length: input.bytes.length });
    }
    if (problem !== null && stats.failures.length < maxFailures) {
      stats.failures.push({
        seed: stats.seed,
        index,
        target,
        problem,
        inputBase64: Buffer.from(input.bytes.subarray(0, 4096)).toString('base64'),
        inputLength: input.bytes.length,
      });
    }
  }
}

/** Runs the special inputs and then `count` generated inputs. Never throws for a parser bug. */
export function runFuzz(opts: FuzzOptions): FuzzStats {
  const seeds = loadSeeds();
  const boundMs = opts.boundMs ?? 50;
  const maxFailures = opts.maxFailures ?? 20;
  const stats = emptyStats(opts.seed);
  // Capturing a stack for each of the ~10^6 expected errors would dominate the run time.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    runAll(opts, seeds, stats, boundMs, maxFailures);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return stats;
}

function runAll(opts: FuzzOptions, seeds: Seeds, stats: FuzzStats, boundMs: number, maxFailures: number): void {
  const start = performance.now();
  specialInputs().forEach((input, k) => runOne(input, -1 - k, seeds, stats, boundMs, maxFailures));
  for (let i = 0; i < opts.count; i++) {
    runOne(generateInput(opts.seed, i, seeds), i, seeds, stats, boundMs, maxFailures);
    if (opts.onProgress && opts.progressEvery && (i + 1) % opts.progressEvery === 0) {
      stats.elapsedMs = performance.now() - start;
      opts.onProgress(stats);
    }
  }
  stats.elapsedMs = performance.now() - start;
}

export function formatStats(s: FuzzStats): string {
  const rate = Math.round(s.inputs / (s.elapsedMs / 1000));
  const crate = Math.round(s.calls / (s.elapsedMs / 1000));
  const lines = [
    `fuzz seed=${s.seed} (0x${(s.seed >>> 0).toString(16)}): ${s.inputs} inputs, ${s.calls} parser calls in ${(s.elapsedMs / 1000).toFixed(1)} s ` +
      `(${rate} inputs/s, ${crate} calls/s); slowest call ${s.maxMs.toFixed(1)} ms (${s.maxTarget}); ${s.failures.length} failures, ${s.slow.length} slow`,
  ];
  for (const t of TARGETS) {
    const ts = s.targets[t];
    const errs = Object.entries(ts.errors)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    lines.push(`  ${t.padEnd(21)} calls=${ts.calls} ok=${ts.ok} ${errs} max=${ts.maxMs.toFixed(1)}ms`);
  }
  return lines.join('\n');
}

export function formatFailure(f: Failure): string {
  const how = f.index < 0 ? `specialInputs()[${-1 - f.index}]` : `generateInput(${f.seed}, ${f.index})`;
  return (
    `seed=${f.seed} index=${f.index} target=${f.target} (regenerate with ${how})\n` +
    `  ${f.problem.split('\n').join('\n  ')}\n  input (${f.inputLength} bytes, base64${f.inputLength > 4096 ? ', first 4096 bytes' : ''}): ${f.inputBase64}`
  );
}
