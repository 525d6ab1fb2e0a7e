/**
 * The traffic model: how many requests per second each backend would get at peak, predicted
 * route → split → pool → backend, with the same route tables and the same Maglev table the
 * data plane uses. Pure: no network, no clock.
 *
 * - A route's traffic is its declared peak (guardrails.traffic.routes), else its fraction of
 *   the sample, else an even spread over reachable routes, of whatever peakRps is left.
 * - Inside a pool, round-robin / least-request / random give weight-proportional shares over
 *   the serving backends: primaries with weight > 0, or, when no primary has weight, the
 *   backups with weight > 0 (a backup is a standby: share 0 while a primary is usable).
 *   consistent-hash hashes each sampled request's key through the real table (no sample: the
 *   table's slot shares, i.e. a high-cardinality key).
 * - Backends that share an address are one server for capacity, across pools too.
 * - A sticky pool (`stickiness`) gets the shares of its new sessions: a session's first
 *   request is balanced by the algorithm and the rest follow it, so over many sessions the
 *   backends' shares are the algorithm's (a few heavy sessions are what the sample shows).
 * - A route's rateLimit caps what its sampled keys can send (capByRateLimits).
 */
import { addressKey } from '../core/index.js';
import { round } from '../core/index.js';
import { compileKeyExtractor, MaglevTable } from '../balancer/index.js';
import { compileRouteTable, covers, type RouteTable } from '../routing/index.js';
import type { Config, Pool } from '../config/index.js';
import type { SampleRequest } from './sample.js';

/** One route (or tcp listener) and the traffic the model gives it. */
export interface FlowLoad {
  listener: string;
  route: string;
  /** Index of the route in its listener (-1 for a tcp listener). */
  index: number;
  rps: number;
  sampled: number;
  explicit: boolean;
  shadowed: boolean;
  /** The earlier route of the same listener that matches everything this one does. */
  shadowedBy?: string;
  /** Requests/s its rateLimit would refuse at peak (already taken out of `rps`). */
  limitedRps?: number;
}

/** One backend entry of one pool. */
export interface BackendLoad {
  pool: string;
  name: string;
  index: number;
  address: string;
  server: string;
  weight: number;
  /** A standby: serves only while no primary of the pool is usable. */
  backup: boolean;
  /** True when it takes traffic with every backend healthy (see servingWeights). */
  serving: boolean;
  capacity?: number;
  rps: number;
  /** Share of its pool's requests. */
  share: number;
}

/** What consistent-hash saw in the sample for a pool. */
export interface HashStats {
  /** Sampled requests that reached the pool (for the sampling error of hashed shares). */
  sampledCount: number;
  sampledRps: number;
  keylessRps: number;
  topKey?: string;
  topKeyRps: number;
  topKeyBackend?: string;
}

/** A pool and its backends' loads. */
export interface PoolLoad {
  name: string;
  rps: number;
  usable: number;
  backends: BackendLoad[];
  hash?: HashStats;
  /** consistent-hash traffic predicted from slot shares because no sampled request reached it. */
  unsampledHashRps: number;
}

/** All backend entries at one address: one server for capacity. */
export interface ServerLoad {
  key: string;
  rps: number;
  capacity?: number;
  entries: BackendLoad[];
}

/** The whole prediction. `peakRps` is null when the config declares no traffic model. */
export interface TrafficModel {
  peakRps: number | null;
  total: number;
  flows: FlowLoad[];
  pools: Map<string, PoolLoad>;
  servers: Map<string, ServerLoad>;
  sampleSize: number;
  unmatched: number;
  unmatchedExample?: SampleRequest;
  explicitSum: number;
}

/** Backend display name: its `name`, else its address. */
export function backendName(b: { name?: string; address: string }): string {
  return b.name ?? b.address;
}

/**
 * Each backend's weight with every backend healthy: primaries keep theirs, backups get 0 —
 * unless no primary has a weight above 0, in which case the backups serve (and primaries get 0).
 * The data plane applies the same rule to live health (upstream/pool.ts).
 */
export function servingWeights(pool: { backends: readonly { weight: number; backup?: boolean }[] }): number[] {
  const primary = pool.backends.some((b) => !b.backup && b.weight > 0);
  return pool.backends.map((b) => (!!b.backup === !primary ? b.weight : 0));
}

/** Effective capacity of a backend entry: its own, else the pool's. */
export function backendCapacity(pool: Pool, b: { capacity?: number }): number | undefined {
  return b.capacity ?? pool.capacity;
}

