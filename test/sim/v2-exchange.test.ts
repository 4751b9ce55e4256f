// The model of gossip version 2 (network.version: 2): the exchange's ticks, frames and HAVE
// digests, against an independent computation on two witnesses with a fixed latency: each
// checkpoint crosses from the pushed witness to the other one tick wait (0, T] plus one latency
// later (version 1: at once), and the bytes are exactly the frames the exchange's own encoders
// make: one CHECKPOINT frame and one COSIGS frame each way per checkpoint; an ML-DSA-44
// witness's cosignature is announced in a HAVE (its pq bitmap), never pushed.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/sim/run.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { encodeCosigs, encodeDigests, encodeFrame, FRAME, REF_BYTES, EXCHANGE_TICK_MS } from '../../src/gossip/exchange.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { utf8 } from '../../src/util/bytes.js';

const LAT = 30;
const INTERVAL = 10_000;
const DURATION = 95_000; // publishes at 0, 10 s, ..., 90 s: 10 checkpoints, each settled long before the end
const scenario = (o: { version: 1 | 2; tick?: string; mlDsa44?: number; loss?: number; retransmit?: string }) =>
  parseScenario(
    {
      name: 'two',
      duration: `${DURATION}ms`,
      network: { nodes: 2, topology: 'full', meshDegree: 1, latency: { distribution: 'fixed', median: `${LAT}ms` }, version: o.version, ...(o.tick ? { exchangeTick: o.tick } : {}), ...(o.loss !== undefined ? { loss: o.loss } : {}), ...(o.retransmit ? { retransmit: o.retransmit } : {}) },
      logs: { count: 1, interval: `${INTERVAL}ms`, batch: 4 },
      witnesses: { push: 0.5, pollInterval: '10h', ...(o.mlDsa44 ? { mlDsa44: o.mlDsa44 } : {}) },
      signatures: 'modelled',
    },
    'two.yaml',
  );

// The log-signed note of checkpoint j: text + one Ed25519 line (4-byte key ID + 64 bytes: 92 base64 characters).
const noteBytes = (size: number) => utf8(formatCheckpoint({ origin: 'sim.example/log0', size: BigInt(size), root: new Uint8Array(32) }) + `\n— sim.example/log0 ${'A'.repeat(92)}\n`);
const TEXTS = Math.ceil(DURATION / INTERVAL);
const textFrames = Array.from({ length: TEXTS }, (_, j) => encodeFrame(FRAME.checkpoint, noteBytes(4 * (j + 1))).length).reduce((a, b) => a + b, 0);
const cosigFrame = (w: number) => encodeCosigs(new Uint8Array(REF_BYTES), [{ index: w, sig: new Uint8Array(72) }]).length;
const perNodePerHour = (bytes: number) => bytes / 2 / (DURATION / 3_600_000);

