// Property-based tests (fast-check) of checkpoints: format/parse round trips, strict tree sizes,
// and that no changed checkpoint text verifies under the log's (or a witness's) signature.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parseCheckpoint,
  formatCheckpoint,
  parseTreeSize,
  openCheckpoint,
  CheckpointError,
  MAX_TREE_SIZE,
  type Checkpoint,
} from '../../src/checkpoint/index.js';
import { ed25519KeyFromSeed, cosigner, parseVkey, signNote, openNote, NoteError, keyLabel } from '../../src/note/index.js';

const enc = new TextEncoder();

/** Any character but "\n" (spaces, non-ASCII, astral, ASCII control characters). */
const lineChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(' ', '-', '/', '.', 'a', '0', '\u00e9', '\u2014', '\u3000', '\u{1f600}', '\ufeff', '\r', '\t') },
  { weight: 7, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c !== '\n') },
);
/** A character allowed in a signed note's text (no ASCII control characters). */
const noteChar = lineChar.filter((c) => c >= ' ');

const line = (ch: fc.Arbitrary<string>) => fc.string({ unit: ch, minLength: 1, maxLength: 40 });
const root = fc.uint8Array({ minLength: 32, maxLength: 32 });
const size = fc.oneof(fc.bigInt(0n, MAX_TREE_SIZE), fc.constantFrom(0n, 1n, 9007199254740993n, MAX_TREE_SIZE));

interface CheckpointFields {
  origin: string;
  size: bigint;
  root: Uint8Array;
  extensions: string[];
}
const checkpoint = (ch: fc.Arbitrary<string>): fc.Arbitrary<CheckpointFields> =>
  fc.record({ origin: line(ch), size, root, extensions: fc.array(line(ch), { maxLength: 3 }) });

function expectSame(c: Checkpoint, want: CheckpointFields): void {
  expect(c.origin).toBe(want.origin);
  expect(c.size).toBe(want.size);
  expect(Buffer.from(c.root).equals(Buffer.from(want.root))).toBe(true);
  expect(c.extensions).toEqual(want.extensions);
}

