// a COSIGS entry for a key the view already holds on a text is answered 'dup' WITHOUT
// verification, and the *received* (unverified) line is offered to the exchange. When the
// exchange's `held` entry lacks that key (after a restart: own state enters the view through
// observeOwnState(publish=false); or after `held` evicted the REF), the garbage is stored in
// `held` and pushed / announced / served to every peer.
import { afterEach, expect, it } from 'vitest';
import { TestLog } from '../../helpers/fork.js';
import { Net, push, waitFor } from '../helpers.js';
import { MemoryStore } from '../../../src/store/memory.js';
import { encodeCosigs, encodeDigests, encodeHello, decodeCosigs, FRAME, REF_BYTES, shortLogId } from '../../../src/gossip/exchange.js';
import { rawPeer, type RawPeer } from './rawpeer.js';

class KeptStore extends MemoryStore { override async close(): Promise<void> {} }

let net: Net | undefined;
const peers: RawPeer[] = [];
afterEach(async () => { await Promise.allSettled(peers.splice(0).map((p) => p.stop())); await net?.stop(); net = undefined; });

it('a node never stores or serves a cosignature it did not verify (dup path of exchangeCosig)', async () => {
  const log = new TestLog('example.com/audit-dup').append(4);
  net = await Net.start(1, { logs: [{ origin: log.origin, vkey: log.key.vkey }], version: () => 2 });
  const store = new KeptStore();
  // Restart node 0 on a store that survives close(): its own checkpoint enters the view at start.
  await net.closeNode(net.nodes[0]);
  const victim = await net.addNode({ key: net.nodes[0].key, store });
  expect(await push(victim.node, log)).toBe('cosigned');
  await net.closeNode(victim);
  const again = await net.addNode({ key: victim.key, store });
  const head = again.node.gossip!.viewOf(log.origin)!.head()!;
  expect(head.own).toBe(true);
  const ref = Uint8Array.from(Buffer.from(head.textHash.slice(0, 2 * REF_BYTES), 'hex'));
  const id = again.node.gossip!.peerId;

  const attacker = await rawPeer(again.addr, id); peers.push(attacker);
  const stats = () => again.node.gossip!.exchangeStats!;
  const framesIn = stats().framesIn;
  const keys = attacker.victimKeys();
  attacker.send(encodeHello({ version: 2, logs: [shortLogId(log.origin)], keys }));
  // Index 0 of the victim's HELLO is its own key, which its view holds on this text.
  const garbage = new Uint8Array(72).fill(0x41);
  attacker.send(encodeCosigs(ref, [{ index: 0, sig: garbage }]));

  // An innocent peer asks for the victim's own cosignature on the text.
  const asker = await rawPeer(again.addr, id); peers.push(asker);
  // The victim has read the attacker's HELLO and COSIGS (nobody else is connected yet).
  await waitFor(() => stats().framesIn >= framesIn + 2, "the attacker's COSIGS read");
  asker.send(encodeHello({ version: 2, logs: [shortLogId(log.origin)], keys }));
  asker.send(encodeDigests(FRAME.want, [{ ref, text: false, bits: Uint8Array.of(0b1), pq: new Uint8Array(0) }]));
  await waitFor(() => asker.got.some((f) => f.type === FRAME.cosigs), 'the answer to the WANT');
  const served = asker.got.filter((f) => f.type === FRAME.cosigs).flatMap((f) => decodeCosigs(f.payload).items.map((i) => Buffer.from(i.sig)));
  // What is served is the genuine line the view holds, never the attacker's bytes.
  expect(served.length).toBeGreaterThan(0);
  for (const s of served) expect(s.equals(Buffer.from(garbage))).toBe(false);
});
