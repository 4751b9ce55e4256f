// Crash safety of the whole witness process: SIGKILL `gossip-witness serve` (LevelDB storage)
// during a concurrent, adversarial add-checkpoint load, restart it on the same config and data,
// and check after every restart that no cosignature given was lost or contradicted, and that no
// two cosignatures for one origin are for inconsistent trees (a forking log races two or more
// branches from the same old size). The driver is ./crash-driver.ts; bench/crash.bench.ts runs
// the same scenario with 1,000 restarts. A second, shorter run gives the witness an ML-DSA-44 key too.
//
// CRASH_RESTARTS (default 50) and CRASH_SEED override the defaults; a failure prints the seed.
import { afterAll, describe, expect, it } from 'vitest';
import { killAllChildren, runCrashScenario, summarize } from './crash-driver.js';

const RESTARTS = Number(process.env.CRASH_RESTARTS ?? 50);
/** The ML-DSA-44 variant (issue 14) is short: each restart signs with both keys. */
const MLDSA_RESTARTS = Number(process.env.CRASH_MLDSA_RESTARTS ?? 10);
const SEED = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) >>> 0 : undefined;

afterAll(() => killAllChildren());

describe('witness crash safety (SIGKILL during load)', () => {
  it(`never loses or contradicts a cosignature across ${RESTARTS} SIGKILL restarts`, { timeout: 60_000 + RESTARTS * 4_000 }, async () => {
    const report = await runCrashScenario({ restarts: RESTARTS, seed: SEED, runner: 'tsx' });
    const summary = summarize(report);
    console.log(`crash test: ${summary}`);
    expect(report.violations, summary).toEqual([]);
    expect(report.restarts).toBe(RESTARTS);
    // The load really ran and really raced.
    expect(report.cosignaturesVerified).toBeGreaterThan(RESTARTS);
    expect(report.statuses['200']).toBe(report.cosignaturesVerified);
    expect(report.forkRacesWon + report.storedAheadOfAnswers).toBeGreaterThan(0);
    expect(report.forkRaceLosses).toBeGreaterThan(0);
    expect(report.conflictsRefused).toBeGreaterThan(0);
    expect(report.inFlightAtKill).toBeGreaterThan(0);
    expect(report.statuses['500'] ?? 0).toBe(0);
  });

  it(`with an Ed25519 and an ML-DSA-44 key: no cosignature of either key leaves before its state is durable (${MLDSA_RESTARTS} restarts)`, { timeout: 60_000 + MLDSA_RESTARTS * 6_000 }, async () => {
    const report = await runCrashScenario({ restarts: MLDSA_RESTARTS, seed: SEED, runner: 'tsx', mlDsaKey: true, honestLogs: 2, forkClients: 2 });
    const summary = summarize(report);
    console.log(`crash test (ML-DSA-44 + Ed25519): ${summary}`);
    expect(report.violations, summary).toEqual([]);
    expect(report.restarts).toBe(MLDSA_RESTARTS);
    expect(report.cosignaturesVerified).toBeGreaterThan(MLDSA_RESTARTS);
    expect(report.statuses['200']).toBe(report.cosignaturesVerified);
    expect(report.inFlightAtKill).toBeGreaterThan(0);
    expect(report.statuses['500'] ?? 0).toBe(0);
  });
});
