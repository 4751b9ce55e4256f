// A bounded, deterministic fuzz run of the format parsers (the long run is bench/fuzz-long.ts).
// Over 100,000 inputs, each given to parseNote, openNote (two verifier sets, bytes and string
// input), parseCheckpoint, parseVkey, parseCosignatureVkey, parseSkey, parseTreeSize,
// decodeBase64, parseTlogProof (TlogProofError only; an accepted proof formats back to its input)
// and parseSigsumProof (SigsumProofError only). A parser may only fail with its documented error class (NoteError, KeyError,
// CheckpointError; decodeBase64 and parseTreeSize never throw), must keep its output invariants,
// and must not hang: a call taking 2 s or more (re-measured before it counts) is a failure. This is
// a hang detector, not a speed target (those live in bench/): the bound is far above any real
// parse so that a loaded CI machine cannot make it flaky.
import { describe, expect, it } from 'vitest';
import { runFuzz, formatStats, formatFailure, generateInput, TARGETS, type FuzzStats } from './fuzzer.js';

const SEED = 0x5eed_2026;
const COUNT = 100_000;
const BOUND_MS = 2000;

describe('parser fuzzing', () => {
  let stats: FuzzStats;

  it(`${COUNT} mutated and random inputs: only documented errors, invariants hold, no call >= ${BOUND_MS} ms`, () => {
    stats = runFuzz({ seed: SEED, count: COUNT, boundMs: BOUND_MS });
    console.log(formatStats(stats));
    expect(stats.failures.map(formatFailure)).toEqual([]);
    expect(stats.slow).toEqual([]);
    expect(stats.inputs).toBeGreaterThanOrEqual(COUNT);
    expect(stats.calls).toBeGreaterThanOrEqual(COUNT * TARGETS.length);
  }, 180_000);

  it('reached every outcome of the parsers (the inputs are not all rejected early)', () => {
    expect(stats, 'the fuzz run did not complete').toBeDefined();
    const t = stats.targets;
    for (const target of ['parseNote', 'openNote', 'parseCheckpoint', 'parseVkey', 'parseCosignatureVkey', 'parseSkey', 'parseTlogProof', 'parseSigsumProof'] as const) {
      expect(t[target].ok, `${target} accepted nothing`).toBeGreaterThan(0);
      expect(t[target].calls - t[target].ok, `${target} rejected nothing`).toBeGreaterThan(0);
    }
    for (const code of ['malformed', 'invalid-signature', 'unverified']) expect(t.openNote.errors[`NoteError:${code}`] ?? 0, code).toBeGreaterThan(0);
    expect(t['openNote(string)'].errors['NoteError:ambiguous-key'] ?? 0).toBeGreaterThan(0);
  });

  it('inputs are a pure function of (seed, index)', () => {
    for (const i of [0, 1, 777, 99_999]) {
      const a = generateInput(SEED, i);
      const b = generateInput(SEED, i);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      expect(a.str).toBe(b.str);
    }
    expect(Buffer.from(generateInput(SEED, 1).bytes).equals(Buffer.from(generateInput(SEED + 1, 1).bytes))).toBe(false);
  });
});