describe('checkpoint text', () => {
  it('formatCheckpoint -> parseCheckpoint gives back the same checkpoint and text', () => {
    fc.assert(
      fc.property(checkpoint(lineChar), (c) => {
        const text = formatCheckpoint(c);
        const lines = text.split('\n');
        expect(lines).toHaveLength(4 + c.extensions.length); // 3 + extensions lines, then "" after the final "\n"
        expect(lines[1]).toBe(c.size.toString());
        expect(lines[2]).toBe(Buffer.from(c.root).toString('base64'));
        const parsed = parseCheckpoint(text);
        expectSame(parsed, c);
        expect(parsed.text).toBe(text);
        expect(formatCheckpoint(parsed)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('parseTreeSize accepts exactly the canonical decimals 0..2^63-1', () => {
    const digits = fc.string({ unit: fc.constantFrom('0', '1', '5', '9'), minLength: 0, maxLength: 21 });
    const near = fc.oneof(digits, fc.bigInt(0n, MAX_TREE_SIZE * 3n).map(String), fc.bigInt(-5n, 5n).map(String));
    const decorated = fc.tuple(near, fc.constantFrom('', '+', '-', ' ', '0', '0x', '\n', '\u0661')).map(([s, p]) => (p === '\n' ? s + p : p + s));
    fc.assert(
      fc.property(fc.oneof(near, decorated), (s) => {
        const canonical = /^[0-9]+$/.test(s) && BigInt(s).toString() === s && BigInt(s) <= MAX_TREE_SIZE;
        const n = parseTreeSize(s);
        expect(n !== null).toBe(canonical);
        if (n !== null) expect(n.toString()).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('an empty line anywhere, a bad size or a root that is not 32 bytes is refused', () => {
    fc.assert(
      fc.property(checkpoint(lineChar), fc.nat(), fc.integer({ min: 0, max: 64 }), (c, at, rootLen) => {
        const lines = formatCheckpoint(c).slice(0, -1).split('\n');
        const i = at % lines.length;
        const empty = [...lines.slice(0, i), '', ...lines.slice(i + 1)];
        expect(() => parseCheckpoint(empty.join('\n') + '\n')).toThrow(CheckpointError);
        const inserted = [...lines.slice(0, i + 1), '', ...lines.slice(i + 1)];
        expect(() => parseCheckpoint(inserted.join('\n') + '\n')).toThrow(CheckpointError);
        const leadingZero = [lines[0], '0' + lines[1], ...lines.slice(2)];
        expect(() => parseCheckpoint(leadingZero.join('\n') + '\n')).toThrow(CheckpointError);
        fc.pre(rootLen !== 32);
        const badRoot = [lines[0], lines[1], Buffer.alloc(rootLen, 1).toString('base64'), ...lines.slice(3)];
        expect(() => parseCheckpoint(badRoot.join('\n') + '\n')).toThrow(CheckpointError);
        expect(() => parseCheckpoint(lines.join('\n'))).toThrow(CheckpointError); // no final newline
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkpoint text size limit (1e6 bytes, as Go ParseTree and torchwood)', () => {
  const tail = `\n1\n${Buffer.alloc(32).toString('base64')}\n`;
  it('counts UTF-8 bytes, not UTF-16 code units (regression: 400,000 "\u20ac" were accepted)', () => {
    const euro = '\u20ac'.repeat(400_000) + tail; // 400,050 code units, 1,200,050 bytes
    expect(euro.length).toBeLessThan(1_000_000);
    expect(() => parseCheckpoint(euro)).toThrow(/too large/);
    const astral = '\u{1f600}'.repeat(250_001) + tail; // 4 bytes per 2 code units
    expect(() => parseCheckpoint(astral)).toThrow(/too large/);
  });
  it('accepts exactly 1,000,000 bytes and refuses 1,000,001', () => {
    const exact = (n: number, ch: string, w: number) => ch.repeat((n - tail.length - ((n - tail.length) % w)) / w) + 'o'.repeat((n - tail.length) % w) + tail;
    for (const [ch, w] of [['o', 1], ['\u00e9', 2], ['\u20ac', 3], ['\u{1f600}', 4]] as const) {
      expect(Buffer.byteLength(exact(1_000_000, ch, w))).toBe(1_000_000);
      expect(parseCheckpoint(exact(1_000_000, ch, w)).size).toBe(1n);
      expect(() => parseCheckpoint(exact(1_000_001, ch, w)), ch).toThrow(/too large/);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const LOG = ed25519KeyFromSeed('example.com/log', new Uint8Array(32).fill(1));
const LOG_V = parseVkey(LOG.vkey);
const WITNESS = ed25519KeyFromSeed('witness.example/w1', new Uint8Array(32).fill(2));
const WITNESS_V = parseVkey(WITNESS.cosignatureVkey);

type CheckpointMutation =
  | { kind: 'size'; delta: bigint }
  | { kind: 'root'; bit: number }
  | { kind: 'origin'; text: string; at: number }
  | { kind: 'add-extension'; text: string; at: number }
  | { kind: 'drop-extension'; at: number }
  | { kind: 'byte'; at: number; byte: number; op: 'replace' | 'insert' | 'delete' };

const checkpointMutation: fc.Arbitrary<CheckpointMutation> = fc.oneof(
  fc.record({ kind: fc.constant('size' as const), delta: fc.oneof(fc.bigInt(-3n, 3n), fc.bigInt(-MAX_TREE_SIZE, MAX_TREE_SIZE)) }),
  fc.record({ kind: fc.constant('root' as const), bit: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('origin' as const), text: line(noteChar), at: fc.nat() }),
  fc.record({ kind: fc.constant('add-extension' as const), text: line(noteChar), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop-extension' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('replace' as const, 'insert' as const, 'delete' as const) }),
);

/** The mutated text as bytes, and whether it was built to still be a valid checkpoint. */
function mutateCheckpoint(c: CheckpointFields, text: string, m: CheckpointMutation): { bytes: Uint8Array; parses: boolean } | null {
  const fields = { ...c, extensions: [...c.extensions] };
  switch (m.kind) {
    case 'size': {
      const s = c.size + m.delta;
      if (m.delta === 0n || s < 0n || s > MAX_TREE_SIZE) return null;
      fields.size = s;
      break;
    }
    case 'root': {
      const r = Uint8Array.from(c.root);
      r[m.bit >> 3] ^= 1 << (m.bit & 7);
      fields.root = r;
      break;
    }
    case 'origin': {
      const i = m.at % (c.origin.length + 1);
      fields.origin = c.origin.slice(0, i) + m.text + c.origin.slice(i);
      break;
    }
    case 'add-extension':
      fields.extensions.splice(m.at % (c.extensions.length + 1), 0, m.text);
      break;
    case 'drop-extension':
      if (c.extensions.length === 0) return null;
      fields.extensions.splice(m.at % c.extensions.length, 1);
      break;
    case 'byte': {
      const b = enc.encode(text);
      const at = m.at % b.length;
      let out: Uint8Array;
      if (m.op === 'replace') {
        if (b[at] === m.byte) return null;
        out = b.slice();
        out[at] = m.byte;
      } else if (m.op === 'insert') {
        out = new Uint8Array([...b.subarray(0, at), m.byte, ...b.subarray(at)]);
      } else {
        out = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1)]);
      }
      return { bytes: out, parses: false };
    }
  }
  return { bytes: enc.encode(formatCheckpoint(fields)), parses: true };
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('signed checkpoints', () => {
  it('a log-signed and cosigned checkpoint opens to the same checkpoint', () => {
    fc.assert(
      fc.property(checkpoint(noteChar), fc.bigInt(1n, MAX_TREE_SIZE), (c, t) => {
        const text = formatCheckpoint(c);
        const note = signNote(text, [LOG, cosigner(WITNESS, () => t)]);
        const opened = openCheckpoint(note, [LOG_V]);
        expectSame(opened.checkpoint, c);
        expect(opened.noteText).toBe(note);
        expect(opened.note.unverified.map((s) => keyLabel(s.name, s.keyId))).toEqual([keyLabel(WITNESS_V.name, WITNESS_V.keyId)]);
        expect(openNote(note, [WITNESS_V]).verified).toHaveLength(1);
        // Opened from bytes as well.
        expectSame(openCheckpoint(enc.encode(note), [LOG_V, WITNESS_V]).checkpoint, c);
      }),
      { numRuns: 150 },
    );
  });

  it('a changed checkpoint text never verifies, whether or not it still parses as a checkpoint', () => {
    let stillParsed = 0;
    fc.assert(
      fc.property(checkpoint(noteChar), fc.bigInt(1n, MAX_TREE_SIZE), checkpointMutation, (c, t, m) => {
        const text = formatCheckpoint(c);
        const note = signNote(text, [LOG, cosigner(WITNESS, () => t)]);
        const mutated = mutateCheckpoint(c, text, m);
        fc.pre(mutated !== null && Buffer.compare(Buffer.from(mutated.bytes), Buffer.from(text, 'utf8')) !== 0);
        let parsed: Checkpoint | null = null;
        try {
          parsed = parseCheckpoint(new TextDecoder('utf-8', { ignoreBOM: true }).decode(mutated!.bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
        if (mutated!.parses) expect(parsed, 'the generator built an invalid checkpoint').not.toBeNull();
        if (parsed) stillParsed++;
        // The original signature block under the changed text.
        const forged = concatBytes(mutated!.bytes, enc.encode(note.slice(text.length)));
        // Note verification comes first, so the failure is always a NoteError (never a parse error).
        expect(() => openCheckpoint(forged, [LOG_V])).toThrow(NoteError);
        expect(() => openCheckpoint(forged, [LOG_V, WITNESS_V])).toThrow(NoteError);
        expect(() => openNote(forged, [WITNESS_V])).toThrow(NoteError);
      }),
      { numRuns: 400 },
    );
    // Most mutations keep a valid checkpoint: the property is not vacuous.
    expect(stillParsed).toBeGreaterThan(100);
  });
});
