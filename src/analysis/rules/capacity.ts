/**
 * EK2xx: traffic and capacity, judged on the traffic model — the rules that would have
 * refused the config of the seed incident (all traffic to one server).
 */
import { pct, plural } from '../../core/index.js';
import { backendLabel, finding, type Finding, type Vocabulary } from '../../config/index.js';
import type { Config } from '../../config/index.js';
import type { BackendLoad, PoolLoad, TrafficModel } from '../traffic.js';
import type { RuleContext } from './context.js';

const rps = (x: number) => `${Math.round(x)} req/s`;

/** All EK2xx rules. */
export function capacityRules({ config, model, words }: RuleContext): Finding[] {
  const out: Finding[] = [];
  const said = (b: BackendLoad) => `${words.lead}${backendLabel(words, b)}`;
  const g = config.guardrails;
  const known = model.peakRps !== null;
  if (!known) {
    out.push(finding('EK200', { message: 'no guardrails.traffic.peakRps: shares are predicted, but no load or capacity check is possible', hint: 'add guardrails.traffic.peakRps (the expected peak requests/s) and a capacity per pool or backend', path: ['guardrails'] }));
  } else if (model.explicitSum > (config.guardrails.traffic?.peakRps ?? Infinity)) {
    out.push(finding('EK207', { message: `per-route peaks add up to ${rps(model.explicitSum)}, more than peakRps ${rps(config.guardrails.traffic!.peakRps!)}; routes without a declared peak are predicted to get nothing`, hint: 'raise peakRps to at least the sum of guardrails.traffic.routes', path: ['guardrails', 'traffic', 'routes'] }));
  }

  for (const [name, pl] of model.pools) {
    const pool = config.pools[name];
    const pp = ['pools', name];
    const bpath = (b: BackendLoad) => [...pp, 'backends', b.index];
    const usable = pl.backends.filter((b) => b.serving);

    if (pool.backends.length >= 2 && usable.length === 1) {
      const only = usable[0];
      const others = pl.backends.filter((b) => b !== only);
      if (!only.backup && others.every((b) => b.backup)) {
        // One primary and its standbys: everything on one server is the design, not a drain.
        out.push(finding('EK550', {
          message: `${words.pool} ${name} is active/standby: ${said(only)} serves all of its traffic${known && pl.rps > 0 ? ` (${rps(pl.rps)} at peak)` : ''}; ${others.map((b) => b.name).join(', ')} ${others.length === 1 ? 'is a backup and takes' : 'are backups and take'} over only when it is down`,
          hint: `fine if intended; make sure ${only.name} alone can carry the pool, or add a second primary to share the load`,
          path: bpath(only),
          subject: { pool: name, backend: only.name, address: only.address },
        }));
      } else {
        const one = others.length === 1;
        const drained = others.every((b) => b.weight === 0);
        const state = drained
          ? `(${others.map((b) => b.name).join(', ')}) ${words.weightZero[one ? 0 : 1]}`
          : `(${others.map((b) => `${b.name}: ${b.weight === 0 ? 'weight 0' : 'backup'}`).join(', ')}) ${one ? 'serves' : 'serve'} nothing`;
        out.push(finding('EK209', {
          message: `all traffic of ${words.pool} ${name} goes to ${said(only)}${known && pl.rps > 0 ? `, ${rps(pl.rps)} at peak` : ''}: ${one ? `the other ${words.backend}` : `the other ${others.length} ${words.backend}s`} ${state}`,
          hint: only.backup
            ? `every primary of pool ${name} is drained, so its backup ${only.name} takes everything: give the primaries weight > 0 again${pl.backends.filter((b) => b.backup).length > 1 ? ' (or let all backups share the load)' : ''}`
            : `give the drained backends weight > 0 again (weight: 1), or drain them one at a time; one backend is no redundancy and carries the whole pool`,
          path: bpath(only),
          subject: { pool: name, backend: only.name, address: only.address },
        }));
      }
    }

    if (usable.length >= 2) {
      const evenWeights = usable.every((b) => b.weight === usable[0].weight);
      for (const b of usable) {
        if (b.share > g.maxBackendShare + shareTolerance(pl, b.share, pool.algorithm)) {
          out.push(finding('EK201', {
            message: `${words.backend} ${backendLabel(words, b)} would get ${pct(b.share)} of ${words.pool} ${name}'s requests, above maxBackendShare ${pct(g.maxBackendShare)}${pool.algorithm === 'consistent-hash' && pl.hash ? ' (hashed from the traffic sample)' : ''}`,
            hint: pool.algorithm === 'consistent-hash' && evenWeights
              ? 'the hash keys concentrate on it: hash on a key with more distinct values, or add backends'
              : `even out the weights in ${words.pool} ${name} (now ${pl.backends.map((x) => `${x.name}=${x.weight}`).join(', ')}), or add ${words.backend}s`,
            path: bpath(b),
            subject: { pool: name, backend: b.name, address: b.address },
          }));
        }
      }
    }

    if (pool.algorithm === 'consistent-hash') out.push(...hashFindings(pl, name, config, words));

    if (!known || pl.rps <= 0) continue;
    const withCap = usable.filter((b) => b.capacity !== undefined);
    if (withCap.length < usable.length) {
      out.push(finding('EK210', { message: `${words.pool} ${name}: ${plural(usable.length - withCap.length, words.backend)} without a declared capacity, so overload cannot be predicted for ${usable.length - withCap.length === 1 ? 'it' : 'them'}`, hint: `add capacity: N (sustainable requests/s) to pools.${name} or to each backend`, path: pp, subject: { pool: name } }));
    }
    if (withCap.length === usable.length && usable.length > 0) {
      const poolCap = usable.reduce((s, b) => s + (b.capacity ?? 0), 0);
      if (poolCap < pl.rps) {
        out.push(finding('EK203', {
          message: `${words.pool} ${name} would get ${rps(pl.rps)} at peak but its ${plural(usable.length, `usable ${words.backend}`)} can serve ${rps(poolCap)} in all`,
          hint: `add ${words.backend}s or capacity: the ${words.pool} needs at least ${rps(pl.rps / (1 - g.headroom))} with ${pct(g.headroom)} headroom${pool.backends.length > usable.length ? `; ${plural(pool.backends.length - usable.length, 'backend')} with weight 0 could serve` : ''}`,
          path: [...pp, 'backends'],
          subject: { pool: name },
        }));
      }
    }
    if (g.tolerateFailures > 0) out.push(...failureFindings(pl, name, config, model, words));
  }

  if (known) out.push(...serverFindings(model, config, words));
  if (known) out.push(...rateLimitFindings(model, config));
  if (model.unmatched > 0) {
    const ex = model.unmatchedExample!;
    out.push(finding('EK211', { message: `${model.unmatched} of ${model.sampleSize} sampled requests (${pct(model.unmatched / model.sampleSize)}) match no route and would get 404, e.g. ${ex.method} ${ex.host || '(no host)'}${ex.path}`, hint: 'add a route for them (a catch-all { pathPrefix: / } last), or check the hosts and paths of the routes', path: ['listeners'] }));
  }
  return out;
}

