// src/sim/wan-compare.ts: the WAN bench's metrics from a model trace, on a hand-written trace
// (three nodes) whose answers are counted by hand.
import { describe, expect, it } from 'vitest';
import { wanMetrics } from '../../src/sim/wan-compare.js';

describe('wan-compare: bench metrics from the trace', () => {
  it('counts publications in the window, first arrivals per node, reach-all and evidence as the bench does', () => {
    const trace = [
      't=20000 node 0 cosigns 5', // in the window: reaches 1 at 20100, 2 at 20300 (and 2 again later)
      't=20050 ex 0>1 tick #1 5:-1 5:0',
      't=20100 ex-in #1',
      't=20200 ex 1>2 tick #2 5:0 have:5:1',
      't=20300 ex-in #2',
      't=20400 ex 0>2 tick #3 5:0',
      't=20500 ex-in #3',
      't=21000 node 1 cosigns 5', // reaches 0 only: not delivered everywhere
      't=21010 ex 1>0 tick #4 5:1',
      't=21020 ex-in #4',
      't=21030 ex 1>2 tick #5 5:1', // lost: no ex-in
      't=1000 node 2 cosigns 3', // before the window: not counted
    ];
    const detectedAt = Float64Array.from([30_100, 30_300, -1]);
    const m = wanMetrics(trace, 3, 30_000, detectedAt, [0, 1, 2], 1_000_000, 3_600_000);
    expect(m.deliveryRatio).toBe(3 / 4);
    expect(m.reachAllP50Ms).toBe(300);
    expect(m.reachAllP99Ms).toBe(300);
    expect(m.perDeliveryP50Ms).toBe(100); // deliveries 100, 300 (5:0) and 20 (5:1): the 2nd of 3
    expect(m.mbPerNodePerHour).toBeCloseTo((2 * 1_000_000) / 3 / 1e6, 9);
    expect([m.evidenceFirstMs, m.evidenceP50Ms, m.evidenceLastMs, m.evidenceNodes]).toEqual([100, 100, 300, 2]);
  });
});
