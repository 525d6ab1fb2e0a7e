/** Small statistics the monitors share: a proportion's standard error that behaves at 0 and 1. */

/**
 * Standard error of x successes in n trials with the Agresti–Coull adjustment, so an observed
 * 0% or 100% on a small sample still has a width (a plain p(1-p)/n would be 0 and make a
 * handful of requests look certain).
 */
export function proportionSE(x: number, n: number): number {
  const p = (x + 2) / (n + 4);
  return Math.sqrt((p * (1 - p)) / (n + 4));
}

/**
 * The standard error to test "true proportion > q" with: at least the one the null hypothesis
 * itself implies (q(1-q)/n). The observed proportion's own error shrinks towards 0 and 1, so
 * a small sample with a lucky 75% would otherwise look more certain than it is.
 */
export function testSE(x: number, n: number, q: number): number {
  const b = Math.min(Math.max(q, 0), 1);
  return Math.max(proportionSE(x, n), Math.sqrt((b * (1 - b)) / Math.max(n, 1)));
}

/** Rounds for figures in alerts (payloads stay readable); one helper for every folder, in core/. */
export { round } from '../../core/index.js';
