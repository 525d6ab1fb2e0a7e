/**
 * The endpoint registry: every backend server this process talks to, keyed by address,
 * shared by all pools and all config versions. Pools subscribe to changes (health, ejection)
 * so their effective weights are recomputed on the event, not per request. One coarse timer
 * (250 ms) expires ejections and advances slow-start ramps.
 */
import { addressKey } from '../core/index.js';
import { EndpointState, type UpstreamOptions } from './endpoint.js';

/** Called when any endpoint's usability may have changed. */
export type ChangeListener = () => void;

/** Tick of the shared coarse timer. */
export const REGISTRY_TICK_MS = 250;

/** All endpoints of this process, by address. */
export class EndpointRegistry {
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly timer: NodeJS.Timeout;
  /** Set while some pool ramps an endpoint up (slow start): ticks then notify every time. */
  rampUntil = 0;
  private configGeneration = 0;
  private readonly configured = new Map<string, number>();

  constructor(private readonly onEndpointChange?: (ep: EndpointState) => void) {
    this.timer = setInterval(() => this.tick(), REGISTRY_TICK_MS);
    this.timer.unref();
  }

  /** Starts applying a config version: the first pool to name a server in it sets its upstream options. */
  beginConfig(): void {
    this.configGeneration++;
  }

  /**
   * The endpoint for `address`, created on first use. Its upstream options follow the first
   * pool that names it in the config being applied, so a server shared by pools with different
   * settings is not rebuilt (and its warm connections closed) twice per reload.
   */
  acquire(address: string, options: UpstreamOptions): EndpointState {
    const key = addressKey(address);
    let ep = this.endpoints.get(key);
    if (!ep) {
      ep = new EndpointState(key, options);
      this.endpoints.set(key, ep);
    } else if (this.configured.get(key) !== this.configGeneration) ep.configure(options);
    this.configured.set(key, this.configGeneration);
    return ep;
  }

  /** The endpoint for a canonical address key, if known. */
  get(key: string): EndpointState | undefined {
    return this.endpoints.get(key);
  }

  /** Every endpoint, for status pages and metrics. */
  all(): IterableIterator<EndpointState> {
    return this.endpoints.values();
  }

  /** Closes and forgets endpoints no longer named by any pool (their in-flight requests finish). */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const [key, ep] of this.endpoints) {
      if (keys.has(key)) continue;
      this.endpoints.delete(key);
      this.configured.delete(key);
      void ep.close();
    }
  }

  /** Subscribes to usability changes; returns the unsubscribe function. */
  subscribe(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Records the active health check's verdict for `key`. */
  setActive(key: string, up: boolean, now = Date.now()): void {
    const ep = this.endpoints.get(key);
    if (!ep || ep.activeUp === up) return;
    const wasUsable = ep.usable;
    ep.activeUp = up;
    if (up) ep.consecutiveFailures = 0;
    if (!wasUsable && ep.usable) ep.usableSince = now;
    this.changed(ep);
  }

  /** Tells every subscribed pool that `ep` (or several endpoints) changed. */
  changed(ep?: EndpointState): void {
    if (ep && this.onEndpointChange) this.onEndpointChange(ep);
    for (const fn of this.listeners) fn();
  }

  private tick(): void {
    const now = Date.now();
    let any = false;
    for (const ep of this.endpoints.values()) {
      if (ep.ejectedUntil !== 0 && ep.ejectedUntil <= now) {
        ep.ejectedUntil = 0;
        ep.consecutiveFailures = 0;
        if (ep.activeUp) ep.usableSince = now;
        any = true;
        if (this.onEndpointChange) this.onEndpointChange(ep);
      }
    }
    if (any || this.rampUntil > now) for (const fn of this.listeners) fn();
  }

  /** Stops the timer and closes every pool (gracefully, or at once with `force`). */
  async close(force = false): Promise<void> {
    clearInterval(this.timer);
    const eps = [...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.all(eps.map((ep) => (force ? ep.destroy() : ep.close())));
  }
}
