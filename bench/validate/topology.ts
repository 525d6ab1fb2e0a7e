/**
 * The synthetic site the validate benchmark generates: one topology (listeners, routes,
 * pools, backends, expected traffic per route) from which the evenkeel config, the traffic
 * sample and the equivalent haproxy.cfg are all written, so the three agree by construction.
 * Deterministic: the same seed gives the same files.
 */

export type Algorithm = 'round-robin' | 'least-request' | 'consistent-hash';

export interface BackendSpec {
  name: string;
  address: string;
  weight: number;
  capacity: number;
  maxConnections: number;
}

export interface HealthSpec {
  path: string;
  intervalS: number;
  timeoutS: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface PoolSpec {
  name: string;
  algorithm: Algorithm;
  backends: BackendSpec[];
  health: HealthSpec;
}

export interface SplitTarget {
  pool: string;
  weight: number;
}

/** A route sends to one pool (one target) or splits across several. */
export interface RouteSpec {
  name: string;
  host?: string;
  pathPrefix?: string;
  targets: SplitTarget[];
  /** Relative share of the listener's traffic this route gets in the sample. */
  trafficWeight: number;
}

export interface ListenerSpec {
  name: string;
  port: number;
  routes: RouteSpec[];
}

export interface Topology {
  listeners: ListenerSpec[];
  pools: PoolSpec[];
  peakRps: number;
  /** The hash key consistent-hash pools use (also sent by every sampled request). */
  hashHeader: string;
}

export const POOLS = 100;
export const BACKENDS_PER_POOL = 10;
export const ROUTES_PER_LISTENER = 100;
export const PEAK_RPS = 30_000;
/** Capacity is sized at this multiple of a backend's expected load: utilization ≈ 1/3. */
const CAPACITY_FACTOR = 3;
const HOST_PREFIXES = ['/api/', '/auth/', '/media/', '/search/'];
/** Each host gets its path-prefix routes, then one host-only fallback route. */
const ROUTES_PER_HOST = HOST_PREFIXES.length + 1;

interface ListenerPlan {
  name: string;
  port: number;
  hostPattern: (i: number) => string;
  /** Path-prefix-only routes placed after all host routes (no host match). */
  sharedPrefixes: string[];
  /** Shifts which pool a listener's k-th route uses, so each pool serves both listeners. */
  poolOffset: number;
}

const LISTENER_PLANS: ListenerPlan[] = [
  { name: 'public', port: 8080, hostPattern: (i) => `www-${pad(i, 2)}.example.com`, sharedPrefixes: ['/assets/', '/static/', '/downloads/', '/.well-known/', '/status/'], poolOffset: 0 },
  { name: 'partner', port: 8081, hostPattern: (i) => `api-${pad(i, 2)}.partner.example.net`, sharedPrefixes: ['/webhooks/', '/callbacks/', '/exports/', '/reports/', '/ping/'], poolOffset: 37 },
];

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function poolName(i: number): string {
  return `svc-${pad(i, 3)}`;
}

/** Builds the whole topology. */
export function buildTopology(): Topology {
  const listeners = LISTENER_PLANS.map(buildListener);
  const pools = Array.from({ length: POOLS }, (_, p) => buildPool(p));
  sizeCapacity(pools, listeners, PEAK_RPS);
  return { listeners, pools, peakRps: PEAK_RPS, hashHeader: 'x-user-id' };
}

function algorithmOf(p: number): Algorithm {
  const all: Algorithm[] = ['round-robin', 'least-request', 'consistent-hash'];
  return all[p % all.length];
}

function buildPool(p: number): PoolSpec {
  const algorithm = algorithmOf(p);
  // Some hand-balanced pools run two bigger machines with weight 2; hashed pools stay uniform.
  const bigMachines = algorithm !== 'consistent-hash' && p % 4 === 0;
  const backends = Array.from({ length: BACKENDS_PER_POOL }, (_, b) => {
    const weight = bigMachines && b >= BACKENDS_PER_POOL - 2 ? 2 : 1;
    return {
      name: `${poolName(p)}-${b}`,
      address: `10.${1 + Math.floor(p / 50)}.${p % 50}.${11 + b}:8080`,
      weight,
      capacity: 0, // set by sizeCapacity
      maxConnections: 256 * weight,
    };
  });
  const slow = p % 5 === 0;
  const health: HealthSpec = {
    path: p % 2 === 0 ? '/healthz' : '/ready',
    intervalS: slow ? 5 : 2,
    timeoutS: 1,
    healthyThreshold: 2,
    unhealthyThreshold: slow ? 2 : 3,
  };
  return { name: poolName(p), algorithm, backends, health };
}

function buildListener(plan: ListenerPlan): ListenerSpec {
  const hostRoutes = ROUTES_PER_LISTENER - plan.sharedPrefixes.length;
  const routes: RouteSpec[] = [];
  for (let k = 0; k < hostRoutes; k++) {
    const host = plan.hostPattern(Math.floor(k / ROUTES_PER_HOST));
    const prefix = HOST_PREFIXES[k % ROUTES_PER_HOST]; // undefined: the host's fallback route
    const label = prefix === undefined ? 'default' : prefix.replace(/\//g, '');
    routes.push(buildRoute(plan, k, `${plan.name}-${host.split('.')[0]}-${label}`, host, prefix));
  }
  plan.sharedPrefixes.forEach((prefix, i) => {
    const k = hostRoutes + i;
    routes.push(buildRoute(plan, k, `${plan.name}-${prefix.replace(/[/.]/g, '')}`, undefined, prefix));
  });
  return { name: plan.name, port: plan.port, routes };
}

/** Route k of a listener uses pool (k + offset); every tenth route splits 90/10 with the next pool. */
function buildRoute(plan: ListenerPlan, k: number, name: string, host: string | undefined, pathPrefix: string | undefined): RouteSpec {
  const primary = (k + plan.poolOffset) % POOLS;
  const targets: SplitTarget[] = k % 10 === 9
    ? [{ pool: poolName(primary), weight: 90 }, { pool: poolName((primary + 1) % POOLS), weight: 10 }]
    : [{ pool: poolName(primary), weight: 1 }];
  // A mild, realistic unevenness: some routes get up to three times the traffic of others.
  const trafficWeight = 1 + (k % 7) / 3;
  return { name, host, pathPrefix, targets, trafficWeight };
}

/** Expected peak requests/s per pool when `peakRps` is spread over routes by traffic weight. */
export function poolPeaks(listeners: ListenerSpec[], peakRps: number): Map<string, number> {
  const routes = listeners.flatMap((l) => l.routes);
  const total = routes.reduce((s, r) => s + r.trafficWeight, 0);
  const peaks = new Map<string, number>();
  for (const r of routes) {
    const routeRps = (peakRps * r.trafficWeight) / total;
    const splitTotal = r.targets.reduce((s, t) => s + t.weight, 0);
    for (const t of r.targets) peaks.set(t.pool, (peaks.get(t.pool) ?? 0) + (routeRps * t.weight) / splitTotal);
  }
  return peaks;
}

/** Gives every backend a capacity of CAPACITY_FACTOR × its expected load (rounded up to 50). */
function sizeCapacity(pools: PoolSpec[], listeners: ListenerSpec[], peakRps: number): void {
  const peaks = poolPeaks(listeners, peakRps);
  for (const pool of pools) {
    const weightSum = pool.backends.reduce((s, b) => s + b.weight, 0);
    const perWeight = ((peaks.get(pool.name) ?? 0) / weightSum) * CAPACITY_FACTOR;
    const rounded = Math.max(50, Math.ceil(perWeight / 50) * 50);
    for (const b of pool.backends) b.capacity = rounded * b.weight;
  }
}

/**
 * The "slightly different" candidate for `plan --against`: a few weights changed, as in a
 * routine change — one backend of three round-robin pools doubled, one split moved 90/10 → 80/20.
 */
export function withSmallChange(t: Topology): Topology {
  const next: Topology = structuredClone(t);
  for (const name of [poolName(0), poolName(30), poolName(60)]) {
    const pool = next.pools.find((p) => p.name === name);
    if (pool) pool.backends[1].weight = 2;
  }
  const split = next.listeners[0].routes.find((r) => r.targets.length > 1);
  if (split) {
    split.targets[0].weight = 80;
    split.targets[1].weight = 20;
  }
  return next;
}

/** The seeded PRNG shared with the config suites, so generated files are reproducible. */
export { seededRandom } from '../../src/core/random.js';
