/**
 * Upstreams → evenkeel pools: servers keyed by address as nginx keys them (two lines with one
 * address are one server carrying the sum of their weights), `down` as weight 0, `backup` as
 * a standby, and each balancing method as the nearest evenkeel algorithm, with a finding
 * wherever the mapping is not exact — and an error where every request carries one hash key.
 */
import { addressKey } from '../../core/index.js';
import type { ConfigInput } from '../../config/index.js';
import { chashPick, ipHashPick, keyHashPick, type Peer } from './hash.js';
import type { Reading } from './reading.js';
import type { Upstream, UpstreamServer } from './upstream.js';

type PoolInput = ConfigInput['pools'][string];
type BackendInput = PoolInput['backends'][number];

/** What the pool builder needs to know about who reaches an upstream. */
export interface Reach {
  /** Every listener that routes to the pool listens on loopback only: clients share one address. */
  loopbackOnly: boolean;
}

/** Builds the pool for one upstream; records positions under ['pools', name, …]. */
export function upstreamPool(up: Upstream, name: string, reach: Reach, r: Reading): PoolInput {
  const loc = r.locator;
  loc.set(['pools', name], up.pos);
  const merged: { s: UpstreamServer; weight: number; lines: number[] }[] = [];
  for (const s of up.servers) {
    const key = addressKey(s.address);
    const same = merged.find((m) => addressKey(m.s.address) === key && m.s.backup === s.backup);
    if (same) {
      same.weight += s.down ? 0 : s.weight;
      same.lines.push(s.pos.line);
      r.add('EK531', s.pos, {
        message: `server ${s.written} is listed twice in upstream ${up.name} (lines ${same.lines.join(' and ')}): nginx sends it the sum of both lines' shares (weight ${same.weight})`,
        hint: `keep one line with the weight you mean (weight=${same.weight} is what nginx does now)`,
        pool: name,
        backend: same.s.written,
        path: ['pools', name, 'backends', merged.indexOf(same)],
      });
      continue;
    }
    merged.push({ s, weight: s.down ? 0 : s.weight, lines: [s.pos.line] });
  }
  const backends: BackendInput[] = merged.map(({ s, weight }, i) => {
    loc.set(['pools', name, 'backends', i], s.pos);
    const b: BackendInput = { address: s.address, weight, backup: s.backup };
    // The backend's name is the address as written; evenkeel shows the address when no name is set.
    if (s.written !== s.address && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s.written)) b.name = s.written;
    if (s.capacity !== undefined) b.capacity = s.capacity;
    if (s.maxConns !== undefined) b.maxConnections = s.maxConns;
    return b;
  });
  const pool: PoolInput = { backends };
  if (up.capacity !== undefined) pool.capacity = up.capacity;
  if (up.servers.length === 0) r.invalid(up.pos, `upstream ${up.name} has no servers (nginx refuses this config: no servers are inside upstream)`, 'add server lines, or remove the upstream', name);

  const b = up.balance;
  if (b.kind === 'round-robin') return pool;
  loc.set(['pools', name, 'algorithm'], b.pos);
  loc.set(['pools', name, 'hashOn'], b.pos);
  // nginx's peer list is the server lines as written (duplicates stay separate there).
  const lines = up.servers.filter((x) => !x.backup);
  const peers: (Peer & { written: string })[] = lines.map((x) => ({ weight: x.weight, down: x.down, written: x.written }));
  const primaries = merged.filter((m) => !m.s.backup);
  const oneKey = (key: string, pick: number | undefined, why: string) => {
    const chosen = pick === undefined ? undefined : lines[pick];
    const index = chosen ? merged.findIndex((m) => addressKey(m.s.address) === addressKey(chosen.address) && !m.s.backup) : -1;
    r.add('EK532', b.pos, {
      message: `upstream ${up.name} hashes on ${key}, and ${why}: nginx sends all of its requests to ${chosen ? `one server, ${chosen.written}` : 'one server'}, the other ${primaries.length - 1} get none`,
      hint: 'hash on something that differs per client (a session cookie, $request_uri), or set real_ip_header/set_real_ip_from so $remote_addr is the real client; or use round-robin',
      pool: name,
      backend: chosen?.written,
      path: index >= 0 ? ['pools', name, 'backends', index] : ['pools', name],
    });
  };
  if (b.kind === 'least_conn' || b.kind === 'random') {
    pool.algorithm = b.kind === 'least_conn' ? 'least-request' : 'random';
    if (b.kind === 'least_conn' || b.two) {
      r.add('EK530', b.pos, {
        message: `upstream ${up.name} uses ${b.kind === 'least_conn' ? 'least_conn' : 'random two'}: evenkeel predicts weight-proportional shares, which holds for sequential requests and drifts toward the faster servers under concurrency`,
        hint: 'an approximation, not a refusal; compare with the live per-server counts after deploy',
        pool: name,
      });
    }
    return pool;
  }
  if (b.kind === 'ip_hash') {
    pool.algorithm = 'consistent-hash';
    pool.hashOn = 'client-ip';
    r.partial(b.pos, `upstream ${up.name} uses ip_hash, which keys an IPv4 client by its first three octets (a whole /24 is one key) with nginx's own table; evenkeel predicts the spread with its hash table`, name);
    if (reach.loopbackOnly && primaries.length >= 2) oneKey('the client address (ip_hash)', ipHashPick('127.0.0.1', peers), 'every server that proxies to it listens on loopback only, so every request comes from one address (a proxy on the same host)');
    return pool;
  }
  const key = b.key;
  const hashOn = hashOnFor(key);
  if (!key.includes('$')) {
    oneKey(`the constant "${key}"`, b.consistent ? chashPick(key, peers) : keyHashPick(key, peers), 'a constant is the same for every request');
    return pool;
  }
  if (hashOn === undefined) {
    r.partial(b.pos, `upstream ${up.name} hashes on ${key}, which evenkeel cannot take from a request; it is predicted as a key with many distinct values`, name);
    return pool;
  }
  pool.algorithm = 'consistent-hash';
  pool.hashOn = hashOn;
  r.partial(b.pos, `upstream ${up.name} hashes on ${key}${b.consistent ? ' (consistent: ketama)' : ''}; evenkeel predicts the spread of keys with its own hash table, so one key may land on another server than nginx picks`, name);
  if (hashOn === 'client-ip' && reach.loopbackOnly && primaries.length >= 2) {
    oneKey(key, key === '$remote_addr' ? (b.consistent ? chashPick('127.0.0.1', peers) : keyHashPick('127.0.0.1', peers)) : undefined, 'every server that proxies to it listens on loopback only, so every request comes from one address (a proxy on the same host)');
  }
  return pool;
}

/** nginx variable → evenkeel hashOn; undefined when evenkeel cannot extract it from a request. */
export function hashOnFor(key: string): string | undefined {
  if (key === '$remote_addr' || key === '$binary_remote_addr') return 'client-ip';
  if (key === '$request_uri' || key === '$uri') return 'path';
  const h = /^\$http_([a-z0-9_]+)$/i.exec(key);
  if (h) return `header:${h[1].toLowerCase().replace(/_/g, '-')}`;
  const c = /^\$cookie_([A-Za-z0-9_\-]+)$/.exec(key);
  if (c) return `cookie:${c[1]}`;
  return undefined;
}
