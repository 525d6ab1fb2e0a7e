/**
 * The canary judgement: the canary slice's window against the active slice's, while the
 * candidate serves a few percent of requests. It judges what the change does to the
 * distribution of each pool it touches, not only what the canary's requests look like:
 *
 * - by the candidate's weights and health, from the first tick: a touched pool that the
 *   active version spreads over two or more backends and the candidate gives mostly to one
 *   (drained and removed backends count as backends that now get nothing), or that a full
 *   rollout at the pool's projected peak would push over a backend's capacity, is aborted at
 *   any load, before a request proves it;
 * - by the canary's observed shares, once a pool has a sample: projected onto the pool's rate
 *   of a full rollout (the larger of the rate now and the candidate's traffic model at the
 *   declared peak) and checked against capacity and the distribution limits, so a config that
 *   sends everything to one server is caught while it carries 10% of the load;
 * - its own error rate and latency against the limits and against the active slice.
 *
 * A touched pool that saw too few canary requests is not promoted silently: the canary runs on
 * up to `maxDurationMs`, then `tooFewRequests` decides, and the verdict names the pool and its
 * count. A pool acknowledged as drained to one backend (maintenance) is not judged on
 * concentration.
 */
import { pct } from '../../core/index.js';
import { resolveOptions } from './checks.js';
import { proportionSE, round } from './stats.js';
import { quantileMs, type WindowSnapshot } from './window.js';
import type { BackendTarget, MonitorName, MonitorOptions, MonitorThresholds } from './types.js';

/** One reason for a verdict. */
export interface VerdictReason {
  monitor: MonitorName;
  pool: string;
  backend: string | null;
  value: number;
  threshold: number;
  summary: string;
}

/** promote: the canary did no harm; abort: a monitor judged it bad; wait: too early or too little traffic. */
export interface CanaryVerdict {
  decision: 'promote' | 'abort' | 'wait';
  reasons: VerdictReason[];
  /** Requests the canary slice served in the window. */
  canaryRequests: number;
  /** The same, per pool (every touched pool is listed, 0 when it saw none). */
  pools: Record<string, number>;
  /** Touched pools with fewer canary requests than a judgement needs. */
  thin: string[];
  summary: string;
}

/** What to do with a touched pool that saw too few canary requests by the end of the extension. */
export type TooFewRequests = 'promote' | 'abort';

/** What the judgement needs besides the two windows. */
export interface CanaryInput {
  canary: WindowSnapshot;
  active: WindowSnapshot;
  /** The candidate config's backends (expected shares and capacities under the candidate). */
  canaryTargets: readonly BackendTarget[];
  /** The active version's backends now; absent: the candidate's own judge concentration. */
  activeTargets?: readonly BackendTarget[];
  thresholds: MonitorThresholds;
  elapsedMs: number;
  durationMs: number;
  /** How long the canary may run on while a touched pool has too few requests [durationMs]. */
  maxDurationMs?: number;
  /** The pools the change touches [every pool the canary serves]. */
  touched?: ReadonlySet<string>;
  /** Requests/s a full rollout of the candidate gives each pool at the declared peak (its traffic model). */
  projectedRps?: ReadonlyMap<string, number>;
  /** The same under the active version, so a pool already over capacity at the peak is not blamed on the change. */
  activeProjectedRps?: ReadonlyMap<string, number>;
  /** Pools the change is acknowledged to leave with one backend (maintenance). */
  drainToOne?: ReadonlySet<string>;
  /** Policy for a touched pool still short of requests at `maxDurationMs` [promote]. */
  tooFewRequests?: TooFewRequests;
  options?: MonitorOptions;
}

