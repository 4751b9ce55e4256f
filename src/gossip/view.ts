// The gossip layer's view of one log: recent checkpoints (by exact text), the cosignatures known on
// each, which ones this node's own witness cosigned, and the latest checkpoint each witness key has
// cosigned. Pure data: no I/O, no clock of its own.
//
// Merging: cosignatures merge only onto byte-identical checkpoint text (cosignature/v1 signs the
// whole text, extension lines included). Same size and root with other extension lines is a
// different entry and not a conflict.
//
// Consistency knowledge without proofs: an honest witness only ever cosigns one consistent chain
// (each step proven by a consistency proof it checked), so two checkpoints cosigned by the same
// known witness key are consistent. Anything else of a different size needs a proof
// (src/gossip/service.ts obtains one); the same size with another root is proven evidence at once.
import { sameSizeOtherRoot, sameTree } from '../checkpoint/checkpoint.js';
import { keyLabel, type OpenedNote, type SignatureLine } from '../note/note.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { makeEvidence, type Evidence } from '../witness/evidence.js';
import { formatCheckpointMessage, formatCheckpointPages, logSignedNote } from './wire.js';

export const DEFAULT_MAX_ENTRIES = 32;

export interface ObservedCheckpoint {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  readonly textHash: string;
  readonly logNote: OpenedNote;
  readonly cosignatures: readonly SignatureLine[];
}

export interface ViewEntry {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  readonly textHash: string;
  readonly logNote: OpenedNote;
  /** Verified cosignature lines by key label. */
  readonly cosignatures: Map<string, SignatureLine>;
  /** This node's own witness cosigned it (through the witness core). */
  own: boolean;
  /** When this node first saw it (ms). */
  readonly firstSeen: number;
  /** A pair check against this node's chain found it consistent (or it needs none). */
  checked: boolean;
}

export interface ObserveResult {
  readonly entry: ViewEntry;
  readonly isNewText: boolean;
  /** Cosignature lines new to this view. */
  readonly added: readonly SignatureLine[];
  /** Entries of the same size with a different root: each pair is proven split-view evidence. */
  readonly conflicts: readonly ViewEntry[];
}

export interface CosignedRecord {
  readonly size: bigint;
  readonly logNote: OpenedNote;
  readonly line: SignatureLine;
}

export class LogView {
  private readonly entries = new Map<string, ViewEntry>();
  /** label -> the largest checkpoint that key cosigned (kept when entries are evicted). */
  private readonly byCosigner = new Map<string, CosignedRecord>();

