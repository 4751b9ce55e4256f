// c2sp.org/tlog-checkpoint: the text of a log's signed note.
//   <origin>\n<size, decimal>\n<root, base64 of 32 bytes>\n[<extension line>\n]*
import { sha256 } from '../crypto/index.js';
import { decodeBase64, encodeBase64, equalBytes, utf8 } from '../util/bytes.js';
import { GossipWitnessError } from '../errors.js';

export const MAX_TREE_SIZE = (1n << 63n) - 1n;
/** Go's ParseTree and torchwood refuse larger texts (in bytes). */
export const MAX_CHECKPOINT_TEXT = 1_000_000;

export interface Checkpoint {
  readonly origin: string;
  readonly size: bigint;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
  /** The exact text (ending in "\n") this was parsed from or formats to. */
  readonly text: string;
}

/** A checkpoint text that does not parse: code 'malformed' (src/errors.ts). */
export class CheckpointError extends GossipWitnessError {
  declare readonly code: 'malformed';
  constructor(message: string) {
    super({ code: 'malformed', message });
    this.name = 'CheckpointError';
  }
}

/** Strict decimal tree size: no sign, no leading zeros, at most 2^63 - 1. */
export function parseTreeSize(s: string): bigint | null {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(s)) return null;
  const n = BigInt(s);
  return n <= MAX_TREE_SIZE ? n : null;
}

/** Parses checkpoint text (a note's text, not the whole signed note). Throws CheckpointError. */
export function parseCheckpoint(text: string): Checkpoint {
  // The limit is in UTF-8 bytes. A UTF-16 code unit is 1 to 3 bytes, so only texts longer than
  // a third of the limit need counting.
  if (text.length > MAX_CHECKPOINT_TEXT || (text.length > MAX_CHECKPOINT_TEXT / 3 && utf8(text).length > MAX_CHECKPOINT_TEXT)) {
    throw new CheckpointError('checkpoint text too large');
  }
  if (!text.endsWith('\n')) throw new CheckpointError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint needs origin, size and root lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  // No line may be empty; the origin is any non-empty string (spaces allowed).
  if (origin === '') throw new CheckpointError('empty origin line');
  const size = parseTreeSize(sizeLine);
  if (size === null) throw new CheckpointError(`bad tree size ${JSON.stringify(sizeLine.slice(0, 40))}`);
  const root = decodeBase64(rootLine);
  if (root === null || root.length !== 32) throw new CheckpointError('root hash must be base64 of 32 bytes');
  for (const e of extensions) if (e === '') throw new CheckpointError('empty extension line');
  return { origin, size, root, extensions, text };
}

export function formatCheckpoint(c: { origin: string; size: bigint; root: Uint8Array; extensions?: readonly string[] }): string {
  if (c.origin === '' || c.origin.includes('\n')) throw new CheckpointError('bad origin');
  if (c.size < 0n || c.size > MAX_TREE_SIZE) throw new CheckpointError('tree size out of range');
  if (c.root.length !== 32) throw new CheckpointError('root hash must be 32 bytes');
  const ext = c.extensions ?? [];
  for (const e of ext) if (e === '' || e.includes('\n')) throw new CheckpointError('bad extension line');
  return [c.origin, c.size.toString(), encodeBase64(c.root), ...ext].map((l) => l + '\n').join('');
}

/** The root of the empty tree, SHA-256(""). A size-0 checkpoint must carry it (tlog-witness). */
export function emptyTreeRoot(): Uint8Array {
  return sha256(new Uint8Array());
}

export function hasValidEmptyTreeRoot(c: Checkpoint): boolean {
  return c.size !== 0n || equalBytes(c.root, emptyTreeRoot());
}

/** A tree head: a size and the root of that many leaves. */
export interface TreeHead {
  readonly size: bigint;
  readonly root: Uint8Array;
}

/** The same tree: the same size and the same root. */
export function sameTree(a: TreeHead, b: TreeHead): boolean {
  return a.size === b.size && equalBytes(a.root, b.root);
}

/**
 * The same size with another root: two trees that cannot both be honest views of one log (one
 * size, one tree; the empty tree has one root). The one place this rule is written (issue 15).
 */
export function sameSizeOtherRoot(a: TreeHead, b: TreeHead): boolean {
  return a.size === b.size && !equalBytes(a.root, b.root);
}

/** Lowercase hex SHA-256 of the origin: the C2SP monitoring path component. */
export function originHash(origin: string): string {
  return Buffer.from(sha256(new TextEncoder().encode(origin))).toString('hex');
}
