// The local log's core: branches of entries sequenced into Merkle trees, persisted, and signed
// into checkpoints. Transport-free (the HTTP server, the pusher and the CLI sit on top).
//
// A log normally has one branch, "a". For research and tests it can equivocate: from a fork size
// N on it keeps a second branch "b" that shares the first N entries with "a" and then diverges.
// Each branch is an ordinary, internally consistent log (its own tree, tiles and checkpoints),
// and both are signed with the same key: two views no honest log would ever sign.
//
// Persistence (only with a directory): <dir>/.local-log/entries holds branch a's entries as
// `u16be length || entry` records, appended and fsynced per batch before an index is returned;
// <dir>/.local-log/fork (the fork size, decimal) and <dir>/.local-log/entries-b hold branch b.
// A truncated final record (a crash mid-write) is cut off on load.
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryTree } from '../../merkle/memory-tree.js';
import { formatCheckpoint } from '../../checkpoint/checkpoint.js';
import { signNote } from '../../note/note.js';
import type { Signer } from '../../note/keys.js';

/**
 * The log's signing key: an Ed25519 key (Ed25519SignerKey) or an ML-DSA-44 log signer
 * (MlDsa44Key.logSigner(), signature type 0x06), with the vkey its checkpoints open with.
 */
export type LocalLogKey = Signer & { readonly vkey: string };
import { concatBytes, equalBytes, utf8 } from '../../util/bytes.js';
import { MAX_BUNDLE_ENTRY, TileDirWriter, decodeEntryRecords, encodeEntryRecords, type TileSource } from './tiles.js';
import { GossipWitnessError } from '../../errors.js';

export type BranchName = 'a' | 'b';
/** Where an append goes: one branch, or both (branch b gets the marked copy after the fork). */
export type AppendTarget = BranchName | 'both';

/**
 * Branch b's version of an entry appended to both branches at an index at or after the fork:
 * this marker followed by the entry bytes. Before the fork size both branches get the same bytes.
 */
export const FORK_MARKER = utf8('[branch b] ');
/** Largest entry accepted, so that every entry and its marked copy fit an entry bundle record. */
export const MAX_ENTRY_SIZE = MAX_BUNDLE_ENTRY - FORK_MARKER.length;

export class LocalLogError extends GossipWitnessError {
  /** USAGE for a bad option (URL, key type, origin), REFUSED for an entry refused, UNAVAILABLE once stopped. */
  constructor(message: string, code: 'USAGE' | 'REFUSED' | 'UNAVAILABLE' = 'USAGE') {
    super({ code, message });
    this.name = 'LocalLogError';
  }
}

/** An entry refused for what it is or where it was sent (HTTP 400). */
export class AddRefused extends LocalLogError {
  override name = 'AddRefused';
  constructor(message: string) {
    super(message, 'REFUSED');
  }
}

/** A signed checkpoint of one branch and the witness cosignatures collected on its exact text. */
export interface PublishedCheckpoint {
  readonly branch: BranchName;
  readonly size: bigint;
  readonly root: Uint8Array;
  /** The checkpoint text (origin, size, root lines). */
  readonly text: string;
  /** The note signed by the log only. */
  readonly logNote: string;
  /** Cosignature lines by witness (URL), each ending in "\n". */
  readonly cosignatures: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Append-only entries file

class EntriesFile {
  #fd: number;
  #length: number;

  private constructor(
    readonly path: string,
    fd: number,
    length: number,
  ) {
    this.#fd = fd;
    this.#length = length;
  }

  /** Opens (creating) the file; returns it and the entries it holds, dropping a torn last record. */
  static open(path: string): { file: EntriesFile; entries: Uint8Array[] } {
    const buf = existsSync(path) ? new Uint8Array(readFileSync(path)) : new Uint8Array();
    const { entries, consumed } = decodeEntryRecords(buf);
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+', 0o644);
    if (consumed !== buf.length) {
      ftruncateSync(fd, consumed);
      fsyncSync(fd);
    }
    return { file: new EntriesFile(path, fd, consumed), entries };
  }

