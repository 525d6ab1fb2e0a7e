/** EK1xx: structure and references — names, pool references, addresses, listener shapes. */
import { addressKey, isLoopbackHost, parseAddress } from '../../core/index.js';
import { didYouMean, pct, plural } from '../../core/index.js';
import { finding, type Finding } from '../../config/index.js';
import { covers } from '../../routing/index.js';
import { backendName } from '../traffic.js';
import type { RuleContext } from './context.js';

/** All EK1xx rules that need a schema-valid config. */
export function structureRules({ config, model, words }: RuleContext): Finding[] {
  const out: Finding[] = [];
  const poolNames = Object.keys(config.pools);
  const used = new Set<string>();

  const refPool = (pool: string, path: (string | number)[], subject: Record<string, string>) => {
    used.add(pool);
    if (config.pools[pool]) return;
    const guess = didYouMean(pool, poolNames);
    out.push(finding('EK105', {
      message: `${subject.route ? `route ${subject.route}` : `listener ${subject.listener}`} sends traffic to pool "${pool}", which is not defined${guess ? ` (did you mean "${guess}"?)` : ''}`,
      hint: guess ? `change it to "${guess}"` : `define pools.${pool}, or use one of: ${poolNames.join(', ') || '(no pools defined)'}`,
      path,
      subject: { ...subject, pool },
    }));
  };

  // Listener names, shapes and addresses.
  const seenListener = new Map<string, number>();
  const seenRoute = new Map<string, string>();
  const seenAddress: { host: string; port: number; name: string }[] = [];
  config.listeners.forEach((l, li) => {
    const lp = ['listeners', li];
    if (seenListener.has(l.name)) {
      out.push(finding('EK104', { message: `listener name "${l.name}" is used twice (listeners[${seenListener.get(l.name)}] and listeners[${li}])`, hint: 'give every listener a unique name; metrics and alerts are labelled by it', path: [...lp, 'name'], subject: { listener: l.name } }));
    } else seenListener.set(l.name, li);

    const { host, port } = parseAddress(l.address);
    for (const other of seenAddress) {
      const wildcard = (h: string) => h === '0.0.0.0' || h === '::' || h === '';
      if (other.port === port && (other.host === host || wildcard(other.host) || wildcard(host))) {
        out.push(finding('EK110', { message: `listeners ${other.name} and ${l.name} both bind port ${port} (${other.host}:${port} and ${l.address})`, hint: 'only one listener can own a port; change the port of one, or merge their routes into one listener', path: [...lp, 'address'], subject: { listener: l.name, address: l.address } }));
      }
    }
    seenAddress.push({ host, port, name: l.name });

    if (l.protocol === 'tcp') {
      if (l.routes) out.push(finding('EK115', { message: `tcp listener ${l.name} has routes; a tcp listener forwards bytes and cannot route on HTTP fields`, hint: 'remove routes: and set pool: NAME, or make it protocol: http', path: [...lp, 'routes'], subject: { listener: l.name } }));
      if (!l.pool) out.push(finding('EK115', { message: `tcp listener ${l.name} has no pool`, hint: 'add pool: NAME (the pool whose backends receive the connections)', path: lp, subject: { listener: l.name } }));
      else refPool(l.pool, [...lp, 'pool'], { listener: l.name });
      return;
    }
    if (l.pool) out.push(finding('EK115', { message: `http listener ${l.name} has pool: ${l.pool}; http listeners send traffic through routes`, hint: `replace it with routes: [{ name: default, match: { pathPrefix: / }, pool: ${l.pool} }], or set protocol: tcp`, path: [...lp, 'pool'], subject: { listener: l.name } }));
    if (!l.routes || l.routes.length === 0) out.push(finding('EK115', { message: `http listener ${l.name} has no routes, so every request would get 404`, hint: 'add at least one route, e.g. { name: default, pool: web }', path: lp, subject: { listener: l.name } }));

    (l.routes ?? []).forEach((r, ri) => {
      const rp = [...lp, 'routes', ri];
      const subject = { listener: l.name, route: r.name };
      if (seenRoute.has(r.name)) {
        out.push(finding('EK104', { message: `route name "${r.name}" is used twice (in ${seenRoute.get(r.name)} and ${l.name})`, hint: 'route names are unique across the config: guardrails.traffic.routes, test suites and metrics refer to routes by name', path: [...rp, 'name'], subject }));
      } else seenRoute.set(r.name, l.name);
      if ((r.pool === undefined) === (r.split === undefined)) {
        out.push(finding('EK116', { message: `route ${r.name} has ${r.pool ? 'both pool and split' : 'neither pool nor split'}`, hint: 'give a route exactly one of pool: NAME or split: [{ pool, weight }, …]', path: rp, subject }));
      }
      if (r.pool) refPool(r.pool, [...rp, 'pool'], subject);
      if (r.split) {
        r.split.forEach((s, si) => refPool(s.pool, [...rp, 'split', si, 'pool'], subject));
        if (r.split.reduce((sum, s) => sum + s.weight, 0) === 0) {
          out.push(finding('EK108', { message: `every pool in route ${r.name}'s split has weight 0, so all its requests would fail with 503`, hint: `give at least one pool a weight > 0, e.g. { pool: ${r.split[0].pool}, weight: 100 }`, path: [...rp, 'split'], subject }));
        }
      }
      const earlier = (l.routes ?? []).slice(0, ri).find((e) => covers(e.match, r.match));
      if (earlier) {
        out.push(finding('EK109', { message: `route ${r.name} can never match: the earlier route ${earlier.name} matches every request it would (routes are tried in order, first match wins)`, hint: `move ${r.name} above ${earlier.name}, or narrow ${earlier.name}'s match`, path: rp, subject }));
      }
    });
  });

  // Pools: emptiness, weights, addresses, hashing.
  const addressPools = new Map<string, Set<string>>();
  for (const [name, pool] of Object.entries(config.pools)) {
    const pp = ['pools', name];
    if (pool.backends.length === 0) {
      out.push(finding('EK106', { message: `${words.pool} ${name} has no backends, so every request sent to it would get 503`, hint: 'add backends: [{ address: host:port }], or stop routing to it', path: pp, subject: { pool: name } }));
    } else if (pool.backends.every((b) => b.weight === 0)) {
      out.push(finding('EK107', { message: `every backend of pool ${name} has weight 0 (${plural(pool.backends.length, 'backend')} drained), so every request sent to it would get 503`, hint: 'give at least the backends that should serve weight: 1 (0 means drained)', path: [...pp, 'backends'], subject: { pool: name } }));
    }
    const seenName = new Map<string, number>();
    const seenAddr = new Map<string, number>();
    pool.backends.forEach((b, bi) => {
      const bp = [...pp, 'backends', bi];
      const bname = backendName(b);
      if (seenName.has(bname)) out.push(finding('EK104', { message: `backend name "${bname}" appears twice in pool ${name} (backends[${seenName.get(bname)}] and backends[${bi}])`, hint: 'give each backend a unique name (it defaults to its address)', path: bp, subject: { pool: name, backend: bname } }));
      else seenName.set(bname, bi);
      const key = addressKey(b.address);
      if (seenAddr.has(key)) {
        const first = pool.backends[seenAddr.get(key)!];
        // Each entry keeps its own share (HAProxy server names do); the server gets their sum.
        const entries = model.pools.get(name)?.backends.filter((x) => x.server === key) ?? [];
        const sum = entries.reduce((t, x) => t + x.share, 0);
        const shares = entries.length ? `: ${pct(sum)} of the ${words.pool}'s requests in all (${entries.map((x) => `${x.name} ${pct(x.share)}`).join(' + ')})` : '';
        out.push(finding('EK111', { message: `${words.pool} ${name} lists ${key} twice (${backendName(first)} and ${bname}), so that server gets a double share of the ${words.pool}'s traffic${shares}`, hint: 'remove the duplicate, or raise the weight of one entry if the server really should get more', path: [...bp, 'address'], subject: { pool: name, backend: bname, address: key } }));
      } else seenAddr.set(key, bi);
      const pools = addressPools.get(key) ?? new Set<string>();
      pools.add(name);
      addressPools.set(key, pools);
    });
    if (pool.algorithm === 'consistent-hash' && !pool.hashOn) {
      out.push(finding('EK113', { message: `${words.pool} ${name} uses consistent-hash but has no hashOn, so there is nothing to hash on`, hint: 'add hashOn: header:x-user-id (or cookie:NAME, client-ip, path)', path: [...pp, 'algorithm'], subject: { pool: name } }));
    }
    if (pool.algorithm !== 'consistent-hash' && pool.hashOn) {
      out.push(finding('EK117', { message: `${words.pool} ${name} sets hashOn: ${pool.hashOn} but uses ${pool.algorithm}, which ignores it`, hint: 'set algorithm: consistent-hash if requests should stick by that key, or remove hashOn', path: [...pp, 'hashOn'], subject: { pool: name } }));
    }
  }
  for (const [key, pools] of addressPools) {
    if (pools.size < 2) continue;
    const [first] = pools;
    const bi = config.pools[first].backends.findIndex((b) => addressKey(b.address) === key);
    out.push(finding('EK112', { message: `${key} is a backend of ${plural(pools.size, 'pool')} (${[...pools].join(', ')}); its load from all of them counts against one capacity`, hint: 'fine if intended; make sure its capacity covers the sum (the prediction adds the pools up)', path: ['pools', first, 'backends', bi, 'address'], subject: { address: key } }));
  }
  for (const name of poolNames) {
    if (!used.has(name)) out.push(finding('EK114', { message: `${words.pool} ${name} is not used by any route or listener`, hint: `route to it, or remove it`, path: ['pools', name], subject: { pool: name } }));
  }

  // guardrails.traffic.routes must name routes.
  const routeNames = new Set(config.listeners.flatMap((l) => [...(l.routes ?? []).map((r) => r.name), ...(l.routes ?? []).map((r) => `${l.name}/${r.name}`), ...(l.protocol === 'tcp' ? [l.name] : [])]));
  for (const key of Object.keys(config.guardrails.traffic?.routes ?? {})) {
    if (routeNames.has(key)) continue;
    const guess = didYouMean(key, routeNames);
    out.push(finding('EK120', { message: `guardrails.traffic.routes names "${key}", which is not a route${guess ? ` (did you mean "${guess}"?)` : ''}; its peak is ignored`, hint: guess ? `rename it to "${guess}"` : 'use a route name (or listener/route)', path: ['guardrails', 'traffic', 'routes', key] }));
  }

  // Admin API must not be open without a token.
  const admin = parseAddress(config.admin.address);
  if (!isLoopbackHost(admin.host) && !config.admin.tokenFile) {
    out.push(finding('EK118', { message: `the admin API would listen on ${config.admin.address}, reachable from other hosts, with no token file`, hint: 'set admin.tokenFile: ./admin.token (a bearer token needed for every write), or keep admin.address on 127.0.0.1', path: ['admin', 'address'] }));
  }
  return out;
}
