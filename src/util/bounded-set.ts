/**
 * A Set that keeps at most `max` entries: when full, the oldest quarter goes (a Set iterates in
 * insertion order), so a hot entry costs one hash lookup and eviction is amortised.
 */
export class BoundedSet<T> {
  private readonly set = new Set<T>();
  constructor(private readonly max: number) {
    if (!(max >= 4)) throw new RangeError(`BoundedSet: max must be at least 4 (got ${max})`);
  }
  has(k: T): boolean {
    return this.set.has(k);
  }
  add(k: T): void {
    if (this.set.has(k)) return;
    if (this.set.size >= this.max) {
      let n = this.max >> 2;
      for (const old of this.set) {
        this.set.delete(old);
        if (--n <= 0) break;
      }
    }
    this.set.add(k);
  }
  get size(): number {
    return this.set.size;
  }
}
