/** Balancers behind one contract, `pick()`, one module per algorithm. Pure. */
import { ConsistentHash } from './consistent-hash.js';
import { LeastRequest } from './least-request.js';
import { RandomBalancer } from './random.js';
import { RoundRobin } from './round-robin.js';
import type { Algorithm } from '../config/index.js';
import type { Balancer, Endpoint, EndpointView, Random } from './types.js';

export * from './types.js';
export * from './hash.js';
export * from './maglev.js';
export * from './hash-key.js';
export { RoundRobin, RandomBalancer, LeastRequest, ConsistentHash };

/** Algorithm names, as the config spells them (the schema's list, so a new one fails the switch below until it is built). */
export type AlgorithmName = Algorithm;

/** Builds the balancer for a pool. */
export function createBalancer(algorithm: AlgorithmName, endpoints: readonly Endpoint[], view: EndpointView, random: Random = Math.random): Balancer {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobin(endpoints.length, view);
    case 'least-request':
      return new LeastRequest(endpoints.length, view, random);
    case 'random':
      return new RandomBalancer(endpoints.length, view, random);
    case 'consistent-hash':
      return new ConsistentHash(endpoints, view);
  }
}
