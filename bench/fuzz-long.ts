// Long fuzz run of the parsers: node --import tsx bench/fuzz-long.ts [N] [SEED]
// N defaults to 1,000,000 inputs; SEED defaults to a random 32-bit value and is printed first, so
// a failing run can be repeated exactly. Exit status 1 on a failure or a call over the time bound.
import '../src/platform.js';
import { randomBytes } from 'node:crypto';
import { runFuzz, formatStats, formatFailure } from '../test/fuzz/fuzzer.js';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) >>> 0 : randomBytes(4).readUInt32BE(0);
if (!Number.isSafeInteger(count) || count < 0) {
  process.stderr.write('usage: node --import tsx bench/fuzz-long.ts [N] [SEED]\n');
  process.exit(2);
}

console.log(`fuzz-long: seed=${seed} N=${count}`);
const stats = runFuzz({
  seed,
  count,
  boundMs: 50,
  maxFailures: 50,
  progressEvery: 100_000,
  onProgress: (s) => {
    const rate = Math.round(s.inputs / (s.elapsedMs / 1000));
    console.log(`  ${s.inputs} inputs, ${(s.elapsedMs / 1000).toFixed(1)} s, ${rate} inputs/s, slowest ${s.maxMs.toFixed(1)} ms, ${s.failures.length} failures`);
  },
});
console.log(formatStats(stats));
if (stats.failures.length > 0 || stats.slow.length > 0) {
  for (const f of stats.failures) console.log(formatFailure(f));
  for (const s of stats.slow) console.log(`slow: ${s.target} took ${s.ms.toFixed(1)} ms on input ${s.index} (${s.length} bytes)`);
  console.log(`FAILED: seed=${seed} (rerun: node --import tsx bench/fuzz-long.ts ${count} ${seed})`);
  process.exitCode = 1;
} else {
  console.log(`OK: seed=${seed}`);
}
