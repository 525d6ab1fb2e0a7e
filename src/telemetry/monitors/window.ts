/**
 * Sliding windows over per-backend counters: requests, 5xx and a latency histogram per
 * one-second bucket, in a ring per (pool, backend). Time is passed in, never read, so a test
 * can drive minutes of traffic in milliseconds. Recording is O(1) and allocates nothing once a
 * backend's ring exists.
 */
import { LogBins } from '../../core/index.js';

/** Latency histogram bins: 15% wide from 0.1 ms, so a p99 is within 15% of the truth; 120 bins reach about 5 minutes. */
const BINS = new LogBins(0.1, 1.15, 120);
/** Number of bins. */
export const LATENCY_BINS = BINS.count;

/** The bin a latency falls in. */
export function latencyBin(ms: number): number {
  return BINS.bin(ms);
}

/** The upper bound of a bin in milliseconds (what a quantile reports). */
export function binUpperMs(bin: number): number {
  return BINS.upper(bin);
}

/** The q-quantile of a histogram in milliseconds, or null when it is empty. */
export function quantileMs(hist: Uint32Array, q: number): number | null {
  return BINS.quantile(hist, q);
}

/** Counts of one backend (or one pool) over the window. */
export interface WindowCounts {
  requests: number;
  /** Responses with status >= 500 (evenkeel's own 502/503/504 included). */
  errors: number;
  latency: Uint32Array;
}

/** One pool over the window; `backends` excludes the no-backend key; `spanMs` is the time the counts cover. */
export interface PoolWindow extends WindowCounts {
  spanMs: number;
  backends: Map<string, WindowCounts>;
}

/** Everything in the window at `now`. */
export interface WindowSnapshot {
  now: number;
  pools: Map<string, PoolWindow>;
}

/** The backend name evenkeel records for responses no backend served (503 with nothing usable). */
export const NO_BACKEND = '';

interface Ring {
  starts: Float64Array;
  requests: Uint32Array;
  errors: Uint32Array;
  latency: Uint32Array[];
}

/** Per-(pool, backend) rings of `bucketMs` buckets covering `windowMs`. */
export class SlidingCounters {
  private readonly size: number;
  // Each pool remembers when its counting started, so a rate right after a reset is not
  // diluted over a window it was not counted in.
  private readonly pools = new Map<string, { since: number; backends: Map<string, Ring> }>();

  constructor(readonly windowMs: number, readonly bucketMs = 1000) {
    this.size = Math.max(1, Math.ceil(windowMs / bucketMs));
  }

  /**
   * Counts `count` responses of one status and latency. `backend` is NO_BACKEND when evenkeel
   * answered without one. A count, not a call per response: a cluster poll brings thousands.
   */
  record(pool: string, backend: string, status: number, latencyMs: number, now: number, count = 1): void {
    if (!(count > 0)) return;
    let entry = this.pools.get(pool);
    if (!entry) this.pools.set(pool, (entry = { since: now, backends: new Map() }));
    const backends = entry.backends;
    let ring = backends.get(backend);
    if (!ring) backends.set(backend, (ring = newRing(this.size)));
    const start = Math.floor(now / this.bucketMs) * this.bucketMs;
    const slot = Math.floor(now / this.bucketMs) % this.size;
    if (ring.starts[slot] !== start) {
      ring.starts[slot] = start;
      ring.requests[slot] = 0;
      ring.errors[slot] = 0;
      ring.latency[slot].fill(0);
    }
    ring.requests[slot] += count;
    if (status >= 500) ring.errors[slot] += count;
    ring.latency[slot][latencyBin(latencyMs)] += count;
  }

  /** Forgets a pool's counts (its expected shares changed, so old counts would read as skew). */
  resetPool(pool: string): void {
    this.pools.delete(pool);
  }

  /** Forgets everything. */
  reset(): void {
    this.pools.clear();
  }

  /** Sums the buckets inside the window ending at `now` (or the last `windowMs` of it, bucket-aligned). */
  snapshot(now: number, windowMs = this.windowMs): WindowSnapshot {
    const buckets = Math.min(this.size, Math.max(1, Math.ceil(windowMs / this.bucketMs)));
    const current = Math.floor(now / this.bucketMs) * this.bucketMs;
    const oldest = current - (buckets - 1) * this.bucketMs;
    const pools = new Map<string, PoolWindow>();
    for (const [pool, { since, backends }] of this.pools) {
      const from = Math.max(oldest, since);
      // At least one bucket, so a rate right after the start is not divided by ~0.
      const spanMs = Math.max(this.bucketMs, now - from);
      const total: PoolWindow = { requests: 0, errors: 0, spanMs, latency: new Uint32Array(LATENCY_BINS), backends: new Map() };
      for (const [backend, ring] of backends) {
        const c: WindowCounts = { requests: 0, errors: 0, latency: new Uint32Array(LATENCY_BINS) };
        for (let s = 0; s < this.size; s++) {
          if (ring.starts[s] < oldest || ring.starts[s] > current) continue;
          c.requests += ring.requests[s];
          c.errors += ring.errors[s];
          const h = ring.latency[s];
          for (let i = 0; i < LATENCY_BINS; i++) c.latency[i] += h[i];
        }
        total.requests += c.requests;
        total.errors += c.errors;
        for (let i = 0; i < LATENCY_BINS; i++) total.latency[i] += c.latency[i];
        if (backend !== NO_BACKEND) total.backends.set(backend, c);
      }
      pools.set(pool, total);
    }
    return { now, pools };
  }
}

function newRing(size: number): Ring {
  return {
    starts: new Float64Array(size).fill(-Infinity),
    requests: new Uint32Array(size),
    errors: new Uint32Array(size),
    latency: Array.from({ length: size }, () => new Uint32Array(LATENCY_BINS)),
  };
}
