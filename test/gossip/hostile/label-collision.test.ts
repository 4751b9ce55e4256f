// witness keys are named on the wire (HELLO, COSIGS index, bitmaps) and in every cache by
// their label NAME+KEYID, a 4-byte key ID. A malicious witness M that grinds a key with the name
// and key ID of an honest witness W (2^32 SHA-256, the cost the 8-byte REF fix ruled out) makes
// nodes that track M penalise, and ban, honest nodes that track W for forwarding W's valid
// cosignatures. The grinding is stood in for by a mocked key ID for the name "shared.example".
import { afterEach, expect, it, vi } from 'vitest';
vi.mock('../../../src/note/sigtypes/keyid.js', async (orig) => {
  const real = await orig<typeof import('../../../src/note/sigtypes/keyid.js')>();
  return { ...real, standardKeyId: (name: string, type: number, key: Uint8Array) => (name === 'shared.example' ? 0x0badc000 + type : real.standardKeyId(name, type, key)) };
});
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestLog } from '../../helpers/fork.js';
import { push, waitFor } from '../helpers.js';
import { generateKey, type Ed25519SignerKey } from '../../../src/note/index.js';
import { writeKeyFile } from '../../../src/keys/keyfile.js';
import { parseConfig } from '../../../src/config.js';
import { startWitnessNode, type WitnessNode } from '../../../src/node/witness-node.js';
import { MemoryStore } from '../../../src/store/memory.js';
import type { GossipEvent } from '../../../src/gossip/service.js';

const dir = mkdtempSync(join(tmpdir(), 'gw-collide-'));
const nodes: WitnessNode[] = [];
afterEach(async () => { await Promise.allSettled(nodes.splice(0).map((n) => n.close())); rmSync(dir, { recursive: true, force: true }); });

async function start(i: number, key: Ed25519SignerKey, tracked: string[], log: TestLog, bootstrap: string[], events: GossipEvent[]): Promise<WitnessNode> {
  const keyFile = join(dir, `k${i}`);
  writeKeyFile(keyFile, key);
  const yaml = `name: ${key.name}\nkey: ${keyFile}\ndata: ${join(dir, `d${i}`)}\nhttp: { listen: "127.0.0.1:0" }\n` +
    `logs:\n  - origin: ${log.origin}\n    vkeys: ["${log.key.vkey}"]\n` +
    `witnesses:\n${tracked.map((v) => `  - { vkey: "${v}" }\n`).join('')}` +
    `p2p:\n  listen: [/ip4/127.0.0.1/tcp/0]\n  allowLoopback: true\n  startupSync: 1s\n  version: 2\n  bootstrap: [${bootstrap.join(', ')}]\n`;
  const node = await startWitnessNode(parseConfig(yaml, join(dir, `c${i}.yaml`)), { store: new MemoryStore(), gossip: { onEvent: (e) => events.push(e) } });
  nodes.push(node);
  return node;
}

it('honest nodes that track different witnesses never penalise each other, even when two witness keys share NAME+KEYID', async () => {
  const log = new TestLog('example.com/audit-collide').append(3);
  const w = generateKey('shared.example'); // honest witness W, run by node A
  const m = generateKey('shared.example'); // malicious witness M (another key, same label)
  expect(w.cosignatureVkey.split('+')[1]).toBe(m.cosignatureVkey.split('+')[1]);
  const b = generateKey('b.example');
  const evA: GossipEvent[] = [], evB: GossipEvent[] = [];
  const A = await start(0, w, [b.cosignatureVkey], log, [], evA);
  const B = await start(1, b, [m.cosignatureVkey], log, [A.gossip!.multiaddrs[0]], evB);
  const idA = A.gossip!.peerId;
  await waitFor(() => B.gossip!.libp2p.getPeers().some((p) => p.toString() === idA), 'B connected to A');
  for (let k = 0; k < 3; k++) {
    log.append(1);
    await push(A, log);
    await push(B, log);
    // The exchange works between them: A holds B's cosignature of this checkpoint.
    await waitFor(() => A.gossip!.viewOf(log.origin)?.head()?.checkpoint.size === log.tree.size && A.gossip!.viewOf(log.origin)!.head()!.cosignatures.size === 2, `A holds B's cosignature at ${log.tree.size}`);
  }
  // A checkpoint only A holds reaches B over the same stream, after everything A sent before it
  // (W's cosignatures included, had A sent them): B has judged those by then.
  log.append(1);
  await push(A, log);
  await waitFor(() => B.gossip!.viewOf(log.origin)?.all().some((e) => e.checkpoint.size === log.tree.size) === true, 'B got the checkpoint only A holds');
  expect(evB.filter((e) => (e.type === 'penalised' || e.type === 'banned') && e.peer === idA)).toEqual([]);
});
