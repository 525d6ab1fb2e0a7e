/**
 * What each monitor concludes from one window snapshot, without memory: `fire` when the
 * observation clears its threshold by more than sampling noise on a big enough sample,
 * `clear` when it is back under the resolve level. The engine (monitors.ts) adds hysteresis.
 */
import { pct } from '../../core/index.js';
import { quantileMs, type PoolWindow, type WindowSnapshot } from './window.js';
import { round, testSE } from './stats.js';
import type { BackendTarget, MonitorName, MonitorOptions, MonitorThresholds } from './types.js';

/** One monitor's view of one pool or backend at one instant. */
export interface Check {
  monitor: MonitorName;
  pool: string;
  backend: string | null;
  fire: boolean;
  clear: boolean;
  value: number;
  threshold: number;
  figures: Record<string, number | null>;
  shares: Record<string, number>;
  summary: string;
}

/** Options with defaults filled in. */
export type ResolvedOptions = Required<Omit<MonitorOptions, 'fireWindowMs'>> & { fireWindowMs?: number };

/** Fills in the defaults of MonitorOptions. */
export function resolveOptions(o: MonitorOptions = {}): ResolvedOptions {
  return { minRequests: 50, minLatencySamples: 100, minSpanMs: 2000, z: 4, resolveFactor: 0.8, overloadResolveFactor: 0.9, bucketMs: 1000, ...o };
}

/** Runs every monitor over a snapshot. */
export function runChecks(snap: WindowSnapshot, targets: readonly BackendTarget[], t: MonitorThresholds, o: ResolvedOptions): Check[] {
  const byPool = new Map<string, BackendTarget[]>();
  for (const b of targets) {
    let list = byPool.get(b.pool);
    if (!list) byPool.set(b.pool, (list = []));
    list.push(b);
  }
  const out: Check[] = [];
  for (const [pool, w] of snap.pools) {
    const list = byPool.get(pool) ?? [];
    const shares = sharesOf(w);
    out.push(...overload(pool, w, list, shares, o), ...concentration(pool, w, list, shares, t, o), ...skew(pool, w, list, shares, t, o), ...errorRate(pool, w, shares, t, o), ...latency(pool, w, shares, t, o));
  }
  return out;
}

/** Each backend's share of the requests that reached a backend. */
export function sharesOf(w: PoolWindow): Record<string, number> {
  let served = 0;
  for (const c of w.backends.values()) served += c.requests;
  const out: Record<string, number> = {};
  for (const [name, c] of w.backends) out[name] = served ? round(c.requests / served, 4) : 0;
  return out;
}

function served(w: PoolWindow): number {
  let n = 0;
  for (const c of w.backends.values()) n += c.requests;
  return n;
}

function overload(pool: string, w: PoolWindow, list: BackendTarget[], shares: Record<string, number>, o: ResolvedOptions): Check[] {
  const out: Check[] = [];
  const seconds = w.spanMs / 1000;
  for (const b of list) {
    if (!b.capacity) continue;
    const c = w.backends.get(b.backend)?.requests ?? 0;
    const rps = c / seconds;
    // Poisson noise on a count: its standard deviation is sqrt(count).
    const low = (c - o.z * Math.sqrt(c)) / seconds;
    const sampled = w.spanMs >= o.minSpanMs && c >= o.minRequests;
    out.push({
      monitor: 'overload', pool, backend: b.backend, value: round(rps, 1), threshold: b.capacity, shares,
      fire: sampled && low > b.capacity,
      clear: !sampled || rps < o.overloadResolveFactor * b.capacity,
      figures: { rps: round(rps, 1), capacity: b.capacity, utilization: round(rps / b.capacity), requests: c, windowSeconds: round(seconds, 1) },
      summary: `backend ${b.backend} of pool ${pool} receives ${round(rps, 1)} req/s, ${pct(rps / b.capacity)} of its capacity ${b.capacity} req/s (share ${pct(shares[b.backend] ?? 0)})`,
    });
  }
  return out;
}

function concentration(pool: string, w: PoolWindow, list: BackendTarget[], shares: Record<string, number>, t: MonitorThresholds, o: ResolvedOptions): Check[] {
  const usable = list.filter((b) => b.up && b.expectedShare > 0);
  const n = served(w);
  if (usable.length < 2 || n === 0) return [];
  const [name, c] = top(w);
  const p = c / n;
  const se = testSE(c, n, t.maxBackendShare);
  const expected = list.find((b) => b.backend === name)?.expectedShare ?? 0;
  // Two equal backends are expected at exactly maxBackendShare: resolve back at the expected
  // share there, at 80% of the limit otherwise, or the alert could never clear.
  const level = Math.max(o.resolveFactor * t.maxBackendShare, Math.min(expected, t.maxBackendShare));
  return [{
    monitor: 'concentration', pool, backend: name, value: round(p, 4), threshold: t.maxBackendShare, shares,
    fire: n >= o.minRequests && p - o.z * se > t.maxBackendShare + 0.01,
    clear: n < o.minRequests || p - 2 * se <= level,
    figures: { share: round(p, 4), maxBackendShare: t.maxBackendShare, expectedShare: round(expected, 4), requests: n, usableBackends: usable.length },
    summary: `backend ${name} takes ${pct(p)} of pool ${pool}'s requests (limit ${pct(t.maxBackendShare)}, expected ${pct(expected)}, ${usable.length} usable backends)`,
  }];
}

