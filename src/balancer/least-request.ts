/**
 * Least-request by the power of two choices (Mitzenmacher): draw two distinct endpoints by
 * weight, send to the one with fewer requests in flight relative to its weight. Almost as
 * good as scanning all endpoints, O(n) only for the weighted draw, and it never herds every
 * request onto the one endpoint that looked idle a moment ago.
 */
import { weightedRandomIndex } from './random.js';
import type { Balancer, EndpointView, Random } from './types.js';

export class LeastRequest implements Balancer {
  readonly algorithm = 'least-request';
  constructor(private readonly count: number, private readonly view: EndpointView, private readonly random: Random = Math.random) {}

  pick(): number {
    const a = weightedRandomIndex(this.count, this.view, this.random);
    if (a < 0) return -1;
    const b = weightedRandomIndex(this.count, this.view, this.random, a);
    if (b < 0) return a;
    const la = (this.view.inflight(a) + 1) / this.view.weight(a);
    const lb = (this.view.inflight(b) + 1) / this.view.weight(b);
    return lb < la ? b : a;
  }
}
