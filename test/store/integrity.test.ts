// LevelStore integrity on open (issue 13 §1): which folders may be created, the high-water
// journal against LevelDB, stored notes against their records, v1 adoption, maxSignedTimestamp.
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { LevelStore, STORE_VERSION, StoreDamagedError } from '../../src/store/level.js';
import { HIGHWATER_FILE } from '../../src/store/highwater.js';
import type { LogState, VerifiedRecord } from '../../src/witness/store.js';
import { cosigner, generateKey, parseNote, signatureLines } from '../../src/note/index.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const dirs: string[] = [];
const stores: LevelStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function newDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gossip-witness-integrity-'));
  dirs.push(d);
  return join(d, 'data');
}
async function open(dir: string, opts: Parameters<typeof LevelStore.open>[1] = {}): Promise<LevelStore> {
  const s = await LevelStore.open(dir, opts);
  stores.push(s);
  return s;
}
async function refusal(dir: string): Promise<StoreDamagedError> {
  const e = await LevelStore.open(dir).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(StoreDamagedError);
  expect((e as Error).message).toContain(dir);
  expect((e as Error).message).toMatch(/store import/); // names the way out
  return e as StoreDamagedError;
}

const log = new TestLog('integrity.example/log').append(40);
const signer = cosigner(generateKey('integrity.example/witness'), () => 1_800_000_000n);
/** A real stored state: the log-signed note and our cosignature line (timestamp 1_800_000_000). */
function real(size: number, l: TestLog = log, s = signer): LogState {
  const note = l.checkpoint(BigInt(size));
  return { size: BigInt(size), root: l.tree.root(BigInt(size)), note, cosigned: note + signatureLines(parseNote(note).textBytes, [s]), updatedAt: 1 };
}
async function advance(store: LevelStore, from: number, to: number, origin = log.origin): Promise<void> {
  for (let n = from; n < to; n++) expect(await store.compareAndSet(origin, BigInt(n), real(n + 1))).toEqual({ ok: true });
}

