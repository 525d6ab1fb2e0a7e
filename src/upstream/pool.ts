/**
 * A pool as the data plane runs it: the endpoints of one config version, their effective
 * weights, and the pool's balancer. Effective weights live in a typed array recomputed when
 * the registry reports a change (health, ejection, slow-start tick), so `pick()` reads numbers
 * and never evaluates health per request. `generation` changes whenever a weight does, so
 * consistent-hash rebuilds its Maglev table once per change.
 */
import { compileKeyExtractor, cookieValue, createBalancer, type Balancer, type EndpointView, type KeyExtractor, type RequestInfo } from '../balancer/index.js';
import { OUTLIER_DEFAULTS, type Pool } from '../config/index.js';
import type { EndpointState } from './endpoint.js';
import type { EndpointRegistry } from './registry.js';
import { StickyCookies } from './sticky.js';

/** Slow start never starts below this fraction of the weight, so a fresh endpoint gets some traffic. */
const SLOW_START_FLOOR = 0.1;

/** One pool of one config version. */
export class PoolRuntime implements EndpointView {
  readonly name: string;
  readonly config: Pool;
  readonly endpoints: readonly EndpointState[];
  readonly names: readonly string[];
  readonly balancer: Balancer;
  readonly keyOf: KeyExtractor | undefined;
  readonly outlier: NonNullable<Pool['outlierDetection']>;
  /** Sticky sessions by cookie, when the pool has `stickiness` (and a signing key was given). */
  readonly sticky: StickyCookies | undefined;
  /** Retry triggers, decided once per config. */
  readonly retryOn: { connect: boolean; reset: boolean; s502: boolean; s503: boolean; s504: boolean };
  generation = 0;
  /** Usable endpoints with weight > 0 right now. */
  usableCount = 0;
  /** Requests in flight and retries in flight, for the retry budget. */
  active = 0;
  retrying = 0;
  private readonly configured: Float64Array;
  /** 1 for a backup: it serves only while no primary of the pool is usable. */
  private readonly backup: Uint8Array;
  private readonly effective: Float64Array;
  private readonly unsubscribe: () => void;

  /** `stickyKey` signs the stickiness cookies (see sticky.ts); needed when the pool has `stickiness`. */
  constructor(name: string, config: Pool, registry: EndpointRegistry, stickyKey?: Buffer) {
    this.name = name;
    this.config = config;
    this.endpoints = config.backends.map((b) => registry.acquire(b.address, {
      connections: b.maxConnections,
      connectTimeout: config.timeouts.connect,
      idleTimeout: config.timeouts.idle,
    }));
    this.names = config.backends.map((b) => b.name ?? b.address);
    this.sticky = config.stickiness && stickyKey ? new StickyCookies(name, this.names, config.stickiness, stickyKey) : undefined;
    this.configured = Float64Array.from(config.backends, (b) => b.weight);
    this.backup = Uint8Array.from(config.backends, (b) => (b.backup ? 1 : 0));
    this.effective = new Float64Array(this.endpoints.length);
    this.outlier = config.outlierDetection ?? OUTLIER_DEFAULTS;
    const on = new Set(config.retries.on.map(String));
    this.retryOn = { connect: on.has('connect-failure'), reset: on.has('reset'), s502: on.has('502'), s503: on.has('503'), s504: on.has('504') };
    this.refresh(registry);
    this.balancer = createBalancer(config.algorithm, this.endpoints.map((ep, i) => ({ name: this.names[i], address: ep.key, weight: this.configured[i] })), this);
    this.keyOf = config.algorithm === 'consistent-hash' && config.hashOn ? compileKeyExtractor(config.hashOn) : undefined;
    this.unsubscribe = registry.subscribe(() => this.refresh(registry));
  }

  /** Effective weight of endpoint i (0 when down, ejected or drained). */
  weight(i: number): number {
    return this.effective[i];
  }

  /** Requests in flight to endpoint i. */
  inflight(i: number): number {
    return this.endpoints[i].inflight;
  }

