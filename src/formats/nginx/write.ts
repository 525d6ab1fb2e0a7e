/**
 * `evenkeel export nginx`: an evenkeel config rendered as an equivalent nginx.conf. An HTTP
 * listener becomes one `server` block per routed host (plus a default server for routes
 * without one), each route a `location` of its path prefix, a split a `split_clients` on
 * `$request_id` (a fresh draw per request, as evenkeel's split), a pool an `upstream`; TCP
 * listeners become `stream` servers. nginx picks a location by longest prefix and a server by
 * name, where evenkeel takes the first route that matches: where the two can differ (an earlier
 * shorter prefix, method or header matches, several certificates), the file says so in a
 * `# not exact:` comment and the CLI warns; nothing is dropped silently. Pure: no I/O.
 */
import type { Config, Listener, Pool } from '../../config/index.js';
import { parseAddress } from '../../core/index.js';
import { formatDuration } from '../../core/index.js';

/** One thing the export approximated or left out, and where. */
export interface NginxNote {
  readonly where: string;
  readonly message: string;
}

/** The rendered file and what it could not say exactly. */
export interface NginxExport {
  readonly text: string;
  readonly notes: readonly NginxNote[];
}

type Route = NonNullable<Listener['routes']>[number];

/** Renders `config` as nginx.conf text (see the module comment). */
export function renderNginx(config: Config, options: { source?: string } = {}): NginxExport {
  const notes: NginxNote[] = [];
  const note = (where: string, message: string) => {
    notes.push({ where, message });
    return `# not exact: ${message}`;
  };
  const http = config.listeners.filter((l) => l.protocol === 'http');
  const tcp = config.listeners.filter((l) => l.protocol === 'tcp');
  const out: string[] = [`# nginx.conf rendered by evenkeel${options.source ? ` from ${options.source}` : ''}`,
    "# guardrails, rollout, rollback, alerts, admin and store are evenkeel's own: they have no nginx.conf form.",
    'worker_processes auto;', 'events { worker_connections 4096; }', ''];
  const httpPools = new Set(http.flatMap((l) => (l.routes ?? []).flatMap((r) => (r.pool ? [r.pool] : (r.split ?? []).map((s) => s.pool)))));
  if (http.length > 0) {
    out.push('http {', '  access_log off;', '  proxy_http_version 1.1;', '  proxy_set_header Connection "";', '  proxy_set_header Host $http_host;',
      '  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', '  proxy_set_header X-Forwarded-Proto $scheme;', '  proxy_set_header X-Forwarded-Host $host;', '');
    for (const name of [...httpPools].sort()) if (config.pools[name]) out.push(...upstream(name, config.pools[name], '  ', note), '');
    // split_clients sit in http, before the servers that name their variables.
    const splits: string[] = [];
    const servers: string[] = [];
    let split = 0;
    for (const l of http) {
      for (const s of serverBlocks(l, note)) {
        const where = `listener ${l.name}${s.host ? ` host ${s.host}` : ''}`;
        servers.push('  server {', ...listenLines(l, s.host === undefined, note), `    server_name ${s.host ?? '_'};`, ...limitLines(l));
        for (const r of s.routes) {
          if (r.match?.methods || r.match?.headers) servers.push(`    ${note(`${where} route ${r.name}`, `route ${r.name} also matches on ${[r.match?.methods ? 'methods' : '', r.match?.headers ? 'headers' : ''].filter(Boolean).join(' and ')}, which this location does not check`)}`);
          let target = r.pool ? `http://${r.pool}` : '';
          if (r.split) {
            const v = `ek_split_${++split}`;
            splits.push(...splitBlock(v, r.split, note, `${where} route ${r.name}`));
            target = `http://$${v}`;
          }
          servers.push(`    location ${r.match?.pathPrefix ?? '/'} {  # route ${r.name}`, ...proxyLines(r, config), `      proxy_pass ${target};`, '    }');
        }
        if (!s.routes.some((r) => (r.match?.pathPrefix ?? '/') === '/')) servers.push('    location / { return 404 "no route matches this request\\n"; }');
        servers.push('  }', '');
      }
    }
    out.push(...splits, ...servers, '}', '');
  }
  if (tcp.length > 0) {
    out.push('stream {');
    for (const l of tcp) {
      const pool = l.pool ?? l.routes?.[0]?.pool;
      if (pool && config.pools[pool]) out.push(...upstream(pool, config.pools[pool], '  ', note, true));
      const { host, port } = parseAddress(l.address);
      out.push('  server {', `    listen ${listenAddress(host, port)};`, `    proxy_connect_timeout ${nginxDuration(pool ? config.pools[pool].timeouts.connect : 2000)};`, `    proxy_pass ${pool};`, '  }');
    }
    out.push('}', '');
  }
  return { text: out.join('\n'), notes };
}

