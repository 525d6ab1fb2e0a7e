/**
 * Writes a traffic sample (JSON Lines, DESIGN.md's format) for a topology: every request is
 * aimed at one route, chosen in proportion to the route's traffic weight, with a path that
 * matches that route and no earlier one, and a user id from a large population.
 */
import { seededRandom, type ListenerSpec, type RouteSpec, type Topology } from './topology.js';

const USER_POPULATION = 200_000;
const FALLBACK_PATHS = ['/', '/index.html', '/cart', '/products/', '/account/orders/', '/blog/post-'];
const SEGMENTS = ['v1/items', 'v1/orders', 'v2/users', 'session', 'img', 'q', 'v1/events'];

interface Aim {
  listener: ListenerSpec;
  route: RouteSpec;
}

/** `lines` JSON lines, newline-terminated. */
export function trafficSampleJsonl(t: Topology, lines: number, seed = 42): string {
  const rand = seededRandom(seed);
  const pick = weightedPicker(t.listeners.flatMap((listener) => listener.routes.map((route) => ({ listener, route }))), rand);
  const out: string[] = new Array<string>(lines);
  for (let i = 0; i < lines; i++) out[i] = JSON.stringify(request(pick(), t.hashHeader, rand));
  return out.join('\n') + '\n';
}

function request(aim: Aim, hashHeader: string, rand: () => number): object {
  const n = Math.floor(rand() * 100_000);
  const r = rand();
  return {
    method: r < 0.85 ? 'GET' : r < 0.97 ? 'POST' : 'HEAD',
    host: aim.route.host ?? unroutedHost(aim.listener),
    path: pathFor(aim.route, n, rand),
    headers: { [hashHeader]: `u${Math.floor(rand() * USER_POPULATION)}` },
    clientIp: `100.${64 + (n % 64)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`,
  };
}

/** A host no host-matching route names, for path-prefix-only routes. */
function unroutedHost(l: ListenerSpec): string {
  return `static.${l.name}.example.org`;
}

/** A path under the route's prefix, or for a host-only route one outside every prefix. */
function pathFor(route: RouteSpec, n: number, rand: () => number): string {
  if (route.pathPrefix !== undefined) return `${route.pathPrefix}${SEGMENTS[n % SEGMENTS.length]}/${n}`;
  const base = FALLBACK_PATHS[Math.floor(rand() * FALLBACK_PATHS.length)];
  return base.endsWith('/') || base.endsWith('-') ? `${base}${n}` : base;
}

/** Returns a function picking an aim with probability proportional to its route's traffic weight. */
function weightedPicker(aims: Aim[], rand: () => number): () => Aim {
  const cumulative: number[] = [];
  let total = 0;
  for (const a of aims) cumulative.push((total += a.route.trafficWeight));
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return aims[lo];
  };
}
