/**
 * A latency histogram for the hot path: a cell per label set, a plain bucket array, a linear
 * bucket search and three additions per observation. prom-client's own Histogram validates
 * and hashes its labels on every observe (a string built per request); this one does that work
 * once per series. It is registered in a prom-client Registry as a custom metric and exports
 * the same shape, so the text format and cluster aggregation are prom-client's.
 */
import type { Registry } from 'prom-client';

/** One label set's buckets. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (seconds). */
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** A histogram metric whose cells are created once and observed without allocation. */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell>();

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    // prom-client's Registry takes any object with name/help/type/aggregator/get().
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The cell for a label set (call once per series, not per request). */
  cell(labels: Record<string, string>): HistogramCell {
    const id = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join('\0');
    let c = this.cells.get(id);
    if (!c) this.cells.set(id, (c = new HistogramCell(labels, this.bounds)));
    return c;
  }

  /** The export prom-client formats (cumulative buckets, +Inf, _sum, _count). */
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i];
        values.push({ labels: { le: this.bounds[i], ...c.labels }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Unused by evenkeel; present because prom-client's Registry calls it on resetMetrics(). */
  reset(): void {
    this.cells.clear();
  }
}