/** Builds the model. `sample` is optional; `tables` may be passed to reuse compiled routes. */
export function buildTrafficModel(config: Config, sample?: readonly SampleRequest[], tables: RouteTable[] = config.listeners.map(compileRouteTable)): TrafficModel {
  const flows = flowsOf(config, tables);
  // flowOf[listener][route index] → index into flows, so the sample loop builds no strings.
  const flowOf = tables.map((t) => t.routes.map((r) => flows.findIndex((f) => f.listener === t.listener && f.route === r.name)));
  const routed = sample ? routeSample(config, tables, flowOf, flows.length, sample) : { perFlow: flows.map(() => []), unmatched: 0, unmatchedExample: undefined };
  const perFlowRequests = routed.perFlow;
  const { unmatched, unmatchedExample } = routed;
  if (sample) {
    flows.forEach((f, i) => (f.sampled = perFlowRequests[i].length));
  }

  // Route peaks: declared first, the rest by sample fraction or evenly.
  const declared = config.guardrails.traffic?.routes ?? {};
  let explicitSum = 0;
  const redirected = new Map<FlowLoad, number>();
  for (const [key, rps] of Object.entries(declared)) {
    // A declared peak on an unreachable route really lands on the route that shadows it,
    // on top of that route's own traffic (added after the spread below).
    const hits = flows.filter((f) => key === f.route || key === `${f.listener}/${f.route}`);
    for (const f of hits) {
      const target = f.shadowedBy ? flows.find((x) => x.listener === f.listener && x.route === f.shadowedBy) : undefined;
      if (target) redirected.set(target, (redirected.get(target) ?? 0) + rps / hits.length);
      else {
        f.rps += rps / hits.length;
        f.explicit = true;
      }
    }
    if (hits.length) explicitSum += rps;
  }
  const peak = config.guardrails.traffic?.peakRps ?? (explicitSum > 0 ? explicitSum : null);
  const total = peak ?? 1;
  const rest = Math.max(0, total - explicitSum);
  const open = flows.filter((f) => !f.explicit);
  const sampledOpen = open.reduce((s, f) => s + f.sampled, 0);
  if (sampledOpen > 0) {
    for (const f of open) f.rps = (rest * f.sampled) / sampledOpen;
  } else {
    const reachable = open.filter((f) => !f.shadowed);
    for (const f of reachable) f.rps = rest / reachable.length;
  }
  for (const [f, rps] of redirected) f.rps += rps;
  if (sample) capByRateLimits(config, flows, perFlowRequests, sample);

  // Pools: what each flow sends where.
  const pools = new Map<string, PoolLoad>();
  const hashInputs = new Map<string, { flow: number; factor: number }[]>();
  const serving = new Map<string, number[]>();
  for (const [name, pool] of Object.entries(config.pools)) {
    const weights = servingWeights(pool);
    serving.set(name, weights);
    pools.set(name, {
      name,
      rps: 0,
      usable: weights.filter((w) => w > 0).length,
      unsampledHashRps: 0,
      backends: pool.backends.map((b, index) => ({ pool: name, name: backendName(b), index, address: b.address, server: safeKey(b.address), weight: b.weight, backup: b.backup, serving: weights[index] > 0, capacity: backendCapacity(pool, b), rps: 0, share: 0 })),
    });
  }
  flows.forEach((f, fi) => {
    const table = tables.find((t) => t.listener === f.listener);
    const route = table?.routes.find((r) => r.name === f.route);
    if (!route || f.rps <= 0) return;
    const totalWeight = route.targets.reduce((s, t) => s + t.weight, 0);
    if (totalWeight <= 0) return;
    for (const t of route.targets) {
      const pl = pools.get(t.pool);
      if (!pl || t.weight <= 0) continue;
      const rps = (f.rps * t.weight) / totalWeight;
      pl.rps += rps;
      if (config.pools[t.pool].algorithm === 'consistent-hash' && f.sampled > 0) {
        const list = hashInputs.get(t.pool) ?? [];
        list.push({ flow: fi, factor: rps / f.sampled });
        hashInputs.set(t.pool, list);
      } else if (config.pools[t.pool].algorithm === 'consistent-hash') {
        pl.unsampledHashRps += rps;
      }
    }
  });

  for (const [name, pl] of pools) {
    const pool = config.pools[name];
    const weights = serving.get(name)!;
    const weightSum = weights.reduce((s, w) => s + w, 0);
    if (pool.algorithm === 'consistent-hash' && pl.usable > 0) {
      const tableObj = cachedTable(pl.backends.map((b) => b.name), weights);
      const slotShares = tableObj.slotShares(pool.backends.length);
      spread(pl, pl.unsampledHashRps, slotShares);
      const inputs = hashInputs.get(name) ?? [];
      if (inputs.length > 0) pl.hash = hashSample(pl, pool, tableObj, inputs, perFlowRequests, sample ?? [], weights, weightSum);
      setShares(pl, slotShares);
    } else if (weightSum > 0) {
      const wShares = weights.map((w) => w / weightSum);
      spread(pl, pl.rps, wShares);
      setShares(pl, wShares);
    }
  }

  const servers = new Map<string, ServerLoad>();
  for (const pl of pools.values()) {
    for (const b of pl.backends) {
      const s = servers.get(b.server) ?? { key: b.server, rps: 0, capacity: undefined, entries: [] };
      s.rps += b.rps;
      s.entries.push(b);
      if (b.capacity !== undefined) s.capacity = s.capacity === undefined ? b.capacity : Math.min(s.capacity, b.capacity);
      servers.set(b.server, s);
    }
  }
  return { peakRps: peak, total, flows, pools, servers, sampleSize: sample?.length ?? 0, unmatched, unmatchedExample, explicitSum };
}

