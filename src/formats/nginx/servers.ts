/**
 * `server { listen …; server_name …; location … }` blocks → listeners and their routes.
 *
 * nginx picks a server per listen address by Host (ngx_http_find_virtual_server): an exact
 * name, then the longest `*.` wildcard, then a trailing-`*` wildcard, then regexes in order,
 * else the address's default server (`default_server`, or the first server listening there).
 * In evenkeel order: exact hosts, wildcards longest first, the default server last with no host.
 */
import type { Directive, Pos } from './lexer.js';
import { orderLocations, type Location } from './locations.js';
import type { Reading } from './reading.js';
import { withPort } from './upstream.js';

/** Where a location sends requests, as written in its proxy_pass. */
export interface ProxyTarget {
  /** The host part of the URL (an upstream name, host:port, or a $variable). */
  host: string;
  pos: Pos;
}

/** One route in evenkeel order. */
export interface RouteDraft {
  host?: string;
  pathPrefix: string;
  target: ProxyTarget;
  pos: Pos;
  label: string;
}

/** One evenkeel listener: a listen address and the routes of every server on it. */
export interface ListenerDraft {
  /** host:port for evenkeel. */
  address: string;
  pos: Pos;
  routes: RouteDraft[];
  loopback: boolean;
}

interface ServerBlock {
  d: Directive;
  listens: { key: string; address: string; isDefault: boolean; pos: Pos; loopback: boolean }[];
  exact: string[];
  wildcard: string[];
  locations: Location<ProxyTarget>[];
  label: string;
}

/** Reads every server block of `http` into listeners. */
export function readServers(http: Directive[], r: Reading): ListenerDraft[] {
  const servers = http.filter((d) => d.name === 'server' && d.block).map((d) => readServer(d, r));
  const listeners = new Map<string, ListenerDraft & { servers: ServerBlock[]; defaultServer?: ServerBlock }>();
  for (const s of servers) {
    for (const l of s.listens) {
      let entry = listeners.get(l.key);
      if (!entry) {
        entry = { address: l.address, pos: l.pos, routes: [], loopback: l.loopback, servers: [] };
        listeners.set(l.key, entry);
      }
      if (!entry.servers.includes(s)) entry.servers.push(s);
      if (l.isDefault) {
        if (entry.defaultServer && entry.defaultServer !== s) r.invalid(l.pos, `a second default_server for ${l.address} (the first is at line ${entry.defaultServer.d.pos.line})`, 'keep default_server on one server per address: nginx refuses this config');
        else entry.defaultServer = s;
      }
    }
  }
  // nginx binds *:P once and picks servers by the address a connection came to; evenkeel
  // listeners have no destination address, so a specific address joins the wildcard on its port.
  for (const [key, l] of listeners) {
    const port = key.slice(key.lastIndexOf(':') + 1);
    const wild = key.includes(':') ? listeners.get(port) : undefined;
    if (!wild) continue;
    r.partial(l.pos, `listen ${l.address} shares port ${port} with a wildcard listen (line ${wild.pos.line}); evenkeel predicts both as one listener on ${wild.address}, whatever address a client connects to`);
    for (const s of l.servers) if (!wild.servers.includes(s)) wild.servers.push(s);
    listeners.delete(key);
  }
  for (const l of listeners.values()) {
    const def = l.defaultServer ?? l.servers[0];
    const seen = new Map<string, ServerBlock>();
    const placedOf = new Map<ServerBlock, ReturnType<typeof orderLocations<ProxyTarget>>>();
    const placed = (s: ServerBlock) => {
      let p = placedOf.get(s);
      if (!p) {
        p = orderLocations(s.locations, r, s.label);
        placedOf.set(s, p);
      }
      return p;
    };
    const emit = (s: ServerBlock, host: string | undefined) => {
      for (const p of placed(s)) l.routes.push({ host, pathPrefix: p.pathPrefix, target: p.target, pos: p.pos, label: `${host ?? 'default'}${p.loc.modifier.startsWith('~') ? '-re' : p.loc.modifier === '=' ? '-eq' : ''}${p.pathPrefix}` });
    };
    for (const s of l.servers) {
      for (const h of s.exact) {
        const first = seen.get(h);
        if (first && first !== s) {
          r.add('EK529', s.d.pos, { message: `server_name ${h} is also declared at line ${first.d.pos.line} for ${l.address}; nginx warns "conflicting server name" and ignores this one`, hint: `remove ${h} from one of the two servers` });
          continue;
        }
        if (!first) {
          seen.set(h, s);
          emit(s, h);
        }
      }
    }
    const wild = l.servers.flatMap((s) => s.wildcard.map((h) => ({ s, h }))).sort((a, b) => b.h.length - a.h.length);
    for (const { s, h } of wild) {
      if (seen.has(h)) continue;
      seen.set(h, s);
      emit(s, h);
    }
    emit(def, undefined);
  }
  return [...listeners.values()].map(({ address, pos, routes, loopback }) => ({ address, pos, routes, loopback }));
}

