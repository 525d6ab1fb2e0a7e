/**
 * The monitor engine: feeds the sliding window, runs the checks, and turns them into alert
 * transitions with hysteresis, so alerts do not flap: an alert fires on one confident
 * observation of the recent few seconds (a 20 s average would take 10 s or more to show a
 * moderate fault), and resolves only after the whole window's value has stayed under the
 * resolve level for a whole window.
 */
import { NO_BACKEND, SlidingCounters, type WindowSnapshot } from './window.js';
import { resolveOptions, runChecks, type Check, type ResolvedOptions } from './checks.js';
import type { AlertTransition, BackendTarget, MonitorOptions, MonitorThresholds } from './types.js';

interface Firing {
  alert: AlertTransition;
  clearSince: number | undefined;
}

/** Monitors over one stream of responses (the whole instance, or one canary slice). */
export class Monitors {
  private readonly counters: SlidingCounters;
  private readonly options: ResolvedOptions;
  private targets: readonly BackendTarget[] = [];
  private readonly firingAlerts = new Map<string, Firing>();

  constructor(private readonly thresholds: MonitorThresholds, options: MonitorOptions = {}) {
    this.options = resolveOptions(options);
    this.counters = new SlidingCounters(thresholds.windowMs, this.options.bucketMs);
  }

  /**
   * Sets what each backend should get (after a config apply or a health change). A pool whose
   * expected shares moved starts counting afresh: its old counts describe the old split and
   * would read as skew against the new one.
   */
  setTargets(targets: readonly BackendTarget[]): void {
    const old = expectedByPool(this.targets);
    const next = expectedByPool(targets);
    for (const [pool, shares] of next) {
      const before = old.get(pool);
      if (before && !sameShares(before, shares)) this.counters.resetPool(pool);
    }
    this.targets = [...targets];
  }

  /** Counts `count` responses [1]; `backend` null or '' when evenkeel answered without one. */
  record(pool: string, backend: string | null, status: number, latencyMs: number, now: number, count = 1): void {
    this.counters.record(pool, backend ?? NO_BACKEND, status, latencyMs, now, count);
  }

  /** The window at `now` (for metrics: observed shares; for the canary judgement). */
  snapshot(now: number): WindowSnapshot {
    return this.counters.snapshot(now);
  }

  /** Runs every monitor at `now` and returns what started or stopped firing. */
  evaluate(now: number): AlertTransition[] {
    const fireWindow = this.options.fireWindowMs ?? Math.min(this.thresholds.windowMs, 5000);
    const recent = new Map<string, Check>();
    for (const c of runChecks(this.counters.snapshot(now, fireWindow), this.targets, this.thresholds, this.options)) recent.set(keyOf(c), c);
    const checks = runChecks(this.counters.snapshot(now), this.targets, this.thresholds, this.options);
    const out: AlertTransition[] = [];
    const seen = new Set<string>();
    for (const c of checks) {
      const key = keyOf(c);
      seen.add(key);
      const f = this.firingAlerts.get(key);
      if (!f) {
        const r = recent.get(key);
        const firing = r?.fire ? r : c.fire ? c : undefined;
        if (firing) {
          const alert = toTransition('fire', firing, now, now);
          this.firingAlerts.set(key, { alert, clearSince: undefined });
          out.push(alert);
        }
        continue;
      }
      if (!c.clear) {
        f.clearSince = undefined;
        continue;
      }
      f.clearSince ??= now;
      if (now - f.clearSince >= this.thresholds.windowMs) {
        this.firingAlerts.delete(key);
        out.push({ ...toTransition('resolve', c, now, f.alert.firedAt, f.alert.id), backend: f.alert.backend });
      }
    }
    // A firing alert whose pool or backend is no longer measured (removed by a rollback, or
    // silent for a window) resolves the same way: quiet for a whole window.
    for (const [key, f] of this.firingAlerts) {
      if (seen.has(key)) continue;
      f.clearSince ??= now;
      if (now - f.clearSince >= this.thresholds.windowMs) {
        this.firingAlerts.delete(key);
        out.push({ ...f.alert, kind: 'resolve', time: now, summary: `${f.alert.monitor} on pool ${f.alert.pool} resolved: no longer measured for a whole window` });
      }
    }
    return out;
  }

  /** The alerts firing now (their fire transitions). */
  firing(): AlertTransition[] {
    return [...this.firingAlerts.values()].map((f) => f.alert);
  }
}

function keyOf(c: { monitor: string; pool: string; backend: string | null }): string {
  // Pool-wide monitors key on the pool alone, so a change of worst backend is the same alert.
  return c.monitor === 'overload' ? `${c.monitor}\u0000${c.pool}\u0000${c.backend}` : `${c.monitor}\u0000${c.pool}`;
}

function toTransition(kind: 'fire' | 'resolve', c: Check, now: number, firedAt: number, id?: string): AlertTransition {
  const summary = kind === 'fire' ? c.summary : `resolved: ${c.summary}`;
  return { kind, id: id ?? `${c.monitor}:${c.pool}:${c.backend ?? ''}:${firedAt}`, monitor: c.monitor, pool: c.pool, backend: c.backend, time: now, firedAt, value: c.value, threshold: c.threshold, figures: c.figures, shares: c.shares, summary };
}

function expectedByPool(targets: readonly BackendTarget[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const t of targets) {
    let m = out.get(t.pool);
    if (!m) out.set(t.pool, (m = new Map()));
    m.set(t.backend, t.up ? t.expectedShare : 0);
  }
  return out;
}

function sameShares(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (Math.abs((b.get(k) ?? -1) - v) > 0.01) return false;
  return true;
}
