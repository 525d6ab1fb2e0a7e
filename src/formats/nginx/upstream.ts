/**
 * `upstream NAME { … }` → an evenkeel pool. Server parameters follow ngx_http_upstream_server
 * (weight ≥ 1, max_fails, fail_timeout, backup, down, max_conns); the balancing directive
 * maps onto evenkeel's algorithms, and what does not map exactly says so in a finding.
 */
import type { Directive, Pos } from './lexer.js';
import type { Reading } from './reading.js';

/** One `server` line, as nginx holds it. */
export interface UpstreamServer {
  /** The address exactly as written: the backend's name. */
  written: string;
  /** host:port for evenkeel (nginx's default port 80 added). */
  address: string;
  weight: number;
  down: boolean;
  backup: boolean;
  maxConns?: number;
  capacity?: number;
  pos: Pos;
}

/** How an upstream balances, read from its directive. */
export type Balance =
  | { kind: 'round-robin' }
  | { kind: 'least_conn'; pos: Pos }
  | { kind: 'random'; two: boolean; pos: Pos }
  | { kind: 'ip_hash'; pos: Pos }
  | { kind: 'hash'; key: string; consistent: boolean; pos: Pos };

/** An upstream block. */
export interface Upstream {
  name: string;
  pos: Pos;
  servers: UpstreamServer[];
  balance: Balance;
  capacity?: number;
}

const SERVER_PARAMS = /^(weight|max_fails|fail_timeout|max_conns|slow_start|route|service)=(.*)$/;
/** Directives inside an upstream block that do not change where requests go. */
const NEUTRAL = new Set(['keepalive', 'keepalive_timeout', 'keepalive_requests', 'keepalive_time', 'zone', 'resolver', 'resolver_timeout']);

/** Reads one upstream block. */
export function readUpstream(d: Directive, r: Reading): Upstream | undefined {
  const name = d.args[0]?.value;
  if (!name || d.args.length !== 1 || !d.block) {
    r.syntaxLike(d.pos, `"upstream" needs one name and a block: upstream NAME { server …; }`, 'write it as upstream app { server 10.0.0.11:8080; }');
    return undefined;
  }
  const up: Upstream = { name, pos: d.pos, servers: [], balance: { kind: 'round-robin' }, capacity: r.capacityOf(d) };
  for (const x of d.block) {
    const set = (b: Balance) => {
      if (up.balance.kind !== 'round-robin') r.invalid(x.pos, `upstream ${name} has two balancing methods ("${x.name}" after another)`, `keep one of them: nginx refuses this config`, name);
      up.balance = b;
    };
    if (x.name === 'server') {
      const s = readServer(x, r, name);
      if (s) up.servers.push(s);
    } else if (x.name === 'least_conn') set({ kind: 'least_conn', pos: x.pos });
    else if (x.name === 'ip_hash') set({ kind: 'ip_hash', pos: x.pos });
    else if (x.name === 'random') set({ kind: 'random', two: x.args[0]?.value === 'two', pos: x.pos });
    else if (x.name === 'hash') {
      if (!x.args[0]) r.invalid(x.pos, `"hash" in upstream ${name} needs a key, e.g. hash $request_uri`, 'give the key to hash on', name);
      else set({ kind: 'hash', key: x.args[0].value, consistent: x.args[1]?.value === 'consistent', pos: x.pos });
    } else if (!NEUTRAL.has(x.name)) {
      r.partial(x.pos, `"${x.name}" in upstream ${name} is not modelled; the prediction for this upstream ignores it`, name);
    }
  }
  const hashing = up.balance.kind === 'ip_hash' || up.balance.kind === 'hash' || up.balance.kind === 'random';
  if (hashing) {
    for (const s of up.servers.filter((x) => x.backup)) {
      r.invalid(s.pos, `server ${s.written} in upstream ${name} is "backup", which nginx does not allow with ${up.balance.kind}`, `remove "backup", or use round-robin or least_conn`, name, s.written);
    }
  }
  return up;
}

function readServer(x: Directive, r: Reading, pool: string): UpstreamServer | undefined {
  const addr = x.args[0];
  if (!addr) {
    r.invalid(x.pos, `"server" in upstream ${pool} has no address`, 'write it as server 10.0.0.11:8080;', pool);
    return undefined;
  }
  if (addr.value.startsWith('unix:')) {
    r.partial(x.pos, `server ${addr.value} in upstream ${pool} is a unix socket; evenkeel models host:port servers only, so it is left out of the prediction`, pool);
    return undefined;
  }
  const address = withPort(addr.value);
  if (address === undefined) {
    r.invalid(addr.pos, `server "${addr.value}" in upstream ${pool} is not host[:port]`, 'write it as host:port, e.g. 10.0.0.11:8080 (nginx adds :80 when the port is left out)', pool, addr.value);
    return undefined;
  }
  const s: UpstreamServer = { written: addr.value, address, weight: 1, down: false, backup: false, pos: x.pos, capacity: r.capacityOf(x) };
  for (const a of x.args.slice(1)) {
    if (a.value === 'down') s.down = true;
    else if (a.value === 'backup') s.backup = true;
    else if (a.value === 'resolve' || a.value === 'drain') continue;
    else {
      const m = SERVER_PARAMS.exec(a.value);
      const num = m ? Number(m[2]) : NaN;
      if (m?.[1] === 'weight') {
        if (!/^\d+$/.test(m[2]) || num < 1) {
          r.invalid(a.pos, `server ${addr.value} in upstream ${pool} has "${a.value}": nginx needs a whole number ≥ 1 (it refuses this config)`, `write weight=1 or more; to take the server out use "down"`, pool, addr.value);
          return undefined;
        }
        s.weight = num;
      } else if (m?.[1] === 'max_conns') {
        if (!/^\d+$/.test(m[2])) r.invalid(a.pos, `"${a.value}" on server ${addr.value} is not a number`, 'write max_conns=N (0 = no limit)', pool, addr.value);
        else if (num > 0) s.maxConns = num;
      } else if (m?.[1] === 'max_fails' && !/^\d+$/.test(m[2])) {
        r.invalid(a.pos, `"${a.value}" on server ${addr.value} is not a number`, 'write max_fails=N', pool, addr.value);
      } else if (!m) {
        r.invalid(a.pos, `server ${addr.value} in upstream ${pool} has the unknown parameter "${a.value}" (nginx refuses this config: invalid parameter)`, 'use weight=, max_fails=, fail_timeout=, max_conns=, backup or down', pool, addr.value);
      }
    }
  }
  return s;
}

/** `10.0.0.1` → `10.0.0.1:80`; `[::1]:81` kept; undefined when it is not host[:port]. */
export function withPort(written: string): string | undefined {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(written);
  if (v6) return `[${v6[1]}]:${v6[2] ?? 80}`;
  const m = /^([A-Za-z0-9.\-_]+)(?::(\d{1,5}))?$/.exec(written);
  if (!m) return undefined;
  const port = Number(m[2] ?? 80);
  if (port < 1 || port > 65535) return undefined;
  return `${m[1]}:${port}`;
}