/** Below this share of a route's peak, what its rateLimit refuses is taken for abuse control, not a mistake. */
const RATE_LIMIT_TOLERANCE = 0.01;

/**
 * EK212: a route's rateLimit would refuse more than 1% of the route's predicted peak (traffic
 * model: each sampled key at most rps × workers). A limit set below what ordinary clients send
 * turns a config change into 429s for everyone, as surely as a drained pool turns it into 503s.
 */
function rateLimitFindings(model: TrafficModel, config: Config): Finding[] {
  const out: Finding[] = [];
  for (const f of model.flows) {
    const limited = f.limitedRps ?? 0;
    const offered = f.rps + limited;
    if (limited <= 0 || limited / offered <= RATE_LIMIT_TOLERANCE) continue;
    const li = config.listeners.findIndex((l) => l.name === f.listener);
    const rl = config.listeners[li].routes![f.index].rateLimit!;
    const workers = config.workers as number;
    out.push(finding('EK212', {
      message: `route ${f.route}: its rateLimit (${rl.rps} req/s per ${rl.key}${workers > 1 ? `, × ${workers} workers` : ''}) would refuse ${rps(limited)} of its ${rps(offered)} at peak (${pct(limited / offered)}) with 429, judged on the traffic sample's clients`,
      hint: `raise rateLimit.rps above what one ordinary client sends at peak, or key it by a header that tells clients apart (clients behind one proxy share its address); a limit against abuse should refuse almost none of the sampled traffic`,
      path: ['listeners', li, 'routes', f.index, 'rateLimit'],
      subject: { listener: f.listener, route: f.route },
    }));
  }
  return out;
}

