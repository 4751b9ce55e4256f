// Gossip metrics, registered on the node's prom-client registry (GET /metrics). Labels are bounded:
// topic is one of the two topics, verdict accept|ignore|reject, via/result small fixed sets.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface GossipMetrics {
  setPeers(n: number): void;
  message(topic: string, verdict: string): void;
  published(topic: string): void;
  evidence(via: string): void;
  check(result: string): void;
  banned(): void;
  sync(type: string, direction: 'in' | 'out', outcome: string): void;
  restored(): void;
  penalised(reason: string): void;
}

export function registerGossipMetrics(registry: Registry): GossipMetrics {
  const peers = new Gauge({ name: 'gossip_peers', help: 'connected libp2p peers', registers: [registry] });
  const messages = new Counter({
    name: 'gossip_messages_total',
    help: 'gossip messages validated, by topic and verdict (accept, ignore, reject)',
    labelNames: ['topic', 'verdict'] as const,
    registers: [registry],
  });
  const published = new Counter({ name: 'gossip_published_total', help: 'messages this node published, by topic', labelNames: ['topic'] as const, registers: [registry] });
  const evidence = new Counter({
    name: 'gossip_evidence_total',
    help: 'new verified split-view evidence stored by the gossip layer, by how it came (detected, gossip, sync)',
    labelNames: ['via'] as const,
    registers: [registry],
  });
  const checks = new Counter({
    name: 'gossip_consistency_checks_total',
    help: 'pair checks of a gossiped checkpoint against this node\'s chain, by result (consistent, evidence, suspect, undecided)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const bans = new Counter({ name: 'gossip_peers_banned_total', help: 'peers disconnected and refused for falling below the graylist threshold', registers: [registry] });
  const syncs = new Counter({
    name: 'gossip_sync_requests_total',
    help: 'sync protocol requests, by type, direction and outcome',
    labelNames: ['type', 'direction', 'outcome'] as const,
    registers: [registry],
  });
  const restored = new Counter({ name: 'gossip_state_restored_total', help: 'logs whose stored state was moved forward from a checkpoint peers held with this node\'s cosignature (rollback protection)', registers: [registry] });
  const penalties = new Counter({
    name: 'gossip_peer_penalties_total',
    help: 'penalties given to peers, by reason (held-stream, too-many-streams, oversized)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['held-stream', 'too-many-streams', 'oversized']) penalties.inc({ reason }, 0);
  return {
    penalised: (reason) => penalties.inc({ reason }),
    setPeers: (n) => peers.set(n),
    message: (topic, verdict) => messages.inc({ topic, verdict }),
    published: (topic) => published.inc({ topic }),
    evidence: (via) => evidence.inc({ via }),
    check: (result) => checks.inc({ result }),
    banned: () => bans.inc(),
    sync: (type, direction, outcome) => syncs.inc({ type, direction, outcome }),
    restored: () => restored.inc(),
  };
}

export const NO_METRICS: GossipMetrics = {
  setPeers() {},
  message() {},
  published() {},
  evidence() {},
  check() {},
  banned() {},
  sync() {},
  restored() {},
  penalised() {},
};
