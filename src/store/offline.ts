// Offline tools for a STOPPED witness's data folder (issue 13 §1): `gossip-witness store verify`
// and `gossip-witness store import` (src/cli/store.ts). See docs/operator-guide.md, "When things break".
import { existsSync, statSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNote, parseNote, formatSignatureLine } from '../note/note.js';
import type { Verifier } from '../note/keys.js';
import { parseCheckpoint } from '../checkpoint/checkpoint.js';
import type { LogRegistry } from '../witness/witness.js';
import type { LogState } from '../witness/store.js';
import { LevelStore } from './level.js';
import { StoreDamagedError, inspectDir } from './integrity.js';
import { GossipWitnessError } from '../errors.js';

export interface VerifyOptions {
  /** The configured logs: each stored note's log signature is verified with their keys. */
  logs?: LogRegistry;
  /** This witness's cosignature/v1 keys: each stored cosigned note must carry one valid line. */
  ownKeys?: readonly Verifier[];
  /** Checks the p2p identity key (src/gossip/host.ts); given by the CLI (it loads libp2p's crypto). */
  checkIdentity?: (file: string) => Promise<void>;
}

export interface VerifyReport {
  readonly sound: boolean;
  /** Every problem found (empty when sound). */
  readonly problems: string[];
  /** One line: what the folder holds. */
  readonly summary: string;
}

/**
 * Checks a data folder without changing it: LevelDB rewrites files when it opens (it replays
 * its log), so the checks run on a copy. The witness must be stopped (a copy of a folder in use
 * may be torn). Runs every check of LevelStore.open, then reads every evidence and suspect
 * record, verifies log signatures and own cosignatures when given the keys, and the identity key.
 */
