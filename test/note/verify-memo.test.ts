// VerifyMemo (src/note/verify-memo.ts): a repeat of a passed check is answered from memory, and
// nothing else is: another key (even one with the same name and key ID), another text, another
// signature, or a check that failed.
import { describe, expect, it } from 'vitest';
import { ed25519KeyFromSeed, parseVkey, type Verifier } from '../../src/note/keys.js';
import { VerifyMemo } from '../../src/note/verify-memo.js';
import { BoundedSet } from '../../src/util/bounded-set.js';
import { utf8 } from '../../src/util/bytes.js';

function counted(v: Verifier): Verifier & { calls: number } {
  const c = { ...v, calls: 0, verify: (t: Uint8Array, s: Uint8Array) => (c.calls++, v.verify(t, s)) };
  return c;
}

const keyA = ed25519KeyFromSeed('example.com/log', new Uint8Array(32).fill(1));
const keyB = ed25519KeyFromSeed('example.com/log', new Uint8Array(32).fill(2));
const text = utf8('example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');

describe('VerifyMemo', () => {
  it('verifies a (key, text, signature) once, and answers repeats from memory', () => {
    const memo = new VerifyMemo();
    const raw = counted(parseVkey(keyA.vkey));
    const v = memo.wrap(raw);
    const sig = keyA.sign(text);
    expect(v.verify(text, sig)).toBe(true);
    expect(v.verify(text, sig)).toBe(true);
    expect(v.verify(Uint8Array.from(text), Uint8Array.from(sig))).toBe(true); // equal bytes, other arrays
    expect(raw.calls).toBe(1);
    expect(memo.hits).toBe(2);
    expect(memo.wrap(v)).toBe(v); // wrapping twice adds nothing
  });

  it('never answers another text, signature or key from memory, and never remembers a failure', () => {
    const memo = new VerifyMemo();
    const rawA = counted(parseVkey(keyA.vkey));
    const a = memo.wrap(rawA);
    const sig = keyA.sign(text);
    expect(a.verify(text, sig)).toBe(true);
    const other = utf8('example.com/log\n6\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');
    expect(a.verify(other, sig)).toBe(false);
    const bad = Uint8Array.from(sig);
    bad[0] ^= 1;
    expect(a.verify(text, bad)).toBe(false);
    expect(a.verify(text, bad)).toBe(false);
    expect(rawA.calls).toBe(4);
    // Another key under the same name and (forced) key ID: the earlier pass is not its pass.
    const rawB = counted({ ...parseVkey(keyB.vkey), keyId: rawA.keyId, name: rawA.name });
    const b = memo.wrap(rawB);
    expect(b.verify(text, sig)).toBe(false);
    expect(rawB.calls).toBe(1);
    expect(memo.hits).toBe(0);
  });

  it('is per memo: another node verifies for itself', () => {
    const m1 = new VerifyMemo();
    const m2 = new VerifyMemo();
    const raw = counted(parseVkey(keyA.vkey));
    const sig = keyA.sign(text);
    expect(m1.wrap(raw).verify(text, sig)).toBe(true);
    expect(m2.wrap(raw).verify(text, sig)).toBe(true);
    expect(raw.calls).toBe(2);
  });

  it('forgets the oldest entries beyond its bound', () => {
    const memo = new VerifyMemo(8);
    const raw = counted(parseVkey(keyA.vkey));
    const v = memo.wrap(raw);
    const texts = Array.from({ length: 9 }, (_, i) => utf8(`example.com/log\n${i}\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`));
    const sigs = texts.map((t) => keyA.sign(t));
    texts.forEach((t, i) => expect(v.verify(t, sigs[i])).toBe(true));
    expect(raw.calls).toBe(9);
    expect(v.verify(texts[8], sigs[8])).toBe(true); // kept
    expect(raw.calls).toBe(9);
    expect(v.verify(texts[0], sigs[0])).toBe(true); // forgotten: verified again
    expect(raw.calls).toBe(10);
  });
});

describe('BoundedSet', () => {
  it('drops the oldest quarter when full', () => {
    const s = new BoundedSet<number>(8);
    for (let i = 0; i < 9; i++) s.add(i);
    expect(s.size).toBe(7);
    expect([0, 1].map((i) => s.has(i))).toEqual([false, false]);
    expect([2, 8].map((i) => s.has(i))).toEqual([true, true]);
    expect(() => new BoundedSet(0)).toThrow(RangeError);
  });
});
