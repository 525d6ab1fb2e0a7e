/**
 * Generates docs/config.md, the config reference, from the config schema's JSON Schema
 * (`configJsonSchema()`, io input: the YAML as written). Types, defaults, enums, ranges and
 * patterns come from the schema; the one-line meaning of each key comes from DESCRIPTIONS
 * below, so a key added to the schema without a description fails the generator (and
 * test/docs-config-is-current.test.ts) instead of going undocumented.
 *
 * Run: npm run docs:config
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configJsonSchema } from '../src/config/json-schema.ts';
import { DURATION_PATTERN } from '../src/core/duration.ts';

/** Where the generated reference is written. */
export const CONFIG_DOC = fileURLToPath(new URL('../docs/config.md', import.meta.url));

/** A JSON Schema node, as far as this script reads it. */
interface Node {
  type?: string;
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  propertyNames?: Node;
  items?: Node;
  required?: string[];
  anyOf?: Node[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
}

/** Sections (objects in the schema), keyed by path: what the section is, in one or two lines. */
const SECTIONS: Record<string, string> = {
  '': 'The whole file. Only `listeners` and `pools` are required; every other section may be left out.',
  'listeners[]': 'Where evenkeel accepts connections. An `http` listener has `routes`; a `tcp` listener names one `pool` and pipes bytes to it.',
  'listeners[].routes[]': 'HTTP routes, evaluated in the order written: the first route whose `match` fits the request wins; no match is a 404. A route sends to one `pool` or to a weighted `split`.',
  'listeners[].routes[].match': 'What a request must look like for the route to take it. Every field is optional; all fields given must match. No `match` at all matches every request.',
  'listeners[].routes[].split[]': 'A weighted split across pools (blue/green, a canary pool): each request goes to one entry, in proportion to the weights.',
  'listeners[].limits': 'Hard limits and client timeouts of one listener (see docs/serve.md). Every key has a safe default, so `limits` may be left out.',
  'listeners[].tls.certificates[]': 'One certificate with its private key.',
  'listeners[].tls': 'TLS termination: the listener speaks HTTPS, HTTP/2 and HTTP/1.1 chosen by ALPN. Certificate files are re-read on every config change and on SIGHUP; open connections keep theirs.',
  'pools.<name>': 'A named group of backends and how requests are spread over them. The key is the pool name that routes refer to.',
  'pools.<name>.backends[]': 'The servers of a pool. Backends with the same address (in one pool or across pools) are one server for the capacity checks.',
  'pools.<name>.healthCheck': 'Active health checks: evenkeel polls each backend and takes it out after `unhealthyThreshold` failures in a row. Absent: passive checks (outlier detection) only.',
  'pools.<name>.outlierDetection': 'Passive health: a backend that fails requests in a row is ejected for a while. Always on; these are the defaults when the section is absent.',
  'pools.<name>.timeouts': 'Timeouts towards the backends of the pool. A request past `request` is answered 504.',
  'listeners[].routes[].rateLimit': 'A token bucket per client (or per header value) on one route: `burst` requests at once, refilled at `rps`; a request that finds its bucket empty is answered 429 with Retry-After and never reaches a pool. Buckets are per process: with `workers: N` a client may get up to N × rps (see docs/serve.md).',
  'listeners[].accessLog': 'One line per request of this listener, to a file or standard output, as JSON or in the combined format (see docs/serve.md). Written asynchronously; reopened on SIGUSR1 for logrotate.',
  'pools.<name>.stickiness': 'Sticky sessions by cookie insertion: the first response sets a cookie naming its backend (signed, so a client cannot choose one); later requests carrying it go to that backend while it is usable, and to the pool\'s algorithm (with a new cookie) when it is not.',
  'pools.<name>.retries': 'When a failed request is tried again on another backend. Connect failures are retried for any request without a body; resets and 502/503/504 only for idempotent methods without a body.',
  engine: 'The engine as an object (the string form `builtin` or `haproxy` names only the type).',
  guardrails: 'What `validate`, `plan` and `test` judge a config against: the traffic model, and the limits a config (or a change) must stay within. See docs/rules.md.',
  'guardrails.traffic': 'The traffic model: how much traffic to expect and how it is spread, for the load and capacity checks (EK2xx).',
  'guardrails.rollout': 'How an accepted change is rolled out: first as an in-process canary serving a slice of requests, judged on what it does to each pool it touches (see docs/serve.md), then promoted and watched for `bakeTime`. The settings of the version serving now apply, so a change cannot switch off its own canary.',
  'guardrails.rollback': 'Monitor thresholds: the running instance alerts on them, rolls a change back automatically when a monitor it can blame on the change fires inside the bake window, and `evenkeel export prometheus-rules` writes the same monitors as Prometheus alerting rules.',
  alerts: 'Where alerts go.',
  'alerts.webhooks[]': 'Webhook receivers for alerts: every alert fired and resolved, and every aborted canary, is posted to each (retried with backoff).',
  admin: 'The admin API of `evenkeel serve`: `/metrics`, `/healthz`, `/api/v1/status`, `/api/v1/reload`.',
  store: 'Where evenkeel keeps its state.',
};

/**
 * One line per key, for an operator: what it means and what it does. Paths use `[]` for list
 * items and `<name>` for map keys, as in SECTIONS.
 */
const DESCRIPTIONS: Record<string, string> = {
  listeners: 'The listeners; at least one.',
  pools: 'The pools, by name.',
  guardrails: 'Limits the checks hold a config to; see [guardrails](#guardrails).',
  alerts: 'Alert receivers; see [alerts](#alerts).',
  admin: 'The admin API; see [admin](#admin).',
  store: 'State on disk; see [store](#store).',
  workers: 'Data-plane processes (node:cluster workers); `auto` = one per core. `serve --workers` overrides it.',
  engine: 'The data plane that serves: `builtin` (evenkeel\'s own) or `haproxy` (evenkeel supervises HAProxy 2.6+; see docs/haproxy-engine.md). As an object: `{ type: haproxy, binary: /usr/sbin/haproxy, runDir: DIR }`, where `runDir` (relative to the config file; default `<store.path>/haproxy`) holds the rendered haproxy.cfg, the master and stats sockets and the canary map.',

  'listeners[].name': 'Unique listener name; labels metrics (`listener=`).',
  'listeners[].address': '`host:port` to listen on, e.g. `0.0.0.0:8080` or `127.0.0.1:8080`; IPv6 as `[::1]:8080`.',
  'listeners[].protocol': '`http` routes requests; `tcp` pipes each connection to `pool`.',
  'listeners[].routes': 'HTTP listeners: the routes, first match wins.',
  'listeners[].pool': 'TCP listeners: the pool that gets every connection.',
  'listeners[].limits': 'Hard limits and client timeouts; see [limits](#listenerslimits).',
  'listeners[].tls': 'TLS termination (HTTPS, HTTP/2 and HTTP/1.1); see [tls](#listenerstls).',
  'listeners[].tls.certificates': 'Certificate and key files (PEM; relative to the config file). The one whose names (subjectAltName DNS entries) match the SNI name is served; the first when none matches.',
  'listeners[].tls.minVersion': 'Oldest TLS version accepted.',
  'engine.type': '`builtin` (evenkeel\'s own data plane) or `haproxy` (evenkeel supervises HAProxy; see docs/haproxy-engine.md).',
  'engine.binary': 'The haproxy binary to run (2.6 or newer).',
  'engine.runDir': 'Folder for the rendered haproxy.cfg, the master and stats sockets and the canary map (relative to the config file; default `<store.path>/haproxy`).',
  'listeners[].tls.certificates[].cert': 'PEM certificate file (with its chain), relative to the config file.',
  'listeners[].tls.certificates[].key': 'PEM private key file of that certificate.',
  'listeners[].limits.maxConcurrentStreams': 'HTTP/2 (TLS listeners): most streams open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS).',
  'listeners[].accessLog': 'An access log; see [accessLog](#listenersaccesslog). Absent: none.',
  'listeners[].accessLog.path': 'File the lines are appended to (relative to the config file\'s folder; created if missing). Either this or `stdout`.',
  'listeners[].accessLog.stdout': '`true`: write the lines to standard output instead of a file.',
  'listeners[].accessLog.format': '`json`: one object a line with every field (time, client, method, host, path, status, bytes, duration, upstream time, route, pool, backend, config version, canary, retries); `combined`: the Apache/NGINX combined format that log tools read.',
  'listeners[].accessLog.sample': 'Fraction of requests logged (1 = all, 0.1 = one in ten, drawn at random).',

  'listeners[].routes[].name': 'Route name, unique across the config; labels metrics and names the route in `guardrails.traffic.routes` and config tests.',
  'listeners[].routes[].match': 'Which requests the route takes; absent = all.',
  'listeners[].routes[].pool': 'Send matching requests to this pool (or use `split`).',
  'listeners[].routes[].split': 'Send matching requests to several pools by weight (instead of `pool`).',
  'listeners[].routes[].rateLimit': 'Limit the route\'s requests per client; see [rateLimit](#listenersroutesratelimit). Absent: no limit.',
  'listeners[].routes[].rateLimit.rps': 'Requests/s each key may sustain (per process); the traffic model caps each sampled key of the route at rps × workers.',
  'listeners[].routes[].rateLimit.burst': 'Requests a key may send at once before the rate applies. Absent: rps rounded up (at least 1).',
  'listeners[].routes[].rateLimit.key': '`client-ip`: one bucket per client address (the TCP peer); `header:NAME`: one per value of that header, and the client address for requests without it.',

  'listeners[].routes[].match.host': 'The request\'s Host, exactly (case-insensitive, port ignored), or a wildcard `*.example.com` for any subdomain.',
  'listeners[].routes[].match.pathPrefix': 'The path starts with this (the query string is not part of the path).',
  'listeners[].routes[].match.methods': 'The method is one of these.',
  'listeners[].routes[].match.headers': 'Each named header has exactly this value.',

  'listeners[].routes[].split[].pool': 'A pool name.',
  'listeners[].routes[].split[].weight': 'Relative weight; 0 sends this pool nothing.',

  'listeners[].limits.maxHeaderBytes': 'Largest request head (request line and headers) in bytes; more is answered 431.',
  'listeners[].limits.maxHeaderCount': 'Most request headers; more is answered 431 (Node would silently drop them).',
  'listeners[].limits.maxBodyBytes': 'Largest request body in bytes; more is answered 413.',
  'listeners[].limits.headersTimeout': 'A client must send the whole request head within this; else 408 and close.',
  'listeners[].limits.requestTimeout': 'A client must send the whole request, body included, within this; else 408 and close.',
  'listeners[].limits.keepAliveTimeout': 'An idle client connection is closed after this.',
  'listeners[].limits.maxTunnels': 'Most WebSocket tunnels open at once on this listener (per process); an upgrade past it gets 503.',
  'listeners[].limits.tunnelIdleTimeout': 'A WebSocket tunnel with no byte in either direction for this long is closed (HAProxy: timeout tunnel).',

  'pools.<name>.algorithm': 'How a backend is picked: `round-robin` (smooth, weighted), `least-request` (the less busy of two backends drawn by weight), `random` (weighted), `consistent-hash` (Maglev on `hashOn`).',
  'pools.<name>.hashOn': '`consistent-hash` only: the request part that picks the backend, so one user keeps reaching one backend.',
  'pools.<name>.capacity': 'Requests/s each backend can sustain (default for the pool\'s backends); the capacity checks compare predicted load with it.',
  'pools.<name>.backends': 'The servers.',
  'pools.<name>.healthCheck': 'Active health checks; see [healthCheck](#poolsnamehealthcheck).',
  'pools.<name>.outlierDetection': 'Passive health checks; see [outlierDetection](#poolsnameoutlierdetection).',
  'pools.<name>.timeouts': 'Timeouts towards backends; see [timeouts](#poolsnametimeouts).',
  'pools.<name>.retries': 'Retries; see [retries](#poolsnameretries).',
  'pools.<name>.stickiness': 'Sticky sessions by cookie; see [stickiness](#poolsnamestickiness). Absent: every request is balanced on its own.',
  'pools.<name>.stickiness.cookie': 'Name of the cookie evenkeel sets (`Set-Cookie: NAME=<backend>.<signature>; Path=/; HttpOnly; SameSite=Lax`).',
  'pools.<name>.stickiness.ttl': 'The cookie\'s Max-Age: how long a client stays on its backend. Absent: a session cookie (until the browser closes).',
  'pools.<name>.slowStart': 'A backend that comes back (healthy again, or new) ramps from 10% to 100% of its weight over this time.',

  'pools.<name>.backends[].name': 'Backend name, unique in the pool; labels metrics. Absent: the address.',
  'pools.<name>.backends[].address': '`host:port` of the server, e.g. `10.0.0.11:8080`.',
  'pools.<name>.backends[].weight': 'Relative share of the pool\'s requests; 0 drains the backend (it gets nothing).',
  'pools.<name>.backends[].capacity': 'Requests/s this server can sustain; overrides the pool\'s `capacity`.',
  'pools.<name>.backends[].maxConnections': 'Most requests (or TCP connections) in flight to this backend per process; a full backend is passed over, and when all are full the request gets 503.',
  'pools.<name>.backends[].backup': 'A standby: it gets no traffic while any primary (non-backup) backend of the pool is usable, and shares the pool by weight once none is (HAProxy and NGINX `backup`).',

  'pools.<name>.healthCheck.path': 'Path requested with GET on each backend.',
  'pools.<name>.healthCheck.interval': 'Time between two checks of one backend.',
  'pools.<name>.healthCheck.timeout': 'A check not answered within this fails.',
  'pools.<name>.healthCheck.healthyThreshold': 'Passed checks in a row before a down backend is up again.',
  'pools.<name>.healthCheck.unhealthyThreshold': 'Failed checks in a row before an up backend is taken out.',
  'pools.<name>.healthCheck.expectStatus': 'Statuses that count as healthy: `200`, a range `200-399`, or a comma list of either.',

  'pools.<name>.outlierDetection.consecutiveFailures': 'Failures in a row (connect failure, reset, timeout, invalid response, 502/503/504) before a backend is ejected.',
  'pools.<name>.outlierDetection.baseEjectionTime': 'How long an ejected backend stays out.',
  'pools.<name>.outlierDetection.maxEjectionPercent': 'Never eject more than this percentage of the pool\'s backends at once.',

  'pools.<name>.timeouts.connect': 'Time to open a connection to a backend.',
  'pools.<name>.timeouts.request': 'Time for a backend to answer (and between two chunks of its body); past it the client gets 504.',
  'pools.<name>.timeouts.idle': 'Longest an unused keep-alive connection to a backend is kept (4 s unless the backend\'s Keep-Alive header allows longer).',

  'pools.<name>.retries.attempts': 'Retries per request, each on a backend that has not failed it yet; 0 = never retry.',
  'pools.<name>.retries.on': 'Failures that may be retried. Numbers may be written without quotes. Absent: all of them.',
  'pools.<name>.retries.budgetPercent': 'At most this percentage of the pool\'s requests in flight may be retries (at least 3), so retries cannot pile onto an overloaded pool.',

  'guardrails.traffic': 'The traffic model; see [traffic](#guardrailstraffic).',
  'guardrails.maxBackendShare': 'In a pool of two or more usable backends, no backend may get more than this share of the pool\'s requests (EK201).',
  'guardrails.headroom': 'Predicted load must stay at or under (1 − headroom) × capacity (EK202).',
  'guardrails.tolerateFailures': 'Capacity must still hold with this many backends of each pool down (EK204).',
  'guardrails.maxShift': 'One change may move at most this share of all traffic between servers (`plan`, EK4xx).',
  'guardrails.rollout': 'Canary and bake settings; see [rollout](#guardrailsrollout).',
  'guardrails.rollback': 'Monitor thresholds; see [rollback](#guardrailsrollback).',

  'guardrails.traffic.peakRps': 'Expected peak requests/s over all listeners. Without it shares are still predicted, but load and capacity are not checked.',
  'guardrails.traffic.routes': 'Peak requests/s of particular routes, by route name; the rest of `peakRps` is spread over the other routes by the sample, or evenly.',
  'guardrails.traffic.sample': 'A recorded traffic sample (JSON Lines, one request a line), relative to the config file\'s folder; used to spread traffic over routes and hash keys.',

  'guardrails.rollout.canaryPercent': 'Share of requests (percent) the new version serves during the canary.',
  'guardrails.rollout.canaryDuration': 'How long the canary runs before it is promoted.',
  'guardrails.rollout.canaryMaxDuration': 'How long the canary may run on while a pool the change touches has too few canary requests to judge (default: 3 × canaryDuration).',
  'guardrails.rollout.tooFewRequests': 'What happens when a touched pool still has too few canary requests at canaryMaxDuration: `promote` (on its weights and validation alone, said in the verdict and the journal) or `abort`.',
  'guardrails.rollout.bakeTime': 'After promotion, the window in which a firing monitor rolls the change back automatically.',

  'guardrails.rollback.auto': 'Roll back automatically when a monitor fires inside the bake window on a pool the change touched.',
  'guardrails.rollback.window': 'Sliding window the monitors judge over.',
  'guardrails.rollback.errorRate': 'The error-rate monitor fires when the 5xx ratio over the window is above this.',
  'guardrails.rollback.skew': 'The skew monitor fires when a backend\'s observed share differs from its expected share by more than this.',
  'guardrails.rollback.latencyP99': 'The latency monitor fires when p99 over the window is above this; absent = no latency monitor.',

  'alerts.webhooks': 'Alert receivers.',
  'alerts.webhooks[].url': 'The http(s) URL alerts are POSTed to.',
  'alerts.webhooks[].format': 'Body format: plain `json`, a `slack` message, or Alertmanager\'s `alertmanager` format.',

  'admin.address': '`host:port` of the admin API. Loopback by default; a non-loopback address needs `tokenFile`.',
  'admin.tokenFile': 'File holding the bearer token for the admin API (relative to the config file\'s folder). Absent: one is generated into `<store.path>/admin.token`.',
  'admin.allowedHosts': 'Host names (besides localhost and IP literals) under which the admin API answers; any other `Host` gets 403, which stops DNS-rebinding attacks from a browser.',

  'store.path': 'Folder for evenkeel\'s state (the versioned config store and events journal in SQLite, the generated admin token), relative to the config file\'s folder.',
};

const DURATION = DURATION_PATTERN.source;

/** Patterns of the schema, in words. */
const PATTERNS: Record<string, string> = {
  [DURATION]: '`500ms`, `2s`, `5m`, `1h`, …',
  '^[A-Za-z0-9][A-Za-z0-9._\\-]*$': 'letters, digits, `.`, `_`, `-`; starts with a letter or digit',
  '^(\\*\\.)?[A-Za-z0-9.\\-]+$': 'a host name, or `*.` and a domain',
  '^\\/.*': 'starts with `/`',
  "^(header:[A-Za-z0-9!#$%&'*+.^_`|~\\-]+|cookie:[A-Za-z0-9!#$%&'*+.^_`|~\\-]+|client-ip|path)$": '`header:NAME`, `cookie:NAME`, `client-ip` or `path`',
};

/** Things the JSON Schema cannot say (checked in code by the zod schema), by key path. */
const EXTRA_ALLOWED: Record<string, string> = {
  'listeners[].address': '`host:port`, port 1–65535',
  'pools.<name>.backends[].address': '`host:port`, port 1–65535',
  'admin.address': '`host:port`, port 1–65535',
  'pools.<name>.healthCheck.expectStatus': '`200`, `200-399`, or a comma list such as `200,204,300-399`',
  'alerts.webhooks[].url': 'an `http://` or `https://` URL',
};

/** Defaults the JSON Schema does not carry (zod drops them on unions with transforms). */
const EXTRA_DEFAULTS: Record<string, string> = {
  'pools.<name>.retries.on': 'all: `[connect-failure, reset, 502, 503, 504]`',
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

interface Row {
  key: string;
  type: string;
  default: string;
  allowed: string;
  description: string;
}

interface Section {
  path: string;
  rows: Row[];
}

/** Renders docs/config.md from the schema. Throws when a key or section has no description. */
export function renderConfigDoc(): string {
  const schema = configJsonSchema() as Node;
  const sections: Section[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  walk(schema, '', sections, missing, seen);
  for (const key of [...Object.keys(DESCRIPTIONS), ...Object.keys(SECTIONS)]) {
    if (!seen.has(key)) missing.push(`${key} (described, but not in the schema any more)`);
  }
  if (missing.length > 0) {
    throw new Error(`scripts/gen-config-doc.ts: update DESCRIPTIONS/SECTIONS for:\n  ${missing.join('\n  ')}\nthen run npm run docs:config`);
  }
  const out: string[] = [HEADER];
  for (const s of sections) {
    out.push(`### ${s.path === '' ? 'Top level' : `\`${s.path}\``}`, '', SECTIONS[s.path], '');
    out.push('| key | type | default | allowed values | meaning |', '|---|---|---|---|---|');
    for (const r of s.rows) out.push(`| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.description)} |`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Visits an object node: one section for it, then one for each nested object, depth first. */
function walk(node: Node, path: string, sections: Section[], missing: string[], seen: Set<string>): void {
  seen.add(path);
  if (SECTIONS[path] === undefined) missing.push(`${path || '(top level)'} (section)`);
  const section: Section = { path, rows: [] };
  sections.push(section);
  const nested: [Node, string][] = [];
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = path === '' ? key : `${path}.${key}`;
    seen.add(p);
    const description = DESCRIPTIONS[p];
    if (description === undefined) missing.push(p);
    section.rows.push({
      key,
      type: typeOf(child),
      default: required.has(key) ? '**required**' : EXTRA_DEFAULTS[p] ?? defaultOf(child),
      allowed: [EXTRA_ALLOWED[p], allowedOf(child)].filter(Boolean).join('; '),
      description: description ?? '',
    });
    const inner = objectInside(child, p);
    if (inner) nested.push(inner);
  }
  for (const [n, p] of nested) walk(n, p, sections, missing, seen);
}

/** The object a property leads to (itself, its list items, its map values), with that object's path. */
function objectInside(node: Node, path: string): [Node, string] | undefined {
  if (node.properties) return [node, path];
  if (node.type === 'array' && node.items?.properties) return [node.items, `${path}[]`];
  if (isMap(node) && (node.additionalProperties as Node).properties) return [node.additionalProperties as Node, `${path}.<name>`];
  // A key that is a string or an object (`engine: haproxy` / `engine: { type: haproxy, … }`): the object's section.
  const branch = node.anyOf?.find((n) => n.properties);
  if (branch) return [branch, path];
  return undefined;
}

function isMap(node: Node): boolean {
  return node.type === 'object' && !node.properties && typeof node.additionalProperties === 'object';
}

function typeOf(node: Node): string {
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' or ');
  if (node.type === 'array' && node.items?.anyOf) return `list of ${[...new Set(node.items.anyOf.map(typeOf))].map(plural).join(' or ')}`;
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.type === 'string' && node.pattern === DURATION) return 'duration';
  if (node.type === 'array') return `list of ${plural(node.items ? typeOf(node.items) : 'values')}`;
  if (isMap(node)) return `map: name → ${typeOf(node.additionalProperties as Node)}`;
  if (node.type === 'integer') return 'integer';
  return node.type ?? 'any';
}

function plural(t: string): string {
  return t === 'object' ? 'objects' : t === 'string' ? 'strings' : t === 'integer' ? 'integers' : t === 'number' ? 'numbers' : t;
}

function defaultOf(node: Node): string {
  if (node.default === undefined) return '';
  const d = node.default;
  if (typeof d === 'object' && d !== null && !Array.isArray(d) && Object.keys(d).length === 0) return 'all defaults';
  if (Array.isArray(d)) return d.length === 0 ? 'none (`[]`)' : `\`[${d.join(', ')}]\``;
  return `\`${String(d)}\``;
}

function allowedOf(node: Node): string {
  if (node.anyOf) return node.anyOf.map(allowedOf).filter(Boolean).join('; or ');
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (node.const !== undefined) return '';
  const parts: string[] = [];
  if (node.type === 'number' || node.type === 'integer') {
    const lo = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined && node.minimum > -MAX_SAFE ? `≥ ${node.minimum}` : '';
    const hi = node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : node.maximum !== undefined && node.maximum < MAX_SAFE ? `≤ ${node.maximum}` : '';
    if (lo.startsWith('≥') && hi.startsWith('≤')) parts.push(`${node.minimum}–${node.maximum}`);
    else parts.push(...[lo, hi].filter(Boolean));
  }
  if (node.type === 'string') {
    if (node.pattern !== undefined) parts.push(PATTERNS[node.pattern] ?? `matches \`${node.pattern}\``);
    if (node.maxLength !== undefined) parts.push(`${node.minLength ?? 0}–${node.maxLength} characters`);
    else if (node.minLength !== undefined && node.minLength > 0) parts.push('not empty');
  }
  if (node.type === 'array') {
    if (node.minItems !== undefined) parts.push(`at least ${node.minItems}`);
    const items = node.items ? allowedOf(node.items) : '';
    if (items && !node.items?.properties) parts.push(`each: ${items}`);
  }
  if (isMap(node)) {
    const keys = node.propertyNames ? allowedOf(node.propertyNames) : '';
    const values = allowedOf(node.additionalProperties as Node);
    if (keys) parts.push(`names: ${keys}`);
    if (values) parts.push(`values: ${values}`);
  }
  return parts.join('; ');
}

/** Escapes a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

const HEADER = `# Config reference

<!-- Generated by scripts/gen-config-doc.ts from the config schema (src/config/schema.ts).
     Do not edit by hand: change the schema or the descriptions in the script, then run
     npm run docs:config. test/docs-config-is-current.test.ts fails when this file is stale. -->

An evenkeel config is one YAML file. \`evenkeel validate FILE\` checks it against everything on
this page (and against the rules in [rules.md](rules.md)); \`evenkeel schema\` prints the same
schema as JSON Schema for editors ([README](../README.md#editor-support)).

How to read the tables:

- **Durations** are strings: a number and a unit, \`500ms\`, \`2s\`, \`1.5m\`, \`5m\`, \`1h\`.
- **default** is what evenkeel uses when the key is absent; **all defaults** means the whole
  section may be left out. A blank default means the key is optional and has no default: the
  feature it controls is off (e.g. no \`healthCheck\`: no active checks).
- **Unknown keys are refused** (EK102, with the key you probably meant), and so are values of
  the wrong type or out of range (EK101), each at its \`file:line:column\`.
- Relative file paths (\`guardrails.traffic.sample\`, \`admin.tokenFile\`, \`store.path\`)
  resolve against the folder of the config file, not the working directory.
- Paths: \`listeners[]\` is an item of the \`listeners\` list; \`pools.<name>\` is the pool
  named \`<name>\` in the \`pools\` map.

A small complete config:

\`\`\`yaml
listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: api }
      - { name: site, pool: web }
pools:
  web:
    capacity: 500
    healthCheck: { path: /healthz }
    backends:
      - { name: web-1, address: 10.0.0.11:8080 }
      - { name: web-2, address: 10.0.0.12:8080 }
  api:
    algorithm: consistent-hash
    hashOn: header:x-user-id
    capacity: 400
    healthCheck: { path: /healthz }
    backends:
      - { name: api-1, address: 10.0.1.11:9000 }
      - { name: api-2, address: 10.0.1.12:9000 }
guardrails:
  traffic: { peakRps: 800, routes: { api: 300 } }
\`\`\`

## Keys
`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(CONFIG_DOC, renderConfigDoc());
  process.stdout.write(`wrote ${CONFIG_DOC}\n`);
}
