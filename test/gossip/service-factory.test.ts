// The gossip layer as a libp2p service: gossipWitness(init)(components) runs on a libp2p node its
// caller made (with hostHooks) and owns; stop() leaves that node running.
import { describe, it, expect } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { createGossipHost } from '../../src/gossip/host.js';
import { gossipWitness, hostHooks, type GossipService } from '../../src/gossip/service.js';
import { EVIDENCE_TOPIC_V2 } from '../../src/gossip/wire.js';
import { LogRegistryImpl } from '../../src/logs/registry.js';
import { MemoryStore } from '../../src/store/memory.js';
import { Witness } from '../../src/witness/witness.js';
import { generateKey, parseCosignatureVkey, cosigner } from '../../src/note/keys.js';

describe('gossipWitness', () => {
  it('runs on the libp2p node it is given and leaves it to its owner', async () => {
    const key = generateKey('factory.example');
    const store = new MemoryStore();
    const logs = new LogRegistryImpl({ inline: [] });
    await logs.start();
    const witness = new Witness({ store, logs, cosigners: [cosigner(key)] });
    const p2p = { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], allowLoopback: true, maxConnections: 10, meshDegree: 3 };
    let service: GossipService | undefined;
    const host = await createGossipHost({ topics: [EVIDENCE_TOPIC_V2], p2p, privateKey: await generateKeyPair('Ed25519'), ...hostHooks(() => service) });
    try {
      service = gossipWitness({ p2p, identityFile: '/nonexistent/not-used', witness, store, logs, ownKeys: [parseCosignatureVkey(key.cosignatureVkey)], witnesses: [], startupSyncMs: 0 })({ libp2p: host });
      await service.start();
      expect(service.version).toBe(2);
      expect(service.peerId).toBe(host.peerId.toString());
      expect(host.getProtocols()).toContain('/gossip-witness/exchange/2.3.0');
      expect(host.services.pubsub.getTopics()).toContain(EVIDENCE_TOPIC_V2);
      await service.stop();
      // The node is its caller's: still running, the service's protocols gone.
      expect(host.status).toBe('started');
      expect(host.getProtocols()).not.toContain('/gossip-witness/exchange/2.3.0');
      expect(host.getProtocols()).not.toContain('/gossip-witness/sync/2.0.0');
    } finally {
      await service?.stop();
      await host.stop();
      logs.stop();
      await store.close();
    }
  });
});
