// The event queue: a binary min-heap on (time, sequence) in flat typed arrays (no object per
// event). The sequence number is the insertion order, so events at the same time run in the order
// they were scheduled: the tie-break that makes identical seeds give identical runs.
export class EventQueue {
  private time = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private kind = new Uint8Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private c = new Int32Array(1024);
  private n = 0;
  private counter = 0;
  // The popped event.
  t = 0;
  k = 0;
  x = 0;
  y = 0;
  z = 0;

  get size(): number {
    return this.n;
  }

  push(time: number, kind: number, a: number, b: number, c: number): void {
    if (this.n === this.time.length) this.grow();
    let i = this.n++;
    const s = this.counter++;
    // Sift up.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.time[p] < time || (this.time[p] === time && this.seq[p] < s)) break;
      this.move(p, i);
      i = p;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
  }

  /** Pops the earliest event into t, k, x, y, z; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    this.t = this.time[0];
    this.k = this.kind[0];
    this.x = this.a[0];
    this.y = this.b[0];
    this.z = this.c[0];
    const last = --this.n;
    if (last === 0) return true;
    const time = this.time[last];
    const s = this.seq[last];
    const kind = this.kind[last];
    const a = this.a[last];
    const b = this.b[last];
    const c = this.c[last];
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= last) break;
      const r = m + 1;
      if (r < last && (this.time[r] < this.time[m] || (this.time[r] === this.time[m] && this.seq[r] < this.seq[m]))) m = r;
      if (time < this.time[m] || (time === this.time[m] && s < this.seq[m])) break;
      this.move(m, i);
      i = m;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.a[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    return true;
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from];
    this.seq[to] = this.seq[from];
    this.kind[to] = this.kind[from];
    this.a[to] = this.a[from];
    this.b[to] = this.b[from];
    this.c[to] = this.c[from];
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const g = <T extends Float64Array | Uint8Array | Int32Array>(x: T): T => {
      const y = new (x.constructor as new (n: number) => T)(cap);
      y.set(x);
      return y;
    };
    this.time = g(this.time);
    this.seq = g(this.seq);
    this.kind = g(this.kind);
    this.a = g(this.a);
    this.b = g(this.b);
    this.c = g(this.c);
  }
}
