// A store that is not this witness's own must never become its state: another witness's folder
// copied over ours (the core refuses it at start: its states carry no line under our name), and a
// `store import` without the journal must cover every log LevelDB holds (an import of one log
// used to bless a rollback of all the others). Found by an audit on 2026-12-08.
import { cp, mkdtemp, rm, unlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { TestLog } from '../helpers/fork.js';
import { LevelStore, StoreDamagedError } from '../../src/store/level.js';
import { HIGHWATER_FILE } from '../../src/store/highwater.js';
import { Witness, type WitnessLog } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { VerifierSet, parseVkey, cosigner, generateKey, parseNote, signatureLines } from '../../src/note/index.js';
import type { LogState } from '../../src/witness/store.js';

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const tmp: string[] = [];
const open: LevelStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const d of tmp.splice(0)) await rm(d, { recursive: true, force: true });
});
async function newDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gw-identity-'));
  tmp.push(d);
  return join(d, 'data');
}
const reg = (...ls: TestLog[]) => new Map<string, WitnessLog>(ls.map((l) => [l.origin, { origin: l.origin, verifiers: new VerifierSet([parseVkey(l.key.vkey)]) }]));

async function ackTo(w: Witness, log: TestLog, from: bigint, to: bigint) {
  for (let old = from; old < to; old++) {
    const r = await w.addCheckpoint(enc(formatAddCheckpointBody(old, old === 0n ? [] : log.tree.consistencyProof(old, old + 1n), log.checkpoint(old + 1n))));
    expect(r.kind).toBe('cosigned');
  }
}

