/**
 * One evenkeel listener as one HAProxy `frontend`: `bind`, the client-side limits and
 * timeouts, and the routes as ACLs and `use_backend` rules in the listener's order (HAProxy
 * also takes the first `use_backend` whose condition holds). A split draws one random number
 * per request and cuts its range by the split weights. With a config canary, the candidate's
 * rules come first, guarded by a per-request draw against the percentage in a runtime map.
 */
import type { Listener, Route } from '../../../config/index.js';
import { accessLogLines } from './access-log.js';
import type { Notes } from './notes.js';
import { rateLimitRules } from './rate-limit.js';
import { arg, haDuration, haName } from './text.js';
import { tlsBindOptions, type PemFor } from './tls.js';

/** The proxies every export declares for requests nothing else takes. */
export const NO_ROUTE = 'ek:no-route';
/** Where a route goes whose split weights are all 0: 503, as evenkeel answers (nothing usable). */
export const NO_TARGET = 'ek:no-target';

/** Draws are integers in [0, DRAW_RANGE). */
export const DRAW_RANGE = 1_000_000;

/** A config canary on this frontend. */
export interface CanaryRules {
  /** The candidate's listener on the same protocol and address. */
  readonly listener: Listener;
  /** The map file holding the canary's share of requests, in millionths, under key `canary`. */
  readonly mapFile: string;
  /** The HAProxy backend serving a candidate pool. */
  readonly backendFor: (pool: string) => string;
}

/** How the frontend is rendered. */
export interface FrontendOptions {
  /** The `bind` argument (address, with the port the engine chose when the config says 0). */
  readonly bind: string;
  /** The HAProxy backend serving an active pool. */
  readonly backendFor: (pool: string) => string;
  readonly canary?: CanaryRules;
  /** The PEM file to load for a certificate (an engine that writes combined PEMs); else the cert file. */
  readonly pemFor?: PemFor;
}

/** The whole `frontend` section. */
export function renderFrontend(l: Listener, options: FrontendOptions, notes: Notes): string[] {
  const section = `frontend ${haName(l.name)}`;
  const tls = tlsBindOptions(l, section, notes, options.pemFor);
  const lines = [section, `  mode ${l.protocol}`, `  bind ${options.bind}${tls.options}`, ...tls.comments];
  if (l.protocol === 'tcp') return [...lines, `  timeout client ${haDuration(l.limits.requestTimeout)}`, ...tcpRules(l, options, section, notes)];
  const lim = l.limits;
  lines.push(
    '  option forwardfor',
    `  http-request set-header X-Forwarded-Proto ${l.tls ? 'https' : 'http'}`,
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    `  timeout client ${haDuration(lim.requestTimeout)}`,
    `  timeout http-request ${haDuration(lim.headersTimeout)}`,
    `  timeout http-keep-alive ${haDuration(lim.keepAliveTimeout)}`,
    `  http-request deny deny_status 413 if { req.hdr_val(content-length) gt ${lim.maxBodyBytes} }`,
    notes.add(section, `limits.maxBodyBytes is enforced on Content-Length only; a chunked body over ${lim.maxBodyBytes} bytes is not refused`),
  );
  if (l.tls) lines.push(notes.add(section, `HTTP/2 limits: HAProxy's tune.h2.max-concurrent-streams is global (default 100), not this listener's maxConcurrentStreams ${lim.maxConcurrentStreams}`));
  const canary = options.canary;
  const routes = l.routes ?? [];
  if (hasSplit(routes) || (canary && hasSplit(canary.listener.routes ?? []))) lines.push(`  http-request set-var(txn.ek_split) rand(${DRAW_RANGE})`);
  // ACLs are declared first: the http-request rules below use them, and HAProxy runs every
  // http-request rule before any use_backend whatever their order in the file.
  const active = routeRules(routes, '', options.backendFor, '');
  const candidate = canary ? routeRules(canary.listener.routes ?? [], 'canary:', canary.backendFor, 'ek_canary') : undefined;
  if (canary) {
    lines.push(
      `  http-request set-var(txn.ek_canary) str(canary),map_str_int(${arg(canary.mapFile)},0)`,
      `  http-request set-var(txn.ek_draw) rand(${DRAW_RANGE}),sub(txn.ek_canary)`,
      '  acl ek_canary var(txn.ek_draw) -m int lt 0',
      ...candidate!.acls,
    );
  }
  lines.push(...active.acls);
  const limited = routes.filter((r) => r.rateLimit);
  if (limited.length > 0 || l.accessLog) {
    // The route a request takes, named once: the first whose match holds, as use_backend decides.
    for (const r of routes) lines.push(`  http-request set-var(txn.ek_route) str(${haName(r.name)}) if !{ var(txn.ek_route) -m found }${active.conds.get(r)!.map((c) => ` ${c}`).join('')}`);
  }
  for (const r of limited) lines.push(...rateLimitRules(l.name, r, section, notes));
  if (canary && (canary.listener.routes ?? []).some((r) => r.rateLimit && JSON.stringify(r.rateLimit) !== JSON.stringify(routes.find((a) => a.name === r.name)?.rateLimit))) {
    lines.push(notes.add(section, "during a canary the active config's rate limits apply to every request; the candidate's new ones apply once it is promoted"));
  }
  if (l.accessLog) lines.push(...accessLogLines(l, section, notes));
  if (canary) lines.push(...candidate!.uses, `  use_backend ${NO_ROUTE} if ek_canary`);
  lines.push(...active.uses, `  default_backend ${NO_ROUTE}`);
  return lines;
}