  /**
   * Picks an endpoint index for a request, or -1 when none is usable. An endpoint at its
   * `maxConnections` is passed over for the next usable one; when every one is full the request
   * is shed (-1 → 503), as Envoy's circuit breaker does, instead of waiting in an unbounded
   * queue inside undici.
   */
  pick(req: RequestInfo): number {
    if (this.usableCount === 0) return -1;
    const i = this.keyOf === undefined ? this.balancer.pick() : this.balancer.pick(this.keyOf(req));
    if (i < 0 || this.endpoints[i].inflight < this.endpoints[i].limit) return i;
    for (let k = 1; k < this.endpoints.length; k++) {
      const j = (i + k) % this.endpoints.length;
      if (this.effective[j] > 0 && this.endpoints[j].inflight < this.endpoints[j].limit) return j;
    }
    return -1;
  }

  /**
   * The backend a valid stickiness cookie of this request names, when it can take the request
   * now (usable, weight > 0, below maxConnections); else -1 and the balancer decides.
   */
  stickyPick(req: RequestInfo): number {
    const s = this.sticky!;
    const i = s.lookup(cookieValue(req.headers.cookie, s.cookie));
    return i >= 0 && this.effective[i] > 0 && this.endpoints[i].inflight < this.endpoints[i].limit ? i : -1;
  }

  /** Picks an endpoint other than `not` (retries never go to the same backend twice in a row). */
  pickOther(req: RequestInfo, not: number): number {
    if (this.usableCount < 2) return this.usableCount === 1 && this.effective[not] === 0 ? this.pick(req) : -1;
    for (let attempt = 0; attempt < 3; attempt++) {
      const i = this.balancer.pick();
      if (i !== not && i >= 0 && this.endpoints[i].inflight < this.endpoints[i].limit) return i;
    }
    for (let k = 1; k < this.endpoints.length; k++) {
      const i = (not + k) % this.endpoints.length;
      if (this.effective[i] > 0 && this.endpoints[i].inflight < this.endpoints[i].limit) return i;
    }
    return -1;
  }

  /** True when a retry fits in the budget: retries in flight ≤ budgetPercent of requests in flight (at least 3, as Envoy). */
  retryAllowed(): boolean {
    const budget = Math.max(3, (this.active * this.config.retries.budgetPercent) / 100);
    return this.retrying < budget;
  }

  /** Endpoints with a configured weight above 0: the ones that take traffic when healthy. */
  weightedCount(): number {
    let n = 0;
    for (let i = 0; i < this.endpoints.length; i++) if (this.configured[i] > 0) n++;
    return n;
  }

  /** How many of this pool's weighted endpoints are ejected now (for maxEjectionPercent). */
  ejectedCount(): number {
    let n = 0;
    for (let i = 0; i < this.endpoints.length; i++) if (this.configured[i] > 0 && this.endpoints[i].ejectedUntil !== 0) n++;
    return n;
  }

  /**
   * Recomputes effective weights; bumps `generation` when any changed. Backups get 0 while any
   * primary is usable and their own weight when none is (HAProxy and NGINX `backup`).
   */
  refresh(registry: EndpointRegistry, now = Date.now()): void {
    const ramp = this.config.slowStart ?? 0;
    let changed = false;
    let usable = 0;
    let primaryUp = false;
    const next = new Float64Array(this.endpoints.length);
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[i];
      let w = ep.usable ? this.configured[i] : 0;
      if (w > 0 && ramp > 0 && ep.usableSince !== 0) {
        const f = (now - ep.usableSince) / ramp;
        if (f < 1) {
          w *= Math.max(SLOW_START_FLOOR, f);
          if (registry.rampUntil < ep.usableSince + ramp) registry.rampUntil = ep.usableSince + ramp;
        }
      }
      next[i] = w;
      if (w > 0 && this.backup[i] === 0) primaryUp = true;
    }
    for (let i = 0; i < this.endpoints.length; i++) {
      const w = (this.backup[i] === 1) === primaryUp ? 0 : next[i];
      if (w > 0) usable++;
      if (w !== this.effective[i]) {
        this.effective[i] = w;
        changed = true;
      }
    }
    this.usableCount = usable;
    if (changed) this.generation++;
  }

  /** Stops following registry changes (the config version was replaced). */
  dispose(): void {
    this.unsubscribe();
  }
}
