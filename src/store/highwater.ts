// The high-water journal: a checksummed record of every acknowledged state, kept OUTSIDE
// LevelDB's files (issue 13 §1). LevelDB skips damaged log records silently and classic-level has
// no paranoid checks, and a record inside LevelDB's own batch lands in the same *.log file and is
// lost with the state; so what was acknowledged is also written here, and on open LevelDB must
// hold at least all of it.
//
// File <data>/gossip-witness.highwater (LevelDB ignores files it does not know):
//
//   "gossip-witness/highwater/v1\n"                       header
//   record*                                               appended, never rewritten in place
//   record = u32be(n) || payload (n bytes, UTF-8 JSON) || SHA-256(header || u32be(n) || payload)
//   payload = {"seq":<int>,"snapshot":<bool>,"logs":{"<origin>":{"size":"<dec>","root":"<b64>","ts":<int|null>}},
//              "evidence":["<id>",…]}   (evidence ids stored by the group; optional)
//
// The first record is a snapshot (every log); each later one holds the logs one group commit
// changed, with seq one more than the previous record. seq is also written, in the same LevelDB
// batch as the states, under m!hwseq: both sides name the last group they hold. ts is the largest
// cosignature timestamp (cosignature/v1 or ML-DSA-44 subtree/v1; Unix seconds) in the stored cosigned notes of that log.
//
// Order (src/store/level.ts): the LevelDB batch syncs first, then ONE write() of the record on a
// descriptor opened O_DSYNC (durable when write() returns, as write + fdatasync, in one
// thread-pool round trip instead of two; without O_DSYNC, e.g. Windows: write() then fdatasync()),
// and only then do the writers' promises resolve: no cosignature leaves before both are durable.
// So after a crash LevelDB may be AHEAD of the journal by exactly one group (whose cosignatures
// never left), never behind it. The journal is rewritten as one snapshot on every
// open (temp file, fsync, rename, fsync of the directory), which also bounds its size.
import { sameSizeOtherRoot } from '../checkpoint/checkpoint.js';
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64, encodeBase64, readU64be } from '../util/bytes.js';
import type { LogState } from '../witness/store.js';
import { GossipWitnessError } from '../errors.js';

export const HIGHWATER_FILE = 'gossip-witness.highwater';
const HEADER = Buffer.from('gossip-witness/highwater/v1\n', 'utf8');
const MAX_PAYLOAD = 64 * 1024 * 1024;
const HASH_LEN = 32;
const DECIMAL_RE = /^(?:0|[1-9][0-9]*)$/;

export const highwaterPath = (dir: string) => join(dir, HIGHWATER_FILE);

// Synchronized I/O data integrity on every append's write() (Linux, macOS, BSDs); undefined on Windows.
const O_DSYNC: number | undefined = fsConstants.O_DSYNC;

/** What the journal says was acknowledged for one log. */
export interface HighwaterEntry {
  readonly size: bigint;
  readonly root: Uint8Array;
  /** Largest cosignature timestamp signed for this log (Unix seconds), if known. */
  readonly ts: number | undefined;
}

export interface HighwaterRead {
  /** seq of the last complete record. */
  readonly seq: number;
  readonly logs: Map<string, HighwaterEntry>;
  /** Ids of every evidence record acknowledged. */
  readonly evidence: Set<string>;
  readonly records: number;
  /** Set when the file ends inside a record (see tornTailIsSafe in level.ts). */
  readonly tornTail?: string;
}

/** The journal is missing, damaged or disagrees with the store. */
export class HighwaterError extends GossipWitnessError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super({ code: 'STORE_DAMAGED', message: `high-water journal ${file}: ${detail}` });
    this.name = 'HighwaterError';
  }
}

// ---- timestamps ----

/** Decoded own-line lengths: key ID (4) || u64 timestamp || Ed25519 (64) or ML-DSA-44 (2420) signature. */
const OWN_LINE_COSIG_V1 = 4 + 8 + 64;
const OWN_LINE_MLDSA44 = 4 + 8 + 2420;

/**
 * The largest cosignature timestamp among the witness's own lines of a stored state (the lines
 * of `cosigned` after `note`): base64 of keyID(4) || u64be timestamp || signature, where the
 * signature is Ed25519 (64 bytes, cosignature/v1) or ML-DSA-44 (2420 bytes, subtree/v1).
 */