describe('LevelStore integrity on open', () => {
  it('creates a store only in a missing or empty folder (other files do not count)', async () => {
    const a = await newDir();
    await (await open(a)).close();
    const b = await newDir();
    await mkdir(b);
    await writeFile(join(b, 'p2p-identity.key'), 'x');
    const s = await open(b);
    await advance(s, 0, 3);
    await s.close();
    expect((await (await open(b)).getState(log.origin))?.size).toBe(3n);
    // LevelDB stopped while first creating the folder: LOCK and LOG hold no data.
    const c = await newDir();
    await mkdir(c);
    await writeFile(join(c, 'LOCK'), '');
    await writeFile(join(c, 'LOG'), 'x');
    expect((await open(c)).health()).toEqual({ writable: true });
  });

  it('refuses a journal without LevelDB, and LevelDB without its journal', async () => {
    const dir = await newDir();
    const s = await open(dir);
    await advance(s, 0, 5);
    await s.close();
    const journal = await readFile(join(dir, HIGHWATER_FILE));
    await unlink(join(dir, HIGHWATER_FILE));
    expect((await refusal(dir)).problems.join()).toMatch(/journal .* is missing, but LevelDB holds acknowledged states/);
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await writeFile(join(dir, HIGHWATER_FILE), journal);
    expect((await refusal(dir)).problems.join()).toMatch(/no LevelDB database/);
  });

  it('refuses LevelDB behind the journal: a lost state, a smaller size, another root', async () => {
    const dir = await newDir();
    const s = await open(dir);
    await advance(s, 0, 10);
    await s.close();
    const raw = new Level<string, string>(dir);
    await raw.open();
    const key = `s!${hex(log.origin)}`;
    const good = (await raw.get(key))!;
    const fork = log.fork(5n).append(5, 'fork');
    // Same size, another tree (a consistent note, so only the journal can tell).
    await raw.put(key, JSON.stringify({ ...JSON.parse(good), root: Buffer.from(fork.tree.root(10n)).toString('base64'), note: fork.checkpoint(10n), cosigned: fork.checkpoint(10n) }));
    await raw.close();
    expect((await refusal(dir)).problems.join()).toMatch(/another tree of the acknowledged size 10/);
    await raw.open();
    await raw.put(key, JSON.stringify({ ...JSON.parse(good), size: '9', root: Buffer.from(log.tree.root(9n)).toString('base64'), note: log.checkpoint(9n), cosigned: log.checkpoint(9n) }));
    await raw.close();
    expect((await refusal(dir)).problems.join()).toMatch(/holds size 9, below the acknowledged size 10/);
    await raw.open();
    await raw.del(key);
    await raw.close();
    expect((await refusal(dir)).problems.join()).toMatch(/acknowledged at size 10, but LevelDB holds no state/);
  });

  it('refuses a stored note that is not the checkpoint its record claims', async () => {
    const dir = await newDir();
    const s = await open(dir);
    await advance(s, 0, 4);
    await s.close();
    const raw = new Level<string, string>(dir);
    await raw.open();
    const key = `s!${hex(log.origin)}`;
    const v = JSON.parse((await raw.get(key))!);
    await raw.put(key, JSON.stringify({ ...v, note: log.checkpoint(3n), cosigned: log.checkpoint(3n) }));
    await raw.close();
    expect((await refusal(dir)).problems.join()).toMatch(/the stored note has size 3, the record says 4/);
    await raw.open();
    await raw.put(key, JSON.stringify({ ...v, cosigned: 'something else' }));
    await raw.close();
    expect((await refusal(dir)).problems.join()).toMatch(/cosigned note does not extend the note/);
  });

  it('a torn final journal record is accepted only when LevelDB holds that group', async () => {
    const dir = await newDir();
    let failJournal = false;
    const s = await open(dir, { retryMs: { min: 3_600_000, max: 3_600_000 }, faults: { journal: () => (failJournal ? new Error('simulated EIO on the journal') : undefined) } });
    await advance(s, 0, 3);
    failJournal = true;
    // LevelDB synced size 4; the journal append failed: not acknowledged.
    await expect(s.compareAndSet(log.origin, 3n, real(4))).rejects.toThrow(/simulated EIO/);
    expect((await s.getState(log.origin))?.size).toBe(3n);
    await s.close();
    // As if the crash came in the middle of the record's write().
    await appendFile(join(dir, HIGHWATER_FILE), Buffer.from([0, 0, 0, 200, 1, 2, 3]));
    const r = await open(dir);
    expect((await r.getState(log.origin))?.size).toBe(4n); // LevelDB's, one group ahead: its cosignature never left
    await advance(r, 4, 6);
    await r.close();
    // The same torn tail on a journal that LevelDB does not lead: damage.
    await appendFile(join(dir, HIGHWATER_FILE), Buffer.from([0, 0, 0, 200, 1, 2, 3]));
    expect((await refusal(dir)).problems.join()).toMatch(/ends inside a record/);
  });

  it('adopts a v1 store once, with a warning; afterwards its journal is required', async () => {
    const dir = await newDir();
    const raw = new Level<string, string>(dir);
    await raw.open();
    const st = real(7);
    await raw.put('m!version', 'gossip-witness/store/v1');
    await raw.put(`s!${hex(log.origin)}`, JSON.stringify({ size: '7', root: Buffer.from(st.root).toString('base64'), note: st.note, cosigned: st.cosigned, updatedAt: 1 }));
    await raw.close();
    const warnings: string[] = [];
    const s = await open(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/adopting a v1 store/);
    expect((await s.getState(log.origin))?.size).toBe(7n);
    await s.close();
    await raw.open();
    expect(await raw.get('m!version')).toBe(STORE_VERSION);
    await raw.close();
    const again = await open(dir, { onWarning: (m) => warnings.push(m) });
    await again.close();
    expect(warnings).toHaveLength(1);
    await unlink(join(dir, HIGHWATER_FILE));
    await refusal(dir);
  });

  it('a lost evidence record is reported (never silent) but does not refuse: it cannot lead to a fork', async () => {
    const dir = await newDir();
    const s = await open(dir);
    await advance(s, 0, 2);
    expect(await s.addEvidence({ id: 'ev1', origin: log.origin, receivedAt: 1, bytes: new Uint8Array([1, 2, 3]) } as VerifiedRecord)).toBe(true);
    await s.close();
    const raw = new Level<string, string>(dir);
    await raw.open();
    await raw.del(`e!${hex('ev1')}`);
    await raw.close();
    const warnings: string[] = [];
    const r = await open(dir, { onWarning: (m) => warnings.push(m) });
    expect((await r.getState(log.origin))?.size).toBe(2n);
    expect(r.integrityWarnings()).toEqual([expect.stringMatching(/1 acknowledged evidence record\(s\) missing from LevelDB .*ev1/)]);
    expect(warnings).toEqual(r.integrityWarnings());
    // It stays reported on later starts, until the record comes back (e.g. gossiped again).
    await r.close();
    const again = await open(dir);
    expect(again.integrityWarnings()).toHaveLength(1);
    expect(await again.addEvidence({ id: 'ev1', origin: log.origin, receivedAt: 1, bytes: new Uint8Array([1, 2, 3]) } as VerifiedRecord)).toBe(true);
    await again.close();
    expect((await open(dir)).integrityWarnings()).toEqual([]);
  });

  it('maxSignedTimestamp: the newest cosignature timestamp stored, kept by the journal across reopens', async () => {
    const dir = await newDir();
    const s = await open(dir);
    expect(s.maxSignedTimestamp()).toBeUndefined();
    await advance(s, 0, 2);
    expect(s.maxSignedTimestamp()).toBe(1_800_000_000);
    // A later state cosigned with an older clock (a restore) does not lower it.
    const older = cosigner(generateKey('integrity.example/witness'), () => 1_700_000_000n);
    await s.compareAndSet(log.origin, 2n, real(3, log, older));
    expect(s.maxSignedTimestamp()).toBe(1_800_000_000);
    await s.close();
    const r = await open(dir);
    expect(r.maxSignedTimestamp()).toBe(1_800_000_000);
  });

  it('the journal is rewritten as one snapshot on open, so it stays small', async () => {
    const dir = await newDir();
    const s = await open(dir);
    await advance(s, 0, 40);
    await s.close();
    const grown = (await stat(join(dir, HIGHWATER_FILE))).size;
    await (await open(dir)).close();
    const compacted = (await stat(join(dir, HIGHWATER_FILE))).size;
    expect(compacted).toBeLessThan(grown / 10);
    expect((await (await open(dir)).getState(log.origin))?.size).toBe(40n);
  });
});
