/**
 * The canary judgement: the canary slice's window against the active slice's, while the
 * candidate serves a few percent of requests. Besides its own error rate and latency, the
 * canary's backend shares are what the candidate would do to all traffic, so they are
 * projected onto the pool's whole request rate and checked against capacity and the
 * distribution limits: a config that sends everything to one server is caught while it
 * carries 10% of the load, not after it carries all of it.
 */
import { pct } from '../../core/text.js';
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
  summary: string;
}

/** What the judgement needs besides the two windows. */
export interface CanaryInput {
  canary: WindowSnapshot;
  active: WindowSnapshot;
  /** The candidate config's backends (expected shares and capacities under the candidate). */
  canaryTargets: readonly BackendTarget[];
  thresholds: MonitorThresholds;
  elapsedMs: number;
  durationMs: number;
  options?: MonitorOptions;
}

/** Judges a running canary; abort as soon as the evidence is confident, promote only at the end. */
export function judgeCanary(input: CanaryInput): CanaryVerdict {
  const o = resolveOptions(input.options);
  const t = input.thresholds;
  const reasons: VerdictReason[] = [];
  let canaryRequests = 0;
  for (const [pool, c] of input.canary.pools) {
    canaryRequests += c.requests;
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
    // Distribution, projected: the canary's shares applied to the pool's whole rate.
    let served = 0;
    for (const b of c.backends.values()) served += b.requests;
    if (served < o.minRequests) continue;
    const poolRps = c.requests / (c.spanMs / 1000) + (a ? a.requests / (a.spanMs / 1000) : 0);
    const targets = input.canaryTargets.filter((b) => b.pool === pool);
    const usable = targets.filter((b) => b.up && b.expectedShare > 0).length;
    for (const b of targets) {
      const n = c.backends.get(b.backend)?.requests ?? 0;
      const share = n / served;
      const low = share - o.z * proportionSE(n, served);
      if (b.capacity && low * poolRps > b.capacity) {
        reasons.push({ monitor: 'overload', pool, backend: b.backend, value: round(share * poolRps, 1), threshold: b.capacity, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend}: ${round(share * poolRps, 0)} req/s at the pool's current ${round(poolRps, 0)} req/s, over its capacity ${b.capacity} req/s` });
      }
      if (usable >= 2 && low > t.maxBackendShare + 0.01) {
        reasons.push({ monitor: 'concentration', pool, backend: b.backend, value: round(share, 4), threshold: t.maxBackendShare, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend} (limit ${pct(t.maxBackendShare)})` });
      }
      if (Math.abs(share - b.expectedShare) - o.z * proportionSE(n, served) > t.skew) {
        reasons.push({ monitor: 'skew', pool, backend: b.backend, value: round(share, 4), threshold: t.skew, summary: `canary sends ${pct(share)} of pool ${pool} to ${b.backend} where the candidate's weights expect ${pct(b.expectedShare)}` });
      }
    }
  }
  if (reasons.length) return { decision: 'abort', reasons, canaryRequests, summary: `abort: ${reasons.map((r) => r.summary).join('; ')}` };
  if (input.elapsedMs < input.durationMs) return { decision: 'wait', reasons, canaryRequests, summary: `canary running: ${canaryRequests} requests so far, nothing wrong yet` };
  // Too little traffic to judge is not evidence of harm: the candidate passed validation, and
  // the monitors and the bake window still watch it after promotion. Say so in the summary.
  const thin = canaryRequests < o.minRequests ? ` (only ${canaryRequests} requests: too few to judge; the bake window still watches it)` : '';
  return { decision: 'promote', reasons, canaryRequests, summary: `promote: ${canaryRequests} canary requests without a monitor objecting${thin}` };
}