export function cosignedTimestamp(s: Pick<LogState, 'note' | 'cosigned'>): number | undefined {
  if (!s.cosigned.startsWith(s.note)) return undefined;
  let max: number | undefined;
  for (const line of s.cosigned.slice(s.note.length).split('\n')) {
    const m = /^\u2014 \S+ (\S+)$/.exec(line);
    const raw = m ? decodeBase64(m[1]) : null;
    if (!raw || (raw.length !== OWN_LINE_COSIG_V1 && raw.length !== OWN_LINE_MLDSA44)) continue;
    const t = readU64be(raw, 4);
    if (t > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    max = Math.max(max ?? 0, Number(t));
  }
  return max;
}

export function entryOf(s: LogState, prev?: HighwaterEntry): HighwaterEntry {
  const t = cosignedTimestamp(s);
  const ts = t === undefined ? prev?.ts : Math.max(t, prev?.ts ?? 0);
  return { size: s.size, root: s.root, ts };
}

// ---- encoding ----

function checksum(len: Buffer, payload: Buffer): Buffer {
  return createHash('sha256').update(HEADER).update(len).update(payload).digest();
}

export function encodeRecord(seq: number, snapshot: boolean, logs: Iterable<[string, HighwaterEntry]>, evidence: Iterable<string> = []): Buffer {
  const o: Record<string, { size: string; root: string; ts: number | null }> = {};
  for (const [origin, e] of logs) o[origin] = { size: e.size.toString(), root: encodeBase64(e.root), ts: e.ts ?? null };
  const ids = [...evidence];
  const payload = Buffer.from(JSON.stringify({ seq, snapshot, logs: o, ...(ids.length > 0 ? { evidence: ids } : {}) }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([len, payload, checksum(len, payload)]);
}

// ---- decoding ----

interface Payload {
  seq: number;
  snapshot: boolean;
  logs: Map<string, HighwaterEntry>;
  evidence: string[];
}

function decodePayload(fail: (d: string) => never, payload: Buffer): Payload {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    fail('a record with a valid checksum is not JSON');
  }
  const o = v as { seq?: unknown; snapshot?: unknown; logs?: unknown; evidence?: unknown };
  if (typeof o !== 'object' || o === null || !Number.isSafeInteger(o.seq) || (o.seq as number) < 0 || typeof o.snapshot !== 'boolean') fail('malformed record');
  if (typeof o.logs !== 'object' || o.logs === null || Array.isArray(o.logs)) fail('malformed record (logs)');
  const logs = new Map<string, HighwaterEntry>();
  for (const [origin, raw] of Object.entries(o.logs as Record<string, unknown>)) {
    const e = raw as { size?: unknown; root?: unknown; ts?: unknown };
    const root = typeof e?.root === 'string' ? decodeBase64(e.root) : null;
    if (typeof e?.size !== 'string' || !DECIMAL_RE.test(e.size) || root === null) fail(`malformed entry for ${JSON.stringify(origin)}`);
    if (e.ts !== null && (!Number.isSafeInteger(e.ts) || (e.ts as number) < 0)) fail(`malformed timestamp for ${JSON.stringify(origin)}`);
    logs.set(origin, { size: BigInt(e.size), root: new Uint8Array(root), ts: (e.ts as number | null) ?? undefined });
  }
  const evidence = o.evidence ?? [];
  if (!Array.isArray(evidence) || !evidence.every((id) => typeof id === 'string')) fail('malformed record (evidence)');
  return { seq: o.seq as number, snapshot: o.snapshot, logs, evidence: evidence as string[] };
}

/** Applies one record; the journal itself must never record a rollback. */
function apply(fail: (d: string) => never, logs: Map<string, HighwaterEntry>, p: Payload): void {
  for (const [origin, e] of p.logs) {
    const prev = logs.get(origin);
    if (prev && (e.size < prev.size || sameSizeOtherRoot(e, prev))) fail(`record ${p.seq} moves ${JSON.stringify(origin)} backward or sideways`);
    logs.set(origin, { ...e, ts: Math.max(e.ts ?? 0, prev?.ts ?? 0) || undefined });
  }
}

/** Parses a journal; throws HighwaterError on any damage except a torn final record (reported). */
export function parseHighwater(file: string, buf: Buffer): HighwaterRead {
  const fail = (d: string): never => {
    throw new HighwaterError(file, `damaged: ${d}`);
  };
  if (buf.length < HEADER.length || !buf.subarray(0, HEADER.length).equals(HEADER)) fail(buf.length === 0 ? 'the file is empty' : 'bad header');
  const logs = new Map<string, HighwaterEntry>();
  const evidence = new Set<string>();
  let off = HEADER.length;
  let seq = -1;
  let records = 0;
  while (off < buf.length) {
    if (buf.length - off < 4) return done(`the file ends inside the length of a record at offset ${off}`);
    const n = buf.readUInt32BE(off);
    if (n === 0 || n > MAX_PAYLOAD) fail(`impossible record length ${n} at offset ${off}`);
    if (buf.length - off < 4 + n + HASH_LEN) return done(`the file ends inside a record of ${n} bytes at offset ${off}`);
    const len = buf.subarray(off, off + 4);
    const payload = buf.subarray(off + 4, off + 4 + n);
    if (!checksum(len, payload).equals(buf.subarray(off + 4 + n, off + 4 + n + HASH_LEN))) fail(`checksum mismatch in the record at offset ${off}`);
    const p = decodePayload(fail, payload);
    if (records === 0 && !p.snapshot) fail('the first record is not a snapshot');
    if (records > 0 && (p.snapshot || p.seq !== seq + 1)) fail(`record at offset ${off} has seq ${p.seq} after ${seq}`);
    apply(fail, logs, p);
    for (const id of p.evidence) evidence.add(id);
    seq = p.seq;
    records++;
    off += 4 + n + HASH_LEN;
  }
  return done(undefined);

  function done(tornTail: string | undefined): HighwaterRead {
    if (records === 0) fail(tornTail ? `no complete record (${tornTail})` : 'no records');
    return { seq, logs, evidence, records, ...(tornTail ? { tornTail } : {}) };
  }
}

export async function readHighwater(dir: string): Promise<HighwaterRead | undefined> {
  const file = highwaterPath(dir);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HighwaterError(file, `cannot be read: ${(e as Error).message}`);
  }
  return parseHighwater(file, buf);
}

// ---- writing ----

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The open journal: appends one record per group commit. */
export class HighwaterJournal {
  /** Bytes appended since the last rewrite (the owner rewrites the journal when it grows large). */
  appended = 0;

  private constructor(
    private fh: FileHandle | undefined,
    readonly file: string,
    /** Opened O_DSYNC: a returned write() is durable, no separate fdatasync(). */
    readonly dsync: boolean,
  ) {}

  /** Replaces the journal by one snapshot record (temp file, fsync, rename, fsync dir) and opens it for appending. */
  static async rewrite(dir: string, seq: number, logs: Map<string, HighwaterEntry>, evidence: Iterable<string> = []): Promise<HighwaterJournal> {
    const file = highwaterPath(dir);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(Buffer.concat([HEADER, encodeRecord(seq, true, logs, evidence)]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    await fsyncDir(dir);
    if (O_DSYNC !== undefined) {
      const flags = fsConstants.O_WRONLY | fsConstants.O_APPEND | O_DSYNC;
      return new HighwaterJournal(await open(file, flags), file, true);
    }
    return new HighwaterJournal(await open(file, 'a'), file, false);
  }

  /** ONE write() of the record (O_DSYNC; else then fdatasync()): resolves once the record is durable. */
  async append(seq: number, logs: Map<string, HighwaterEntry>, evidence: readonly string[] = []): Promise<void> {
    if (!this.fh) throw new Error(`high-water journal ${this.file} is closed`);
    const rec = encodeRecord(seq, false, logs, evidence);
    const { bytesWritten } = await this.fh.write(rec);
    if (bytesWritten !== rec.length) throw new Error(`short write to ${this.file} (${bytesWritten} of ${rec.length} bytes)`);
    if (!this.dsync) await this.fh.datasync();
    this.appended += rec.length;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}

/** Removes a leftover temp file of an interrupted rewrite (the rename never happened). */
export async function removeStaleTemp(dir: string): Promise<void> {
  await unlink(`${highwaterPath(dir)}.tmp`).catch(() => {});
}