function readServer(d: Directive, r: Reading): ServerBlock {
  const block = d.block ?? [];
  const s: ServerBlock = { d, listens: [], exact: [], wildcard: [], locations: [], label: `server at line ${d.pos.line}` };
  for (const x of block) {
    if (x.name === 'listen') {
      const l = readListen(x, r);
      if (l) s.listens.push(l);
    } else if (x.name === 'server_name') {
      for (const a of x.args) {
        const name = a.value.toLowerCase();
        if (name === '' || name === '_') continue;
        if (name.startsWith('~')) r.partial(a.pos, `server_name ${a.value} is a regex; evenkeel does not route on it, so its requests are predicted to reach the default server`);
        else if (/^(\*)?\.[a-z0-9.\-]+$/.test(name)) {
          // `.example.com` is example.com and *.example.com; `*.example.com` the subdomains only.
          if (name.startsWith('.')) s.exact.push(name.slice(1));
          s.wildcard.push(name.startsWith('.') ? `*${name}` : name);
        }
        else if (name.includes('*')) r.partial(a.pos, `server_name ${a.value} has a wildcard evenkeel cannot express (only *.example.com); its requests are predicted to reach the default server`);
        else if (/^[a-z0-9.\-]+$/.test(name)) s.exact.push(name);
        else r.partial(a.pos, `server_name ${a.value} is not a host name evenkeel can route on`);
      }
    }
  }
  if (s.listens.length === 0) s.listens.push({ key: '80', address: '0.0.0.0:80', isDefault: false, pos: d.pos, loopback: false });
  const names = [...s.exact, ...s.wildcard];
  s.label = names.length ? `server ${names[0]}` : `the server at line ${d.pos.line}`;
  collectLocations(block, r, s.locations, s.label);
  const seen = new Set<string>();
  for (const l of s.locations) {
    const k = `${l.modifier} ${l.uri}`;
    if (seen.has(k)) r.invalid(l.pos, `duplicate location "${l.modifier ? `${l.modifier} ` : ''}${l.uri}" in ${s.label}`, 'remove one of them: nginx refuses this config');
    seen.add(k);
  }
  return s;
}

/** Locations of a server, nested ones flattened (a nested location only narrows its parent). */
function collectLocations(block: Directive[], r: Reading, out: Location<ProxyTarget>[], server: string): void {
  for (const x of block) {
    if (x.name !== 'location' || !x.block) continue;
    const loc = locationHead(x);
    if (!loc) {
      r.syntaxLike(x.pos, `"location" needs a URI: location [=|~|~*|^~] /path { … }`, 'write it as location /api/ { proxy_pass http://api; }');
      continue;
    }
    if (loc.uri.startsWith('@')) continue; // named locations are only reached by try_files / error_page
    const pass = x.block.find((y) => y.name === 'proxy_pass');
    for (const y of x.block) {
      if (y.name === 'if' && y.block?.some((z) => z.name === 'proxy_pass')) r.partial(y.pos, `a proxy_pass inside "if" in ${server} is not modelled`);
    }
    out.push({ ...loc, pos: x.pos, target: pass ? proxyTarget(pass, r) : undefined });
    collectLocations(x.block, r, out, server);
  }
}

