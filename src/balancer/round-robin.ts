/**
 * Smooth weighted round-robin (nginx's algorithm): every pick adds each endpoint's weight to
 * its running score, takes the highest and subtracts the total from it. Weights 3:1 give
 * a a b a: exact proportions over every cycle and no bursts. O(n) per pick, no allocation.
 */
import type { Balancer, EndpointView } from './types.js';

export class RoundRobin implements Balancer {
  readonly algorithm = 'round-robin';
  private readonly current: Float64Array;

  constructor(private readonly count: number, private readonly view: EndpointView) {
    this.current = new Float64Array(count);
  }

  pick(): number {
    let total = 0;
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < this.count; i++) {
      const w = this.view.weight(i);
      if (w <= 0) continue;
      const score = this.current[i] + w;
      this.current[i] = score;
      total += w;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best >= 0) this.current[best] -= total;
    return best;
  }
}