describe('model: gossip version 2 (the exchange)', () => {
  it('defaults to the node exchange tick', () => {
    expect(scenario({ version: 2 }).network.exchangeTickMs).toBe(EXCHANGE_TICK_MS);
    expect(() => scenario({ version: 3 as 2 })).toThrow(/network\.version: must be 1 or 2/);
  });

  for (const tick of [50, 100, 400]) {
    it(`a checkpoint crosses after one tick wait (0, ${tick}] plus the latency; bytes are the encoders' frames`, async () => {
      const r = await runScenario(scenario({ version: 2, tick: `${tick}ms` }));
      expect(r.traffic.deliveryRatio).toBe(1);
      expect(r.traffic.propagationP50Ms!).toBeGreaterThan(LAT);
      expect(r.traffic.propagationP99Ms!).toBeLessThanOrEqual(LAT + tick + 1e-6);
      expect(r.traffic.bytesPerNodePerHour).toBeCloseTo(perNodePerHour(textFrames + TEXTS * (cosigFrame(0) + cosigFrame(1))), 6);
      expect(r.traffic.messagesPerNodePerHour).toBeCloseTo(perNodePerHour(3 * TEXTS), 6);
      expect(r.model!.exchange).toEqual({ checkpointBytes: textFrames, cosigsBytes: TEXTS * (cosigFrame(0) + cosigFrame(1)), haveBytes: 0, wantBytes: 0, itemsAnsweringWant: 0 });
    });
  }

  it('network.retransmit: a lost write arrives that much later instead of never (TCP)', async () => {
    const dropped = await runScenario(scenario({ version: 2, loss: 1 }));
    expect(dropped.traffic.deliveryRatio).toBe(0.5); // only what the log pushed to each witness itself
    const late = await runScenario(scenario({ version: 2, loss: 1, retransmit: '200ms' }));
    expect(late.traffic.deliveryRatio).toBe(1);
    expect(late.traffic.propagationP50Ms!).toBeGreaterThan(LAT + 200);
    expect(late.traffic.propagationP99Ms!).toBeLessThanOrEqual(LAT + EXCHANGE_TICK_MS + 200 + 1e-6);
    // Without loss the setting changes nothing.
    const clean = await runScenario(scenario({ version: 2, loss: 0, retransmit: '200ms' }));
    const base = await runScenario(scenario({ version: 2 }));
    expect([clean.traffic.propagationP50Ms, clean.traffic.propagationP99Ms]).toEqual([base.traffic.propagationP50Ms, base.traffic.propagationP99Ms]);
    expect(() => scenario({ version: 2, retransmit: 'soon' })).toThrow(/network\.retransmit: must be a duration/);
  });

  it('version 1 pushes at once (propagation = the latency)', async () => {
    const r = await runScenario(scenario({ version: 1 }));
    expect(r.traffic.propagationP50Ms!).toBeCloseTo(LAT, 6);
    expect(r.traffic.propagationP99Ms!).toBeCloseTo(LAT, 6);
  });

  it('an ML-DSA-44 witness is announced in HAVE, never pushed', async () => {
    const r = await runScenario(scenario({ version: 2, mlDsa44: 0.5 })); // witness 1
    // Witness 0 is the one pushed (seed 1): witness 1 gets text and cosignature 0 from it, fetches
    // the checkpoint, cosigns, and announces: it holds cosignature 0 (bits) and its own (pq bitmap).
    const have = encodeDigests(FRAME.have, [{ ref: new Uint8Array(REF_BYTES), text: false, bits: Uint8Array.of(0b01), pq: Uint8Array.of(0b10) }]).length;
    expect(r.traffic.bytesPerNodePerHour).toBeCloseTo(perNodePerHour(textFrames + TEXTS * (cosigFrame(0) + have)), 6);
  });
});

describe('model: witnesses.mlDsa44 with real signatures', () => {
  const s = (mlDsa44: number) =>
    parseScenario(
      {
        name: 'pq',
        duration: '3m',
        // Cut along the fork: no evidence reaches the clients, so they accept (each on its branch).
        network: { nodes: 8, degree: 4, meshDegree: 3, latency: { distribution: 'fixed', median: '20ms' }, partitions: [{ at: '0ms', until: '3m', byBranch: true }] },
        logs: { count: 1, interval: '20s', batch: 4 },
        witnesses: { push: 'all', mlDsa44 },
        adversary: { forkAt: '60s', branchB: { fraction: 0.25 }, clientsB: 0.5 },
        clients: { count: 16, policy: { k: 2, n: 3 }, fetch: { interval: '20s' } },
        signatures: 'real',
      },
      'pq.yaml',
    );

  it('ML-DSA-44 witnesses cosign through the witness core and clients verify their 0x06 lines: the same accepts and detections as Ed25519', { timeout: 60_000 }, async () => {
    const ed = await runScenario(s(0));
    const pq = await runScenario(s(0.5));
    expect(pq.clients.perClient!.acceptMs).toEqual(ed.clients.perClient!.acceptMs);
    expect(pq.clients.perClient!.acceptMs.filter((x) => x !== null).length).toBeGreaterThan(0);
    expect(pq.detection.perNodeMs).toEqual(ed.detection.perNodeMs);
    // Version 1 messages carry every cosignature line: the 0x06 lines (about 3.3 KB each) show in the bytes.
    expect(pq.traffic.bytesPerNodePerHour).toBeGreaterThan(5 * ed.traffic.bytesPerNodePerHour);
  });
});

describe('model: the mesh bounds are the node\'s', () => {
  // scenario.ts cannot import meshParams (src/gossip/host.ts loads libp2p); this keeps them equal.
  it('meshLow and meshHigh default to meshParams(D).Dlo and .Dhi', async () => {
    const { meshParams } = await import('../../src/gossip/host.js');
    for (let D = 1; D <= 12; D++) {
      const n = parseScenario({ name: 'm', network: { nodes: 40, degree: 30, meshDegree: D } }, 'm.yaml').network;
      expect([n.meshLow, n.meshHigh]).toEqual([meshParams(D).Dlo, meshParams(D).Dhi]);
    }
  });
});
