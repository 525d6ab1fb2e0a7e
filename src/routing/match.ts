/**
 * Route matching semantics, in one place: how a request matches a route, and when one route
 * matches everything another does (so the later one is unreachable). Both the data plane and
 * the analysis (sample replay, shadowed-route rule, `evenkeel test`) use these functions.
 */
import type { RequestInfo } from '../balancer/index.js';
import type { RouteMatch } from '../config/index.js';

/** A match compiled for speed: lower-cased host, a method set, header pairs. */
export interface CompiledMatch {
  host?: string;
  wildcardSuffix?: string;
  pathPrefix?: string;
  methods?: ReadonlySet<string>;
  headers?: readonly (readonly [string, string])[];
}

/** Compiles a route's `match` once per config. */
export function compileMatch(m: RouteMatch | undefined): CompiledMatch {
  if (!m) return {};
  const out: CompiledMatch = {};
  if (m.host) {
    const h = m.host.toLowerCase();
    if (h.startsWith('*.')) out.wildcardSuffix = h.slice(1);
    else out.host = h;
  }
  if (m.pathPrefix) out.pathPrefix = m.pathPrefix;
  if (m.methods) out.methods = new Set(m.methods);
  if (m.headers) out.headers = Object.entries(m.headers).map(([k, v]) => [k.toLowerCase(), v] as const);
  return out;
}

/** Host without port, lower-case: `API.example.com:8080` → `api.example.com`. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    h = close > 0 ? h.slice(0, close + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  return h.toLowerCase();
}

/** True when `req` satisfies every condition of `m`. `host` must already be normalised. */
export function matches(m: CompiledMatch, req: RequestInfo, host: string, path: string): boolean {
  if (m.host !== undefined && host !== m.host) return false;
  if (m.wildcardSuffix !== undefined && !(host.length > m.wildcardSuffix.length && host.endsWith(m.wildcardSuffix))) return false;
  if (m.pathPrefix !== undefined && !path.startsWith(m.pathPrefix)) return false;
  if (m.methods !== undefined && !m.methods.has(req.method)) return false;
  if (m.headers !== undefined) {
    for (let i = 0; i < m.headers.length; i++) {
      const [name, value] = m.headers[i];
      const v = req.headers[name];
      if ((Array.isArray(v) ? v[0] : v) !== value) return false;
    }
  }
  return true;
}

/**
 * True when every request that matches `later` also matches `earlier`, so `later` can never
 * be reached. Conservative: false whenever it cannot be sure.
 */
export function covers(earlier: RouteMatch | undefined, later: RouteMatch | undefined): boolean {
  const a = earlier ?? {};
  const b = later ?? {};
  if (a.host !== undefined) {
    const ah = a.host.toLowerCase();
    const bh = b.host?.toLowerCase();
    if (bh === undefined) return false;
    if (ah.startsWith('*.')) {
      const suffix = ah.slice(1);
      const bBase = bh.startsWith('*.') ? bh.slice(1) : bh;
      if (!(bBase.endsWith(suffix) && (bh.startsWith('*.') ? bBase.length >= suffix.length : bBase.length > suffix.length))) return false;
    } else if (ah !== bh) return false;
  }
  if (a.pathPrefix !== undefined && !(b.pathPrefix !== undefined && b.pathPrefix.startsWith(a.pathPrefix))) return false;
  if (a.methods !== undefined && !(b.methods !== undefined && b.methods.every((m) => a.methods!.includes(m)))) return false;
  if (a.headers !== undefined) {
    const bh = Object.fromEntries(Object.entries(b.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [k, v] of Object.entries(a.headers)) if (bh[k.toLowerCase()] !== v) return false;
  }
  return true;
}