function skew(pool: string, w: PoolWindow, list: BackendTarget[], shares: Record<string, number>, t: MonitorThresholds, o: ResolvedOptions): Check[] {
  const n = served(w);
  if (list.length === 0 || n === 0) return [];
  // One alert per pool, naming the backend furthest from its expected share: an all-to-one
  // shift moves every backend, and four alerts for one cause would bury it.
  let worst = list[0];
  let worstD = -1;
  for (const b of list) {
    const d = Math.abs((w.backends.get(b.backend)?.requests ?? 0) / n - b.expectedShare);
    if (d > worstD) (worst = b), (worstD = d);
  }
  const c = w.backends.get(worst.backend)?.requests ?? 0;
  const observed = c / n;
  const se = testSE(c, n, worst.expectedShare + Math.sign(observed - worst.expectedShare) * t.skew);
  return [{
    monitor: 'skew', pool, backend: worst.backend, value: round(worstD, 4), threshold: t.skew, shares,
    fire: n >= o.minRequests && worstD - o.z * se > t.skew,
    clear: n < o.minRequests || worstD - 2 * se <= o.resolveFactor * t.skew,
    figures: { observedShare: round(observed, 4), expectedShare: round(worst.expectedShare, 4), deviation: round(worstD, 4), skew: t.skew, requests: n },
    summary: `backend ${worst.backend} of pool ${pool} gets ${pct(observed)} of its requests where weights and health expect ${pct(worst.expectedShare)} (tolerance ±${pct(t.skew)})`,
  }];
}

function errorRate(pool: string, w: PoolWindow, shares: Record<string, number>, t: MonitorThresholds, o: ResolvedOptions): Check[] {
  if (w.requests === 0) return [];
  const p = w.errors / w.requests;
  const se = testSE(w.errors, w.requests, t.errorRate);
  let worst: string | null = null;
  let most = 0;
  for (const [name, c] of w.backends) if (c.errors > most) (worst = name), (most = c.errors);
  const noBackend = w.errors - [...w.backends.values()].reduce((s, c) => s + c.errors, 0);
  const from = worst === null ? (noBackend > 0 ? 'answered by evenkeel with no usable backend' : '') : `most from ${worst} (${most})`;
  return [{
    monitor: 'error-rate', pool, backend: worst, value: round(p, 4), threshold: t.errorRate, shares,
    fire: w.requests >= o.minRequests && p - o.z * se > t.errorRate,
    clear: w.requests < o.minRequests || p <= o.resolveFactor * t.errorRate,
    figures: { errorRate: round(p, 4), errors: w.errors, requests: w.requests, threshold: t.errorRate, noBackendErrors: noBackend },
    summary: `pool ${pool}: ${pct(p)} of ${w.requests} requests failed with 5xx over the window (limit ${pct(t.errorRate)})${from ? `, ${from}` : ''}`,
  }];
}

function latency(pool: string, w: PoolWindow, shares: Record<string, number>, t: MonitorThresholds, o: ResolvedOptions): Check[] {
  if (t.latencyP99Ms === undefined || w.requests === 0) return [];
  const p99 = quantileMs(w.latency, 0.99) ?? 0;
  let worst: string | null = null;
  let worstP99 = -1;
  for (const [name, c] of w.backends) {
    const q = c.requests >= 20 ? quantileMs(c.latency, 0.99) : null;
    if (q !== null && q > worstP99) (worst = name), (worstP99 = q);
  }
  const limit = t.latencyP99Ms;
  return [{
    monitor: 'latency', pool, backend: worst, value: round(p99, 1), threshold: limit, shares,
    fire: w.requests >= o.minLatencySamples && p99 > limit,
    clear: w.requests < o.minLatencySamples || p99 < o.resolveFactor * limit,
    figures: { p99Ms: round(p99, 1), limitMs: limit, samples: w.requests, worstBackendP99Ms: worstP99 < 0 ? null : round(worstP99, 1) },
    summary: `pool ${pool}: p99 latency ${round(p99, 0)} ms over the window (limit ${limit} ms)${worst ? `, slowest backend ${worst} at ${round(worstP99, 0)} ms` : ''}`,
  }];
}

function top(w: PoolWindow): [string, number] {
  let name = '';
  let most = -1;
  for (const [n, c] of w.backends) if (c.requests > most) (name = n), (most = c.requests);
  return [name, most];
}
