/**
 * Least-request by the power of two choices (Mitzenmacher): draw two distinct endpoints by
 * weight, send to the one with fewer requests in flight (the first on a tie). Almost as
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
    // The draws already follow the weights; comparing in-flight counts divided by weight as
    // well would count the weight twice (3:1 would become 100:0 on an idle pool).
    return this.view.inflight(b) < this.view.inflight(a) ? b : a;
  }
}