/** The server blocks of one listener: one per routed host (with the routes that can match it, in order), and the default one. */
function serverBlocks(l: Listener, note: (w: string, m: string) => string): { host?: string; routes: Route[] }[] {
  const routes = l.routes ?? [];
  const hosts = [...new Set(routes.map((r) => r.match?.host).filter((h): h is string => h !== undefined))];
  const blocks = [...hosts.map((host) => ({ host, routes: routes.filter((r) => r.match?.host === undefined || r.match.host === host) })), { host: undefined, routes: routes.filter((r) => r.match?.host === undefined) }];
  for (const b of blocks) {
    // One location per prefix: a later route with the same prefix is never reached in nginx.
    const seen = new Set<string>();
    b.routes = b.routes.filter((r) => {
      const p = r.match?.pathPrefix ?? '/';
      if (seen.has(p)) {
        note(`listener ${l.name} route ${r.name}`, `route ${r.name} has the prefix ${p} of an earlier route in the same server block and is left out (nginx has one location per prefix)`);
        return false;
      }
      seen.add(p);
      return true;
    });
    // evenkeel takes the first match; nginx the longest prefix: an earlier, shorter prefix shadows differently.
    b.routes.forEach((r, i) => {
      const p = r.match?.pathPrefix ?? '/';
      for (const later of b.routes.slice(i + 1)) {
        const q = later.match?.pathPrefix ?? '/';
        if (q.startsWith(p) && q !== p) note(`listener ${l.name} route ${later.name}`, `route ${later.name} (${q}) comes after route ${r.name} (${p}), which evenkeel matches first; nginx gives ${q} to route ${later.name}`);
      }
    });
  }
  if (hosts.some((h) => h.startsWith('*.')) && hosts.some((h) => !h.startsWith('*.'))) note(`listener ${l.name}`, 'nginx prefers an exact server_name over a wildcard whatever the route order');
  return blocks.filter((b) => b.host !== undefined || b.routes.length > 0 || hosts.length === 0);
}