function hasSplit(routes: readonly Route[]): boolean {
  return routes.some((r) => r.split && r.split.length > 1);
}

/** Routes as HAProxy rules: their ACL lines, their `use_backend` lines in order, and each route's ACL names. */
interface RouteRules {
  readonly acls: string[];
  readonly uses: string[];
  readonly conds: Map<Route, string[]>;
}

/** The rules of `routes`, in order; `guard` is ANDed to every `use_backend`. */
function routeRules(routes: readonly Route[], prefix: string, backendFor: (pool: string) => string, guard: string): RouteRules {
  const out: RouteRules = { acls: [], uses: [], conds: new Map() };
  const lines = out.uses;
  for (const r of routes) {
    const acls = routeAcls(r, `${prefix}route:${haName(r.name)}`);
    out.acls.push(...acls.lines);
    out.conds.set(r, acls.names);
    const cond = [guard, ...acls.names].filter(Boolean).join(' ');
    const live = r.split ? r.split.filter((s) => s.weight > 0) : r.pool ? [{ pool: r.pool, weight: 1 }] : [];
    // A route that takes requests but sends them nowhere answers 503; it must not fall through.
    const targets = live.length > 0 ? live.map((t) => ({ backend: backendFor(t.pool), weight: t.weight })) : [{ backend: NO_TARGET, weight: 1 }];
    const total = targets.reduce((s, t) => s + t.weight, 0);
    let cumulative = 0;
    targets.forEach((t, i) => {
      cumulative += t.weight;
      const last = i === targets.length - 1;
      // The draw is below this target's upper edge; earlier targets took the lower part.
      const cut = last ? '' : `{ var(txn.ek_split) -m int lt ${Math.round((cumulative / total) * DRAW_RANGE)} }`;
      const all = [cond, cut].filter(Boolean).join(' ');
      lines.push(`  use_backend ${t.backend}${all ? ` if ${all}` : ''}`);
    });
  }
  return out;
}

/** The ACLs of one route's match (every condition given must hold: HAProxy's implicit AND). */
function routeAcls(r: Route, base: string): { lines: string[]; names: string[] } {
  const m = r.match ?? {};
  const lines: string[] = [];
  const names: string[] = [];
  const acl = (suffix: string, body: string) => {
    const name = `${base}:${suffix}`;
    lines.push(`  acl ${name} ${body}`);
    names.push(name);
  };
  // evenkeel compares the Host header without its port, case-insensitively.
  if (m.host?.startsWith('*.')) acl('host', `req.hdr(host),field(1,:) -m end -i ${arg(m.host.slice(1))}`);
  else if (m.host) acl('host', `req.hdr(host),field(1,:) -m str -i ${arg(m.host)}`);
  if (m.pathPrefix) acl('path', `path_beg ${arg(m.pathPrefix)}`);
  if (m.methods) acl('method', `method ${m.methods.join(' ')}`);
  for (const [name, value] of Object.entries(m.headers ?? {})) acl(`hdr:${haName(name.toLowerCase())}`, `req.fhdr(${name},1) -m str ${arg(value)}`);
  return { lines, names };
}

/** A tcp listener forwards every connection to its pool (a canary draws per connection). */
function tcpRules(l: Listener, options: FrontendOptions, section: string, notes: Notes): string[] {
  const lines: string[] = [];
  const canary = options.canary;
  if (canary?.listener.pool) {
    lines.push(
      `  tcp-request content set-var(txn.ek_canary) str(canary),map_str_int(${arg(canary.mapFile)},0)`,
      `  tcp-request content set-var(txn.ek_draw) rand(${DRAW_RANGE}),sub(txn.ek_canary)`,
      '  acl ek_canary var(txn.ek_draw) -m int lt 0',
      `  use_backend ${canary.backendFor(canary.listener.pool)} if ek_canary`,
    );
  }
  if (l.pool) lines.push(`  default_backend ${options.backendFor(l.pool)}`);
  else lines.push(notes.add(section, 'a tcp listener without a pool serves nothing'));
  return lines;
}
