// Property-based tests (fast-check) of signed notes and key strings: round trips, and what every
// single-byte mutation of a signed note must do. The openNote properties run with both crypto
// backends (node:crypto, and the portable noble backend).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  parseVkey,
  parseSkey,
  parseCosignatureVkey,
  ed25519KeyFromSeed,
  cosigner,
  isValidKeyName,
  signNote,
  parseNote,
  openNote,
  keyLabel,
  formatKeyId,
  cosignatureTimestamp,
  NoteError,
  KeyError,
  type Signer,
  type Verifier,
} from '../../src/note/index.js';
import { setCryptoBackend, cryptoBackend, type CryptoBackend } from '../../src/crypto/index.js';
import { nodeBackend } from '../../src/crypto/node.js';
import { nobleBackend } from '../../src/crypto/noble.js';

const enc = new TextEncoder();
const MAX_TIMESTAMP = (1n << 63n) - 1n;

// Go's unicode.IsSpace, listed by code point (an oracle independent of the implementation's regex).
const GO_SPACES = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
  0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
];
const GO_SPACE_SET = new Set(GO_SPACES);

function oracleValidName(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '+' || GO_SPACE_SET.has(cp)) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false; // a lone surrogate is not UTF-8
  }
  return true;
}

// A character of a key name: ASCII, Latin-1, BMP and astral, and the look-alikes of the separators.
const nameChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'z', 'Q', '0', '9', '.', '/', '-', '_', '=', ':', '\u2014', '\u00e9', '\u2603', '\u{1f600}', '\ufeff', '\u200b', '\u180e') },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
/** Valid key names (Go isValidName), possibly with ASCII control characters. */
const keyName = fc.string({ unit: nameChar, minLength: 1, maxLength: 24 }).filter(oracleValidName);
/** Valid key names that can also appear in a note (no ASCII control characters). */
const noteKeyName = keyName.filter((s) => !/[\u0000-\u001f]/.test(s));
const seed32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** A text character of a note: anything but ASCII control characters. */
const textChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', ' ', '=', '+', '\u2014', '\u2014 ', '\ufeff', '\u00e9', '\u{10ffff}', '\u{1f600}', '\u007f') },
  { weight: 7, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c >= ' ') },
);
/** Note text: 1..6 lines (possibly empty), each ending in "\n". */
const noteText = fc.array(fc.string({ unit: textChar, maxLength: 30 }), { minLength: 1, maxLength: 6 }).map((ls) => ls.map((l) => l + '\n').join(''));

interface KeySpec {
  name: string;
  seed: Uint8Array;
  /** A cosignature/v1 (0x04) signer with this timestamp instead of an Ed25519 (0x01) signer. */
  cosignAt: bigint | null;
}
const keySpec: fc.Arbitrary<KeySpec> = fc.record({
  name: noteKeyName,
  seed: seed32,
  cosignAt: fc.option(fc.bigInt(1n, MAX_TIMESTAMP), { freq: 3 }),
});
/** 1..5 keys with distinct names (so that no two share a (name, key ID)). */
const keySpecs = (min = 1, max = 5) => fc.uniqueArray(keySpec, { minLength: min, maxLength: max, selector: (k) => k.name });

interface Key {
  signer: Signer;
  verifier: Verifier;
  label: string;
}

function makeKey(k: KeySpec): Key {
  const ed = ed25519KeyFromSeed(k.name, k.seed);
  if (k.cosignAt === null) return { signer: ed, verifier: parseVkey(ed.vkey), label: keyLabel(ed.name, ed.keyId) };
  const at = k.cosignAt;
  const c = cosigner(ed, () => at);
  return { signer: c, verifier: parseVkey(c.vkey), label: keyLabel(c.name, c.keyId) };
}

const labels = (lines: readonly { name: string; keyId: number }[]) => lines.map((s) => keyLabel(s.name, s.keyId));

function noteError(f: () => unknown): NoteError | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof NoteError) return e;
    throw e;
  }
  return undefined;
}

/** Valid UTF-8 with no ASCII control character other than "\n" (signed-note's character rule). */
function wellFormedCharacters(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x20 && c !== 0x0a) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

function splice(b: Uint8Array, at: number, del: number, ins: Uint8Array = new Uint8Array()): Uint8Array {
  const out = new Uint8Array(b.length - del + ins.length);
  out.set(b.subarray(0, at), 0);
  out.set(ins, at);
  out.set(b.subarray(at + del), at + ins.length);
  return out;
}

/** [start, end) of each line (including its "\n") of b within [from, to). */
function lineRanges(b: Uint8Array, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let s = from;
  for (let i = from; i < to; i++) {
    if (b[i] === 0x0a) {
      out.push([s, i + 1]);
      s = i + 1;
    }
  }
  return out;
}

