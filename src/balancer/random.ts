/** Weighted random: each pick independent, probability proportional to weight. O(n) per pick. */
import type { Balancer, EndpointView, Random } from './types.js';

/** Picks index i with probability weight(i) / Σ weights, or -1 when every weight is 0. */
export function weightedRandomIndex(count: number, view: EndpointView, random: Random, exclude = -1): number {
  let total = 0;
  for (let i = 0; i < count; i++) if (i !== exclude) total += Math.max(0, view.weight(i));
  if (total <= 0) return -1;
  let r = random() * total;
  let last = -1;
  for (let i = 0; i < count; i++) {
    if (i === exclude) continue;
    const w = view.weight(i);
    if (w <= 0) continue;
    last = i;
    if (r < w) return i;
    r -= w;
  }
  return last;
}

export class RandomBalancer implements Balancer {
  readonly algorithm = 'random';
  constructor(private readonly count: number, private readonly view: EndpointView, private readonly random: Random = Math.random) {}

  pick(): number {
    return weightedRandomIndex(this.count, this.view, this.random);
  }
}
