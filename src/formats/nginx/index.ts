/**
 * Reads nginx.conf into evenkeel's config model, so validate / plan / test judge an nginx
 * config with the same rules and traffic model as an evenkeel YAML: upstreams become pools
 * (named after the upstream, each backend named by its address as written), servers and
 * locations become listeners and routes in nginx's precedence, and every construct keeps its
 * nginx.conf file:line:column. Pure for text input; readNginxFile adds file access for
 * includes. Never throws for anything inside the files: problems are findings.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_CONFIG_BYTES, deepFreeze, readBounded, type LoadResult, type Vocabulary } from '../../config/index.js';
import { configSchema, type Config, type ConfigInput } from '../../config/index.js';
import { formatPath } from '../../config/index.js';
import { didYouMean } from '../../core/index.js';
import type { Directive } from './lexer.js';
import { upstreamPool } from './pools.js';
import { NginxLocator, Reading, readGuardrails } from './reading.js';
import { readServers, readStreamServers, type ListenerDraft, type ProxyTarget } from './servers.js';
import { readSplits, splitTargets, type Split } from './splits.js';
import { dumpAccess, expand, splitDump, type SourceAccess } from './sources.js';
import { readUpstream, withPort, type Upstream } from './upstream.js';

export { renderNginx } from './write.js';
export type { SourceAccess } from './sources.js';
export { nginxTestFindings } from './check.js';

/**
 * Options for readNginx: file access for includes (absent: includes are reported, not read),
 * and what a guardrails file (`--guardrails GUARD.yaml`) adds: guardrails over those of
 * `# evenkeel:` comments, and capacities per upstream (`{app: 500}`, per server) or per
 * server (`{app: {"10.0.0.11:8080": 500}}`, the backend name as written) over the comments'.
 */
export interface NginxReadOptions extends SourceAccess {
  guardrails?: Record<string, unknown>;
  capacity?: Record<string, number | Record<string, number>>;
}

type Json = ConfigInput;
type RouteInput = NonNullable<Json['listeners'][number]['routes']>[number];

/**
 * True when `text` looks like nginx.conf: a `{`-block such as `http {`, `upstream NAME {`,
 * `server {`, `events {`, or an nginx -T dump. (`listen` alone proves nothing: HAProxy has it too.)
 */
