// Live mode: a scenario translated to the launcher's network config, refused features, and a tiny
// scenario run with real node processes on 127.0.0.1 (4 nodes, a fork shown to one witness): every
// honest node detects, the evidence verifies with the logs' keys, every process is stopped.
import { describe, expect, it } from 'vitest';
import { checkLiveSupport, liveRoles, LiveModeError, runLive, toNetworkConfig } from '../../src/sim/live/index.js';
import { parseSs, parseGossipCounters } from '../../src/sim/live/traffic.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { decodeBase64 } from '../../src/util/bytes.js';
import { verifyEvidence } from '../../src/witness/evidence.js';
import { parseVkey } from '../../src/note/keys.js';
import type { LaunchedNetwork } from '../../src/launcher/index.js';

const TINY_RAW = {
  name: 'tiny-live',
  duration: '9s',
  network: { nodes: 4, topology: 'full', latency: { distribution: 'fixed', median: '1ms' } },
  logs: { count: 1, interval: '500ms', batch: 2 },
  witnesses: { push: 'all', pollInterval: '500ms' },
  adversary: { forkAt: '2s', branchB: { nodes: [2] }, clientsB: 0.5 },
  clients: { count: 4, policy: { k: 1, n: 2 }, fetch: { witnesses: 2, interval: '500ms' } },
};
const TINY = parseScenario(TINY_RAW);