function listenLines(l: Listener, isDefault: boolean, note: (w: string, m: string) => string): string[] {
  const { host, port } = parseAddress(l.address);
  const lines = [`    listen ${listenAddress(host, port)}${l.tls ? ' ssl http2' : ''}${isDefault ? ' default_server' : ''};`];
  if (l.tls) {
    const [first, ...rest] = l.tls.certificates;
    lines.push(`    ssl_certificate ${first.cert};`, `    ssl_certificate_key ${first.key};`, `    ssl_protocols ${l.tls.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2 TLSv1.3'};`);
    if (rest.length > 0) lines.push(`    ${note(`listener ${l.name}`, `${rest.length} more certificate(s): nginx chooses a certificate by server block, so only the first is served here; give each host's server block its own ssl_certificate`)}`);
  }
  return lines;
}

function limitLines(l: Listener): string[] {
  const lim = l.limits;
  return [`    client_max_body_size ${lim.maxBodyBytes};`, `    client_header_timeout ${nginxDuration(lim.headersTimeout)};`, `    client_body_timeout ${nginxDuration(lim.requestTimeout)};`,
    `    keepalive_timeout ${nginxDuration(lim.keepAliveTimeout)};`, `    large_client_header_buffers 4 ${Math.max(1024, lim.maxHeaderBytes)};`];
}

function proxyLines(r: Route, config: Config): string[] {
  const pools = r.pool ? [r.pool] : (r.split ?? []).map((s) => s.pool);
  const p = config.pools[pools[0]];
  if (!p) return [];
  const on = p.retries.on.map((o) => ({ 'connect-failure': 'error', reset: 'error', '502': 'http_502', '503': 'http_503', '504': 'http_504' })[o] ?? 'error');
  return [`      proxy_connect_timeout ${nginxDuration(p.timeouts.connect)};`, `      proxy_read_timeout ${nginxDuration(p.timeouts.request)};`,
    `      proxy_next_upstream ${[...new Set(['timeout', ...on])].join(' ')};`, `      proxy_next_upstream_tries ${p.retries.attempts + 1};`];
}

function splitBlock(v: string, split: NonNullable<Route['split']>, note: (w: string, m: string) => string, where: string): string[] {
  const total = split.reduce((s, e) => s + e.weight, 0);
  const lines = [`  split_clients "\${request_id}" $${v} {`];
  split.forEach((e, i) => {
    if (i === split.length - 1) return void lines.push(`    * ${e.pool};`);
    const pct = total > 0 ? Math.round((e.weight / total) * 10000) / 100 : 0;
    if (total > 0 && Math.abs(pct - (e.weight / total) * 100) > 1e-9) lines.push(`    ${note(where, `split weight ${e.weight} of ${total} rounded to ${pct}%`)}`);
    lines.push(`    ${pct}% ${e.pool};`);
  });
  lines.push('  }', '');
  return lines;
}

/** `upstream NAME { … }` for a pool. */
function upstream(name: string, pool: Pool, indent: string, note: (w: string, m: string) => string, stream = false): string[] {
  const where = `upstream ${name}`;
  const lines = [`${indent}upstream ${name} {`];
  const i2 = `${indent}  `;
  switch (pool.algorithm) {
    case 'least-request': lines.push(`${i2}least_conn;`); break;
    case 'random': lines.push(`${i2}random;`); break;
    case 'consistent-hash': {
      const key = hashKey(pool.hashOn);
      lines.push(`${i2}hash ${key} consistent;`, `${i2}${note(where, 'nginx hashes with ketama, evenkeel with a weighted Maglev table: the same key may land on another server (the spread is alike)')}`);
      break;
    }
  }
  const weights = integerWeights(pool.backends.map((b) => b.weight));
  if (!weights.exact) lines.push(`${i2}${note(where, 'weights scaled to integers; shares move by at most 1%')}`);
  const od = pool.outlierDetection;
  pool.backends.forEach((b, k) => {
    const w = weights.weights[k];
    const parts = [`server ${b.address}`];
    if (w > 0 && w !== 1) parts.push(`weight=${w}`);
    if (w === 0) parts.push('down');
    if (b.backup) parts.push('backup');
    if (b.maxConnections) parts.push(`max_conns=${b.maxConnections}`);
    if (od) parts.push(`max_fails=${od.consecutiveFailures}`, `fail_timeout=${nginxDuration(od.baseEjectionTime)}`);
    lines.push(`${i2}${parts.join(' ')};${b.capacity ?? pool.capacity ? `  # evenkeel: capacity=${b.capacity ?? pool.capacity}` : ''}${b.name && b.name !== b.address ? `  # ${b.name}` : ''}`);
  });
  if (pool.healthCheck) lines.push(`${i2}${note(where, 'nginx (open source) has no active health checks: only max_fails/fail_timeout on real requests')}`);
  if (!stream) lines.push(`${i2}keepalive 64;`);
  lines.push(`${indent}}`);
  return lines;
}

function hashKey(hashOn: string | undefined): string {
  if (!hashOn) return '$request_uri';
  if (hashOn === 'client-ip') return '$remote_addr';
  if (hashOn === 'path') return '$uri';
  const [kind, name] = [hashOn.slice(0, hashOn.indexOf(':')), hashOn.slice(hashOn.indexOf(':') + 1)];
  const v = name.toLowerCase().replace(/-/g, '_');
  return kind === 'cookie' ? `$cookie_${v}` : `$http_${v}`;
}

/** nginx weights are positive integers; 0 is `down`. Integers are kept; others scaled so the smallest is 100. */
function integerWeights(ws: readonly number[]): { weights: number[]; exact: boolean } {
  if (ws.every((w) => Number.isInteger(w))) return { weights: [...ws], exact: true };
  const min = Math.min(...ws.filter((w) => w > 0));
  return { weights: ws.map((w) => (w <= 0 ? 0 : Math.max(1, Math.round((w / min) * 100)))), exact: false };
}

function listenAddress(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '' || host === '::') return String(port);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** nginx time: ms, s, m, h (formatDuration's forms are the same letters). */
function nginxDuration(ms: number): string {
  return formatDuration(ms).replace(/\s+/g, '');
}