export async function verifyDataDir(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  if (!existsSync(dir)) return { sound: false, problems: [`data directory ${dir} does not exist`], summary: '' };
  if (!statSync(dir).isDirectory()) return { sound: false, problems: [`data directory ${dir} is not a directory`], summary: '' };
  if ((await inspectDir(dir)).fresh) return { sound: false, problems: [`data directory ${dir} holds no witness store`], summary: '' };
  const tmp = await mkdtemp(join(tmpdir(), 'gossip-witness-verify-'));
  const copy = join(tmp, 'data');
  const fix = (s: string) => s.split(copy).join(dir);
  try {
    try {
      await cp(dir, copy, { recursive: true });
    } catch (e) {
      // A full or unwritable TMPDIR, an unreadable file: a reason, not a crash.
      return { sound: false, problems: [`cannot copy ${dir} to check it: ${fix((e as Error).message)}`], summary: '' };
    }
    let store: LevelStore;
    try {
      store = await LevelStore.open(copy);
    } catch (e) {
      return { sound: false, problems: e instanceof StoreDamagedError ? e.problems.map(fix) : [fix((e as Error).message)], summary: '' };
    }
    try {
      const problems: string[] = [...store.integrityWarnings()];
      const summary = await checkContents(store, opts, problems);
      const id = join(copy, 'p2p-identity.key');
      if (opts.checkIdentity && existsSync(id)) await opts.checkIdentity(id).catch((e: Error) => problems.push(fix(e.message)));
      return { sound: problems.length === 0, problems: problems.map(fix), summary: `data directory ${dir}: ${summary}` };
    } finally {
      await store.close();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function checkContents(store: LevelStore, opts: VerifyOptions, problems: string[]): Promise<string> {
  const origins = await store.origins();
  for (const origin of origins) {
    const st = (await store.getState(origin))!;
    const log = opts.logs?.get(origin);
    if (log) {
      try {
        openNote(st.note, log.verifiers);
      } catch (e) {
        problems.push(`log ${JSON.stringify(origin)}: the stored note's log signature does not verify with the configured keys (${(e as Error).message})`);
      }
    }
    if (opts.ownKeys && opts.ownKeys.length > 0) {
      try {
        openNote(st.cosigned, opts.ownKeys);
      } catch (e) {
        problems.push(`log ${JSON.stringify(origin)}: the stored cosigned note has no valid cosignature by this witness's keys (${(e as Error).message})`);
      }
    }
  }
  let evidence = 0;
  let suspects = 0;
  await store.listEvidence().then(
    (l) => (evidence = l.length),
    (e: Error) => problems.push(`evidence: ${e.message}`),
  );
  await store.listSuspects().then(
    (l) => (suspects = l.length),
    (e: Error) => problems.push(`suspect records: ${e.message}`),
  );
  const sizes = await Promise.all(origins.slice(0, 5).map(async (o) => `${o}=${(await store.getState(o))!.size}`));
  const more = origins.length > 5 ? `, and ${origins.length - 5} more` : '';
  return `${origins.length} logs (${sizes.join(', ')}${more}), ${evidence} evidence records, ${suspects} suspect records`;
}

/** A checkpoint refused by `store import`. */
export class ImportRefusedError extends GossipWitnessError {
  constructor(message: string) {
    super({ code: 'REFUSED', message });
    this.name = 'ImportRefusedError';
  }
}

/**
 * The state a checkpoint note stands for, if it is log-signed by its configured log AND carries
 * a valid cosignature by one of this witness's own keys (it signed it, so moving forward to it
 * cannot fork). The same rule as Witness.restoreFromOwnCosignature.
 */
export function ownCosignedState(note: string, logs: LogRegistry, ownKeys: readonly Verifier[], now: number): { origin: string; state: LogState } {
  let origin: string;
  try {
    const text = parseNote(note).text;
    origin = text.slice(0, text.indexOf('\n'));
  } catch (e) {
    throw new ImportRefusedError(`not a signed note (${(e as Error).message})`);
  }
  const log = logs.get(origin);
  if (!log) throw new ImportRefusedError(`log ${JSON.stringify(origin)} is not configured`);
  const attempt = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new ImportRefusedError(`${what} (${(e as Error).message})`);
    }
  };
  const opened = attempt('the log signature does not verify with the configured keys', () => openNote(note, log.verifiers, { verifyRepeatedKnown: true }));
  const cp = attempt('not a checkpoint', () => parseCheckpoint(opened.text));
  if (cp.origin !== origin) throw new ImportRefusedError('not a checkpoint of its own origin');
  const mine = attempt("it carries no valid cosignature by this witness's keys", () => openNote(note, [...ownKeys], { verifyRepeatedKnown: true }));
  const logSigned = opened.text + '\n' + opened.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
  const own = mine.verified.map((s) => formatSignatureLine(s.name, s.keyId, s.sig)).join('');
  return { origin, state: { size: cp.size, root: cp.root, note: logSigned, cosigned: logSigned + own, updatedAt: now } };
}

/**
 * Moves logs forward to checkpoints cosigned by this witness (one group; LevelStore checks that
 * each one is past what LevelDB holds and at least what the journal acknowledged). A folder that
 * does not exist or is empty becomes a new store holding just these states.
 */
export async function importCheckpoints(dir: string, notes: readonly string[], logs: LogRegistry, ownKeys: readonly Verifier[], now = Date.now()): Promise<{ origin: string; size: bigint }[]> {
  const imports = new Map<string, LogState>();
  for (const note of notes) {
    const { origin, state } = ownCosignedState(note, logs, ownKeys, now);
    if (imports.has(origin)) throw new ImportRefusedError(`two checkpoints of log ${JSON.stringify(origin)}`);
    imports.set(origin, state);
  }
  let store: LevelStore;
  try {
    store = await LevelStore.open(dir, { imports });
  } catch (e) {
    if (e instanceof StoreDamagedError) throw new ImportRefusedError(`refused: ${e.problems.join('; ')}`);
    throw e;
  }
  await store.close();
  return [...imports].map(([origin, s]) => ({ origin, size: s.size }));
}
