/**
 * Compiles a listener's routes into an immutable table: first match wins, evaluated in the
 * order written. A reload compiles a new table and swaps one reference; a request keeps the
 * table it started with.
 */
import type { RequestInfo } from '../balancer/index.js';
import { RoundRobin, staticView } from '../balancer/index.js';
import type { Listener } from '../config/index.js';
import { compileMatch, matches, normalizeHost, type CompiledMatch } from './match.js';

/** Where a route sends traffic: one pool, or a weighted split across pools. */
export interface RouteTarget {
  readonly pool: string;
  readonly weight: number;
}

/** A route ready for the hot path. */
export interface CompiledRoute {
  readonly listener: string;
  readonly name: string;
  /** Position in the listener's route list (for locations in findings). */
  readonly index: number;
  readonly match: CompiledMatch;
  readonly targets: readonly RouteTarget[];
  /** Picks a target index by smooth weighted round-robin over the split weights; -1 if all are 0. */
  pickTarget(): number;
}

/** One listener's routes. */
export interface RouteTable {
  readonly listener: string;
  readonly routes: readonly CompiledRoute[];
  /** The first route that matches, or undefined (404). */
  match(req: RequestInfo): CompiledRoute | undefined;
}

/** Compiles the routes of an http listener. A tcp listener yields one catch-all route to its pool. */
export function compileRouteTable(listener: Listener): RouteTable {
  const defs = listener.protocol === 'tcp'
    ? [{ name: listener.name, pool: listener.pool, match: undefined, split: undefined }]
    : (listener.routes ?? []);
  const routes: CompiledRoute[] = defs.map((r, index) => {
    const targets: RouteTarget[] = r.split ? r.split.map((s) => ({ pool: s.pool, weight: s.weight })) : r.pool ? [{ pool: r.pool, weight: 1 }] : [];
    const picker = new RoundRobin(targets.length, staticView(targets.map((t) => ({ name: t.pool, address: '', weight: t.weight }))));
    return Object.freeze({
      listener: listener.name,
      name: r.name,
      index,
      match: compileMatch(r.match),
      targets: Object.freeze(targets),
      pickTarget: targets.length === 1 ? (targets[0].weight > 0 || !r.split ? () => 0 : () => -1) : () => picker.pick(),
    });
  });
  // Index by exact host: a request for api.example.com is tried only against the routes that
  // name that host or name none (wildcards included), in the order written. With hundreds of
  // host routes this makes a lookup a map read plus a short scan instead of a full scan.
  const generic = routes.filter((r) => r.match.host === undefined);
  const byHost = new Map<string, CompiledRoute[]>();
  for (const r of routes) {
    const h = r.match.host;
    if (h !== undefined && !byHost.has(h)) byHost.set(h, routes.filter((x) => x.match.host === undefined || x.match.host === h));
  }
  return Object.freeze({
    listener: listener.name,
    routes: Object.freeze(routes),
    match(req: RequestInfo): CompiledRoute | undefined {
      const host = normalizeHost(req.host);
      const q = req.path.indexOf('?');
      const path = q >= 0 ? req.path.slice(0, q) : req.path;
      const list = byHost.get(host) ?? generic;
      for (let i = 0; i < list.length; i++) if (matches(list[i].match, req, host, path)) return list[i];
      return undefined;
    },
  });
}
