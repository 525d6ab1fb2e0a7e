/**
 * evenkeel weights are any numbers >= 0; HAProxy's are integers 0–256 (configuration.txt,
 * `weight`). Weights that already fit are written as they are; others are scaled so the
 * largest becomes 256 and rounded, never rounding a serving server down to 0. The result says
 * how far each server's share moved, so the exporter can say so when it is not exact.
 */

/** HAProxy's largest server weight. */
export const MAX_WEIGHT = 256;

/** Integer weights for one pool and the largest share error they introduce. */
export interface ScaledWeights {
  readonly weights: readonly number[];
  readonly exact: boolean;
  /** Largest |share(scaled) − share(original)| over the pool's servers. */
  readonly maxShareError: number;
}

/**
 * Scales `weights` into HAProxy's range (see the module comment). `spread` multiplies weights
 * that fit by the largest integer that keeps them in range: `balance random` picks on
 * HAProxy's consistent ring, whose points per server grow with the weight, so small weights
 * give uneven shares (measured: 3:1 gave 0.675/0.325 over 2,000 requests, 255:85 gave 0.75).
 */
export function scaleWeights(weights: readonly number[], spread = false): ScaledWeights {
  const fits = weights.every((w) => Number.isInteger(w) && w <= MAX_WEIGHT);
  const max = Math.max(0, ...weights);
  if (fits && spread && max > 0) {
    const k = Math.floor(MAX_WEIGHT / max);
    return { weights: weights.map((w) => w * k), exact: true, maxShareError: 0 };
  }
  if (fits) return { weights, exact: true, maxShareError: 0 };
  const scaled = weights.map((w) => (w <= 0 ? 0 : Math.max(1, Math.round((w / max) * MAX_WEIGHT))));
  const error = shareError(weights, scaled);
  return { weights: scaled, exact: error === 0, maxShareError: error };
}

function shareError(a: readonly number[], b: readonly number[]): number {
  const ta = a.reduce((s, w) => s + w, 0);
  const tb = b.reduce((s, w) => s + w, 0);
  if (ta <= 0 || tb <= 0) return 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] / ta - b[i] / tb));
  return worst;
}
