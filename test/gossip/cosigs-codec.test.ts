// The COSIGS frame of exchange 2.3.0 (docs/gossip.md, "Wire format version 2"): each entry's
// timestamp travels as a zigzag varint difference from the frame's first one.
import { describe, expect, it } from 'vitest';
import { decodeCosigs, encodeCosigs, encodeCosigsSplit, FRAME, FrameError, FrameReader, MIN_SIG_BYTES, REF_BYTES, type CosigEntry } from '../../src/gossip/exchange.js';
import { u64be } from '../../src/util/bytes.js';

const REF = new Uint8Array(REF_BYTES).fill(0xab);
const entry = (index: number, ts: bigint, len = 64, fill = index + 1): CosigEntry => {
  const sig = new Uint8Array(8 + len).fill(fill);
  sig.set(u64be(ts), 0);
  return { index, sig };
};
/** The payload of the one frame encodeCosigs wrote. */
const payloadOf = (frame: Uint8Array) => {
  const frames = new FrameReader().push(frame);
  expect(frames).toHaveLength(1);
  expect(frames[0].type).toBe(FRAME.cosigs);
  return frames[0].payload;
};
const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('COSIGS (exchange 2.3.0)', () => {
  it('round-trips every timestamp a u64 can hold, mixed in one frame, and both signature sizes', () => {
    const now = 1_765_000_000n;
    const items = [
      entry(0, now),
      entry(1, now + 1n),
      entry(2, now - 3n),
      entry(3, 0n), // MTC subtree cosignatures carry timestamp 0
      entry(4, (1n << 63n) - 1n),
      entry(5, (1n << 64n) - 1n), // not a valid cosignature timestamp, but the codec carries it for the verifier to refuse
      entry(6, now, 2420), // ML-DSA-44 subtree/v1
    ];
    const back = decodeCosigs(payloadOf(encodeCosigs(REF, items)));
    expect(Buffer.from(back.ref).equals(Buffer.from(REF))).toBe(true);
    expect(back.items.map((c) => c.index)).toEqual(items.map((c) => c.index));
    for (let i = 0; i < items.length; i++) expect(Buffer.from(back.items[i].sig).equals(Buffer.from(items[i].sig))).toBe(true);
  });

  it('costs 67 bytes per Ed25519 entry made within a minute of the first (75 with the timestamp in full, as 2.2.0 sent it)', () => {
    const now = 1_765_000_000n;
    const twenty = Array.from({ length: 20 }, (_, i) => entry(i, now + BigInt((i * 7) % 60) - 30n));
    const one = payloadOf(encodeCosigs(REF, twenty.slice(0, 1))).length;
    const all = payloadOf(encodeCosigs(REF, twenty)).length;
    // index (1) + difference (1) + length (1) + 64 signature bytes
    expect((all - one) / 19).toBe(67);
  });

  it('an empty frame has no base timestamp', () => {
    expect(decodeCosigs(payloadOf(encodeCosigs(REF, []))).items).toEqual([]);
    expect(() => decodeCosigs(bytes(REF, [0], new Uint8Array(8)))).toThrow(/trailing/);
  });

  it('the encoder refuses an entry without a timestamp and a full signature', () => {
    expect(() => encodeCosigs(REF, [{ index: 0, sig: new Uint8Array(MIN_SIG_BYTES - 1) }])).toThrow(RangeError);
  });

  it('refuses hostile frames: timestamps outside a u64, an overlong varint, short entries, a key twice, truncation, trailing bytes', () => {
    const sig = new Uint8Array(64).fill(7);
    const ok = bytes(REF, [1], u64be(5n), [0, 0, 64], sig);
    expect(decodeCosigs(ok).items).toHaveLength(1);
    const bad: [string, Uint8Array][] = [
      ['below 0', bytes(REF, [1], u64be(5n), [0, 13 /* zigzag -7 */, 64], sig)],
      ['above 2^64-1', bytes(REF, [2], u64be((1n << 64n) - 1n), [0, 0, 64], sig, [1, 2 /* +1 */, 64], sig)],
      ['an 11-byte varint', bytes(REF, [1], u64be(5n), [0], new Array(10).fill(0x80), [0], [64], sig)],
      ['a 63-byte signature', bytes(REF, [1], u64be(5n), [0, 0, 63], sig.subarray(0, 63))],
      ['a key twice', bytes(REF, [2], u64be(5n), [0, 0, 64], sig, [0, 0, 64], sig)],
      ['no base timestamp', bytes(REF, [1], [0, 0, 0])],
      ['a truncated signature', bytes(REF, [1], u64be(5n), [0, 0, 64], sig.subarray(0, 40))],
      ['trailing bytes', bytes(ok, [0])],
    ];
    for (const [what, payload] of bad) expect(() => decodeCosigs(payload), what).toThrow(FrameError);
  });
});

describe('encodeCosigsSplit', () => {
  it('leaves out an entry no cosignature type has (the tick must not throw, and a receiver would refuse the frame)', () => {
    const frames = encodeCosigsSplit(REF, [entry(0, 5n), { index: 1, sig: new Uint8Array(10) }, entry(2, 6n)]);
    expect(frames).toHaveLength(1);
    expect(decodeCosigs(payloadOf(frames[0])).items.map((c) => c.index)).toEqual([0, 2]);
  });
});