interface RoutedSample {
  perFlow: number[][];
  unmatched: number;
  unmatchedExample?: SampleRequest;
}

const routedCache = new WeakMap<readonly SampleRequest[], Map<string, RoutedSample>>();

/**
 * Which flow each sampled request takes, through the real route tables. Plan routes one
 * sample through two versions; when their listeners are identical the answer is reused.
 */
function routeSample(config: Config, tables: RouteTable[], flowOf: number[][], flowCount: number, sample: readonly SampleRequest[]): RoutedSample {
  const key = JSON.stringify(config.listeners);
  const cached = routedCache.get(sample)?.get(key);
  if (cached) return cached;
  const perFlow: number[][] = Array.from({ length: flowCount }, () => []);
  let unmatched = 0;
  let unmatchedExample: SampleRequest | undefined;
  for (let r = 0; r < sample.length; r++) {
    const req = sample[r];
    let hit = -1;
    for (let li = 0; li < tables.length; li++) {
      if (req.listener !== undefined ? tables[li].listener !== req.listener : config.listeners[li].protocol !== 'http') continue;
      const route = tables[li].match(req);
      if (route) {
        hit = flowOf[li][route.index];
        break;
      }
    }
    if (hit < 0) {
      unmatched++;
      unmatchedExample ??= req;
    } else {
      perFlow[hit].push(r);
    }
  }
  const result = { perFlow, unmatched, unmatchedExample };
  const byKey = routedCache.get(sample) ?? new Map<string, RoutedSample>();
  byKey.set(key, result);
  routedCache.set(sample, byKey);
  return result;
}

/**
 * A route's rateLimit caps what reaches its pools: each key of the sample (the client's
 * address, or the header's value) gets its share of the route's peak, at most `rps` per
 * worker. Without a sample the number of keys is unknown and nothing is capped (a limit per
 * client does not bound a route's total). `workers: auto` is unknown here too: no cap.
 */
