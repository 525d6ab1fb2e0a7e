/**
 * The balancer contract: one method, `pick`, which returns the index of the chosen endpoint
 * or -1 when none is usable. Every algorithm implements it and runs the same conformance
 * suite (test/balancer-conformance.test.ts). Balancers are pure: health, slow start and
 * in-flight counts come from an EndpointView the caller owns.
 */

/** A backend as a balancer sees it. */
export interface Endpoint {
  readonly name: string;
  readonly address: string;
  /** Configured weight; 0 = drained. */
  readonly weight: number;
}

/**
 * Live state of a pool's endpoints, owned by the data plane (or a simulation).
 * `weight(i)` is the effective weight now: 0 when the endpoint is down, ejected or drained,
 * less than configured during slow start. `generation` changes whenever any `weight(i)` may
 * have changed, so hashing balancers know to rebuild their table.
 */
export interface EndpointView {
  weight(i: number): number;
  inflight(i: number): number;
  readonly generation: number;
}

/** Chooses an endpoint for one request. `key` is the hash key for consistent-hash (undefined: none). */
export interface Balancer {
  readonly algorithm: string;
  pick(key?: string): number;
}

/** A source of randomness in [0, 1); injectable so tests and simulations are exact. */
export type Random = () => number;

/** An EndpointView over the configured weights only: every endpoint up, nothing in flight. */
export function staticView(endpoints: readonly Endpoint[]): EndpointView {
  return { weight: (i) => endpoints[i].weight, inflight: () => 0, generation: 0 };
}