/** Judges a running canary; abort as soon as the evidence is confident, promote only at the end. */
export function judgeCanary(input: CanaryInput): CanaryVerdict {
  const o = resolveOptions(input.options);
  const t = input.thresholds;
  const reasons: VerdictReason[] = [];
  const touched = input.touched ?? new Set([...input.canaryTargets.map((b) => b.pool), ...input.canary.pools.keys()]);
  const drainToOne = input.drainToOne ?? new Set<string>();
  const pools: Record<string, number> = {};
  for (const p of touched) pools[p] = 0;
  let canaryRequests = 0;
  for (const [pool, c] of input.canary.pools) {
    canaryRequests += c.requests;
    pools[pool] = c.requests;
  }
  const byPool = (list: readonly BackendTarget[] | undefined, pool: string) => (list ?? []).filter((b) => b.pool === pool);
  const usableOf = (list: readonly BackendTarget[]) => list.filter((b) => b.up && b.expectedShare > 0).length;
  /** Backends the pool spreads over for the concentration limit: the active version's too, in a touched pool. */
  const spreadOver = (pool: string, candidate: readonly BackendTarget[]): { usable: number; before: number } => {
    const own = usableOf(candidate);
    const before = input.activeTargets && touched.has(pool) ? usableOf(byPool(input.activeTargets, pool)) : own;
    if (own <= 1 && drainToOne.has(pool)) return { usable: own, before };
    return { usable: Math.max(own, before), before };
  };

  // What the candidate's weights and health do to each touched pool, before any request.
  for (const pool of touched) {
    const targets = byPool(input.canaryTargets, pool);
    if (targets.length === 0) continue;
    const { usable, before } = spreadOver(pool, targets);
    const top = targets.reduce((a, b) => (b.expectedShare > a.expectedShare ? b : a));
    if (usable >= 2 && top.expectedShare > t.maxBackendShare + 0.01) {
      reasons.push({ monitor: 'concentration', pool, backend: top.backend, value: round(top.expectedShare, 4), threshold: t.maxBackendShare, summary: `canary's weights send ${pct(top.expectedShare)} of pool ${pool} to ${top.backend} (limit ${pct(t.maxBackendShare)}; the active version spreads it over ${before} backend${before === 1 ? '' : 's'})` });
    }
    const peak = input.projectedRps?.get(pool);
    if (!peak) continue;
    const activePeak = input.activeProjectedRps?.get(pool) ?? 0;
    for (const b of targets) {
      if (!b.capacity) continue;
      const load = b.expectedShare * peak;
      const was = (byPool(input.activeTargets, pool).find((a) => a.backend === b.backend)?.expectedShare ?? 0) * activePeak;
      if (load > b.capacity && load > was * 1.01) {
        reasons.push({ monitor: 'overload', pool, backend: b.backend, value: round(load, 1), threshold: b.capacity, summary: `a full rollout sends ${pct(b.expectedShare)} of pool ${pool} to ${b.backend}: ${round(load, 0)} req/s at the pool's projected peak of ${round(peak, 0)} req/s, over its capacity ${b.capacity} req/s` });
      }
    }
  }
  const already = (monitor: MonitorName, pool: string, backend: string | null) => reasons.some((r) => r.monitor === monitor && r.pool === pool && r.backend === backend);

  for (const [pool, c] of input.canary.pools) {
    const a = input.active.pools.get(pool);
    // Own health: error rate above the limit, or clearly worse than the active slice.
    if (c.requests >= o.minRequests) {
      const p = c.errors / c.requests;
      const se = proportionSE(c.errors, c.requests);
      const ap = a && a.requests ? a.errors / a.requests : 0;
      const ase = a ? proportionSE(a.errors, a.requests) : 0;
      const worse = p - ap > 0.01 && p - ap > o.z * Math.hypot(se, ase);
      if (p - o.z * se > t.errorRate || worse) {
        reasons.push({ monitor: 'error-rate', pool, backend: null, value: round(p, 4), threshold: t.errorRate, summary: `canary: ${pct(p)} of ${c.requests} requests to pool ${pool} failed (active version ${pct(ap)}, limit ${pct(t.errorRate)})` });
      }
    }
    if (t.latencyP99Ms !== undefined && c.requests >= o.minLatencySamples) {
      const q = quantileMs(c.latency, 0.99) ?? 0;
      const aq = a && a.requests >= o.minLatencySamples ? quantileMs(a.latency, 0.99) : null;
      if (q > t.latencyP99Ms || (aq !== null && q > 2 * aq + 50)) {
        reasons.push({ monitor: 'latency', pool, backend: null, value: round(q, 1), threshold: t.latencyP99Ms, summary: `canary: p99 ${round(q, 0)} ms in pool ${pool} (active version ${aq === null ? 'n/a' : `${round(aq, 0)} ms`}, limit ${t.latencyP99Ms} ms)` });
      }
    }
    // Distribution, projected: the canary's shares applied to the pool's rate after a full rollout.
    let served = 0;
    for (const b of c.backends.values()) served += b.requests;
    if (served < o.minRequests) continue;
    const now = c.requests / (c.spanMs / 1000) + (a ? a.requests / (a.spanMs / 1000) : 0);
    const poolRps = touched.has(pool) ? Math.max(now, input.projectedRps?.get(pool) ?? 0) : now;
    const targets = byPool(input.canaryTargets, pool);
    const { usable } = spreadOver(pool, targets);
    for (const b of targets) {
      const n = c.backends.get(b.backend)?.requests ?? 0;
      const share = n / served;
      const low = share - o.z * proportionSE(n, served);
      if (b.capacity && low * poolRps > b.capacity && !already('overload', pool, b.backend)) {
        reasons.push({ monitor: 'overload', pool, backend: b.backend, value: round(share * poolRps, 1), threshold: b.capacity, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend}: ${round(share * poolRps, 0)} req/s at the pool's ${poolRps > now ? 'projected peak of' : 'current'} ${round(poolRps, 0)} req/s, over its capacity ${b.capacity} req/s` });
      }
      if (usable >= 2 && low > t.maxBackendShare + 0.01 && !already('concentration', pool, b.backend)) {
        reasons.push({ monitor: 'concentration', pool, backend: b.backend, value: round(share, 4), threshold: t.maxBackendShare, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend} (limit ${pct(t.maxBackendShare)})` });
      }
      if (Math.abs(share - b.expectedShare) - o.z * proportionSE(n, served) > t.skew) {
        reasons.push({ monitor: 'skew', pool, backend: b.backend, value: round(share, 4), threshold: t.skew, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend} where the candidate's weights expect ${pct(b.expectedShare)}` });
      }
    }
  }
  const thin = [...touched].filter((p) => (pools[p] ?? 0) < o.minRequests).sort();
  const perPool = Object.entries(pools).sort(([x], [y]) => x.localeCompare(y)).map(([p, n]) => `pool ${p} ${n}`).join(', ');
  const counted = `${canaryRequests} canary requests${perPool ? ` (${perPool})` : ''}`;
  const base = { canaryRequests, pools, thin };
  if (reasons.length) return { decision: 'abort', reasons, ...base, summary: `abort: ${reasons.map((r) => r.summary).join('; ')}` };
  if (input.elapsedMs < input.durationMs) return { decision: 'wait', reasons, ...base, summary: `canary running: ${counted} so far, nothing wrong yet` };
  const max = Math.max(input.durationMs, input.maxDurationMs ?? input.durationMs);
  const short = thin.map((p) => `pool ${p} saw ${pools[p] ?? 0}`).join(', ');
  if (thin.length && input.elapsedMs < max) return { decision: 'wait', reasons, ...base, summary: `canary extended (up to ${round(max / 1000, 1)}s): too few requests to judge yet (${short}; ${o.minRequests} needed)` };
  if (thin.length && input.tooFewRequests === 'abort') {
    return { decision: 'abort', reasons, ...base, summary: `abort: too few requests to judge after ${round(input.elapsedMs / 1000, 1)}s (${short}; ${o.minRequests} needed) and guardrails.rollout.tooFewRequests is abort` };
  }
  // Too little traffic is not evidence of harm: the candidate passed validation (or was forced),
  // its weights were judged above, and the bake window still watches it. The verdict says so.
  const unjudged = thin.length ? `; NOT JUDGED on traffic: ${short} canary requests, fewer than the ${o.minRequests} needed, after ${round(input.elapsedMs / 1000, 1)}s; promoted on its weights and validation (guardrails.rollout.tooFewRequests: promote), the bake window still watches it` : '';
  return { decision: 'promote', reasons, ...base, summary: `${counted} without a monitor objecting${unjudged}` };
}