export function looksLikeNginx(text: string): boolean {
  const head = text.slice(0, 65536);
  if (/^# configuration file .+:$/m.test(head)) return true;
  return /^\s*(http|events|stream|upstream\s+[^\s{]+|server|location\s+[^{]*|split_clients\s+[^{]+)\s*\{/m.test(head) && /;\s*($|#|\})/m.test(head);
}

/** An nginx.conf's upstreams are evenkeel's pools, their servers (named by address) the backends; nginx has no weight 0, a server is down. */
const NGINX_WORDS: Vocabulary = { pool: 'upstream', backend: 'server', lead: 'server ', nameIsAddress: true, weightZero: ['is down', 'are down'] };

/**
 * Reads an nginx.conf (or an `nginx -T` dump) from disk, following includes inside its folder.
 * Throws FileReadError (exit 2) only when the file itself cannot be read, like loadConfigFile.
 */
export function readNginxFile(file: string, opts: Pick<NginxReadOptions, 'guardrails' | 'capacity'> = {}): LoadResult {
  const buf = readBounded(file, MAX_CONFIG_BYTES);
  if (buf === undefined) return notText(file, `${file} is larger than ${MAX_CONFIG_BYTES / 1048576} MiB; evenkeel reads configs of at most that`, 1);
  const bad = badByteLine(buf);
  if (bad) return notText(file, `${file} is not text: ${bad.why}`, bad.line);
  return readNginx(buf.toString('utf8'), file, {
    ...opts,
    readFile: (p) => {
      try {
        // Bounded: an included name may be a symlink to a device such as /dev/zero.
        const b = readBounded(p, MAX_CONFIG_BYTES);
        return b === undefined || badByteLine(b) ? undefined : b.toString('utf8');
      } catch {
        return undefined;
      }
    },
    listDir: (d) => {
      try {
        return readdirSync(d);
      } catch {
        return undefined;
      }
    },
  });
}

/** Reads nginx.conf text. `file` names it in findings and anchors relative includes. */
export function readNginx(text: string, file: string, opts: NginxReadOptions = {}): LoadResult {
  if (text.length > MAX_CONFIG_BYTES) return notText(file, `${file} is larger than ${MAX_CONFIG_BYTES / 1048576} MiB`, 1);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return notText(file, `${file} is not text: it contains a NUL byte`, lineAt(text, nul));

  const dump = splitDump(text);
  const mainFile = dump ? dump.main : absolute(file);
  const access = dump ? dumpAccess(dump.files) : opts;
  const locator = new NginxLocator(dump ? file : mainFile, { file: dump ? dump.main : mainFile, line: 1, column: 1 });
  const r = new Reading(locator);
  const expanded = expand(dump ? dump.files.get(dump.main)! : text, mainFile, access, !dump);
  for (const p of expanded.problems) {
    r.add(p.kind === 'unreadable' ? 'EK528' : 'EK527', p.pos, {
      message: p.message,
      hint: p.kind === 'unreadable'
        ? 'validate the output of `nginx -T` instead (it holds every included file), or copy the file beside the config'
        : p.kind === 'escape'
          ? 'keep included files inside the config folder, or validate the output of `nginx -T` (it holds every included file)'
          : 'remove the include that brings the file back in',
    });
  }
  const result = (config?: Config): LoadResult => ({ file, text, config, findings: r.findings, locator, vocabulary: NGINX_WORDS });
  if (expanded.syntax) {
    r.add('EK525', expanded.syntax.pos, { message: expanded.syntax.message, hint: 'fix the syntax here; nginx -t refuses the file at the same place' });
    return result();
  }

  const https = expanded.directives.filter((d) => d.name === 'http' && d.block);
  if (https.length > 1) r.invalid(https[1].pos, '"http" directive is duplicate', 'merge the two http blocks into one: nginx refuses this config');
  const http = https[0]?.block ?? [];
  const stream = expanded.directives.find((d) => d.name === 'stream' && d.block)?.block ?? [];

  const upstreams = new Map<string, Upstream>();
  for (const d of [...http, ...stream].filter((x) => x.name === 'upstream')) {
    const up = readUpstream(d, r);
    if (!up) continue;
    const k = up.name.toLowerCase();
    if (upstreams.has(k)) r.invalid(d.pos, `duplicate upstream "${up.name}" (the first is at line ${upstreams.get(k)!.pos.line})`, 'rename or remove one: nginx refuses this config', up.name);
    else upstreams.set(k, up);
  }
  const splits = readSplits(http, r);
  const listeners = readServers(http, r);
  const tcp = readStreamServers(stream, r);

  const pools: Json['pools'] = {};
  const poolNames = new Map<string, string>();
  const reach = new Map<string, boolean[]>();
  const poolFor = (host: string, t: ProxyTarget, loopback: boolean): string | undefined => {
    const up = upstreams.get(host.toLowerCase());
    if (up) {
      const name = poolName(up.name, poolNames);
      reach.set(up.name, [...(reach.get(up.name) ?? []), loopback]);
      return name;
    }
    const address = withPort(host);
    if (!address || host.includes('$')) return undefined;
    const named = upstreams.get(host.replace(/:\d+$/, '').toLowerCase());
    if (named && host.includes(':')) {
      r.invalid(t.pos, `proxy_pass ${host} gives the upstream ${named.name} a port; nginx refuses this config (upstream "${named.name}" may not have port)`, `write proxy_pass http://${named.name}; the ports are on its server lines`, named.name);
      return undefined;
    }
    const name = poolName(address.replace(/[:[\]]/g, '-').replace(/^-+|-+$/g, ''), poolNames);
    if (!pools[name]) {
      pools[name] = { backends: [{ address, ...(host === address ? {} : /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host) ? { name: host } : {}) }] };
      locator.set(['pools', name], t.pos);
      locator.set(['pools', name, 'backends', 0], t.pos);
      if (!host.includes(':') && !host.includes('.')) {
        const guess = didYouMean(host, [...upstreams.values()].map((u) => u.name));
        r.add('EK534', t.pos, {
          message: `proxy_pass names "${host}", which is no upstream here, so nginx sends it to the host ${host} on port 80${guess ? ` (did you mean the upstream "${guess}"?)` : ''}`,
          hint: guess ? `change it to proxy_pass http://${guess};` : `define upstream ${host} { server …; }, or write the host:port you mean`,
          pool: name,
        });
      }
    }
    return name;
  };

  const routeNames = new Set<string>();
  const jsonListeners: Json['listeners'] = [];
  const listenerNames = new Set<string>();
  listeners.forEach((l: ListenerDraft) => {
    const li = jsonListeners.length;
    const routes: RouteInput[] = [];
    for (const rd of l.routes) {
      const ri = routes.length;
      const target = resolveTarget(rd.target, (h) => poolFor(h, rd.target, l.loopback), splits, r, l.loopback);
      if (!target) continue;
      const name = unique(sanitize(rd.label), routeNames);
      const route: RouteInput = { name, ...target.route };
      const match: NonNullable<RouteInput['match']> = {};
      if (rd.host) match.host = rd.host;
      if (rd.pathPrefix !== '/') match.pathPrefix = rd.pathPrefix;
      if (Object.keys(match).length) route.match = match;
      routes.push(route);
      locator.set(['listeners', li, 'routes', ri], rd.pos);
      locator.set(['listeners', li, 'routes', ri, 'pool'], rd.target.pos);
      target.splitPos.forEach((p, k) => locator.set(['listeners', li, 'routes', ri, 'split', k], p));
    }
    if (routes.length === 0) return;
    locator.set(['listeners', li], l.pos);
    jsonListeners.push({ name: unique(sanitize(`http-${l.address}`), listenerNames), address: l.address, routes });
  });
  for (const t of tcp) {
    const pool = poolFor(t.target.host, t.target, t.loopback);
    if (!pool) continue;
    locator.set(['listeners', jsonListeners.length], t.pos);
    locator.set(['listeners', jsonListeners.length, 'pool'], t.target.pos);
    jsonListeners.push({ name: unique(sanitize(`tcp-${t.address}`), listenerNames), address: t.address, protocol: 'tcp', pool });
  }
  for (const up of upstreams.values()) {
    const name = poolName(up.name, poolNames);
    const hits = reach.get(up.name) ?? [];
    pools[name] = upstreamPool(up, name, { loopbackOnly: hits.length > 0 && hits.every(Boolean) }, r);
  }

  if (jsonListeners.length === 0) {
    r.add('EK535', https[0]?.pos ?? { file: mainFile, line: 1, column: 1 }, {
      message: `no server in ${file} passes requests to an upstream (proxy_pass http://…), so there is no traffic for evenkeel to predict`,
      hint: 'validate the nginx.conf that proxies (often the http block with the upstreams), or add proxy_pass to a location',
    });
    return result();
  }

  const guardrails = mergeGuardrails(readGuardrails(expanded.comments, r, mainFile), opts.guardrails);
  applyCapacity(pools, opts.capacity);
  const raw: Json = { listeners: jsonListeners, pools, ...(guardrails ? { guardrails } : {}) };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
      const pos = locator.locate(path);
      r.findings.push({ code: 'EK537', severity: 'error', message: `evenkeel cannot model ${formatPath(path)}: ${issue.message}`, hint: 'rewrite this construct in a form evenkeel reads (host:port servers, upstream names of letters, digits, ".", "_", "-")', subject: {}, path, ...pos });
    }
    return result();
  }
  return result(deepFreeze(parsed.data));
}

/** A location's proxy_pass as a pool or a split. */
function resolveTarget(t: ProxyTarget, poolFor: (host: string) => string | undefined, splits: Map<string, Split>, r: Reading, loopback: boolean): { route: Pick<RouteInput, 'pool' | 'split'>; splitPos: Directive['pos'][] } | undefined {
  const v = /^\$\{?([A-Za-z0-9_]+)\}?$/.exec(t.host);
  if (v) {
    const s = splits.get(v[1]);
    if (!s) {
      r.partial(t.pos, `proxy_pass through the variable $${v[1]}, which is not set by a split_clients block; requests here are left out of the prediction`);
      return undefined;
    }
    const split = splitTargets(s, poolFor, r, loopback);
    return split && { route: { split: split.entries }, splitPos: split.positions };
  }
  if (t.host.includes('$')) {
    r.partial(t.pos, `proxy_pass http://${t.host} builds its host from variables; requests here are left out of the prediction`);
    return undefined;
  }
  const pool = poolFor(t.host);
  if (!pool) {
    if (!r.reportedAt(t.pos)) r.partial(t.pos, `proxy_pass host "${t.host}" is not an upstream or host:port evenkeel can model`);
    return undefined;
  }
  return { route: { pool }, splitPos: [] };
}

/** A guardrails file's keys over the comments' (its `traffic:` merged key by key). */
function mergeGuardrails(fromComments: Json['guardrails'] | undefined, fromFile: Record<string, unknown> | undefined): Json['guardrails'] | undefined {
  if (!fromFile) return fromComments;
  const base = (fromComments ?? {}) as Record<string, unknown>;
  const traffic = { ...(base.traffic as object | undefined), ...(fromFile.traffic as object | undefined) };
  return { ...base, ...fromFile, ...(Object.keys(traffic).length ? { traffic } : {}) } as Json['guardrails'];
}

/** Capacities from a guardrails file: a number for every server of an upstream, or per server by its name as written. */
function applyCapacity(pools: Json['pools'], capacity: NginxReadOptions['capacity']): void {
  for (const [pool, value] of Object.entries(capacity ?? {})) {
    const p = pools[pool];
    if (!p) continue;
    if (typeof value === 'number') p.capacity = value;
    else for (const b of p.backends) {
      const n = value[b.name ?? b.address];
      if (n !== undefined) b.capacity = n;
    }
  }
}

function poolName(upstream: string, names: Map<string, string>): string {
  let n = names.get(upstream);
  if (!n) {
    n = sanitize(upstream);
    names.set(upstream, n);
  }
  return n;
}

function sanitize(s: string): string {
  const out = s.replace(/^\*\./, 'wild.').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '');
  return (out || 'root').slice(0, 120);
}

function unique(base: string, seen: Set<string>): string {
  let n = base;
  for (let k = 2; seen.has(n); k++) n = `${base}-${k}`;
  seen.add(n);
  return n;
}

function notText(file: string, message: string, line: number): LoadResult {
  const locator = new NginxLocator(file);
  const r = new Reading(locator);
  r.add('EK526', { file, line, column: 1 }, { message, hint: 'give evenkeel the nginx.conf itself (UTF-8 text), or the output of `nginx -T`' });
  return { file, text: '', findings: r.findings, locator };
}

function badByteLine(buf: Buffer): { why: string; line: number } | undefined {
  const nul = buf.indexOf(0);
  if (nul >= 0) return { why: 'it contains a NUL byte', line: lineAt(buf.subarray(0, nul).toString('latin1'), nul) };
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return undefined;
  } catch {
    // The first line that does not decode.
    let start = 0;
    for (let line = 1; start <= buf.length; line++) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(start, end));
      } catch {
        return { why: 'it is not valid UTF-8', line };
      }
      start = end + 1;
    }
    return { why: 'it is not valid UTF-8', line: 1 };
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function absolute(file: string): string {
  return file.startsWith('<') ? file : resolve(file);
}

