// Small statistics for the simulator's reports, sweeps and calibration: Student-t confidence
// intervals, quantiles, empirical CDFs and the two-sample Kolmogorov–Smirnov test. Written out here
// (a table and a few lines) rather than pulling in a stats package.

/** Two-sided 95% critical values t(0.975, df) for df = 1..30. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06,
  2.056, 2.052, 2.048, 2.045, 2.042,
];
/** Beyond 30: tabulated points, interpolated linearly in 1/df (exact to 3 decimals). */
const T975_TAIL: [number, number][] = [
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [Infinity, 1.96],
];

/** t(0.975, df): the multiplier of the standard error for a 95% two-sided interval. */
export function tCritical95(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be >= 1, got ${df}`);
  const d = Math.floor(df);
  if (d <= 30) return T975[d - 1];
  for (let i = 1; i < T975_TAIL.length; i++) {
    const [d1, t1] = T975_TAIL[i];
    if (d <= d1) {
      const [d0, t0] = T975_TAIL[i - 1];
      const x = (1 / d0 - 1 / d) / (1 / d0 - (d1 === Infinity ? 0 : 1 / d1));
      return t0 + (t1 - t0) * x;
    }
  }
  return 1.96;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). */
export function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * Mean and 95% Student-t confidence interval of the mean. One value gives a zero-width interval
 * (there is no spread to estimate); no values give NaN (null in JSON).
 */
export function tInterval(xs: readonly number[]): Interval {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { mean: m, lo: m, hi: m, n };
  const h = (tCritical95(n - 1) * stdev(xs)) / Math.sqrt(n);
  return { mean: m, lo: m - h, hi: m + h, n };
}

/** Quantile with linear interpolation between order statistics (type 7, as R and numpy default). */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

/**
 * Empirical CDF points of detection times: (t, fraction of ALL nodes detected by t). Nodes that
 * never detected (null) count in the denominator, so the curve tops out at the detected fraction.
 */
export function ecdf(values: readonly (number | null)[]): { t: number; p: number }[] {
  const total = values.length;
  const s = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const out: { t: number; p: number }[] = [];
  for (let i = 0; i < s.length; i++) {
    // One point per distinct time, at the fraction after all ties.
    if (i + 1 < s.length && s[i + 1] === s[i]) continue;
    out.push({ t: s[i], p: (i + 1) / total });
  }
  return out;
}

/** Two-sample Kolmogorov–Smirnov statistic D = sup |F_a − F_b| and its asymptotic p-value. */
export function ksTest(a: readonly number[], b: readonly number[]): { d: number; p: number } {
  if (a.length === 0 || b.length === 0) return { d: NaN, p: NaN };
  const x = [...a].sort((u, v) => u - v);
  const y = [...b].sort((u, v) => u - v);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const t = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= t) i++;
    while (j < y.length && y[j] <= t) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  return { d, p: kolmogorovQ(lambda) };
}

/** Q_KS(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²) (Numerical Recipes' probks). */
function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-10) return Math.min(1, Math.max(0, 2 * sum));
    sign = -sign;
  }
  return 1;
}

/**
 * Wilson score interval for a binomial proportion (95%, z = 1.959964): successes x of n trials.
 * n = 0 gives [0, 1] (no information).
 */
export function wilson(x: number, n: number, z = 1.959963984540054): [number, number] {
  if (n <= 0) return [0, 1];
  const p = x / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