describe('a store that is not ours, and the way out without a journal', () => {
  it('a data folder copied from another witness is refused at start (a fork below what we cosigned is never cosigned)', async () => {
    const log = new TestLog('audit.example/log').append(30);
    const kA = generateKey('audit.example/wA');
    const kB = generateKey('audit.example/wB');
    const dirA = await newDir();
    const dirB = await newDir();
    // Witness A cosigns up to 20 in its own folder; witness B (another key) only up to 10.
    let sA = await LevelStore.open(dirA);
    await ackTo(new Witness({ store: sA, logs: reg(log), cosigners: [cosigner(kA)] }), log, 0n, 20n);
    await sA.close();
    const sB = await LevelStore.open(dirB);
    await ackTo(new Witness({ store: sB, logs: reg(log), cosigners: [cosigner(kB)] }), log, 0n, 10n);
    await sB.close();
    // The operator restores / migrates the wrong folder into A's place.
    await rm(dirA, { recursive: true });
    await cp(dirB, dirA, { recursive: true });
    sA = await LevelStore.open(dirA);
    open.push(sA);
    const wA = new Witness({ store: sA, logs: reg(log), cosigners: [cosigner(kA)] });
    await expect(wA.prepare()).rejects.toThrow(/stored state of "audit\.example\/log" \(size 10\) carries no cosignature under this witness's name \(audit\.example\/wA\)/);
  });

  it('a new key under the same name keeps its history (a key rotation)', async () => {
    const log = new TestLog('audit.example/rotated').append(5);
    const dir = await newDir();
    const s = await LevelStore.open(dir);
    open.push(s);
    await ackTo(new Witness({ store: s, logs: reg(log), cosigners: [cosigner(generateKey('audit.example/w'))] }), log, 0n, 3n);
    await expect(new Witness({ store: s, logs: reg(log), cosigners: [cosigner(generateKey('audit.example/w'))] }).prepare()).resolves.toBe(true);
  });

  it('without the journal, `store import` of one log does not bless a rollback of another', async () => {
    const a = new TestLog('audit.example/a').append(20);
    const b = new TestLog('audit.example/b').append(20);
    const k = generateKey('audit.example/w');
    const dir = await newDir();
    const s = await LevelStore.open(dir);
    const w = new Witness({ store: s, logs: reg(a, b), cosigners: [cosigner(k)] });
    await ackTo(w, a, 0n, 10n);
    await ackTo(w, b, 0n, 10n);
    await s.close();
    // Damage: LevelDB loses log a's newest states (rolled back to 5) and the journal is lost.
    const raw = new Level<string, string>(dir);
    await raw.open();
    const note5 = a.checkpoint(5n);
    await raw.put(`s!${hex(a.origin)}`, JSON.stringify({ size: '5', root: Buffer.from(a.tree.root(5n)).toString('base64'), note: note5, cosigned: note5 + signatureLines(parseNote(note5).textBytes, [cosigner(k)]), updatedAt: 1 }));
    await raw.close();
    await unlink(join(dir, HIGHWATER_FILE));
    await expect(LevelStore.open(dir)).rejects.toBeInstanceOf(StoreDamagedError); // good so far
    // The operator follows the way out for log b only (the refusal named no log).
    const nb = b.checkpoint(12n);
    const imp: LogState = { size: 12n, root: b.tree.root(12n), note: nb, cosigned: nb + signatureLines(parseNote(nb).textBytes, [cosigner(k)]), updatedAt: 1 };
    let s2: LevelStore | undefined;
    try {
      s2 = await LevelStore.open(dir, { imports: new Map([[b.origin, imp]]) });
    } catch (e) {
      expect(e).toBeInstanceOf(StoreDamagedError);
      return; // refused: fine
    }
    open.push(s2);
    const w2 = new Witness({ store: s2, logs: reg(a, b), cosigners: [cosigner(k)] });
    const fork = a.fork(5n).append(5, 'evil');
    const r = await w2.addCheckpoint(enc(formatAddCheckpointBody(5n, fork.tree.consistencyProof(5n, 10n), fork.checkpoint(10n))));
    expect(r.kind, 'log a: a fork at the acknowledged size 10 was cosigned after an import of log b').not.toBe('cosigned');
  });

  it('a damaged journal: the refusal names the way out, and `store import` of every log takes it', async () => {
    const b = new TestLog('audit.example/b').append(20);
    const k = generateKey('audit.example/w');
    const dir = await newDir();
    const s = await LevelStore.open(dir);
    await ackTo(new Witness({ store: s, logs: reg(b), cosigners: [cosigner(k)] }), b, 0n, 10n);
    await s.close();
    const j = await readFile(join(dir, HIGHWATER_FILE));
    j[40] ^= 0x01;
    await writeFile(join(dir, HIGHWATER_FILE), j);
    await expect(LevelStore.open(dir)).rejects.toThrow(/to start again, import a checkpoint this witness cosigned for each of "audit\.example\/b"/);
    const nb = b.checkpoint(12n);
    const imp: LogState = { size: 12n, root: b.tree.root(12n), note: nb, cosigned: nb + signatureLines(parseNote(nb).textBytes, [cosigner(k)]), updatedAt: 1 };
    const r = await LevelStore.open(dir, { imports: new Map([[b.origin, imp]]) }).then(
      (st) => (open.push(st), 'ok'),
      (e: Error) => e.message,
    );
    expect(r).toBe('ok');
  });
  it('a crash inside `store import` into an empty folder (LevelDB written, the journal not yet) is finished by running it again', async () => {
    const b = new TestLog('audit.example/b').append(20);
    const k = generateKey('audit.example/w');
    const dir = await newDir();
    const nb = b.checkpoint(12n);
    const imp: LogState = { size: 12n, root: b.tree.root(12n), note: nb, cosigned: nb + signatureLines(parseNote(nb).textBytes, [cosigner(k)]), updatedAt: 1 };
    await (await LevelStore.open(dir, { imports: new Map([[b.origin, imp]]) })).close();
    await unlink(join(dir, HIGHWATER_FILE)); // as if killed between the imports' LevelDB batch and the journal's rewrite
    await expect(LevelStore.open(dir)).rejects.toThrow(/journal .* is missing/);
    const again = await LevelStore.open(dir, { imports: new Map([[b.origin, imp]]) }).then(
      (s) => (open.push(s), 'ok'),
      (e: Error) => e.message,
    );
    expect(again).toBe('ok');
  });

});