  /** Replaces the whole file atomically with these entries, then reopens it for appending. */
  static create(path: string, entries: readonly Uint8Array[]): EntriesFile {
    const tmp = `${path}.tmp-${process.pid}`;
    const data = encodeEntryRecords(entries);
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return new EntriesFile(path, openSync(path, 'r+'), data.length);
  }

  get length(): number {
    return this.#length;
  }

  append(records: Uint8Array): void {
    if (records.length === 0) return;
    let off = 0;
    while (off < records.length) off += writeSync(this.#fd, records, off, records.length - off, this.#length + off);
    fsyncSync(this.#fd);
    this.#length += records.length;
  }

  /** Cuts the file back to `length` bytes (undoing a batch whose other half failed). */
  truncate(length: number): void {
    ftruncateSync(this.#fd, length);
    fsyncSync(this.#fd);
    this.#length = length;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Branches

class Branch {
  readonly tree = new MemoryTree();
  readonly entries: Uint8Array[] = [];
  published: PublishedCheckpoint | undefined;
  file: EntriesFile | undefined;
  dirWriter: TileDirWriter | undefined;

  constructor(readonly name: BranchName) {}

  get size(): bigint {
    return this.tree.size;
  }

  push(entry: Uint8Array): bigint {
    this.entries.push(entry);
    return this.tree.append(entry);
  }

  /** Tiles of this branch at its published size (or the given size, <= the tree size). */
  source(size: bigint = this.published?.size ?? 0n): TileSource {
    const tree = this.tree;
    const entries = this.entries;
    return {
      size,
      node: (level, index) => tree.node(level, index),
      entry: (index) => entries[Number(index)],
    };
  }
}

export interface LocalLogCoreOptions {
  origin: string;
  key: LocalLogKey;
  /** Persist entries here and write the tlog-tiles layout (branch b under <dir>/branch-b). */
  dir?: string;
  /** Fork at this size (also restored from <dir> when it was set before). */
  forkAt?: bigint;
}

export interface SequenceItem {
  entry: Uint8Array;
  target: AppendTarget;
}

/** Where an entry went: its index in each branch it was appended to, or why it was refused. */
export type SequenceResult = { a?: bigint; b?: bigint } | { error: string };

export class LocalLogCore {
  readonly origin: string;
  readonly key: LocalLogKey;
  readonly dir: string | undefined;
  readonly #a = new Branch('a');
  #b: Branch | undefined;
  #forkSize: bigint | undefined;

  constructor(opts: LocalLogCoreOptions) {
    if (opts.origin === '' || opts.origin.includes('\n')) throw new LocalLogError('the origin must be a non-empty single line');
    this.origin = opts.origin;
    this.key = opts.key;
    this.dir = opts.dir;
    try {
      if (this.dir !== undefined) this.#load(this.dir, opts.forkAt);
      else if (opts.forkAt !== undefined) this.forkAt(opts.forkAt);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get forkSize(): bigint | undefined {
    return this.#forkSize;
  }

  branch(name: BranchName): Branch {
    if (name === 'a') return this.#a;
    if (this.#b === undefined) throw new LocalLogError('the log has no branch b (it is not forked)');
    return this.#b;
  }

  /** The branch names that exist: ['a'] or ['a', 'b']. */
  branchNames(): BranchName[] {
    return this.#b ? ['a', 'b'] : ['a'];
  }

  size(name: BranchName = 'a'): bigint {
    return this.branch(name).size;
  }

  /**
   * Starts equivocating at size n: branch b gets a's first n entries, then (when a is already
   * larger) the marked copies of a's later entries. Later appends to both branches keep them
   * apart. Forking again at the same size is a no-op; at another size it is refused.
   */
  forkAt(n: bigint): void {
    if (typeof n !== 'bigint' || n < 0n) throw new LocalLogError(`bad fork size ${n}`);
    if (this.#forkSize !== undefined) {
      if (this.#forkSize === n) return;
      throw new LocalLogError(`the log already forked at ${this.#forkSize}`);
    }
    const b = new Branch('b');
    const a = this.#a;
    for (let i = 0; i < a.entries.length; i++) b.push(BigInt(i) < n ? a.entries[i] : markEntry(a.entries[i]));
    if (this.dir !== undefined) {
      const state = join(this.dir, '.local-log');
      b.file = EntriesFile.create(join(state, 'entries-b'), b.entries);
      // The fork file is written last: it is what makes branch b exist after a restart.
      writeFileSync(join(state, 'fork.tmp'), `${n}\n`);
      renameSync(join(state, 'fork.tmp'), join(state, 'fork'));
      b.dirWriter = new TileDirWriter(join(this.dir, 'branch-b'));
    }
    this.#b = b;
    this.#forkSize = n;
  }

  /** Checks an item before it is queued (the fork-size rule is checked when it is sequenced). */
  check(item: SequenceItem): string | undefined {
    if (!(item.entry instanceof Uint8Array)) return 'an entry must be bytes';
    if (item.entry.length > MAX_ENTRY_SIZE) return `entry of ${item.entry.length} bytes is larger than ${MAX_ENTRY_SIZE}`;
    if (item.target !== 'a' && item.target !== 'b' && item.target !== 'both') return `bad branch ${JSON.stringify(item.target)}`;
    if (item.target === 'b' && !this.#b) return 'the log has no branch b (it is not forked)';
    return undefined;
  }

  /**
   * Sequences a batch: persists it (one write and fsync per branch file) and appends it to the
   * trees. Returns, per item, its index in each branch it went to (or why it was refused).
   */
  sequence(items: readonly SequenceItem[]): SequenceResult[] {
    const a = this.#a;
    const b = this.#b;
    let sizeA = a.size;
    let sizeB = b?.size ?? 0n;
    const newA: Uint8Array[] = [];
    const newB: Uint8Array[] = [];
    const results: SequenceResult[] = [];
    for (const item of items) {
      const problem = this.#checkAt(item, sizeA, sizeB);
      if (problem !== undefined) {
        results.push({ error: problem });
        continue;
      }
      const r: { a?: bigint; b?: bigint } = {};
      if (item.target !== 'b') {
        newA.push(item.entry);
        r.a = sizeA++;
      }
      if (b && item.target !== 'a') {
        newB.push(item.target === 'b' || sizeB < this.#forkSize! ? item.entry : markEntry(item.entry));
        r.b = sizeB++;
      }
      results.push(r);
    }
    // Durable first, then visible.
    const lenA = a.file?.length ?? 0;
    try {
      a.file?.append(encodeEntryRecords(newA));
      b?.file?.append(encodeEntryRecords(newB));
    } catch (e) {
      try {
        a.file?.truncate(lenA);
      } catch {
        // The torn tail is cut off on the next load anyway.
      }
      throw e;
    }
    for (const e of newA) a.push(e);
    if (b) for (const e of newB) b.push(e);
    return results;
  }

  #checkAt(item: SequenceItem, sizeA: bigint, sizeB: bigint): string | undefined {
    const basic = this.check(item);
    if (basic !== undefined) return basic;
    if (this.#b && item.target !== 'both') {
      const size = item.target === 'a' ? sizeA : sizeB;
      if (size < this.#forkSize!) return `appending to one branch only is allowed from the fork size ${this.#forkSize} on`;
    }
    return undefined;
  }

  /**
   * Signs a new checkpoint for the branch when its tree grew since the last one (or none was
   * signed yet), and writes its tiles when the log has a directory. Returns the new checkpoint,
   * or undefined when nothing changed.
   */
  publish(name: BranchName): PublishedCheckpoint | undefined {
    const br = this.branch(name);
    const size = br.size;
    if (br.published !== undefined && br.published.size === size) return undefined;
    const root = br.tree.root(size);
    const text = formatCheckpoint({ origin: this.origin, size, root });
    const logNote = signNote(text, [this.key]);
    const p: PublishedCheckpoint = { branch: name, size, root, text, logNote, cosignatures: new Map() };
    br.dirWriter?.write(br.source(size), logNote);
    br.published = p;
    return p;
  }

  published(name: BranchName = 'a'): PublishedCheckpoint | undefined {
    return this.branch(name).published;
  }

  /** The checkpoint served for a branch: the log-signed note plus the collected cosignatures. */
  checkpoint(name: BranchName = 'a'): string {
    const p = this.branch(name).published;
    if (p === undefined) throw new LocalLogError(`branch ${name} has no signed checkpoint yet`);
    return p.logNote + [...p.cosignatures.values()].join('');
  }

  /**
   * Adds a witness's (already filtered) cosignature lines to the branch's checkpoint if it still
   * has exactly this text; returns whether they were added.
   */
  addCosignatures(name: BranchName, text: string, witness: string, lines: string): boolean {
    const br = this.branch(name);
    const p = br.published;
    if (p === undefined || p.text !== text || lines === '') return false;
    p.cosignatures.set(witness, lines);
    br.dirWriter?.writeCheckpoint(this.checkpoint(name));
    return true;
  }

  /** Tiles of a branch at its published size. */
  source(name: BranchName = 'a'): TileSource {
    return this.branch(name).source();
  }

  /** Consistency proof within a branch (RFC 6962), from size1 to size2 (default: the published size). */
  consistencyProof(name: BranchName, size1: bigint, size2: bigint = this.branch(name).published?.size ?? this.size(name)): Uint8Array[] {
    return this.branch(name).tree.consistencyProof(size1, size2);
  }

  /** The tree root of a branch at a size (default: its sequenced size). */
  root(name: BranchName = 'a', size?: bigint): Uint8Array {
    const br = this.branch(name);
    return br.tree.root(size ?? br.size);
  }

  /** Entry `index` of a branch. */
  entry(name: BranchName, index: bigint): Uint8Array | undefined {
    return this.branch(name).entries[Number(index)];
  }

  close(): void {
    this.#a.file?.close();
    this.#b?.file?.close();
    this.#a.file = undefined;
    if (this.#b) this.#b.file = undefined;
  }

  #load(dir: string, forkAt: bigint | undefined): void {
    const state = join(dir, '.local-log');
    mkdirSync(state, { recursive: true });
    const { file, entries } = EntriesFile.open(join(state, 'entries'));
    this.#a.file = file;
    for (const e of entries) this.#a.push(e);
    this.#a.dirWriter = new TileDirWriter(dir);
    const forkFile = join(state, 'fork');
    if (!existsSync(forkFile)) {
      if (forkAt !== undefined) this.forkAt(forkAt);
      return;
    }
    const text = readFileSync(forkFile, 'utf8').trim();
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new LocalLogError(`${forkFile}: bad fork size ${JSON.stringify(text)}`);
    const n = BigInt(text);
    if (forkAt !== undefined && forkAt !== n) throw new LocalLogError(`the log in ${dir} forked at ${n}, not ${forkAt}`);
    const b = new Branch('b');
    const opened = EntriesFile.open(join(state, 'entries-b'));
    b.file = opened.file;
    const shared = Math.min(Number(n), opened.entries.length, entries.length);
    for (let i = 0; i < shared; i++) {
      if (!equalBytes(opened.entries[i], entries[i])) throw new LocalLogError(`${state}: branch b differs from branch a at entry ${i}, before the fork size ${n}`);
    }
    for (const e of opened.entries) b.push(e);
    b.dirWriter = new TileDirWriter(join(dir, 'branch-b'));
    this.#b = b;
    this.#forkSize = n;
  }
}

function markEntry(entry: Uint8Array): Uint8Array {
  return concatBytes(FORK_MARKER, entry);
}