/**
 * How far above maxBackendShare a share may be before EK201 fires. Weight-proportional pools
 * are exact. A hash table has slot granularity, and a share hashed from a sample has sampling
 * noise: allow three standard errors of the sampled share (a fair coin over 800 sampled
 * requests lands at 51–52% often; that is noise, not concentration).
 */
function shareTolerance(pl: PoolLoad, share: number, algorithm: string): number {
  if (algorithm !== 'consistent-hash') return 1e-9;
  const n = pl.hash ? pl.hash.sampledCount : 0;
  const slot = 2 / 5003;
  if (n === 0 || !pl.hash || pl.hash.sampledRps <= 0) return slot;
  const sampledFraction = pl.hash.sampledRps / pl.rps;
  // A share summed from floats can be 1 + ε: clamp, or the square root is NaN and nothing fires.
  return slot + sampledFraction * 3 * Math.sqrt(Math.max(0, share * (1 - share)) / n);
}

/** EK202: each server (one address, maybe in several pools) against its capacity less headroom. */
function serverFindings(model: TrafficModel, config: Config, words: Vocabulary): Finding[] {
  const out: Finding[] = [];
  const limitFactor = 1 - config.guardrails.headroom;
  for (const s of model.servers.values()) {
    if (s.capacity === undefined || s.rps <= 0) continue;
    const limit = s.capacity * limitFactor;
    if (s.rps <= limit + 1e-9) continue;
    const main = [...s.entries].sort((a, b) => b.rps - a.rps)[0];
    const shared = s.entries.length > 1 ? ` (as ${s.entries.map((e) => `${e.pool}/${e.name}`).join(' + ')})` : '';
    out.push(finding('EK202', {
      message: `${words.backend} ${backendLabel(words, { name: main.name, address: s.key })} in ${words.pool} ${main.pool} would get ${rps(s.rps)} at peak${shared}, above ${rps(limit)} (capacity ${rps(s.capacity)} less ${pct(config.guardrails.headroom)} headroom): utilization ${pct(s.rps / s.capacity)}`,
      hint: s.rps > s.capacity
        ? `it would overload: spread ${words.pool} ${main.pool}'s traffic over more ${words.backend}s (weights > 0), add ${words.backend}s, or raise capacity if the server can really take it`
        : `it runs without headroom: add a ${words.backend} to ${words.pool} ${main.pool} or lower its weight`,
      path: ['pools', main.pool, 'backends', main.index],
      subject: { pool: main.pool, backend: main.name, address: s.key },
    }));
  }
  return out;
}

