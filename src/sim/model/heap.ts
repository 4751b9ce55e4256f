// The event queue: events ordered by (time, sequence), where the sequence number is the insertion
// order, so events at the same time run in the order they were scheduled: the tie-break that makes
// identical seeds give identical runs. Any structure that pops in (time, sequence) order gives the
// same runs; this one is a calendar of one-second buckets in front of a small binary heap:
//
// - events are kept in a slot pool of flat typed arrays (no object per event);
// - an event due in the current bucket goes into the near heap (time, seq and slot inline, so a
//   comparison touches no other memory); a later one is appended to its bucket's list;
// - when the near heap is empty, the next non-empty bucket is moved into it.
//
// The near heap holds about one second of events instead of every pending event (at 100,000
// witnesses most pending events are polls minutes ahead), so it stays small and in cache.
export class EventQueue {
  // Slot pool.
  private time = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private kind = new Uint8Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private c = new Int32Array(1024);
  private next = new Int32Array(1024);
  private free = new Int32Array(1024);
  private nFree = 0;
  private nSlots = 0;
  // Buckets: head and tail slot of each bucket's list (-1: empty).
  private head = new Int32Array(64).fill(-1);
  private tail = new Int32Array(64).fill(-1);
  private cur = 0;
  private maxBucket = 0;
  // Near heap.
  private hTime = new Float64Array(1024);
  private hSeq = new Float64Array(1024);
  private hSlot = new Int32Array(1024);
  private hn = 0;
  private n = 0;
  private counter = 0;
  t = 0;
  k = 0;
  x = 0;
  y = 0;
  z = 0;

  constructor(private readonly width = 1000) {}

  get size(): number {
    return this.n;
  }

  push(time: number, kind: number, a: number, b: number, c: number): void {
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree];
    else {
      if (this.nSlots === this.time.length) this.growSlots();
      slot = this.nSlots++;
    }
    const s = this.counter++;
    this.time[slot] = time;
    this.seq[slot] = s;
    this.kind[slot] = kind;
    this.a[slot] = a;
    this.b[slot] = b;
    this.c[slot] = c;
    this.n++;
    const bucket = Math.floor(time / this.width);
    if (bucket <= this.cur) {
      this.heapPush(time, s, slot);
      return;
    }
    if (bucket >= this.head.length) this.growBuckets(bucket);
    this.next[slot] = -1;
    if (this.head[bucket] < 0) this.head[bucket] = slot;
    else this.next[this.tail[bucket]] = slot;
    this.tail[bucket] = slot;
    if (bucket > this.maxBucket) this.maxBucket = bucket;
  }

  /** Pops the earliest event into t, k, x, y, z; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    if (this.hn === 0) {
      // Move the next non-empty bucket into the near heap.
      let bkt = this.cur + 1;
      while (bkt <= this.maxBucket && this.head[bkt] < 0) bkt++;
      this.cur = bkt;
      for (let s = this.head[bkt]; s >= 0; s = this.next[s]) this.heapPush(this.time[s], this.seq[s], s);
      this.head[bkt] = -1;
      this.tail[bkt] = -1;
    }
    const slot = this.hSlot[0];
    this.heapPop();
    this.t = this.time[slot];
    this.k = this.kind[slot];
    this.x = this.a[slot];
    this.y = this.b[slot];
    this.z = this.c[slot];
    this.free[this.nFree++] = slot;
    this.n--;
    return true;
  }

  private heapPush(time: number, s: number, slot: number): void {
    if (this.hn === this.hTime.length) this.growHeap();
    const T = this.hTime;
    const S = this.hSeq;
    const L = this.hSlot;
    let i = this.hn++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (T[p] < time || (T[p] === time && S[p] < s)) break;
      T[i] = T[p];
      S[i] = S[p];
      L[i] = L[p];
      i = p;
    }
    T[i] = time;
    S[i] = s;
    L[i] = slot;
  }

  private heapPop(): void {
    const last = --this.hn;
    if (last === 0) return;
    const T = this.hTime;
    const S = this.hSeq;
    const L = this.hSlot;
    const time = T[last];
    const s = S[last];
    const slot = L[last];
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= last) break;
      const r = m + 1;
      if (r < last && (T[r] < T[m] || (T[r] === T[m] && S[r] < S[m]))) m = r;
      if (time < T[m] || (time === T[m] && s < S[m])) break;
      T[i] = T[m];
      S[i] = S[m];
      L[i] = L[m];
      i = m;
    }
    T[i] = time;
    S[i] = s;
    L[i] = slot;
  }

  private growSlots(): void {
    const cap = this.time.length * 2;
    this.time = grow(this.time, cap);
    this.seq = grow(this.seq, cap);
    this.kind = grow(this.kind, cap);
    this.a = grow(this.a, cap);
    this.b = grow(this.b, cap);
    this.c = grow(this.c, cap);
    this.next = grow(this.next, cap);
    this.free = grow(this.free, cap);
  }

  private growHeap(): void {
    const cap = this.hTime.length * 2;
    this.hTime = grow(this.hTime, cap);
    this.hSeq = grow(this.hSeq, cap);
    this.hSlot = grow(this.hSlot, cap);
  }

  private growBuckets(bucket: number): void {
    let cap = this.head.length;
    while (cap <= bucket) cap *= 2;
    const h = new Int32Array(cap).fill(-1);
    h.set(this.head);
    const t = new Int32Array(cap).fill(-1);
    t.set(this.tail);
    this.head = h;
    this.tail = t;
  }
}

function grow<T extends Float64Array | Uint8Array | Int32Array>(x: T, cap: number): T {
  const y = new (x.constructor as new (n: number) => T)(cap);
  y.set(x);
  return y;
}
