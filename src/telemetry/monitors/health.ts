/**
 * Health as a monitor: what the health checks and outlier ejection leave of each pool. A pool
 * whose usable backends hold half its capacity or less (declared capacity, else one unit per
 * backend; drained and standby backends do not count) alerts before its survivors overload, and
 * a split that sends a share of a route to a pool with no usable backend alerts for the 503s
 * those requests get. Pure, without memory: the watch fires while a condition holds and
 * resolves when it stops (the health checks' thresholds are the hysteresis).
 */
import { pct } from '../../core/index.js';
import { round } from './stats.js';

/** One backend of a pool as the health monitor sees it. */
export interface HealthBackend {
  readonly name: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly capacity?: number;
  readonly up: boolean;
}

/** One split of a route across pools. */
export interface HealthSplit {
  readonly listener: string;
  readonly route: string;
  readonly targets: readonly { pool: string; weight: number }[];
}

/** A condition that holds now; `key` identifies the alert for its whole life. */
export interface HealthCondition {
  readonly key: string;
  readonly pool: string;
  readonly value: number;
  readonly threshold: number;
  readonly figures: Record<string, number>;
  readonly summary: string;
}

/** The pools that lost half their capacity or more, and the split targets with nothing usable. */
export function healthConditions(pools: ReadonlyMap<string, readonly HealthBackend[]>, splits: readonly HealthSplit[]): HealthCondition[] {
  const out: HealthCondition[] = [];
  const usableOf = new Map<string, number>();
  for (const [pool, backends] of pools) {
    const serving = backends.filter((b) => b.weight > 0 && !b.backup);
    if (serving.length === 0) continue;
    const unit = (b: HealthBackend) => b.capacity ?? 1;
    const full = serving.reduce((n, b) => n + unit(b), 0);
    const left = serving.filter((b) => b.up).reduce((n, b) => n + unit(b), 0);
    const up = serving.filter((b) => b.up).length;
    usableOf.set(pool, up + backends.filter((b) => b.backup && b.up).length);
    if (left > full / 2) continue;
    const down = serving.filter((b) => !b.up).map((b) => b.name);
    const declared = serving.every((b) => b.capacity !== undefined);
    out.push({
      key: `pool:${pool}`,
      pool,
      value: round(left / full, 4),
      threshold: 0.5,
      figures: { usableBackends: up, backends: serving.length, usableCapacity: left, capacity: full },
      summary: up === 0
        ? `pool ${pool} has no usable backend (${down.join(', ')} down or ejected): its requests get 503`
        : `pool ${pool} lost ${pct(1 - left / full)} of its capacity: ${up} of ${serving.length} backends usable${declared ? ` (${left} of ${full} req/s)` : ''}; down or ejected: ${down.join(', ')}`,
    });
  }
  for (const s of splits) {
    const total = s.targets.reduce((n, t) => n + t.weight, 0);
    if (s.targets.length < 2 || total <= 0) continue;
    for (const t of s.targets) {
      if (t.weight <= 0 || (usableOf.get(t.pool) ?? 1) > 0) continue;
      out.push({
        key: `split:${s.listener}/${s.route}:${t.pool}`,
        pool: t.pool,
        value: 0,
        threshold: 1,
        figures: { splitShare: round(t.weight / total, 4), usableBackends: 0 },
        summary: `route ${s.route} sends ${pct(t.weight / total)} of its requests to pool ${t.pool}, which has no usable backend: those requests get 503`,
      });
    }
  }
  return out;
}