/** EK204: with the worst k usable backends of a pool down, does every other one still fit? */
function failureFindings(pl: PoolLoad, name: string, config: Config, model: TrafficModel, words: Vocabulary): Finding[] {
  const k = config.guardrails.tolerateFailures;
  const usable = pl.backends.filter((b) => b.serving);
  const path = ['pools', name, 'backends'];
  if (usable.length <= k) {
    return [finding('EK204', { message: `${words.pool} ${name} has ${plural(usable.length, `usable ${words.backend}`)}; with ${k} down (tolerateFailures: ${k}) nothing would serve its ${rps(pl.rps)}`, hint: `add backends to pool ${name} so it has more than ${k}`, path, subject: { pool: name } })];
  }
  if (usable.some((b) => b.capacity === undefined)) return [];
  const totalW = usable.reduce((s, b) => s + b.weight, 0);
  const byLoad = [...usable].sort((a, b) => b.rps - a.rps);
  for (const b of usable) {
    // Worst case for b: the k busiest others fail and their requests spread by weight over
    // the rest (round-robin rebalances that way; a hash table rebuilt without them does too).
    const removed = byLoad.filter((x) => x !== b).slice(0, k);
    const remaining = totalW - removed.reduce((s, x) => s + x.weight, 0);
    const load = b.rps + (removed.reduce((s, x) => s + x.rps, 0) * b.weight) / remaining;
    const elsewhere = (model.servers.get(b.server)?.rps ?? 0) - b.rps;
    const cap = model.servers.get(b.server)?.capacity ?? b.capacity!;
    if (load + elsewhere > cap + 1e-9) {
      return [finding('EK204', {
        message: `${words.pool} ${name}: with ${removed.map((x) => x.name).join(', ')} down (tolerateFailures: ${k}), ${b.name} would get ${rps(load + elsewhere)}, above its capacity ${rps(cap)}`,
        hint: `add a backend to pool ${name} or raise its capacity: it needs about ${rps(pl.rps / (usable.length - k))} per backend to survive ${plural(k, 'failure')}`,
        path,
        subject: { pool: name, backend: b.name, address: b.address },
      })];
    }
  }
  return [];
}

/** EK205, EK206, EK208: what the sample says about the hash key. */
function hashFindings(pl: PoolLoad, name: string, config: Config, words: Vocabulary): Finding[] {
  const out: Finding[] = [];
  const pool = config.pools[name];
  const path = ['pools', name, 'hashOn'];
  if (!pl.hash) {
    if (pl.usable > 0 && pool.hashOn) out.push(finding('EK206', { message: `${words.pool} ${name} hashes on ${pool.hashOn} but no sampled request reaches it: the prediction assumes a key with many distinct values`, hint: 'add a traffic sample (guardrails.traffic.sample) to check the real keys', path, subject: { pool: name } }));
    return out;
  }
  const h = pl.hash;
  if (h.sampledRps > 0 && h.keylessRps / h.sampledRps >= 0.5) {
    out.push(finding('EK208', { message: `${words.pool} ${name} hashes on ${pool.hashOn}, but ${pct(h.keylessRps / h.sampledRps)} of its sampled requests do not carry it; those are spread round-robin, without stickiness`, hint: 'hash on something every request carries (client-ip, or a cookie set for everyone), or make clients send the key', path, subject: { pool: name } }));
  }
  const keyed = h.sampledRps - h.keylessRps;
  if (keyed > 0 && h.topKey !== undefined && pl.usable >= 2 && h.topKeyRps / h.sampledRps > 1 / pl.usable) {
    const shown = h.topKey.length > 24 ? `${h.topKey.slice(0, 21)}...` : h.topKey;
    out.push(finding('EK205', { message: `${words.pool} ${name}: the single key ${pool.hashOn}=${JSON.stringify(shown)} carries ${pct(h.topKeyRps / h.sampledRps)} of the pool's sampled traffic, more than one ${words.backend}'s fair share (${pct(1 / pl.usable)}); it all lands on ${h.topKeyBackend}`, hint: 'a hot key cannot be spread by adding backends: hash on a finer key, or route that key to its own pool', path, subject: { pool: name, backend: h.topKeyBackend } }));
  }
  return out;
}
