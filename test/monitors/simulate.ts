/**
 * Simulated traffic for the monitor tests: requests arrive with seeded jitter, pick a backend,
 * get a status and a latency from the scenario, and the monitors are evaluated once a second.
 * Time is simulated; nothing sleeps.
 */
import { seededRandom } from '../../src/core/random.ts';
import type { AlertTransition, BackendTarget, Monitors } from '../../src/telemetry/monitors/index.ts';

/** What happens at time t (ms since the start of the run). */
export interface Scenario {
  /** Total requests/s arriving at the pool. */
  rps(t: number): number;
  /** Index of the backend a request goes to, given a uniform random number. */
  pick(t: number, r: number): number;
  /** Status a backend answers with. `load` is its request rate over the last second. */
  status?(t: number, backend: number, r: number, load: number): number;
  /** Latency in ms. */
  latency?(t: number, backend: number, r: number): number;
}

/** Backend targets for pool `pool` with equal weights. */
export function balancedTargets(pool: string, n: number, capacity?: number | number[]): BackendTarget[] {
  return Array.from({ length: n }, (_, i) => ({ pool, backend: `${pool}-${i + 1}`, up: true, expectedShare: 1 / n, capacity: Array.isArray(capacity) ? capacity[i] : capacity }));
}

/** A weighted random pick (what random / least-request do under even load). */
export function weighted(weights: number[]): (t: number, r: number) => number {
  const sum = weights.reduce((a, b) => a + b, 0);
  return (_t, r) => {
    let x = r * sum;
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i]) < 0) return i;
    return weights.length - 1;
  };
}

/** A realistic latency: lognormal around `median` ms. */
export function lognormal(median: number, sigma = 0.5): (t: number, b: number, r: number) => number {
  return (_t, _b, r) => {
    // Box-Muller from one uniform and a fixed partner keeps one random draw per request.
    const u = Math.min(Math.max(r, 1e-9), 1 - 1e-9);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * ((u * 7919) % 1));
    return median * Math.exp(sigma * z);
  };
}

/** A fired or resolved alert with the time it happened, in seconds since the start. */
export interface Seen {
  t: number;
  alert: AlertTransition;
}

/** Runs `scenario` against `monitors` for `pool` from `fromMs` to `toMs`; returns every transition. */
export function drive(monitors: Monitors, pool: string, backends: number, scenario: Scenario, fromMs: number, toMs: number, seed: number, epoch = Date.UTC(2024, 5, 10, 14)): Seen[] {
  const random = seededRandom(seed);
  const seen: Seen[] = [];
  const names = Array.from({ length: backends }, (_, i) => `${pool}-${i + 1}`);
  const lastSecond = new Array<number>(backends).fill(0);
  const thisSecond = new Array<number>(backends).fill(0);
  let t = fromMs;
  let nextEval = Math.floor(fromMs / 1000) * 1000 + 1000;
  while (t < toMs) {
    // Exponential inter-arrival: Poisson traffic, the jitter real clients produce.
    t += (-Math.log(1 - random()) / Math.max(scenario.rps(t), 0.001)) * 1000;
    while (nextEval <= t && nextEval <= toMs) {
      for (const alert of monitors.evaluate(epoch + nextEval)) seen.push({ t: nextEval / 1000, alert });
      lastSecond.splice(0, backends, ...thisSecond);
      thisSecond.fill(0);
      nextEval += 1000;
    }
    if (t >= toMs) break;
    const b = scenario.pick(t, random());
    thisSecond[b]++;
    const status = scenario.status?.(t, b, random(), lastSecond[b]) ?? (random() < 0.001 ? 503 : 200);
    const latency = scenario.latency?.(t, b, random()) ?? lognormal(25)(t, b, random());
    monitors.record(pool, names[b], status, latency, epoch + t);
  }
  return seen;
}

/** `monitor/backend` of each fire, for readable assertions. */
export function fired(seen: Seen[]): string[] {
  return seen.filter((s) => s.alert.kind === 'fire').map((s) => `${s.alert.monitor}/${s.alert.backend ?? '-'}`);
}
