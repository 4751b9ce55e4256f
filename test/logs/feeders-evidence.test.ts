// Suspect -> proven evidence: when the witness holds a suspect record (a log-signed checkpoint
// whose proof failed) and the log serves tiles, the feeder computes h = the root of the first m
// leaves from the larger branch's tiles and the proof from (m, h) to its root, and stores
// evidence that verifies with the log's keys. For m a power of two and not, whichever branch is
// larger, whether the suspect came from the feeder's own poll or from a push.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { parseVkey } from '../../src/note/index.js';
import { parseCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { decodeEvidence, verifyEvidence } from '../../src/witness/evidence.js';
import { isPowerOfTwo } from '../../src/merkle/proof.js';
import { parseNote } from '../../src/note/note.js';
import { Feeder, createTilesSource, type FeederEvent } from '../../src/logs/feeders/index.js';
import { TiledLogServer, witnessCore, enc } from './feeders-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setup(origin: string) {
  const x = new TestLog(origin);
  const server = await TiledLogServer.start(x);
  closers.push(() => server.close());
  const core = witnessCore([{ origin, vkeys: [x.key.vkey] }]);
  const events: FeederEvent[] = [];
  const feeder = new Feeder({
    origin,
    source: createTilesSource({ url: server.url, http: { timeoutMs: 2000 } }),
    witness: core.witness,
    store: core.store,
    logs: core.registry,
    intervalMs: 20,
    onEvent: (e) => events.push(e),
  });
  closers.push(() => feeder.stop());
  /** Stored evidence, decoded, checked with the log's key; [size a, size b] each. */
  const evidence = async () => {
    const all = await core.store.listEvidence(origin);
    return all.map((s) => {
      const e = decodeEvidence(s.bytes);
      const v = verifyEvidence(s.bytes, (o) => (o === origin ? [parseVkey(x.key.vkey)] : undefined));
      expect(v, v.ok ? '' : v.reason).toMatchObject({ ok: true });
      return { sizes: [parseCheckpoint(parseNote(e.a).text).size, parseCheckpoint(parseNote(e.b).text).size], e };
    });
  };
  return { x, server, core, events, feeder, evidence };
}

describe('feeder: suspect -> proven evidence from tiles', () => {
  for (const [m, forkAt, n] of [
    [5n, 3n, 12n], // m not a power of two
    [8n, 5n, 40n], // m a power of two: the proof omits h, the tiles give it
    [256n, 200n, 1000n], // a power of two across tiles
    [300n, 1n, 301n],
  ] as const) {
    it(`the log switches the witness to a larger fork: m=${m}${isPowerOfTwo(m) ? ' (power of two)' : ''}, fork after ${forkAt}, n=${n}`, async () => {
      const { x, server, core, events, feeder, evidence } = await setup('example.com/switch');
      x.append(Number(m));
      server.publish();
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: m });
      const y = x.fork(forkAt).append(Number(n - forkAt), 'y');
      server.log = y;
      server.publish();
      // The proof from the witness's tree to the served branch cannot verify: refused...
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'inconsistent', size: n });
      expect(await core.store.listSuspects()).toHaveLength(1);
      // ...and proven from the served tiles in the same poll.
      const ev = await evidence();
      expect(ev.map((e) => e.sizes)).toEqual([[m, n]]);
      expect(ev[0].e.h).toEqual(y.tree.root(m)); // h: the root of the first m leaves of the larger branch
      expect(events.filter((e) => e.type === 'evidence')).toMatchObject([{ type: 'evidence', isNew: true, sizes: [m, n] }]);
      expect(feeder.stats().evidenceStored).toBe(1);
      // Re-polling does not store it again (and the state never moved to the fork).
      await feeder.pollOnce();
      expect(await core.store.listEvidence()).toHaveLength(1);
      expect((await core.store.getState(x.origin))?.size).toBe(m);
    });
  }

  for (const m of [5n, 4n]) {
    it(`a pushed suspect, the witness's branch is the larger one (m=${m}): evidence from the served tiles`, async () => {
      const { x, server, core, feeder, evidence } = await setup('example.com/push');
      x.append(Number(m));
      server.publish();
      await feeder.pollOnce();
      // Someone pushes the other branch, larger than the witness's tree, with a junk proof.
      const y = x.fork(3n).append(5, 'y');
      const r = await core.witness.add({ oldSize: m, proof: [new Uint8Array(32).fill(7)], note: enc(y.checkpoint()) });
      expect(r).toMatchObject({ kind: 'rejected', code: 'inconsistent' });
      expect(await core.store.listSuspects()).toHaveLength(1);
      // The log keeps serving the witness's branch, which grows past the pushed size.
      x.append(20);
      server.publish();
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced' });
      // The pushed checkpoint (size 8) is not a prefix of the served tree: evidence (y@8, x@served).
      expect((await evidence()).map((e) => e.sizes)).toEqual([[8n, x.tree.size]]);
    });

    it(`a pushed suspect, the pushed branch is the one the log serves now (m=${m}): two pairs, two proofs`, async () => {
      const { x, server, core, feeder, evidence } = await setup('example.com/push2');
      x.append(Number(m));
      server.publish();
      await feeder.pollOnce();
      const y = x.fork(2n).append(8, 'y'); // size 10
      await core.witness.add({ oldSize: m, proof: [new Uint8Array(32)], note: enc(y.checkpoint()) });
      y.append(20);
      server.log = y;
      server.publish(); // y at 30
      expect(await feeder.pollOnce()).toMatchObject({ outcome: 'inconsistent', size: 30n });
      // The pushed suspect (x@m, y@10) and this poll's own failure (x@m, y@30), both proven.
      const sizes = (await evidence()).map((e) => e.sizes.map(String).join('-')).sort();
      expect(sizes).toEqual([`${m}-10`, `${m}-30`].sort());
    });
  }

  it('waits while the log serves a tree too small to decide, then proves', async () => {
    const { x, server, core, feeder, evidence } = await setup('example.com/wait');
    x.append(5);
    server.publish();
    await feeder.pollOnce();
    const y = x.fork(4n).append(46, 'y'); // size 50
    await core.witness.add({ oldSize: 5n, proof: [new Uint8Array(32)], note: enc(y.checkpoint()) });
    x.append(15);
    server.publish(); // x at 20 < 50: the pushed branch cannot be checked yet
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 20n });
    expect(await evidence()).toEqual([]);
    x.append(40);
    server.publish(); // x at 60 >= 50
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 60n });
    expect((await evidence()).map((e) => e.sizes)).toEqual([[50n, 60n]]);
  });

  it('a suspect that the served tiles show consistent (only the proof was bad) yields no evidence', async () => {
    const { x, server, core, feeder, evidence, events } = await setup('example.com/bad-proof-only');
    x.append(6);
    server.publish();
    await feeder.pollOnce();
    x.append(10);
    await core.witness.add({ oldSize: 6n, proof: [new Uint8Array(32)], note: enc(x.checkpoint()) }); // honest checkpoint, junk proof
    expect(await core.store.listSuspects()).toHaveLength(1);
    server.publish();
    expect(await feeder.pollOnce()).toMatchObject({ outcome: 'advanced', size: 16n });
    expect(await evidence()).toEqual([]);
    expect(events.filter((e) => e.type === 'evidence-error')).toEqual([]);
  });
});
