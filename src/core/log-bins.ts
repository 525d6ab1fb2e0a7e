/**
 * Logarithmic bins for latency histograms: bin i holds values up to `base · growth^i`, so a
 * quantile read from the bins is within `growth − 1` of the truth, in a fixed number of bins
 * however long the run. The monitors' sliding window (15% bins in per-second rings) and the
 * demo's whole-run quantiles (2% bins) both count into these.
 */

/** Bin arithmetic for one base and growth; the counts live with the caller (any numeric array). */
export class LogBins {
  private readonly logGrowth: number;

  /** `count` bins from `base` (ms) growing by `growth` each; values past the last bin go into it. */
  constructor(readonly base: number, readonly growth: number, readonly count: number) {
    if (!(base > 0) || !(growth > 1) || !Number.isInteger(count) || count < 1) throw new RangeError(`log bins need base > 0, growth > 1 and a positive bin count (got ${base}, ${growth}, ${count})`);
    this.logGrowth = Math.log(growth);
  }

  /** The bin a value falls in (0 for anything at or under the base, NaN included). */
  bin(v: number): number {
    if (!(v > this.base)) return 0;
    return Math.min(this.count - 1, Math.ceil(Math.log(v / this.base) / this.logGrowth));
  }

  /** The upper bound of a bin (what a quantile reports). */
  upper(bin: number): number {
    return this.base * this.growth ** bin;
  }

  /** The q-quantile (0 < q <= 1) of `counts` as a bin's upper bound, or null when they are empty. */
  quantile(counts: ArrayLike<number>, q: number): number | null {
    let n = 0;
    for (let i = 0; i < counts.length; i++) n += counts[i];
    if (n === 0) return null;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return this.upper(i);
    }
    return this.upper(counts.length - 1);
  }
}