  constructor(
    readonly origin: string,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(textHash: string): ViewEntry | undefined {
    return this.entries.get(textHash);
  }

  all(): ViewEntry[] {
    return [...this.entries.values()];
  }

  /** Adds a verified checkpoint and its cosignatures; own marks this node's witness cosigned it. */
  observe(c: ObservedCheckpoint, now: number, own = false): ObserveResult {
    if (c.origin !== this.origin || c.checkpoint.origin !== this.origin) throw new RangeError('checkpoint of another log');
    let entry = this.entries.get(c.textHash);
    const isNewText = entry === undefined;
    if (!entry) {
      entry = { origin: c.origin, checkpoint: c.checkpoint, textHash: c.textHash, logNote: c.logNote, cosignatures: new Map(), own, firstSeen: now, checked: own };
      this.entries.set(c.textHash, entry);
    } else if (own && !entry.own) {
      entry.own = true;
      entry.checked = true;
    }
    const added: SignatureLine[] = [];
    for (const line of c.cosignatures) {
      const label = keyLabel(line.name, line.keyId);
      if (entry.cosignatures.has(label)) continue;
      entry.cosignatures.set(label, line);
      added.push(line);
      const prev = this.byCosigner.get(label);
      if (!prev || prev.size < c.checkpoint.size) this.byCosigner.set(label, { size: c.checkpoint.size, logNote: entry.logNote, line });
    }
    const conflicts = isNewText || own ? this.conflictsOf(entry) : [];
    if (isNewText) this.evict();
    return { entry, isNewText, added, conflicts };
  }

  /** Entries of the same size whose root differs. */
  conflictsOf(e: ViewEntry): ViewEntry[] {
    const out: ViewEntry[] = [];
    for (const x of this.entries.values()) {
      if (x !== e && sameSizeOtherRoot(x.checkpoint, e.checkpoint)) out.push(x);
    }
    return out;
  }

  /** The largest checkpoint this node's witness cosigned (that is still in the view). */
  ownHead(): ViewEntry | undefined {
    let best: ViewEntry | undefined;
    for (const e of this.entries.values()) if (e.own && (!best || e.checkpoint.size > best.checkpoint.size)) best = e;
    return best;
  }

  /** The largest checkpoint seen; among equal sizes, the one with most cosignatures. */
  head(): ViewEntry | undefined {
    let best: ViewEntry | undefined;
    for (const e of this.entries.values()) {
      if (!best || e.checkpoint.size > best.checkpoint.size || (e.checkpoint.size === best.checkpoint.size && (e.own && !best.own || e.cosignatures.size > best.cosignatures.size))) best = e;
    }
    return best;
  }

  /**
   * The checkpoint to compare e against: this node's own cosigned checkpoint nearest in size
   * (prefer one at least as large, whose tree contains e's size), or, for a node that cosigned
   * nothing of this log, the largest other entry.
   */
  reference(e: ViewEntry): ViewEntry | undefined {
    let above: ViewEntry | undefined;
    let below: ViewEntry | undefined;
    let anyOwn = false;
    for (const x of this.entries.values()) {
      if (!x.own || x === e) continue;
      anyOwn = true;
      if (x.checkpoint.size >= e.checkpoint.size) {
        if (!above || x.checkpoint.size < above.checkpoint.size) above = x;
      } else if (!below || x.checkpoint.size > below.checkpoint.size) below = x;
    }
    if (anyOwn) return above ?? below;
    let best: ViewEntry | undefined;
    for (const x of this.entries.values()) if (x !== e && (!best || x.checkpoint.size > best.checkpoint.size)) best = x;
    return best;
  }

  /**
   * True when a and b are known to be consistent without a proof: the same text, the same size
   * and root, a size-0 tree, or a known witness key cosigned both (an honest witness cosigns one chain).
   */
  knownConsistent(a: ViewEntry, b: ViewEntry): boolean {
    if (a.textHash === b.textHash) return true;
    if (a.checkpoint.size === b.checkpoint.size) return sameTree(a.checkpoint, b.checkpoint);
    if (a.checkpoint.size === 0n || b.checkpoint.size === 0n) return true;
    const [small, large] = a.cosignatures.size <= b.cosignatures.size ? [a, b] : [b, a];
    for (const label of small.cosignatures.keys()) if (large.cosignatures.has(label)) return true;
    return false;
  }

  /** The latest checkpoint (log-signed) cosigned by this witness key label, with that cosignature. */
  latestCosignedBy(label: string): CosignedRecord | undefined {
    return this.byCosigner.get(label);
  }

  /** The message to publish for an entry: log lines and the cosignatures known on its text, capped to what a peer accepts (formatCheckpointMessage). */
  message(e: ViewEntry, prefer?: ReadonlySet<string>): Uint8Array {
    return formatCheckpointMessage(e.logNote, e.cosignatures.values(), prefer);
  }

  /** Every cosignature known on an entry's text, as messages a peer accepts (the first is message()). */
  messages(e: ViewEntry, prefer?: ReadonlySet<string>): Uint8Array[] {
    return formatCheckpointPages(e.logNote, e.cosignatures.values(), prefer);
  }

  /** Keeps the maxEntries largest checkpoints, and always this node's own head. */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    const own = this.ownHead();
    const sorted = [...this.entries.values()].sort((x, y) => (x.checkpoint.size < y.checkpoint.size ? -1 : x.checkpoint.size > y.checkpoint.size ? 1 : x.firstSeen - y.firstSeen));
    let excess = this.entries.size - this.maxEntries;
    for (const e of sorted) {
      if (excess <= 0) break;
      if (e === own) continue;
      this.entries.delete(e.textHash);
      excess--;
    }
  }
}

/** Same-size evidence from two view entries (both log-signed; the roots differ). */
export function sameSizeEvidence(a: ViewEntry, b: ViewEntry): Evidence {
  return makeEvidence({ note: a.logNote, checkpoint: a.checkpoint }, { note: b.logNote, checkpoint: b.checkpoint });
}

/** The log-signed note of an entry (text + verified log lines). */
export function entryLogSigned(e: ViewEntry): string {
  return logSignedNote(e);
}