function capByRateLimits(config: Config, flows: FlowLoad[], perFlow: number[][], sample: readonly SampleRequest[]): void {
  if (typeof config.workers !== 'number') return;
  const workers = config.workers;
  flows.forEach((f, fi) => {
    const rl = f.index < 0 ? undefined : config.listeners.find((l) => l.name === f.listener)?.routes?.[f.index]?.rateLimit;
    if (rl === undefined || f.sampled === 0 || f.rps <= 0) return;
    const header = rl.key.startsWith('header:') ? rl.key.slice(7).toLowerCase() : undefined;
    const perKey = new Map<string, number>();
    let unknown = 0;
    for (const r of perFlow[fi]) {
      const req = sample[r];
      const h = header === undefined ? undefined : req.headers[header];
      const key = (Array.isArray(h) ? h[0] : h) ?? req.clientIp;
      if (key === undefined) unknown++;
      else perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    const cap = rl.rps * workers;
    let allowed = (f.rps * unknown) / f.sampled;
    for (const n of perKey.values()) allowed += Math.min(cap, (f.rps * n) / f.sampled);
    if (allowed >= f.rps) return;
    f.limitedRps = f.rps - allowed;
    f.rps = allowed;
  });
}

function flowsOf(config: Config, tables: RouteTable[]): FlowLoad[] {
  const flows: FlowLoad[] = [];
  config.listeners.forEach((l, li) => {
    if (l.protocol === 'tcp') {
      flows.push({ listener: l.name, route: l.name, index: -1, rps: 0, sampled: 0, explicit: false, shadowed: false });
      return;
    }
    const routes = l.routes ?? [];
    tables[li].routes.forEach((r, i) => {
      const by = routes.slice(0, i).find((earlier) => covers(earlier.match, routes[i].match));
      flows.push({ listener: l.name, route: r.name, index: i, rps: 0, sampled: 0, explicit: false, shadowed: by !== undefined, shadowedBy: by?.name });
    });
  });
  return flows;
}

function spread(pl: PoolLoad, rps: number, shares: number[]): void {
  if (rps <= 0) return;
  for (let i = 0; i < pl.backends.length; i++) pl.backends[i].rps += rps * shares[i];
}

/** Share of the pool's requests; with no traffic at all, the structural share (weights or slots). */
function setShares(pl: PoolLoad, structural: number[]): void {
  for (let i = 0; i < pl.backends.length; i++) pl.backends[i].share = pl.rps > 0 ? pl.backends[i].rps / pl.rps : structural[i];
}

function hashSample(pl: PoolLoad, pool: Pool, table: MaglevTable, inputs: { flow: number; factor: number }[], perFlow: number[][], sample: readonly SampleRequest[], weights: number[], weightSum: number): HashStats {
  const extract = compileKeyExtractor(pool.hashOn ?? 'client-ip');
  const perKey = new Map<string, number>();
  let sampledRps = 0;
  let keylessRps = 0;
  let sampledCount = 0;
  for (const { flow, factor } of inputs) {
    for (const r of perFlow[flow]) {
      sampledRps += factor;
      sampledCount++;
      const key = extract(sample[r]);
      if (key === undefined) {
        keylessRps += factor;
        for (let i = 0; i < weights.length; i++) if (weights[i] > 0) pl.backends[i].rps += (factor * weights[i]) / weightSum;
        continue;
      }
      pl.backends[table.lookup(key)].rps += factor;
      perKey.set(key, (perKey.get(key) ?? 0) + factor);
    }
  }
  let topKey: string | undefined;
  let topKeyRps = 0;
  for (const [k, v] of perKey) if (v > topKeyRps) { topKey = k; topKeyRps = v; }
  return { sampledCount, sampledRps, keylessRps, topKey, topKeyRps, topKeyBackend: topKey === undefined ? undefined : pl.backends[table.lookup(topKey)].name };
}

const tableCache = new Map<string, MaglevTable>();

/** Plan builds both versions' tables; an unchanged pool's table is built once per process. */
function cachedTable(names: string[], weights: number[]): MaglevTable {
  const key = `${names.join('\u0000')}\u0001${weights.join(',')}`;
  let t = tableCache.get(key);
  if (!t) {
    if (tableCache.size > 1000) tableCache.clear();
    t = new MaglevTable(names, weights);
    tableCache.set(key, t);
  }
  return t;
}

function safeKey(address: string): string {
  try {
    return addressKey(address);
  } catch {
    return address;
  }
}

/** The `prediction` object of `validate --format json` (DESIGN.md's shape). */
export interface Prediction {
  pools: Record<string, { peakRps: number | null; backends: Record<string, { share: number; peakRps: number | null; capacity: number | null; utilization: number | null }> }>;
}

/** Rounds the model into the public JSON shape. Utilization is the server's (shared addresses add up). */
export function toPrediction(model: TrafficModel): Prediction {
  const pools: Prediction['pools'] = {};
  const known = model.peakRps !== null;
  for (const [name, pl] of model.pools) {
    const backends: Prediction['pools'][string]['backends'] = {};
    for (const b of pl.backends) {
      const server = model.servers.get(b.server);
      backends[b.name] = {
        share: round(b.share, 4),
        peakRps: known ? round(b.rps, 1) : null,
        capacity: b.capacity ?? null,
        utilization: known && server?.capacity ? round(server.rps / server.capacity, 3) : null,
      };
    }
    pools[name] = { peakRps: known ? round(pl.rps, 1) : null, backends };
  }
  return { pools };
}
