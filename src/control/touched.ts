/**
 * Which pools a change touches: the pools whose definition differs between two versions
 * (backends, weights, algorithm, hashOn, health check, timeouts, retries, …), and the pools a
 * changed route or split leads to in either version. The canary judges these pools by what the
 * change does to them (telemetry/monitors/canary.ts), and the watch rolls a change back only
 * for an alert on one of them (blame before rollback, watch.ts).
 */
import type { Config, Listener, Route } from '../config/index.js';

/** Pool name → what changed there, in words (`backends`, `route site`, `added`, …). */
export type TouchedPools = Map<string, string[]>;

/** The pools `next` changes compared with `prev`. */
export function touchedPools(prev: Config, next: Config): TouchedPools {
  const out: TouchedPools = new Map();
  const mark = (pool: string, why: string) => {
    let list = out.get(pool);
    if (!list) out.set(pool, (list = []));
    if (!list.includes(why)) list.push(why);
  };
  for (const name of new Set([...Object.keys(prev.pools), ...Object.keys(next.pools)])) {
    const a = prev.pools[name];
    const b = next.pools[name];
    if (!a) mark(name, 'added');
    else if (!b) mark(name, 'removed');
    else for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (JSON.stringify(a[key as keyof typeof a]) !== JSON.stringify(b[key as keyof typeof b])) mark(name, key);
  }
  const before = routesByKey(prev.listeners);
  const after = routesByKey(next.listeners);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(key);
    const b = after.get(key);
    if (JSON.stringify(a?.spec) === JSON.stringify(b?.spec)) continue;
    for (const pool of new Set([...(a?.pools ?? []), ...(b?.pools ?? [])])) mark(pool, `route ${key}`);
  }
  return out;
}

/** Every route (and tcp listener) by `listener/route`, with its definition and the pools it leads to. */
function routesByKey(listeners: readonly Listener[]): Map<string, { spec: unknown; pools: string[] }> {
  const out = new Map<string, { spec: unknown; pools: string[] }>();
  for (const l of listeners) {
    if (l.pool !== undefined) out.set(l.name, { spec: { address: l.address, protocol: l.protocol, pool: l.pool }, pools: [l.pool] });
    (l.routes ?? []).forEach((r: Route, i) => {
      // Position matters (first match wins): an earlier route moved changes what reaches this one.
      out.set(`${l.name}/${r.name}`, { spec: { ...r, index: i, address: l.address }, pools: r.split ? r.split.map((s) => s.pool) : r.pool ? [r.pool] : [] });
    });
  }
  return out;
}

/** What `touched` says about `pool`, for a journal line: "weights, route site" or undefined. */
export function touchedWhy(touched: TouchedPools, pool: string): string | undefined {
  return touched.get(pool)?.join(', ');
}
