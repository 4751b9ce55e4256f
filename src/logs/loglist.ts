// The witness-network log list, format `logs/v0` (transparency-dev/witness-network
// log-list-format.md; parser: transparency-dev/witness config/public_witness_network.go):
//
//   # comment
//   logs/v0
//   vkey <vkey>            starts a log entry
//   origin <origin>        optional, defaults to the vkey's key name
//   qpd <decimal>          optional, in [1, 2^31): add-checkpoint requests per day
//   contact <free text>    optional
//
// The optional lines follow their entry's `vkey` line in this order. Lines are trimmed; blank
// lines and lines starting with "#" are ignored. Only Ed25519 (0x01) vkeys are allowed.
// An optional `revision <decimal>` line right after the header (older drafts of the format) is
// accepted and returned.
import { parseVkey, quoteInput, type Verifier } from '../note/keys.js';
import { ED25519 } from '../note/sigtypes/ed25519.js';
import { GossipWitnessError } from '../errors.js';

export interface LogListEntry {
  readonly vkey: string;
  readonly origin: string;
  readonly qpd?: number;
  readonly contact?: string;
  /** The parsed vkey. */
  readonly verifier: Verifier;
  /** 1-based line number of the entry's vkey line. */
  readonly line: number;
}

export interface LogList {
  readonly revision?: number;
  readonly entries: LogListEntry[];
}

export class LogListError extends GossipWitnessError {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super({ code: 'BAD_INPUT', message: line > 0 ? `line ${line}: ${message}` : message });
    this.name = 'LogListError';
  }
}

export const LOG_LIST_HEADER = 'logs/v0';
/** qpd must be in [1, 2^31). */
export const MAX_QPD = 2 ** 31 - 1;

const ORDER = ['vkey', 'origin', 'qpd', 'contact'] as const;
type Keyword = (typeof ORDER)[number];

/** Parses a logs/v0 list. Throws LogListError naming the line. */
export function parseLogList(text: string): LogList {
  const lines = text.split('\n');
  let header = false;
  let revision: number | undefined;
  let sawEntryOrRevision = false;
  const entries: LogListEntry[] = [];
  let cur: { vkey: string; verifier: Verifier; origin?: string; qpd?: number; contact?: string; line: number; last: Keyword } | undefined;

  const flush = () => {
    if (cur) entries.push({ vkey: cur.vkey, origin: cur.origin ?? cur.verifier.name, qpd: cur.qpd, contact: cur.contact, verifier: cur.verifier, line: cur.line });
    cur = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!header) {
      if (line !== LOG_LIST_HEADER) throw new LogListError(n, `the first line must be "${LOG_LIST_HEADER}", got ${quoteInput(line, 60)}`);
      header = true;
      continue;
    }
    const sp = line.search(/\s/);
    const keyword = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (keyword === LOG_LIST_HEADER) throw new LogListError(n, `duplicate "${LOG_LIST_HEADER}" header`);
    if (keyword === 'revision') {
      if (sawEntryOrRevision) throw new LogListError(n, '"revision" must directly follow the header');
      if (!/^(0|[1-9][0-9]{0,15})$/.test(arg)) throw new LogListError(n, `bad revision ${JSON.stringify(arg)}`);
      revision = Number(arg);
      sawEntryOrRevision = true;
      continue;
    }
    if (!(ORDER as readonly string[]).includes(keyword)) throw new LogListError(n, `unknown keyword ${quoteInput(keyword, 40)}`);
    const kw = keyword as Keyword;
    if (arg === '') throw new LogListError(n, `"${kw}" needs a value`);
    if (kw === 'vkey') {
      flush();
      sawEntryOrRevision = true;
      let verifier: Verifier;
      try {
        verifier = parseVkey(arg);
      } catch (e) {
        throw new LogListError(n, (e as Error).message);
      }
      if (verifier.type !== ED25519) {
        throw new LogListError(n, `only Ed25519 (0x01) vkeys are allowed, this one has type 0x${verifier.type.toString(16).padStart(2, '0')}`);
      }
      cur = { vkey: arg, verifier, line: n, last: 'vkey' };
      continue;
    }
    if (!cur) throw new LogListError(n, `"${kw}" before any "vkey" line`);
    if (ORDER.indexOf(kw) <= ORDER.indexOf(cur.last)) {
      throw new LogListError(n, `"${kw}" out of order or repeated (per log: vkey, then optional origin, qpd, contact in that order)`);
    }
    cur.last = kw;
    if (kw === 'origin') {
      cur.origin = arg;
    } else if (kw === 'qpd') {
      if (!/^[1-9][0-9]{0,9}$/.test(arg) || Number(arg) > MAX_QPD) throw new LogListError(n, `qpd must be an integer in [1, 2^31), got ${quoteInput(arg, 40)}`);
      cur.qpd = Number(arg);
    } else {
      cur.contact = arg;
    }
  }
  if (!header) throw new LogListError(0, `not a log list: no "${LOG_LIST_HEADER}" header`);
  flush();
  return { revision, entries };
}

export interface MergedListLog {
  readonly origin: string;
  /** Distinct vkeys (by key material and name), in order of appearance. */
  readonly verifiers: Verifier[];
  readonly qpd?: number;
  readonly contact?: string;
}

/**
 * Groups entries by origin. Several entries for one origin (e.g. a log rotating its key) merge
 * into one log trusting all their vkeys; the first qpd and contact given win.
 */
export function mergeLogList(entries: readonly LogListEntry[]): MergedListLog[] {
  const byOrigin = new Map<string, { origin: string; verifiers: Verifier[]; seen: Set<string>; qpd?: number; contact?: string }>();
  for (const e of entries) {
    let m = byOrigin.get(e.origin);
    if (!m) byOrigin.set(e.origin, (m = { origin: e.origin, verifiers: [], seen: new Set() }));
    if (!m.seen.has(e.verifier.vkey)) {
      m.seen.add(e.verifier.vkey);
      m.verifiers.push(e.verifier);
    }
    m.qpd ??= e.qpd;
    m.contact ??= e.contact;
  }
  return [...byOrigin.values()].map(({ origin, verifiers, qpd, contact }) => ({ origin, verifiers, qpd, contact }));
}

/** Formats entries back into logs/v0 text (used for the registry's on-disk cache). */
export function formatLogList(logs: readonly MergedListLog[]): string {
  let out = `${LOG_LIST_HEADER}\n`;
  for (const l of logs) {
    for (const v of l.verifiers) {
      out += `\nvkey ${v.vkey}\n`;
      if (l.origin !== v.name) out += `origin ${l.origin}\n`;
      if (l.qpd !== undefined) out += `qpd ${l.qpd}\n`;
      if (l.contact !== undefined) out += `contact ${l.contact}\n`;
    }
  }
  return out;
}
