// Integrity checks of a LevelStore's data directory (issue 13 §1): which directory may be created
// fresh, whether each stored state is a checkpoint note that matches its fields, and whether
// LevelDB holds at least everything the high-water journal says was acknowledged.
import { readdir } from 'node:fs/promises';
import { parseNote } from '../note/note.js';
import { parseCheckpoint, sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import { equalBytes } from '../util/bytes.js';
import type { LogState } from '../witness/store.js';
import { HIGHWATER_FILE, type HighwaterRead } from './highwater.js';
import { GossipWitnessError } from '../errors.js';

/** The way out, named in every refusal (docs/operator-guide.md, "When things break"). */
export const WAY_OUT =
  'the witness refuses to start rather than risk cosigning below what it acknowledged. Do NOT run LevelDB repair and do NOT restore an old backup: ' +
  'move each affected log forward to a checkpoint this witness cosigned (from a peer, a client or the log itself) with ' +
  '`gossip-witness store import --config FILE --checkpoint FILE`, or check the folder with `gossip-witness store verify`; ' +
  'see docs/operator-guide.md, "When things break: a damaged store"';

/** The data directory is damaged or incomplete: every problem found, and the way out. */
export class StoreDamagedError extends GossipWitnessError {
  constructor(
    readonly dir: string,
    readonly problems: string[],
  ) {
    const shown = problems.length > 20 ? [...problems.slice(0, 20), `and ${problems.length - 20} more`] : problems;
    super({ code: 'STORE_DAMAGED', message: `data directory ${dir} is damaged: ${shown.join('; ')}. ${WAY_OUT}` });
    this.name = 'StoreDamagedError';
  }
}

const LEVEL_FILE_RE = /^(?:CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(?:log|ldb|sst))$/;

export interface DirContents {
  /** The directory does not exist, or holds neither LevelDB data files nor a journal: create a new store. */
  readonly fresh: boolean;
  readonly levelFiles: string[];
  readonly hasJournal: boolean;
}

/** Classifies a data directory before anything opens it (opening must not create over damage). */
export async function inspectDir(dir: string): Promise<DirContents> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { fresh: true, levelFiles: [], hasJournal: false };
    throw e;
  }
  const levelFiles = names.filter((n) => LEVEL_FILE_RE.test(n));
  const hasJournal = names.includes(HIGHWATER_FILE);
  // LOCK and LOG alone hold no data (LevelDB stopped while first creating the folder).
  const dataFiles = levelFiles.filter((n) => !/^(?:LOCK|LOG|LOG\.old)$/.test(n));
  return { fresh: dataFiles.length === 0 && !hasJournal, levelFiles, hasJournal };
}

/** Problems that refuse opening a directory before LevelDB is opened. */
export function dirProblems(c: DirContents): string[] {
  if (c.fresh) return [];
  if (!c.levelFiles.some((n) => n !== 'LOCK' && !n.startsWith('LOG'))) return [`it holds a high-water journal (${HIGHWATER_FILE}) but no LevelDB database: the database was deleted or moved`];
  if (!c.levelFiles.includes('CURRENT')) return [`LevelDB's CURRENT file is missing (files present: ${c.levelFiles.join(', ')})`];
  return [];
}

/**
 * A stored state must be the checkpoint note it claims: the note parses, its checkpoint names
 * this origin with the stored size and root, and the cosigned note extends the note.
 */
export function stateProblem(origin: string, s: LogState): string | undefined {
  const where = `log ${JSON.stringify(origin)}`;
  let cp;
  try {
    cp = parseCheckpoint(parseNote(s.note).text);
  } catch (e) {
    return `${where}: the stored note is not a checkpoint note (${(e as Error).message})`;
  }
  if (cp.origin !== origin) return `${where}: the stored note is for ${JSON.stringify(cp.origin)}`;
  if (cp.size !== s.size) return `${where}: the stored note has size ${cp.size}, the record says ${s.size}`;
  if (!equalBytes(cp.root, s.root)) return `${where}: the stored note's root differs from the record's`;
  if (!s.cosigned.startsWith(s.note)) return `${where}: the stored cosigned note does not extend the note`;
  return undefined;
}

/**
 * LevelDB (group dbSeq, states) against the journal (group hw.seq, logs). The journal is
 * appended after LevelDB synced and before anything is acknowledged, so the only legal
 * difference is LevelDB AHEAD by exactly one group (a crash in between: that group's
 * cosignatures never left). LevelDB behind the journal in any way means acknowledged writes
 * were lost: refuse.
 */
export function journalProblems(dbSeq: number, states: ReadonlyMap<string, LogState>, hw: HighwaterRead): string[] {
  const problems: string[] = [];
  const ahead = dbSeq === hw.seq + 1;
  // A torn final record: the crash came during its write() or before its fdatasync() returned,
  // so no writer waiting on it was answered and none of its cosignatures left. Its group was
  // synced to LevelDB first, so LevelDB must be exactly one group ahead; then LevelDB's states
  // (checked below to be ≥ every complete record) are the acknowledged ones. Anywhere else, a
  // short file is damage (e.g. a truncation of older records) and refuses.
  if (hw.tornTail && !ahead) problems.push(`journal: ${hw.tornTail}, and LevelDB does not hold that group (LevelDB group ${dbSeq}, journal group ${hw.seq})`);
  if (dbSeq < hw.seq) problems.push(`LevelDB holds group ${dbSeq} but ${hw.seq} were acknowledged: acknowledged writes are missing from LevelDB`);
  if (dbSeq > hw.seq + 1) problems.push(`the journal ends at group ${hw.seq} but LevelDB holds ${dbSeq}: the journal is an older copy or lost records`);
  for (const [origin, e] of hw.logs) {
    const s = states.get(origin);
    const where = `log ${JSON.stringify(origin)}`;
    if (!s) problems.push(`${where}: acknowledged at size ${e.size}, but LevelDB holds no state`);
    else if (s.size < e.size) problems.push(`${where}: LevelDB holds size ${s.size}, below the acknowledged size ${e.size}`);
    else if (sameSizeOtherRoot(s, e)) problems.push(`${where}: LevelDB holds another tree of the acknowledged size ${e.size}`);
    else if (s.size > e.size && !ahead) problems.push(`${where}: LevelDB holds size ${s.size}, the journal ${e.size}, in the same group`);
  }
  for (const origin of states.keys()) {
    if (!hw.logs.has(origin) && !ahead) problems.push(`log ${JSON.stringify(origin)}: LevelDB holds a state the journal never recorded`);
  }
  return problems;
}