function swapRanges(b: Uint8Array, p: [number, number], q: [number, number]): Uint8Array {
  const [x, y] = p[0] < q[0] ? [p, q] : [q, p];
  const parts = [b.subarray(0, x[0]), b.subarray(y[0], y[1]), b.subarray(x[1], y[0]), b.subarray(x[0], x[1]), b.subarray(y[1])];
  const out = new Uint8Array(b.length);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

type Mutation =
  | { kind: 'replace'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'swap'; a: number; b: number };

const interestingByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0a, 0x0d, 0x00, 0x20, 0x2b, 0x3d, 0xe2, 0x80, 0x94, 0xef, 0xbb, 0xbf));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);

/**
 * Applies m inside [from, to) of b (insertions at from..to inclusive). Returns null when the
 * mutation would not change anything (a replacement by the same byte, a swap of equal lines).
 */
function applyMutation(b: Uint8Array, from: number, to: number, m: Mutation): Uint8Array | null {
  const n = to - from;
  switch (m.kind) {
    case 'replace': {
      if (n === 0) return null;
      const at = from + (m.at % n);
      if (b[at] === m.byte) return null;
      const out = b.slice();
      out[at] = m.byte;
      return out;
    }
    case 'delete':
      return n === 0 ? null : splice(b, from + (m.at % n), 1);
    case 'insert':
      return splice(b, from + (m.at % (n + 1)), 0, Uint8Array.of(m.byte));
    case 'swap': {
      const lines = lineRanges(b, from, to);
      if (lines.length < 2) return null;
      const i = m.a % lines.length;
      const j = (i + 1 + (m.b % (lines.length - 1))) % lines.length;
      const [p, q] = [lines[i], lines[j]];
      if (Buffer.compare(b.subarray(p[0], p[1]), b.subarray(q[0], q[1])) === 0) return null;
      return swapRanges(b, p, q);
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('key strings', () => {
  it('isValidKeyName agrees with Go isValidName (non-empty, no "+", no unicode.IsSpace, valid UTF-8)', () => {
    const unit = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.constantFrom('+', '\ud800', '\udfff', ...GO_SPACES.map((c) => String.fromCodePoint(c)), '\u180e', '\u200b', '\ufeff'),
    );
    fc.assert(fc.property(fc.string({ unit, maxLength: 12 }), (s) => isValidKeyName(s) === oracleValidName(s)), { numRuns: 2000 });
  });

  it('Ed25519 vkey, skey and cosignature vkey round-trip for any valid name and seed', () => {
    fc.assert(
      fc.property(keyName, seed32, (name, seed) => {
        const k = ed25519KeyFromSeed(name, seed);
        // Key ID computed independently: SHA-256(name || 0x0A || type || pub)[0:4].
        const id = (type: number) =>
          createHash('sha256')
            .update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.of(0x0a, type), Buffer.from(k.publicKey)]))
            .digest()
            .readUInt32BE(0);
        expect(k.keyId).toBe(id(0x01));
        const b64 = (type: number, key: Uint8Array) => Buffer.concat([Buffer.of(type), Buffer.from(key)]).toString('base64');
        expect(k.vkey).toBe(`${name}+${formatKeyId(id(0x01))}+${b64(0x01, k.publicKey)}`);
        expect(k.cosignatureVkey).toBe(`${name}+${formatKeyId(id(0x04))}+${b64(0x04, k.publicKey)}`);
        expect(k.skey).toBe(`PRIVATE+KEY+${name}+${formatKeyId(id(0x01))}+${b64(0x01, seed)}`);

        const v = parseVkey(k.vkey);
        expect([v.name, v.keyId, v.type, v.vkey]).toEqual([name, k.keyId, 0x01, k.vkey]);
        expect(Buffer.from(v.key).equals(Buffer.from(k.publicKey))).toBe(true);

        const s = parseSkey(k.skey);
        expect([s.name, s.keyId, s.vkey, s.cosignatureVkey, s.skey]).toEqual([name, k.keyId, k.vkey, k.cosignatureVkey, k.skey]);
        expect(Buffer.from(s.seed).equals(Buffer.from(seed))).toBe(true);

        const c = parseVkey(k.cosignatureVkey);
        expect([c.name, c.keyId, c.type]).toEqual([name, id(0x04), 0x04]);
        expect(parseCosignatureVkey(k.vkey).vkey).toBe(k.cosignatureVkey);
        expect(parseCosignatureVkey(k.cosignatureVkey).vkey).toBe(k.cosignatureVkey);
      }),
      { numRuns: 300 },
    );
  });

  it('a name with "+" or a Unicode space is refused everywhere', () => {
    const bad = fc.constantFrom('+', ...GO_SPACES.map((c) => String.fromCodePoint(c)));
    fc.assert(
      fc.property(keyName, bad, fc.nat(), seed32, (name, ch, at, seed) => {
        const i = at % (name.length + 1);
        const badName = name.slice(0, i) + ch + name.slice(i);
        expect(() => ed25519KeyFromSeed(badName, seed)).toThrow(KeyError);
        const good = ed25519KeyFromSeed(name, seed);
        // Only the name is bad: the key ID and the base64 (which may contain '+') are the good key's.
        const [id, b64] = good.vkey.slice(name.length + 1).split(/\+(.*)/s);
        const skeyB64 = good.skey.slice(`PRIVATE+KEY+${name}+${id}+`.length);
        expect(parseVkey(`${name}+${id}+${b64}`).name).toBe(name);
        expect(() => parseVkey(`${badName}+${id}+${b64}`)).toThrow(KeyError);
        expect(() => parseSkey(`PRIVATE+KEY+${name}+${id}+${skeyB64}`)).not.toThrow();
        expect(() => parseSkey(`PRIVATE+KEY+${badName}+${id}+${skeyB64}`)).toThrow(KeyError);
      }),
      { numRuns: 200 },
    );
  });

  it('a vkey whose key ID, type byte or key material is changed is refused', () => {
    fc.assert(
      fc.property(keyName, seed32, fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: 0xffffffff }), (name, seed, bit, delta) => {
        const k = ed25519KeyFromSeed(name, seed);
        const [idHex, b64] = k.vkey.slice(name.length + 1).split(/\+(.*)/s);
        const otherId = formatKeyId((parseInt(idHex, 16) + delta) >>> 0);
        expect(() => parseVkey(`${name}+${otherId}+${b64}`)).toThrow(KeyError);
        const raw = Buffer.from(b64, 'base64');
        raw[1 + (bit % 32)] ^= 1 << bit % 8; // a different public key: the key ID no longer matches
        expect(() => parseVkey(`${name}+${idHex}+${raw.toString('base64')}`)).toThrow(KeyError);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

const backends: [string, CryptoBackend, number][] = [
  ['node', nodeBackend, 100],
  ['noble', nobleBackend, 25],
];

describe.each(backends)('signed notes with the %s crypto backend', (name, backend, numRuns) => {
  beforeAll(() => setCryptoBackend(backend));
  afterAll(() => setCryptoBackend(nodeBackend));

  it('uses that backend', () => {
    expect(cryptoBackend().name).toBe(name);
  });

  it('signNote -> parseNote/openNote round-trips the text and the signature lists', () => {
    fc.assert(
      fc.property(noteText, keySpecs(), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (text, specs, trustMask) => {
        const keys = specs.map(makeKey);
        const signed = signNote(text, keys.map((k) => k.signer));
        expect(signed.startsWith(text + '\n')).toBe(true);

        const parsed = parseNote(signed);
        expect(parsed.text).toBe(text);
        expect(Buffer.from(parsed.textBytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect(labels(parsed.signatures)).toEqual(keys.map((k) => k.label));

        const all = openNote(signed, keys.map((k) => k.verifier));
        expect(all.text).toBe(text);
        expect(labels(all.verified)).toEqual(keys.map((k) => k.label));
        expect(all.unverified).toEqual([]);
        for (const [i, s] of all.verified.entries()) {
          if (specs[i].cosignAt !== null) expect(cosignatureTimestamp(s.sig)).toBe(specs[i].cosignAt);
        }

        // Trusting a subset: exactly those verify, the others are reported as unverified, in order.
        const trusted = keys.filter((_, i) => trustMask[i]);
        if (trusted.length === 0) {
          expect(noteError(() => openNote(signed, []))?.code).toBe('unverified');
        } else {
          const some = openNote(signed, trusted.map((k) => k.verifier));
          expect(labels(some.verified)).toEqual(trusted.map((k) => k.label));
          expect(labels(some.unverified)).toEqual(keys.filter((_, i) => !trustMask[i]).map((k) => k.label));
        }
      }),
      { numRuns },
    );
  });

  it('signing a signed note again appends, giving the same note as signing once with all keys', () => {
    fc.assert(
      fc.property(noteText, keySpecs(2, 5), (text, specs) => {
        const keys = specs.map(makeKey);
        const first = signNote(text, [keys[0].signer]);
        let note = first;
        for (const k of keys.slice(1)) {
          const parsed = parseNote(note);
          note = signNote(parsed.text, [k.signer], parsed.signatures);
        }
        expect(note).toBe(signNote(text, keys.map((k) => k.signer)));
        expect(note.startsWith(first)).toBe(true);
        expect(labels(openNote(note, keys.map((k) => k.verifier)).verified)).toEqual(keys.map((k) => k.label));
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('any single-byte change, deleted or inserted byte, or swap of two different lines in the text makes openNote throw', () => {
    fc.assert(
      fc.property(noteText, keySpecs(1, 3), fc.nat(), mutation, (text, specs, logIndex, m) => {
        const keys = specs.map(makeKey);
        const log = keys[logIndex % keys.length];
        const signed = enc.encode(signNote(text, keys.map((k) => k.signer)));
        const textLen = enc.encode(text).length;
        const mutated = applyMutation(signed, 0, textLen, m);
        fc.pre(mutated !== null);
        const err = noteError(() => openNote(mutated, [log.verifier]));
        expect(err, 'a note with a changed text opened').toBeDefined();
        // The signature lines are untouched, so the log's line is still found and checked: the
        // note is either malformed or the log's signature fails. It is never "unverified".
        expect(['malformed', 'invalid-signature']).toContain(err!.code);
        if (err!.code === 'invalid-signature') expect(err!.message).toBe(`invalid signature for key ${log.label}`);
        if (!wellFormedCharacters(mutated)) expect(err!.code).toBe('malformed');
      }),
      { numRuns: numRuns * 3 },
    );
  });

  it('a mutation in the signature block throws, or opens the unchanged text with only original signatures', () => {
    fc.assert(
      fc.property(noteText, keySpecs(1, 4), mutation, (text, specs, m) => {
        const keys = specs.map(makeKey);
        const signedStr = signNote(text, keys.map((k) => k.signer));
        const signed = enc.encode(signedStr);
        const textLen = enc.encode(text).length;
        // The block starts at the blank line's "\n" (index textLen).
        const mutated = applyMutation(signed, textLen, signed.length, m);
        fc.pre(mutated !== null);
        let opened;
        try {
          opened = openNote(mutated, keys.map((k) => k.verifier));
        } catch (e) {
          expect(e).toBeInstanceOf(NoteError);
          return;
        }
        // It opened: the mutated line must have become an unknown key (or decode to the same bytes).
        expect(opened.text).toBe(text);
        expect(Buffer.from(opened.textBytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
        const original = new Map(parseNote(signed).signatures.map((s) => [keyLabel(s.name, s.keyId), Buffer.from(s.sig)]));
        for (const s of opened.verified) {
          const label = keyLabel(s.name, s.keyId);
          expect(original.has(label), `verified ${label}, which did not sign`).toBe(true);
          expect(Buffer.from(s.sig).equals(original.get(label)!), `a new valid signature for ${label}`).toBe(true);
        }
        // One mutation touches at most one line (a swap reorders two, keeping both).
        expect(opened.verified.length).toBeGreaterThanOrEqual(keys.length - 1);
        expect(opened.verified.length + opened.unverified.length).toBeLessThanOrEqual(keys.length);
      }),
      { numRuns: numRuns * 3 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('byte order marks (regression: a default TextDecoder drops a leading U+FEFF)', () => {
  const k = ed25519KeyFromSeed('example.com/foo', new Uint8Array(32).fill(7));
  const v = parseVkey(k.vkey);

  it('a signature line whose name starts with U+FEFF is another key (unknown), as in Go', () => {
    const signed = signNote('text\n', [k]);
    const bomLine = signed.replace('\u2014 example.com/foo ', '\u2014 \ufeffexample.com/foo ');
    const parsed = parseNote(bomLine);
    expect(parsed.signatures[0].name).toBe('\ufeffexample.com/foo');
    expect(noteError(() => openNote(bomLine, [v]))?.code).toBe('unverified');
    // Next to the real line: the real one verifies, the BOM line is unverified (not a duplicate).
    const both = signed + bomLine.slice('text\n\n'.length);
    const opened = openNote(both, [v]);
    expect(labels(opened.verified)).toEqual([keyLabel('example.com/foo', k.keyId)]);
    expect(opened.unverified.map((s) => s.name)).toEqual(['\ufeffexample.com/foo']);
  });

  it('a text starting with U+FEFF keeps it, so re-signing keeps the old signatures valid', () => {
    const k2 = ed25519KeyFromSeed('other', new Uint8Array(32).fill(9));
    const signed = signNote('\ufefforigin\n', [k]);
    const parsed = parseNote(signed);
    expect(parsed.text).toBe('\ufefforigin\n');
    expect(openNote(signed, [v]).text).toBe('\ufefforigin\n');
    const again = signNote(parsed.text, [k2], parsed.signatures);
    expect(labels(openNote(again, [v, parseVkey(k2.vkey)]).verified)).toHaveLength(2);
  });
});
