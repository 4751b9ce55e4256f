// The pull path of restoreFromOwnCosignature: a feeder fetches a log checkpoint that carries this
// witness's own cosignature above the stored (rolled-back) size; the witness moves forward to it
// and then refuses a fork consistent with the old state.
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { Feeder, createTilesSource } from '../../src/logs/feeders/index.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { TiledLogServer, witnessCore, enc } from '../logs/feeders-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('restoreFromOwnCosignature from a pull feeder', () => {
  it('a fetched checkpoint with our cosignature above the stored size restores the state; a fork below it is refused', async () => {
    const log = new TestLog('feeder-restore.example/log').append(30);
    const core = witnessCore([{ origin: log.origin, vkeys: [log.key.vkey] }]);
    const push = (old: bigint, note: string, proof: Uint8Array[] = []) => core.witness.addCheckpoint(enc(formatAddCheckpointBody(old, proof, note)));
    expect((await push(0n, log.checkpoint(10n))).kind).toBe('cosigned');
    const r30 = await push(10n, log.checkpoint(30n), log.tree.consistencyProof(10n, 30n));
    if (r30.kind !== 'cosigned') throw new Error(r30.kind);
    // The state is lost back to size 10 (a restored backup of the folder).
    const s10 = { ...(await core.store.getState(log.origin))!, size: 10n, root: log.tree.root(10n), note: log.checkpoint(10n), cosigned: log.checkpoint(10n) };
    expect((await core.store.compareAndSet(log.origin, 30n, s10)).ok).toBe(true);
    // The log publishes its checkpoint of size 30 with the witness cosignatures it collected.
    const server = await TiledLogServer.start(log);
    closers.push(() => server.close());
    server.publish(30n, log.checkpoint(30n) + r30.lines);
    const feeder = new Feeder({ origin: log.origin, source: createTilesSource({ url: server.url + '/', http: { timeoutMs: 2000 } }), witness: core.witness, store: core.store, logs: core.registry, intervalMs: 20, random: () => 0.5 });
    closers.push(() => feeder.stop());
    await feeder.pollOnce();
    expect((await core.store.getState(log.origin))?.size).toBe(30n);
    expect(core.events).toContainEqual({ type: 'restored', origin: log.origin, from: 10n, to: 30n, source: 'add-checkpoint' });
    // A fork of size 30 consistent with the lost size 10 is no longer cosigned.
    const fork = log.fork(10n).append(20, 'fork');
    const f = await push(10n, fork.checkpoint(30n), fork.tree.consistencyProof(10n, 30n));
    expect(f.kind).not.toBe('cosigned');
  });
});
