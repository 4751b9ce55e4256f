// decodeBase64 / encodeBase64 take Node's native base64 when there is one; the portable loops are
// what browsers run. Both must give the same answer for every input: the strict rules (RFC 4648
// §4 alphabet, padding required, Go's tolerance of non-zero trailing bits) hold on either path.
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Portable, encodeBase64, encodeBase64Portable } from '../../src/util/bytes.js';

/** xorshift32: reproducible inputs. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('base64: the native fast path and the portable code agree', () => {
  it('encodes every length 0..100 and an ML-DSA-44 line (2432 bytes) identically, and decodes back', () => {
    const r = rng(1);
    for (const n of [...Array.from({ length: 101 }, (_, i) => i), 76, 2432]) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
      const s = encodeBase64(b);
      expect(s).toBe(encodeBase64Portable(b));
      expect(decodeBase64(s)).toEqual(b);
      expect(decodeBase64Portable(s)).toEqual(b);
    }
    // A view into a larger buffer encodes only its own bytes.
    const big = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(encodeBase64(big.subarray(5, 11))).toBe(encodeBase64Portable(big.subarray(5, 11)));
  });

  it('refuses what Node alone would take, and takes non-zero trailing bits as Go does', () => {
    const cases: [string, number[] | null][] = [
      ['', []],
      ['QQ==', [0x41]],
      ['QR==', [0x41]], // non-zero trailing bits: Go's StdEncoding accepts them
      ['QUI=', [0x41, 0x42]],
      ['QUJ=', [0x41, 0x42]],
      ['QQ', null], // missing padding (Node takes it)
      ['Q Q==', null], // whitespace (Node skips it)
      ['QQ=\n', null],
      ['-_-_', null], // URL-safe alphabet (Node takes it)
      ['QQ==QQ==', null], // padding in the middle
      ['Q===', null],
      ['QUJD\u00e9AAA', null],
      ['QUJD!AAA', null],
    ];
    for (const [s, want] of cases) {
      const got = decodeBase64(s);
      expect(got === null ? null : [...got], JSON.stringify(s)).toEqual(want);
      expect(decodeBase64Portable(s) === null ? null : [...decodeBase64Portable(s)!]).toEqual(want);
    }
  });

  it('agrees on 20,000 mutated strings (a character replaced, inserted or removed)', () => {
    const r = rng(7);
    const pool = 'ABCXYZabcxyz0189+/=-_ \n.\u00e9';
    for (let i = 0; i < 20_000; i++) {
      const b = Uint8Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 256));
      const chars = [...encodeBase64(b)];
      const at = Math.floor(r() * (chars.length + 1));
      const c = pool[Math.floor(r() * pool.length)]!;
      const op = Math.floor(r() * 3);
      if (op === 0 && at < chars.length) chars[at] = c;
      else if (op === 1) chars.splice(at, 0, c);
      else chars.splice(at, 1);
      const s = chars.join('');
      const fast = decodeBase64(s);
      const slow = decodeBase64Portable(s);
      if ((fast === null) !== (slow === null) || (fast && slow && encodeBase64(fast) !== encodeBase64(slow))) {
        throw new Error(`disagree on ${JSON.stringify(s)}: ${fast && [...fast]} vs ${slow && [...slow]}`);
      }
    }
  });

  it('returns a plain Uint8Array (not a Buffer) of its own memory', () => {
    const d = decodeBase64('QUJD')!;
    expect(Object.getPrototypeOf(d)).toBe(Uint8Array.prototype);
    expect([d.byteOffset, d.buffer.byteLength]).toEqual([0, 3]);
  });
});
