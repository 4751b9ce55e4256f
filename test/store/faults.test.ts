// Fault injection (issue 13 §1): damage each file of a witness data folder in turn and assert
// that the witness either reopens with exactly the state it acknowledged or refuses with a clear
// error, and never comes up smaller and then cosigns a fork (which every case tries).
//
// The folder is made by test/store/faults-child.ts through the real witness core and LevelStore:
// two logs, 30 acknowledged checkpoints each, split-view evidence, a suspect record, compactions
// (so CURRENT, MANIFEST-*, *.log, *.ldb, LOCK exist: asserted), the high-water journal and the
// p2p identity key. Two starting points: a clean stop, and a SIGKILL mid-load. Damage kinds:
// flipped bytes at several offsets, truncation at several lengths, deletion, emptying, and the
// file of an older copy of the folder. A fast sample runs in `npm test`; the full matrix with
// `npm run test:faults` (GOSSIP_WITNESS_FAULTS=full), which prints the table for BENCHMARKS.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelStore } from '../../src/store/level.js';
import { loadOrCreatePeerKey } from '../../src/gossip/host.js';
import { Witness } from '../../src/witness/witness.js';
import { formatAddCheckpointBody } from '../../src/witness/request.js';
import { cosigner } from '../../src/note/index.js';
import { equalBytes } from '../../src/util/bytes.js';
import { HIGHWATER_FILE } from '../../src/store/highwater.js';
import { FAULT_ORIGINS, faultLogs, faultWitnessKey, identityFile, registryOf } from './faults-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FULL = process.env.GOSSIP_WITNESS_FAULTS === 'full';
const DEADLINE_MS = 60_000;
const enc = (s: string) => new TextEncoder().encode(s);

// ---- the child ----

interface ChildRun {
  child: ChildProcess;
  acked: Map<string, bigint>;
  total: () => number;
  waitFor(pred: () => boolean, what: string): Promise<void>;
  exited: Promise<number | null>;
}

