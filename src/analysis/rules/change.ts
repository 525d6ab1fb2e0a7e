/**
 * EK4xx: change rules, judged against the previous version's prediction. They catch what a
 * single config cannot show: how much traffic one change moves, and what it takes away.
 */
import { pct } from '../../core/index.js';
import { finding, type Finding } from '../../config/index.js';
import type { TrafficModel } from '../traffic.js';
import type { RuleContext } from './context.js';

const rps = (x: number) => `${Math.round(x)} req/s`;

/** Where traffic that reaches no backend (404, 503) is counted, so dropping traffic counts as moving it. */
export const DROPPED = '(dropped: 404/503)';

/** Share of all traffic per server (address), so moves across pools count too; undelivered traffic under DROPPED. */
export function serverShares(model: TrafficModel): Map<string, number> {
  let delivered = 0;
  for (const s of model.servers.values()) delivered += s.rps;
  const total = Math.max(model.total, delivered);
  const out = new Map<string, number>();
  if (total <= 0) return out;
  for (const s of model.servers.values()) out.set(s.key, s.rps / total);
  if (total - delivered > total * 1e-9) out.set(DROPPED, (total - delivered) / total);
  return out;
}

/** The share of traffic a change moves: the total-variation distance between the two distributions. */
export function movedShare(before: TrafficModel, after: TrafficModel): { moved: number; gainers: [string, number][] } {
  const a = serverShares(before);
  const b = serverShares(after);
  let moved = 0;
  const gainers: [string, number][] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const d = (b.get(key) ?? 0) - (a.get(key) ?? 0);
    if (d > 0) {
      moved += d;
      gainers.push([key, d]);
    }
  }
  gainers.sort((x, y) => y[1] - x[1]);
  return { moved, gainers };
}

/** All EK4xx rules; none without a previous version. */
export function changeRules({ config, model, previous, words }: RuleContext): Finding[] {
  if (!previous) return [];
  const out: Finding[] = [];
  const g = config.guardrails;

  const { moved, gainers } = movedShare(previous.model, model);
  if (moved > g.maxShift + 1e-9) {
    const top = gainers.slice(0, 3).map(([k, d]) => `${k} +${pct(d)}`).join(', ');
    const [topKey] = gainers[0] ?? [];
    const entry = [...(model.servers.get(topKey)?.entries ?? [])].sort((x, y) => y.rps - x.rps)[0];
    out.push(finding('EK401', {
      message: `this change moves ${pct(moved)} of all traffic between servers, above maxShift ${pct(g.maxShift)}; it shifts onto ${top}${entry ? ` (backend ${entry.name} in pool ${entry.pool})` : ''}`,
      hint: 'make the change in smaller steps (shift weights gradually and apply each step), or raise guardrails.maxShift for this change with --force --reason',
      path: entry ? ['pools', entry.pool, 'backends', entry.index] : ['pools'],
      subject: entry ? { pool: entry.pool, backend: entry.name, address: entry.address } : {},
    }));
  }

  for (const [name, before] of previous.model.pools) {
    const after = model.pools.get(name);
    if (!after) {
      if (before.rps > 0 || (previous.model.peakRps === null && isRouted(previous.config, name))) {
        out.push(finding('EK403', {
          message: `${words.pool} ${name} is removed, but in the previous version it carried ${previous.model.peakRps !== null ? `${rps(before.rps)} at peak` : 'traffic'}`,
          hint: `first route its traffic elsewhere (or drain it) in one change, then remove the pool in a later one`,
          path: ['pools'],
          subject: { pool: name },
        }));
      }
      continue;
    }
    const capBefore = sumCapacity(before.backends);
    const capAfter = sumCapacity(after.backends);
    const addrAfter = new Map(after.backends.filter((b) => b.weight > 0).map((b) => [b.server, b]));
    const lost = before.backends.filter((b) => b.weight > 0 && !addrAfter.has(b.server));
    // Replacing a backend by another of the same capacity is not a loss: judge the sum when it
    // is known, else the number of serving backends.
    const shrinks = capBefore !== undefined && capAfter !== undefined ? capAfter < capBefore : after.usable < before.usable;
    if (shrinks) {
      const gone = lost.length ? `; ${lost.length === 1 ? `backend ${lost[0].name} no longer serves` : `${lost.length} backends no longer serve (${lost.map((b) => b.name).join(', ')})`}` : '';
      out.push(finding('EK402', {
        message: `${words.pool} ${name} loses capacity${capBefore !== undefined && capAfter !== undefined ? `: ${rps(capBefore)} → ${rps(capAfter)}` : `: ${before.usable} → ${after.usable} serving backends`}${gone}`,
        hint: 'check that the remaining backends can take the peak (the EK2xx findings say so if they cannot); remove capacity in steps',
        path: ['pools', name, 'backends'],
        subject: { pool: name },
      }));
    }
  }

  const now = new Map(model.flows.map((f) => [`${f.listener}/${f.route}`, f]));
  for (const f of previous.model.flows) {
    if (f.rps <= 0 || f.shadowed) continue;
    const current = now.get(`${f.listener}/${f.route}`);
    if (current && !current.shadowed) continue;
    if (!current && isRenamed(previous.config, config, f.listener, f.route)) continue;
    const li = config.listeners.findIndex((l) => l.name === f.listener);
    const carried = previous.model.peakRps !== null ? `${rps(f.rps)} at peak` : `${pct(f.rps / previous.model.total)} of traffic`;
    const sampled = f.sampled ? ` (${f.sampled} sampled requests)` : '';
    out.push(finding('EK404', {
      message: current
        ? `route ${f.route} of listener ${f.listener} can no longer be reached (route ${current.shadowedBy} now matches its requests first), but it carried ${carried}${sampled}`
        : `route ${f.route} of listener ${f.listener} is removed, but it carried ${carried}${sampled}; those requests now fall to another route or get 404`,
      hint: current
        ? `move ${f.route} back above ${current.shadowedBy}, or narrow ${current.shadowedBy}'s match`
        : 'keep the route until its traffic is gone, or point it at the new pool instead of deleting it',
      path: li >= 0 ? (current ? ['listeners', li, 'routes', current.index] : ['listeners', li, 'routes']) : ['listeners'],
      subject: { listener: f.listener, route: f.route },
    }));
  }
  return out;
}

/** A route whose exact match now stands under another name in the same listener was renamed, not removed. */
function isRenamed(before: RuleContext['config'], after: RuleContext['config'], listener: string, route: string): boolean {
  const old = before.listeners.find((l) => l.name === listener)?.routes?.find((r) => r.name === route);
  const routes = after.listeners.find((l) => l.name === listener)?.routes ?? [];
  return old !== undefined && routes.some((r) => JSON.stringify(r.match ?? {}) === JSON.stringify(old.match ?? {}));
}

function sumCapacity(backends: { weight: number; capacity?: number }[]): number | undefined {
  let sum = 0;
  for (const b of backends) {
    if (b.weight <= 0) continue;
    if (b.capacity === undefined) return undefined;
    sum += b.capacity;
  }
  return sum;
}

function isRouted(config: RuleContext['config'], pool: string): boolean {
  return config.listeners.some((l) => l.pool === pool || (l.routes ?? []).some((r) => r.pool === pool || (r.split ?? []).some((s) => s.pool === pool && s.weight > 0)));
}
