/**
 * One config version compiled for the data plane: route tables per listener, pool runtimes,
 * and the metric series keys, all decided here so a request only follows references. A reload
 * builds a new snapshot and swaps it into the listeners; requests keep the one they started on.
 */
import type { Config } from '../config/index.js';
import { compileRouteTable, type CompiledRoute, type RouteTable } from '../routing/index.js';
import { metricKey, type MetricKey } from '../telemetry/channels.js';
import { PoolRuntime, type EndpointRegistry } from '../upstream/index.js';
import { limiterId, RateLimiter } from './rate-limit.js';

/** A route with its target pools resolved. */
export interface RouteRuntime {
  readonly route: CompiledRoute;
  /** Pool per split target (index as in route.targets); undefined when the config names no such pool. */
  readonly pools: readonly (PoolRuntime | undefined)[];
  /** Metric key per target and backend index. */
  readonly keys: readonly (readonly MetricKey[])[];
  /** Metric key per target when no backend could be chosen. */
  readonly noBackend: readonly MetricKey[];
  /** The route's rate limit, if it has one. */
  readonly limiter: RateLimiter | undefined;
  /** Metric key of requests the rate limit refused (no pool, no backend). */
  readonly limited: MetricKey;
}

/** Version metadata shown by serve, the admin API and metrics. */
export interface VersionInfo {
  readonly version: number;
  readonly hash: string;
  readonly source: string;
}

/** A config canary: the candidate's snapshot and the fraction of requests it serves. */
export interface CanarySlice {
  readonly snap: Snapshot;
  readonly fraction: number;
}

/** What a listener serves: the active snapshot, and a canary beside it while one runs. */
export interface Serving {
  snap: Snapshot;
  canary: CanarySlice | undefined;
}

/** The snapshot one request (or connection) is served by: the canary's for `fraction` of them. */
export function pickSnapshot(s: Serving): Snapshot {
  const c = s.canary;
  return c !== undefined && Math.random() < c.fraction ? c.snap : s.snap;
}

/** What the data plane keeps across versions and hands to each snapshot. */
export interface SnapshotShared {
  /** Rate limiters by id, so buckets survive a reload. */
  readonly limiters?: Map<string, RateLimiter>;
  /** Signs stickiness cookies (upstream/sticky.ts). */
  readonly stickyKey?: Buffer;
}

/** A compiled config version. */
export class Snapshot {
  readonly pools = new Map<string, PoolRuntime>();
  readonly tables = new Map<string, RouteTable>();
  readonly routes = new Map<CompiledRoute, RouteRuntime>();
  /** Metric key per listener for requests no route matched. */
  readonly unrouted = new Map<string, MetricKey>();
  /** Listeners whose routing needs request headers (header match or a header/cookie hash key). */
  readonly needsHeaders = new Set<string>();

  /** Ids of the rate limiters this version uses (the data plane forgets the others). */
  readonly limiterIds = new Set<string>();

  /** `canary`: this version serves a config canary's slice; its metric keys say so. */
  constructor(readonly config: Config, readonly info: VersionInfo, readonly registry: EndpointRegistry, readonly canary = false, shared: SnapshotShared = {}) {
    const limiters = shared.limiters ?? new Map<string, RateLimiter>();
    registry.beginConfig();
    for (const [name, pool] of Object.entries(config.pools)) this.pools.set(name, new PoolRuntime(name, pool, registry, shared.stickyKey));
    for (const l of config.listeners) {
      const table = compileRouteTable(l);
      this.tables.set(l.name, table);
      this.unrouted.set(l.name, metricKey(l.name, '', '', '', canary));
      for (const route of table.routes) {
        const pools = route.targets.map((t) => this.pools.get(t.pool));
        const rl = l.routes?.[route.index]?.rateLimit;
        let limiter: RateLimiter | undefined;
        if (rl !== undefined) {
          const id = limiterId(l.name, route.name, rl);
          limiter = limiters.get(id);
          if (limiter === undefined) limiters.set(id, (limiter = new RateLimiter(rl)));
          this.limiterIds.add(id);
        }
        this.routes.set(route, {
          route,
          pools,
          keys: pools.map((p) => (p ? p.names.map((b) => metricKey(l.name, route.name, p.name, b, canary)) : [])),
          noBackend: route.targets.map((t) => metricKey(l.name, route.name, t.pool, '', canary)),
          limiter,
          limited: metricKey(l.name, route.name, '', '', canary),
        });
        if (route.match.headers) this.needsHeaders.add(l.name);
        for (const p of pools) if (p?.keyOf && p.config.hashOn && /^(header|cookie):/.test(p.config.hashOn)) this.needsHeaders.add(l.name);
      }
    }
  }

  /** Endpoint keys this version uses (the registry closes the others). */
  endpointKeys(): Set<string> {
    const keys = new Set<string>();
    for (const p of this.pools.values()) for (const ep of p.endpoints) keys.add(ep.key);
    return keys;
  }

  /** Stops the pools following registry changes. */
  dispose(): void {
    for (const p of this.pools.values()) p.dispose();
  }
}