function startChild(dir: string, limit: string): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/faults-child.ts', dir, limit], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, bigint>();
  let acks = 0;
  let buf = '';
  let err = '';
  let done = false;
  const checks = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const [kind, origin, size] = buf.slice(0, nl).split(' ');
      buf = buf.slice(nl + 1);
      if (kind === 'ack') {
        acked.set(origin, BigInt(size));
        acks++;
      }
    }
    for (const c of [...checks]) c();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      done = true;
      for (const c of [...checks]) c();
      r(code);
    }),
  );
  return {
    child,
    acked,
    total: () => acks,
    exited,
    waitFor(pred, what) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; stderr: ${err}`)), DEADLINE_MS);
        const check = () => {
          if (pred()) finish();
          else if (done) finish(new Error(`child exited before ${what}; stderr: ${err}`));
        };
        const finish = (e?: Error) => {
          clearTimeout(timer);
          checks.delete(check);
          if (e) reject(e);
          else resolve();
        };
        checks.add(check);
        check();
      });
    },
  };
}

// ---- damage ----

/** flip: XOR the byte at `at` with `mask` (0x01: one bit, often still valid text; 0xff: the whole byte). */
type Damage = { kind: 'flip'; at: number; mask: number } | { kind: 'truncate'; at: number } | { kind: 'delete' | 'empty' | 'older' };

const fraction = (len: number, fs: number[]) => [...new Set(fs.map((f) => Math.floor(len * f)))];

function damagesFor(len: number, hasOlder: boolean): Damage[] {
  const flips = len === 0 ? [] : FULL ? [...fraction(len, [0, 0.25, 0.5, 0.75]), len - 1] : fraction(len, [0.5]);
  const truncs = len < 2 ? [] : FULL ? [...fraction(len, [0.25, 0.5, 0.75]), len - 1].filter((n) => n > 0) : fraction(len, [0.5]);
  const masks = FULL ? [0x01, 0xff] : [0x01];
  const out: Damage[] = [...new Set(flips)].flatMap((at) => masks.map((mask) => ({ kind: 'flip' as const, at, mask })));
  out.push(...[...new Set(truncs)].map((at) => ({ kind: 'truncate' as const, at })));
  out.push({ kind: 'delete' });
  if (len > 0) out.push({ kind: 'empty' });
  if (hasOlder) out.push({ kind: 'older' });
  return out;
}

/** The file type a name belongs to (older copies are matched by type: file numbers differ). */
function typeOf(name: string): string {
  if (name === HIGHWATER_FILE) return 'journal';
  if (name === 'p2p-identity.key') return 'identity key';
  if (name.startsWith('MANIFEST-')) return 'MANIFEST-*';
  const m = /\.(log|ldb|sst)$/.exec(name);
  return m ? `*.${m[1]}` : name;
}

async function applyDamage(file: string, d: Damage, olderFile: string | undefined): Promise<void> {
  switch (d.kind) {
    case 'flip': {
      const b = await readFile(file);
      b[d.at] ^= d.mask;
      await writeFile(file, b);
      return;
    }
    case 'truncate':
      return truncate(file, d.at);
    case 'delete':
      return unlink(file);
    case 'empty':
      return truncate(file, 0);
    case 'older':
      await writeFile(file, await readFile(olderFile!));
  }
}

// ---- the check after a reopen ----

type Outcome = 'exact' | 'refused' | 'rollback' | 'unclear-error';

interface CaseResult {
  mode: string;
  file: string;
  type: string;
  damage: string;
  outcome: Outcome;
  detail: string;
  /** Evidence records missing after an 'exact' reopen: 'reported' (integrityWarnings) or 'silent'. */
  evidenceLoss?: 'reported' | 'silent';
}

/** A refusal is clear when it names the folder or the file and is not a programming error. */
function refusal(e: unknown, dir: string): { outcome: Outcome; detail: string } {
  const msg = (e as Error)?.message ?? String(e);
  const clear = !(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) && msg.includes(dir);
  return { outcome: clear ? 'refused' : 'unclear-error', detail: msg.slice(0, 300) };
}

/**
 * Reopens dir and classifies it. acked: per log the acknowledged size; mayBeAhead: after a
 * SIGKILL one more (never acknowledged) state may be stored. Every case then tries to get a fork
 * cosigned at the acknowledged size: a success is a silent rollback.
 */
async function reopen(dir: string, acked: Map<string, bigint>, mayBeAhead: boolean, evidence = 0): Promise<{ outcome: Outcome; detail: string; evidenceLoss?: 'reported' | 'silent' }> {
  let store: LevelStore;
  try {
    store = await LevelStore.open(dir);
  } catch (e) {
    return refusal(e, dir);
  }
  try {
    try {
      await loadOrCreatePeerKey(identityFile(dir));
    } catch (e) {
      return refusal(e, dir);
    }
    // Evidence is not signing state: a lost record must be reported, never silent.
    let stored = 0;
    await store.listEvidence().then(
      (l) => (stored = l.length),
      () => {}, // a record that does not decode: it must be in integrityWarnings
    );
    const evidenceLoss = stored >= evidence ? undefined : store.integrityWarnings().length > 0 ? ('reported' as const) : ('silent' as const);
    const logs = faultLogs();
    const witness = new Witness({ store, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
    let exact = true;
    const sizes: string[] = [];
    for (const log of logs) {
      const want = acked.get(log.origin)!;
      log.append(Number(want) + 1);
      const s = await store.getState(log.origin);
      const size = s?.size ?? 0n;
      sizes.push(`${log.origin}=${size}`);
      const ok = s !== undefined && (size === want || (mayBeAhead && size === want + 1n)) && equalBytes(s.root, log.tree.root(size));
      if (!ok) exact = false;
      // Try to get a fork cosigned at the acknowledged size, consistent with what is stored.
      const r =
        size < want
          ? await (async () => {
              const fork = log.fork(size).append(Number(want - size), 'evil');
              return witness.addCheckpoint(enc(formatAddCheckpointBody(size, size === 0n ? [] : fork.tree.consistencyProof(size, want), fork.checkpoint(want))));
            })()
          : await witness.addCheckpoint(enc(formatAddCheckpointBody(size, [], log.fork(size - 1n).append(1, 'evil').checkpoint(size))));
      if (r.kind === 'cosigned') return { outcome: 'rollback', detail: `cosigned a fork of ${log.origin} at ${want} (stored ${size})` };
    }
    return exact ? { outcome: 'exact', detail: sizes.join(' '), ...(evidenceLoss ? { evidenceLoss } : {}) } : { outcome: 'rollback', detail: `opened at ${sizes.join(' ')} (no fork cosigned)` };
  } finally {
    await store.close();
  }
}

// ---- the suite ----

describe(`fault injection on the data folder (${FULL ? 'full matrix' : 'fast sample'})`, () => {
  let work: string;
  const bases: { mode: string; dir: string; acked: Map<string, bigint>; mayBeAhead: boolean; evidence: number }[] = [];
  let older: string;
  const children: ChildProcess[] = [];
  const results: CaseResult[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'gossip-witness-faults-'));
    older = join(work, 'older');
    const first = startChild(older, '30');
    children.push(first.child);
    expect(await first.exited).toBe(0);
    const olderAcked = new Map(first.acked);
    // Clean stop after 30 acknowledged checkpoints per log.
    const clean = join(work, 'clean');
    await cp(older, clean, { recursive: true });
    const second = startChild(clean, '60');
    children.push(second.child);
    expect(await second.exited).toBe(0);
    bases.push({ mode: 'clean stop', dir: clean, acked: new Map(second.acked), mayBeAhead: false, evidence: 1 });
    // SIGKILL mid-load: well past a compaction, writes in flight.
    const killed = join(work, 'killed');
    await cp(older, killed, { recursive: true });
    const third = startChild(killed, 'forever');
    children.push(third.child);
    await third.waitFor(() => third.total() >= 37, '37 acks');
    third.child.kill('SIGKILL');
    await third.exited;
    const acked = new Map([...olderAcked].map(([o, s]) => [o, third.acked.get(o) ?? s]));
    bases.push({ mode: 'kill -9 mid-load', dir: killed, acked, mayBeAhead: true, evidence: 1 });
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (results.length > 0) process.stdout.write(matrix(results));
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('every file type exists in both folders before any damage', async () => {
    for (const b of bases) {
      const types = new Set((await readdir(b.dir)).map(typeOf));
      for (const t of ['CURRENT', 'MANIFEST-*', '*.log', '*.ldb', 'LOCK', 'journal', 'identity key']) expect(types.has(t), `${t} in ${b.mode}`).toBe(true);
      // Undamaged, each folder reopens with exactly what was acknowledged.
      const copy = join(work, `undamaged-${bases.indexOf(b)}`);
      await cp(b.dir, copy, { recursive: true });
      const r = await reopen(copy, b.acked, b.mayBeAhead, b.evidence);
      expect(r).toMatchObject({ outcome: 'exact' });
      expect(r.evidenceLoss).toBeUndefined();
    }
  });

  it('every damage to every file: the exact acknowledged state or a clear refusal, never a rollback', { timeout: FULL ? 1_200_000 : 60_000 }, async () => {
    const olderNames = await readdir(older);
    let n = 0;
    for (const b of bases) {
      for (const name of (await readdir(b.dir)).sort()) {
        const type = typeOf(name);
        const olderName = olderNames.filter((o) => typeOf(o) === type).sort().pop();
        const len = (await stat(join(b.dir, name))).size;
        for (const d of damagesFor(len, olderName !== undefined)) {
          const dir = join(work, `case-${n++}`);
          await cp(b.dir, dir, { recursive: true });
          await applyDamage(join(dir, name), d, olderName && join(older, olderName));
          const r = await reopen(dir, b.acked, b.mayBeAhead, b.evidence);
          results.push({ mode: b.mode, file: name, type, damage: d.kind === 'flip' ? `flip@${d.at}^${d.mask}` : d.kind === 'truncate' ? `truncate@${d.at}` : d.kind, ...r });
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
    const bad = results.filter((r) => r.outcome === 'rollback' || r.outcome === 'unclear-error' || r.evidenceLoss === 'silent');
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(results.length).toBeGreaterThan(FULL ? 150 : 40);
  });

  it('an older copy of the database restored beside the newest journal is refused', async () => {
    for (const b of bases) {
      const dir = join(work, `older-db-${bases.indexOf(b)}`);
      await cp(older, dir, { recursive: true });
      await cp(join(b.dir, HIGHWATER_FILE), join(dir, HIGHWATER_FILE));
      const r = await reopen(dir, b.acked, b.mayBeAhead);
      expect(r.outcome, r.detail).toBe('refused');
      expect(r.detail).toMatch(/below the acknowledged size/);
    }
  });

  it('a restored older copy of the whole folder moves forward to a checkpoint it had cosigned', async () => {
    const b = bases[0];
    // What the newest folder holds: the cosigned notes (a client or a peer has them).
    const newest = join(work, 'newest');
    await cp(b.dir, newest, { recursive: true });
    const s = await LevelStore.open(newest);
    const cosigned = await Promise.all(FAULT_ORIGINS.map(async (o) => (await s.getState(o))!));
    await s.close();
    const dir = join(work, 'restored');
    await cp(older, dir, { recursive: true });
    const store = await LevelStore.open(dir);
    try {
      const logs = faultLogs();
      const witness = new Witness({ store, logs: registryOf(logs), cosigners: [cosigner(faultWitnessKey())] });
      for (const [i, log] of logs.entries()) {
        const stored = (await store.getState(log.origin))!.size;
        const want = cosigned[i].size;
        log.append(Number(want));
        expect(stored).toBeLessThan(want); // locally undetectable: the whole folder is consistently old
        // Someone pushes the newest checkpoint as it circulates: with our cosignature on it.
        const r = await witness.addCheckpoint(enc(formatAddCheckpointBody(stored, log.tree.consistencyProof(stored, want), cosigned[i].cosigned)));
        expect(r).toMatchObject({ kind: 'stale', size: want });
        expect((await store.getState(log.origin))?.size).toBe(want);
        const fork = log.fork(stored).append(Number(want - stored), 'evil');
        const f = await witness.addCheckpoint(enc(formatAddCheckpointBody(stored, fork.tree.consistencyProof(stored, want), fork.checkpoint(want))));
        expect(f.kind).not.toBe('cosigned');
      }
    } finally {
      await store.close();
    }
  });
});

/** The outcome table (markdown) for BENCHMARKS.md. */
function matrix(results: CaseResult[]): string {
  const kinds = ['flip', 'truncate', 'delete', 'empty', 'older'];
  const rows = new Map<string, Map<string, number>>();
  const outcomes = new Map<string, Map<Outcome, number>>();
  for (const r of results) {
    const key = `${r.mode} | ${r.type}`;
    const k = r.damage.split('@')[0];
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(k, (rows.get(key)!.get(k) ?? 0) + 1);
    if (!outcomes.has(key)) outcomes.set(key, new Map());
    outcomes.get(key)!.set(r.outcome, (outcomes.get(key)!.get(r.outcome) ?? 0) + 1);
  }
  let out = `\n| start | file | ${kinds.join(' | ')} | cases | exact state | refused | rollback / unclear | evidence loss (reported / silent) |\n|---|---|${kinds.map(() => '---:').join('|')}|---:|---:|---:|---:|---:|\n`;
  const loss = (rs: CaseResult[]) => `${rs.filter((r) => r.evidenceLoss === 'reported').length} / ${rs.filter((r) => r.evidenceLoss === 'silent').length}`;
  for (const [key, counts] of rows) {
    const o = outcomes.get(key)!;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    out += `| ${key} | ${kinds.map((k) => counts.get(k) ?? 0).join(' | ')} | ${total} | ${o.get('exact') ?? 0} | ${o.get('refused') ?? 0} | ${(o.get('rollback') ?? 0) + (o.get('unclear-error') ?? 0)} | ${loss(results.filter((r) => `${r.mode} | ${r.type}` === key))} |\n`;
  }
  const sum = (oc: Outcome) => results.filter((r) => r.outcome === oc).length;
  out += `| **all** | | ${kinds.map((k) => results.filter((r) => r.damage.split('@')[0] === k).length).join(' | ')} | ${results.length} | ${sum('exact')} | ${sum('refused')} | ${sum('rollback') + sum('unclear-error')} | ${loss(results)} |\n`;
  if (process.env.GOSSIP_WITNESS_FAULTS_DETAIL) for (const r of results) out += `${r.mode}\t${r.file}\t${r.damage}\t${r.outcome}${r.evidenceLoss ? ` (evidence loss ${r.evidenceLoss})` : ''}\t${r.detail}\n`;
  return out;
}
