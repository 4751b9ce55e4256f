// Suspect -> proven evidence, for logs that serve tiles. A suspect record is a log-signed
// checkpoint whose consistency proof failed (src/witness/store.ts): possible misbehaviour, not yet
// proof, because logs do not sign proofs. With the log's tiles the feeder can often prove it.
//
// For a pair A (size m, the witness's held checkpoint) and B (size n > m, the submitted one), and
// the log's current checkpoint C (size s, just verified with the log's keys) whose tiles it serves:
//  1. if n <= s, try B's tree (read from C's tiles: same branch means same prefix): h = root of
//     its first m leaves, proof (m, h) -> B. Evidence (A, B) if h != root(A); consistent if equal.
//  2. if the tiles do not hash to B's root, the log serves another branch than B's: try
//     (B, C), i.e. h = root of C's first n leaves, proof (n, h) -> C.
//  3. if n > s (B's branch is not served at B's size), try (A, C) when m <= s.
// Whichever branch is larger, whatever m is (a power of two or not): h comes from the tiles.
// Every result is checked with verifyEvidence against the log's configured keys before it is
// stored; a log that serves tiles not matching its own signed root produces nothing.
import { sha256 } from '../../crypto/index.js';
import { openNote, type VerifierSet } from '../../note/note.js';
import { parseCheckpoint } from '../../checkpoint/checkpoint.js';
import { verifyEvidence, type Evidence } from '../../witness/evidence.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { proveFromTiles, type ProveResult, type SignedCheckpointRef } from './tiles.js';
import type { TileAccess } from './source.js';

export interface SuspectPair {
  /** The witness's held (smaller) log-signed note. */
  readonly held: string;
  /** The submitted log-signed note. */
  readonly submitted: string;
}

export type PairVerdict =
  | { kind: 'evidence'; evidence: Evidence; sizes: [bigint, bigint] }
  /** Both checkpoints are on the served tree: the failed proof was just a bad proof. */
  | { kind: 'consistent' }
  /** Cannot decide now (the log does not serve a large enough tree, or its tiles do not match). */
  | { kind: 'pending'; reason: string }
  /** The notes no longer verify with the configured keys (key rotated out): nothing to prove. */
  | { kind: 'unusable'; reason: string };

export function pairKey(p: SuspectPair): string {
  return toHex(sha256(utf8(`${p.held}\u0000${p.submitted}`)));
}

function open(note: string, verifiers: VerifierSet): SignedCheckpointRef | null {
  try {
    const opened = openNote(note, verifiers);
    return { note: opened, checkpoint: parseCheckpoint(opened.text) };
  } catch {
    return null;
  }
}

/**
 * proveFromTiles against the tiles of `current`'s tree; a failure with cached tiles is retried
 * with fresh ones. Tiles are cached only if the proof verified against a signed root.
 */
async function prove(tiles: TileAccess, small: SignedCheckpointRef, large: SignedCheckpointRef, servedSize: bigint, signal?: AbortSignal): Promise<ProveResult> {
  for (const fresh of [false, true]) {
    const session = tiles.session(large.checkpoint.size, servedSize, { signal, fresh });
    let r: ProveResult;
    try {
      r = await proveFromTiles(small, large, session.fetchTile, tiles.height);
    } catch (e) {
      session.settle(false);
      throw e;
    }
    session.settle(r.kind !== 'tiles-mismatch');
    if (r.kind !== 'tiles-mismatch' || !session.fromCache) return r;
  }
  throw new Error('unreachable');
}

/** Decides one pair against the log's current checkpoint and tiles. */
export async function provePair(
  pair: SuspectPair,
  current: SignedCheckpointRef,
  tiles: TileAccess,
  verifiers: VerifierSet,
  signal?: AbortSignal,
): Promise<PairVerdict> {
  const x = open(pair.held, verifiers);
  const y = open(pair.submitted, verifiers);
  if (!x || !y) return { kind: 'unusable', reason: 'a checkpoint of the pair no longer verifies with the configured keys' };
  if (x.checkpoint.origin !== current.checkpoint.origin || y.checkpoint.origin !== current.checkpoint.origin) return { kind: 'unusable', reason: 'origin mismatch' };
  const [a, b] = x.checkpoint.size <= y.checkpoint.size ? [x, y] : [y, x];
  const m = a.checkpoint.size;
  const n = b.checkpoint.size;
  const s = current.checkpoint.size;
  const done = (r: ProveResult, small: SignedCheckpointRef, large: SignedCheckpointRef): PairVerdict | undefined => {
    if (r.kind === 'evidence') return { kind: 'evidence', evidence: r.evidence, sizes: [small.checkpoint.size, large.checkpoint.size] };
    return undefined;
  };
  if (m === 0n) return { kind: 'consistent' };
  if (n <= s) {
    const r1 = await prove(tiles, a, b, s, signal);
    const v1 = done(r1, a, b);
    if (v1) return v1;
    if (r1.kind === 'consistent') return { kind: 'consistent' };
    // The served tree is not B's branch: prove B against the current checkpoint instead.
    const r2 = await prove(tiles, b, current, s, signal);
    const v2 = done(r2, b, current);
    if (v2) return v2;
    return { kind: 'pending', reason: r2.kind === 'tiles-mismatch' ? r2.reason : 'the served tiles match neither checkpoint consistently' };
  }
  if (m <= s) {
    const r = await prove(tiles, a, current, s, signal);
    const v = done(r, a, current);
    if (v) return v;
    if (r.kind === 'tiles-mismatch') return { kind: 'pending', reason: r.reason };
  }
  return { kind: 'pending', reason: `the log serves a tree of ${s} leaves; the pair needs ${n}` };
}

/** verifyEvidence with only the log's configured keys for its origin. */
export function checkEvidence(evidence: Evidence, origin: string, verifiers: VerifierSet): { ok: true } | { ok: false; reason: string } {
  const v = verifyEvidence(evidence, (o) => (o === origin ? verifiers : undefined));
  return v.ok ? { ok: true } : { ok: false, reason: v.reason };
}