function locationHead(x: Directive): { modifier: Location<ProxyTarget>['modifier']; uri: string } | undefined {
  const [a, b] = x.args.map((v) => v.value);
  if (a === undefined) return undefined;
  if (['=', '~', '~*', '^~'].includes(a)) return b === undefined ? undefined : { modifier: a as Location<ProxyTarget>['modifier'], uri: b };
  for (const m of ['^~', '~*', '=', '~'] as const) if (a.startsWith(m) && a.length > m.length) return { modifier: m, uri: a.slice(m.length) };
  return { modifier: '', uri: a };
}

function proxyTarget(d: Directive, r: Reading): ProxyTarget | undefined {
  const url = d.args[0]?.value ?? '';
  const m = /^https?:\/\/([^/?#]+)/.exec(url);
  if (!m) {
    r.partial(d.pos, `proxy_pass ${url} is not an http:// or https:// URL evenkeel can follow`);
    return undefined;
  }
  return { host: m[1], pos: d.pos };
}

function readListen(x: Directive, r: Reading): ServerBlock['listens'][number] | undefined {
  const a = x.args[0]?.value;
  if (!a) {
    r.syntaxLike(x.pos, '"listen" needs an address or port', 'write it as listen 8080; or listen 127.0.0.1:8080;');
    return undefined;
  }
  if (a.startsWith('unix:')) {
    r.partial(x.pos, `listen ${a} is a unix socket; evenkeel models TCP listeners only`);
    return undefined;
  }
  const isDefault = x.args.slice(1).some((v) => v.value === 'default_server' || v.value === 'default');
  let host = '0.0.0.0';
  let port: string;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (v6) {
    host = v6[1] === '::' ? '0.0.0.0' : `[${v6[1]}]`;
    port = v6[2] ?? '80';
  } else if (/^\d+$/.test(a)) port = a;
  else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(a);
    if (!m) {
      r.syntaxLike(x.pos, `listen ${a} is not an address nginx accepts`, 'write it as listen 8080; or listen 127.0.0.1:8080;');
      return undefined;
    }
    host = m[1] === '*' ? '0.0.0.0' : m[1];
    port = m[2] ?? '80';
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    r.invalid(x.pos, `listen ${a}: port ${port} is not a port nginx accepts (1-65535)`, 'write a port between 1 and 65535, e.g. listen 8080;');
    return undefined;
  }
  const wildcard = host === '0.0.0.0';
  // [::]:80 and *:80 are two sockets in nginx but the same servers answer on both: one listener.
  return { key: wildcard ? port : `${host}:${port}`, address: `${host}:${port}`, isDefault, pos: x.pos, loopback: /^(127\.|localhost$|\[::1\]$)/.test(host) };
}

/** `stream { server { listen 5432; proxy_pass db; } }` → tcp listeners. */
export function readStreamServers(stream: Directive[], r: Reading): { address: string; pos: Directive['pos']; target: ProxyTarget; loopback: boolean }[] {
  const out: { address: string; pos: Directive['pos']; target: ProxyTarget; loopback: boolean }[] = [];
  for (const s of stream.filter((d) => d.name === 'server' && d.block)) {
    const listen = s.block!.find((d) => d.name === 'listen');
    const pass = s.block!.find((d) => d.name === 'proxy_pass');
    if (!listen || !pass || !pass.args[0]) continue;
    const a = listen.args[0]?.value ?? '';
    const address = /^\d+$/.test(a) ? `0.0.0.0:${a}` : withPort(a.replace(/^\*:/, '0.0.0.0:'));
    if (!address) {
      r.partial(listen.pos, `stream listen ${a} is not an address evenkeel models`);
      continue;
    }
    out.push({ address, pos: listen.pos, target: { host: pass.args[0].value, pos: pass.pos }, loopback: /^(127\.|localhost:)/.test(address) });
  }
  return out;
}
