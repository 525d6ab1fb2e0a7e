/**
 * Passive outlier detection: consecutive failures (connect failure, reset, 5xx from the
 * backend) eject an endpoint for baseEjectionTime × the number of ejections in a row, as in
 * Envoy, but never past maxEjectionPercent of the pool — ejecting everything would turn a
 * partial outage into a total one.
 */
import type { EndpointRegistry, EndpointState, PoolRuntime } from '../upstream/index.js';

/** Longest ejection, however many times in a row an endpoint was ejected. */
const MAX_EJECTION_MULTIPLIER = 10;

/** Records a success: resets the failure streak (and the ejection back-off). */
export function recordSuccess(ep: EndpointState): void {
  if (ep.consecutiveFailures !== 0) ep.consecutiveFailures = 0;
  if (ep.ejections !== 0 && ep.ejectedUntil === 0) ep.ejections = 0;
}

/** Records a failure seen through `pool`; ejects the endpoint when the streak reaches the threshold and the cap allows. */
export function recordFailure(ep: EndpointState, pool: PoolRuntime, registry: EndpointRegistry, now = Date.now()): boolean {
  ep.consecutiveFailures++;
  if (ep.ejectedUntil !== 0 || ep.consecutiveFailures < pool.outlier.consecutiveFailures) return false;
  // Drained (weight 0) backends take no traffic: they do not count towards the cap, so the
  // one backend left serving a pool is never ejected into a total outage.
  const n = pool.weightedCount();
  if (n === 0 || ((pool.ejectedCount() + 1) / n) * 100 > pool.outlier.maxEjectionPercent) return false;
  ep.ejections++;
  ep.ejectedUntil = now + pool.outlier.baseEjectionTime * Math.min(ep.ejections, MAX_EJECTION_MULTIPLIER);
  registry.changed(ep);
  return true;
}
