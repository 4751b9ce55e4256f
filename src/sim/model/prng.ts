// A seeded PRNG: xoshiro128** (state seeded by splitmix32). Small, fast, and the same sequence on
// every platform, so identical seeds give identical runs. Not for cryptography.
import type { LatencyModel } from '../scenario.js';

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An independent generator derived from this one (per-purpose streams keep runs comparable). */
  fork(): Rng {
    return new Rng(this.u32());
  }

  /** Standard normal (Box-Muller; one value per call keeps the stream simple). */
  normal(): number {
    let u = this.float();
    if (u < 1e-12) u = 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/** A sampler of one-way latencies (ms) from the scenario's distribution. */
export function latencySampler(m: LatencyModel, rng: Rng): () => number {
  if (m.distribution === 'fixed') return () => m.medianMs;
  if (m.distribution === 'uniform') return () => m.minMs + rng.float() * (m.maxMs - m.minMs);
  const mu = Math.log(m.medianMs);
  const sigma = (Math.log(m.p99Ms) - mu) / Z99;
  return () => Math.exp(mu + sigma * rng.normal());
}
