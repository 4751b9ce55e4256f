// An append-only in-memory RFC 6962 tree that stores every complete node, level by level, in flat
// growable buffers (32 bytes per node, about 64 bytes per leaf in total). Appending costs one
// leaf hash plus one node hash amortised; any perfect subtree hash is a lookup, and roots and
// proofs cost O(log n) hashes. 10^6 leaves take about 64 MiB.
import { EMPTY_ROOT, HASH_SIZE, MAX_TREE_SIZE, checkTreeSize, foldRight, hashChildren, hashLeaf, isHash } from './hash.js';
import {
  consistencyProof,
  inclusionProof,
  perfectSubtrees,
  subtreeHasherFromNodes,
  type SubtreeHasher,
} from './proof.js';

const INITIAL_CAPACITY = 64; // nodes per level

export class MemoryTree {
  /** levels[h] holds the complete nodes of height h (level 0 = leaf hashes), 32 bytes each. */
  readonly #levels: Uint8Array[] = [];
  readonly #counts: number[] = [];
  /** Internal hasher returning views into the level buffers (no copies). */
  readonly #viewHasher: SubtreeHasher;

  constructor(leafData?: Iterable<Uint8Array>) {
    this.#viewHasher = subtreeHasherFromNodes((level, index) => this.#node(level, index));
    if (leafData !== undefined) for (const d of leafData) this.append(d);
  }

  /** Builds a tree from leaf hashes. */
  static fromLeafHashes(leafHashes: Iterable<Uint8Array>): MemoryTree {
    const t = new MemoryTree();
    for (const h of leafHashes) t.appendLeafHash(h);
    return t;
  }

  /** Number of leaves. */
  get size(): bigint {
    return BigInt(this.#counts[0] ?? 0);
  }

  /** Appends leaf data (hashed as SHA-256(0x00 || data)); returns the new leaf's index. */
  append(data: Uint8Array): bigint {
    return this.appendLeafHash(hashLeaf(data));
  }

  /** Appends an already computed leaf hash; returns the new leaf's index. */
  appendLeafHash(leafHash: Uint8Array): bigint {
    if (!isHash(leafHash)) throw new TypeError(`leaf hash must be ${HASH_SIZE} bytes`);
    const index = this.#counts[0] ?? 0;
    if (BigInt(index) >= MAX_TREE_SIZE) throw new RangeError('tree is full');
    this.#push(0, leafHash);
    // Complete every node this leaf finishes: while the new node is a right child.
    let level = 0;
    let i = index;
    while (i % 2 === 1) {
      const parent = hashChildren(this.#get(level, i - 1), this.#get(level, i));
      level++;
      i = (i - 1) / 2;
      this.#push(level, parent);
    }
    return BigInt(index);
  }

  /** The leaf hash at `index`. */
  leafHash(index: bigint): Uint8Array {
    return this.node(0, index);
  }

  /** The hash of the complete subtree with 2^level leaves starting at leaf index·2^level. */
  node(level: number, index: bigint): Uint8Array {
    return this.#node(level, index).slice();
  }

  /** MTH of the first `size` leaves (default: all). */
  root(size: bigint = this.size): Uint8Array {
    this.#checkSize(size);
    if (size === 0n) return EMPTY_ROOT.slice();
    return foldRight(perfectSubtrees(0n, size).map((n) => this.#node(n.level, n.index))).slice();
  }

  /** MTH of leaves [start, end), 0 <= start < end <= size. A lookup for perfect subtrees. */
  subtreeHash(start: bigint, end: bigint): Uint8Array {
    if (typeof end === 'bigint' && end > this.size) throw new RangeError(`range end ${end} beyond tree size ${this.size}`);
    return this.#viewHasher(start, end).slice();
  }

  /** A SubtreeHasher over this tree (returns fresh copies). */
  readonly hasher: SubtreeHasher = (start, end) => this.subtreeHash(start, end);

  /** Inclusion proof for leaf `index` in the tree of the first `size` leaves (default: all). */
  inclusionProof(index: bigint, size: bigint = this.size): Uint8Array[] {
    this.#checkSize(size);
    return inclusionProof(index, size, this.hasher);
  }

  /** Consistency proof from size1 to size2 (default: all), RFC 6962 SUBPROOF. */
  consistencyProof(size1: bigint, size2: bigint = this.size): Uint8Array[] {
    this.#checkSize(size2);
    return consistencyProof(size1, size2, this.hasher);
  }

  #checkSize(size: bigint): void {
    checkTreeSize(size);
    if (size > this.size) throw new RangeError(`size ${size} beyond tree size ${this.size}`);
  }

  #node(level: number, index: bigint): Uint8Array {
    if (!Number.isInteger(level) || level < 0 || level >= this.#levels.length) {
      throw new RangeError(`no complete node at level ${level}`);
    }
    if (typeof index !== 'bigint' || index < 0n || index >= BigInt(this.#counts[level])) {
      throw new RangeError(`no complete node at level ${level} index ${index}`);
    }
    return this.#get(level, Number(index));
  }

  #get(level: number, i: number): Uint8Array {
    const off = i * HASH_SIZE;
    return this.#levels[level].subarray(off, off + HASH_SIZE);
  }

  #push(level: number, h: Uint8Array): void {
    if (level === this.#levels.length) {
      this.#levels.push(new Uint8Array(INITIAL_CAPACITY * HASH_SIZE));
      this.#counts.push(0);
    }
    let buf = this.#levels[level];
    const n = this.#counts[level];
    if ((n + 1) * HASH_SIZE > buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
      this.#levels[level] = buf;
    }
    buf.set(h, n * HASH_SIZE);
    this.#counts[level] = n + 1;
  }
}
