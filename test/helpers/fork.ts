// Test helpers: a log (key + Merkle tree) that can sign checkpoints, and a fork of it.
import { MemoryTree } from '../../src/merkle/memory-tree.js';
import { formatCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { generateKey, signNote, type Ed25519SignerKey } from '../../src/note/index.js';

export class TestLog {
  readonly tree: MemoryTree;
  constructor(
    readonly origin: string,
    readonly key: Ed25519SignerKey = generateKey(origin.replace(/\s/g, '_')),
    tree?: MemoryTree,
  ) {
    this.tree = tree ?? new MemoryTree();
  }

  append(n: number, tag = 'main'): this {
    for (let i = 0; i < n; i++) this.tree.append(new TextEncoder().encode(`${tag} leaf ${this.tree.size}`));
    return this;
  }

  /** The log-signed checkpoint note at a size (default: the current size). */
  checkpoint(size: bigint = this.tree.size, extensions: string[] = []): string {
    const text = formatCheckpoint({ origin: this.origin, size, root: this.tree.root(size), extensions });
    return signNote(text, [this.key]);
  }

  /** A branch sharing the first `at` leaves, signed with the same key. */
  fork(at: bigint): TestLog {
    const t = new MemoryTree();
    for (let i = 0n; i < at; i++) t.appendLeafHash(this.tree.leafHash(i));
    return new TestLog(this.origin, this.key, t);
  }
}
