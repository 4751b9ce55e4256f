// PostgreSQL store: two instances with one key never both cosign forks of one size; a damaged
// gw_state row is a clear STORE_DAMAGED error naming the table and the log, never a state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres.js';
import { Witness } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner } from '../../src/note/index.js';
import { faultLogs, faultWitnessKey, registryOf } from '../store/faults-fixture.js';
import { pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

const why = pgUnavailableReason();
const enc = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!!why)('PostgreSQL: shared key, damaged rows', () => {
  let pgs: TestPostgres;
  beforeAll(async () => {
    pgs = await startTestPostgres();
  }, 90_000);
  afterAll(async () => {
    await pgs?.stop();
  }, 60_000);

  it('two instances, one key: racing forks of one size, first state and later sizes: never both cosigned', { timeout: 60_000 }, async () => {
    const url = await pgs.freshDb();
    const [log] = faultLogs();
    const logs = faultLogs();
    const sA = await PostgresStore.open({ url });
    const sB = await PostgresStore.open({ url });
    try {
      const wA = new Witness({ store: sA, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
      const wB = new Witness({ store: sB, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
      let base = log;
      let held = 0n;
      for (let round = 0; round < 40; round++) {
        const size = held + 3n;
        const forkA = base.fork(held).append(3, `a${round}`);
        const forkB = base.fork(held).append(3, `b${round}`);
        const body = (l: typeof log) => enc(formatAddCheckpointBody(held, held === 0n ? [] : l.tree.consistencyProof(held, size), l.checkpoint(size)));
        const [ra, rb] = await Promise.all([wA.addCheckpoint(body(forkA)), wB.addCheckpoint(body(forkB))]);
        const n = [ra, rb].filter((r) => r.kind === 'cosigned').length;
        expect(n, `round ${round}: ${ra.kind}/${rb.kind}`).toBe(1);
        held = (await sA.getState(log.origin))!.size;
        expect(held).toBe(size);
        base = ra.kind === 'cosigned' ? forkA : forkB;
      }
    } finally {
      await sA.close();
      await sB.close();
    }
  });

  it('a damaged row gives a clear error naming the table and the log; a row whose note is not its checkpoint is refused', { timeout: 60_000 }, async () => {
    const url = await pgs.freshDb();
    const db = new URL(url).pathname.slice(1);
    const logs = faultLogs();
    const s = await PostgresStore.open({ url });
    try {
      const w = new Witness({ store: s, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
      logs[0].append(5);
      expect((await w.addCheckpoint(enc(formatAddCheckpointBody(0n, [], logs[0].checkpoint())))).kind).toBe('cosigned');
      await pgs.sql(`UPDATE gw_state SET note_j = 'not json'`, db);
      await expect(s.getState(logs[0].origin)).rejects.toThrow(/^PostgreSQL table gw_state: log "faults\.example\/a": the row does not decode/);
      await pgs.sql(`UPDATE gw_state SET note_j = to_json('x'::text)::text, size = 7`, db);
      await expect(s.getState(logs[0].origin)).rejects.toMatchObject({ code: 'STORE_DAMAGED', message: expect.stringMatching(/gw_state: log "faults\.example\/a": the stored note is not a checkpoint note/) });
    } finally {
      await s.close();
    }
  });
});