describe('live mode: scenario -> network config', () => {
  it('maps nodes, logs, branch B, push and poll, and bootstrap', () => {
    const s = parseScenario({ name: 'm', network: { nodes: 6, degree: 2 }, logs: { count: 2 }, witnesses: { push: 0.5, pollInterval: '2s' }, adversary: { forkAt: '1m', log: 1, branchB: { nodes: [0, 4] } } });
    const roles = liveRoles(s, 7);
    const net = toNetworkConfig(s, roles);
    expect(net.logs.map((l) => [l.name, l.origin])).toEqual([
      ['log0', 'sim.example/log0'],
      ['log1', 'sim.example/log1'],
    ]);
    expect(net.witnesses.map((w) => w.name)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
    expect(net.witnesses.filter((w) => w.sees.log1 === 'b').map((w) => w.name)).toEqual(['w0', 'w4']);
    expect(net.witnesses.every((w) => !('log0' in w.sees))).toBe(true);
    const pushed = net.witnesses.filter((w) => w.push.length === 2);
    const polled = net.witnesses.filter((w) => w.pull.length === 2);
    expect(pushed).toHaveLength(3);
    expect(polled).toHaveLength(3);
    expect(polled.every((w) => w.pullIntervalMs === 2000 && w.push.length === 0)).toBe(true);
    // Every node but w0 dials someone earlier, so the graph is connected.
    expect(net.witnesses[0].bootstrap).toEqual([]);
    for (const w of net.witnesses.slice(1)) expect(w.bootstrap!.length).toBeGreaterThan(0);
    // Same seed, same roles; another seed may differ.
    expect(toNetworkConfig(s, liveRoles(s, 7))).toEqual(net);
  });

  it('writes the gossip version and mesh degree into every node, and ML-DSA-44 keys for witnesses.mlDsa44', () => {
    const s = parseScenario({ name: 'v2', network: { nodes: 6, degree: 2, meshDegree: 3, version: 2 }, witnesses: { mlDsa44: 0.5 } });
    const net = toNetworkConfig(s, liveRoles(s, 1));
    expect(net.witnesses.every((w) => w.gossip?.version === 2 && w.gossip.meshDegree === 3)).toBe(true);
    expect(net.witnesses.filter((w) => w.keyType === 'ml-dsa-44').map((w) => w.name)).toEqual(['w1', 'w3', 'w5']);
    expect(checkLiveSupport(s).join('\n')).toMatch(/3 of 6 witnesses have ML-DSA-44 keys/);
    const v1 = toNetworkConfig(TINY, liveRoles(TINY, 1));
    expect(v1.witnesses.every((w) => w.gossip?.version === 1 && w.keyType === undefined)).toBe(true);
    expect(() => checkLiveSupport(parseScenario({ name: 't', network: { nodes: 4, version: 2, exchangeTick: '50ms' } }))).toThrow(/network\.exchangeTick: the nodes write every 100 ms/);
  });

  it('refuses what loopback processes cannot do, listing every problem', () => {
    const s = parseScenario({ name: 'x', network: { nodes: 100, loss: 0.1, partitions: [{ at: '1m', until: '2m', fraction: 0.5 }], churn: { rate: 0.1, downtime: '1m' } }, adversary: { forkAt: '1m', colluding: 2, eclipse: { target: 0, attackers: 3 } } });
    let err: unknown;
    try {
      checkLiveSupport(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveModeError);
    const msg = (err as Error).message;
    for (const f of ['network.nodes', 'network.loss', 'network.partitions', 'network.churn', 'adversary.colluding', 'adversary.eclipse']) expect(msg).toContain(f);
    expect(checkLiveSupport(TINY).join('\n')).toMatch(/latency: loopback/);
  });

  it('refuses the model-only scenario keys of issue 18 instead of ignoring them', () => {
    const s = parseScenario({
      name: 'x',
      network: { nodes: 10, monitors: { count: 2 }, scoring: {}, behaviours: [{ nodes: [1], drop: 'evidence' }] },
      adversary: { forkAt: '1m', branchB: { fraction: 0.2, batch: 3 }, branches: [{ fraction: 0.1 }], targeting: 'trusted', refuseProofs: true },
      clients: { populations: [{ count: 2 }, { count: 3, report: true }] },
    });
    let msg = '';
    try {
      checkLiveSupport(s);
    } catch (e) {
      msg = (e as Error).message;
    }
    for (const f of ['network.monitors', 'network.scoring', 'network.behaviours', 'adversary.branches', 'adversary.branchB', 'adversary.targeting', 'adversary.refuseProofs', 'clients: populations']) expect(msg).toContain(f);
  });

  it('parses ss and /metrics output', () => {
    const ss =
      '0 0 127.0.0.1:40000 127.0.0.1:5000 users:(("node",pid=42,fd=3))\n\t bbr bytes_sent:618 bytes_acked:619 bytes_received:164 segs_out:4\n' +
      '0 0 127.0.0.1:5000 127.0.0.1:40000 users:(("node",pid=43,fd=9))\n\t bbr bytes_sent:164 bytes_received:618\n';
    expect(parseSs(ss)).toEqual([
      { key: '42 127.0.0.1:40000 127.0.0.1:5000', pid: 42, local: 40000, remote: 5000, bytes: 618 },
      { key: '43 127.0.0.1:5000 127.0.0.1:40000', pid: 43, local: 5000, remote: 40000, bytes: 164 },
    ]);
    const m = parseGossipCounters(
      [
        '# HELP gossip_messages_total x',
        'gossip_messages_total{topic="/gossip-witness/cosigned-checkpoint/1",verdict="accept"} 7',
        'gossip_messages_total{topic="/gossip-witness/cosigned-checkpoint/1",verdict="ignore"} 2',
        'gossip_messages_total{topic="/gossip-witness/evidence/1",verdict="accept"} 1',
        'gossip_published_total{topic="/gossip-witness/cosigned-checkpoint/1"} 3',
        'process_resident_memory_bytes 1000',
      ].join('\n'),
    );
    expect(m).toEqual({ received: 10, receivedCheckpoints: 9, published: 3, publishedCheckpoints: 3, rssBytes: 1000 });
  });
});

describe('live mode: real node processes', () => {
  it('a fork shown to one of 4 witnesses is detected at every node; processes are stopped', async () => {
    const phases: string[] = [];
    let net: LaunchedNetwork | undefined;
    const r = await runLive(TINY, { seed: 3, onProgress: (_f, phase) => phases.push(phase), onLaunched: (n) => (net = n) });
    // Every node process has exited.
    expect(net!.witnesses).toHaveLength(4);
    for (const w of net!.witnesses) {
      expect(w.running).toBe(false);
      expect(w.process!.exitCode !== null || w.process!.signalCode !== null).toBe(true);
    }
    expect(r.provenance.mode).toBe('live');
    expect(r.provenance.seed).toBe(3);
    expect(r.nodes).toBe(4);
    // The fork is signed on the log's tick at forkAt (2 s), or later on a busy machine.
    expect(r.forkAtMs).toBeGreaterThanOrEqual(1950);
    expect(r.live!.forkLateMs).toBe(r.forkAtMs! - 2000);
    expect(r.detection.perNodeMs).toHaveLength(4);
    expect(r.detection.perNodeMs.every((x) => x !== null && x >= 0)).toBe(true);
    expect(r.detection.fractionDetected).toBe(1);
    expect(r.detection.allMs).not.toBeNull();
    console.log(`live: fork -> evidence per node ${r.detection.perNodeMs.join(', ')} ms; ${Math.round(r.traffic.bytesPerNodePerHour)} B/node/h, ${Math.round(r.traffic.messagesPerNodePerHour)} msg/node/h, delivery ${r.traffic.deliveryRatio}`);
    // The evidence verifies against the log's key.
    expect(r.evidence).not.toBeNull();
    const keys = r.logVkeys!.map((v) => parseVkey(v));
    const v = verifyEvidence(decodeBase64(r.evidence!)!, () => keys);
    expect(v.ok).toBe(true);
    // Traffic was measured over the libp2p connections and the gossip counters.
    expect(r.traffic.messagesPerNodePerHour).toBeGreaterThan(0);
    expect(r.traffic.bytesPerNodePerHour).toBeGreaterThan(0);
    expect(r.traffic.deliveryRatio).toBeGreaterThan(0);
    expect(r.traffic.deliveryRatio).toBeLessThanOrEqual(1);
    expect(r.clients.total).toBe(4);
    expect(r.live!.branchB).toBe(1);
    expect(phases.at(-1)).toBe('stopped');
    expect(r.notes!.length).toBeGreaterThan(0);
  }, 120_000);

  it('gossip version 2 with two ML-DSA-44 witnesses of 4: every node detects the fork', async () => {
    const s = parseScenario({ ...structuredClone(TINY_RAW), network: { ...TINY_RAW.network, meshDegree: 2, version: 2 }, witnesses: { ...TINY_RAW.witnesses, mlDsa44: 0.5 } });
    const r = await runLive(s, { seed: 3 });
    expect(r.detection.fractionDetected).toBe(1);
    expect(r.notes!.join('\n')).toMatch(/2 of 4 witnesses have ML-DSA-44 keys/);
    expect(Number.isNaN(r.traffic.deliveryRatio)).toBe(true); // not measured for version 2
    expect(r.traffic.bytesPerNodePerHour).toBeGreaterThan(0);
    console.log(`live v2 + ML-DSA-44: fork -> evidence per node ${r.detection.perNodeMs.join(', ')} ms; ${Math.round(r.traffic.bytesPerNodePerHour)} B/node/h`);
  }, 120_000);
});
