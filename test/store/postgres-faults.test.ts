// The fault suite's notion of damage for a database (issue 13 §1, issue 17): a restored older
// dump (real pg_dump / pg_restore) and a lost write (a committed state replaced by the one before
// it, as after promoting an asynchronous standby). What this shows, honestly:
//   - a running instance that saw the newer state refuses the log (StoreRollbackError: 503, never
//     a cosignature) until it is restarted;
//   - after a restart (or in an instance that never saw the newer state) the store does NOT detect
//     it: it opens at the older size (the database is internally consistent; nothing outside it
//     records what was acknowledged);
//   - what protects the witness is its own cosignature seen again: a checkpoint carrying this
//     witness's cosignature above the stored size (pushed by a client, pulled by a feeder, or a
//     gossip peer's copy) moves the state forward before anything is cosigned, and the fork that
//     would have been cosigned is then refused. Until such a checkpoint arrives, the witness would
//     cosign a fork that branches below the lost size: the operator guide says so.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, StoreRollbackError } from '../../src/store/postgres.js';
import { Witness, type WitnessEvent } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner } from '../../src/note/index.js';
import { faultLogs, faultWitnessKey, registryOf } from './faults-fixture.js';
import { PG_REQUIRED, pgUnavailableReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import type { TestLog } from '../helpers/fork.js';

const why = pgUnavailableReason();
if (why && PG_REQUIRED) throw new Error(`INTEROP_REQUIRED=1 but ${why}`);
if (why) console.log(`SKIPPED PostgreSQL fault tests: ${why}`);

const enc = (s: string) => new TextEncoder().encode(s);
const pgBin = (tool: string) => ['15', '16', '17', '14'].map((v) => `/usr/lib/postgresql/${v}/bin/${tool}`).find(existsSync) ?? tool;
const runTool = (tool: string, args: string[]) =>
  new Promise<void>((resolve, reject) => execFile(pgBin(tool), args, { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`${tool}: ${stderr || err.message}`)) : resolve())));

interface Run {
  store: PostgresStore;
  witness: Witness;
  events: WitnessEvent[];
  log: TestLog;
  /** The cosigned note (log signature + this witness's line) per acknowledged size. */
  cosigned: Map<bigint, string>;
}

async function open(url: string, log: TestLog, logs: TestLog[]): Promise<Run> {
  const store = await PostgresStore.open({ url });
  const events: WitnessEvent[] = [];
  const witness = new Witness({ store, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())], onEvent: (e) => events.push(e) });
  return { store, witness, events, log, cosigned: new Map() };
}

async function ackUpTo(r: Run, size: number): Promise<void> {
  while (r.log.tree.size < BigInt(size)) {
    const old = r.log.tree.size;
    r.log.append(1);
    const note = r.log.checkpoint();
    const res = await r.witness.addCheckpoint(enc(formatAddCheckpointBody(old, old === 0n ? [] : r.log.tree.consistencyProof(old, r.log.tree.size), note)));
    if (res.kind !== 'cosigned') throw new Error(`unexpected ${res.kind}`);
    r.cosigned.set(r.log.tree.size, note + res.lines);
  }
}

/** The damage is undone only by the witness's own cosignature; then the fork is refused. */
async function expectProtected(r: Run, lost: bigint, acked: bigint): Promise<void> {
  const { log } = r;
  // The store cannot tell: it reports the older state.
  expect((await r.store.getState(log.origin))?.size).toBe(lost);
  // A client re-sends what this witness cosigned at `acked` (a checkpoint with its cosignature).
  const own = r.cosigned.get(acked)!;
  const res = await r.witness.addCheckpoint(enc(formatAddCheckpointBody(lost, log.tree.consistencyProof(lost, acked), own)));
  expect(r.events.some((e) => e.type === 'restored' && e.origin === log.origin && e.to === acked)).toBe(true);
  expect(res.kind === 'stale' && res.size === acked).toBe(true);
  expect((await r.store.getState(log.origin))?.size).toBe(acked);
  // A fork at `acked` consistent with the lost size: refused now.
  const fork = log.fork(lost).append(Number(acked - lost), 'fork');
  const forkRes = await r.witness.addCheckpoint(enc(formatAddCheckpointBody(lost, fork.tree.consistencyProof(lost, acked), fork.checkpoint(acked))));
  expect(forkRes.kind).not.toBe('cosigned');
  const sameSize = await r.witness.addCheckpoint(enc(formatAddCheckpointBody(acked, [], fork.checkpoint(acked))));
  expect(sameSize.kind).not.toBe('cosigned');
}

describe.skipIf(!!why)(`PostgreSQL store: damage a database can suffer${why ? ` (SKIPPED: ${why})` : ''}`, () => {
  let pgs: TestPostgres;
  let dir: string;
  beforeAll(async () => {
    pgs = await startTestPostgres();
    dir = mkdtempSync(join(tmpdir(), 'gw-pg-faults-'));
  }, 90_000);
  afterAll(async () => {
    await pgs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a restored older dump (pg_dump at 14, pg_restore after 30): not detected by the store; the own cosignature seen again moves it forward and the fork is refused', { timeout: 60_000 }, async () => {
    const url = await pgs.freshDb();
    const logs = faultLogs();
    let r = await open(url, logs[0], logs);
    await ackUpTo(r, 14);
    const dump = join(dir, 'at14.dump');
    await runTool('pg_dump', ['-Fc', '-f', dump, url]);
    await ackUpTo(r, 30);
    const cosigned = r.cosigned;
    await r.store.close();
    await runTool('pg_restore', ['--clean', '--if-exists', '--single-transaction', '-d', url, dump]);
    r = { ...(await open(url, logs[0], logs)), cosigned };
    try {
      await expectProtected(r, 14n, 30n);
    } finally {
      await r.store.close();
    }
  });

  it('a lost write (the last committed state replaced by the one before, as after promoting an asynchronous standby): the running instance refuses the log; after a restart the own cosignature protects', { timeout: 60_000 }, async () => {
    const url = await pgs.freshDb();
    const db = new URL(url).pathname.slice(1);
    const logs = faultLogs();
    let r = await open(url, logs[0], logs);
    try {
      await ackUpTo(r, 29);
      await pgs.sql('CREATE TABLE saved AS SELECT * FROM gw_state', db);
      await ackUpTo(r, 30);
      await pgs.sql('UPDATE gw_state s SET size = v.size, root = v.root, note_j = v.note_j, cosigned_j = v.cosigned_j, updated_at = v.updated_at FROM saved v WHERE s.origin_j = v.origin_j', db);
      // The running instance saw 30 stored: it refuses the log instead of cosigning on 29.
      const fork = r.log.fork(29n).append(1, 'fork');
      const res = await r.witness.addCheckpoint(enc(formatAddCheckpointBody(29n, fork.tree.consistencyProof(29n, 30n), fork.checkpoint(30n))));
      expect(res).toMatchObject({ kind: 'rejected', code: 'unavailable' });
      expect((res as { reason: string }).reason).toMatch(/went back from size 30 to 29 while this witness ran/);
      await expect(r.store.getState(r.log.origin)).rejects.toBeInstanceOf(StoreRollbackError);
      // Other logs are not affected.
      expect(r.store.health().writable).toBe(true);
      // Restarted, it no longer knows: only its own cosignature seen again protects it.
      const cosigned = r.cosigned;
      await r.store.close();
      r = { ...(await open(url, logs[0], logs)), cosigned };
      await expectProtected(r, 29n, 30n);
    } finally {
      await r.store.close();
    }
  });
});
