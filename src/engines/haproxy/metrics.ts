/**
 * The HAProxy engine's /metrics: the same series names as the built-in engine
 * (telemetry/metrics.ts), computed from HAProxy's counters rather than from each request.
 */
import type { VersionInfo } from '../../proxy/index.js';
import type { BackendSnapshot } from '../../telemetry/index.js';
import type { CounterBook } from './stats.js';
import type { EngineView } from './view.js';
import { esc, gauge } from './exposition.js';

/** What the exposition is made from. */
export interface MetricsSource {
  readonly view: EngineView;
  readonly book: CounterBook;
  readonly backends: readonly BackendSnapshot[];
  readonly current: { info: VersionInfo; appliedAt: number } | undefined;
  /** HAProxy's version. */
  readonly version: string;
  readonly reloads: number;
}

/** Prometheus text for the engine. */
export function engineMetrics(m: MetricsSource): string {
  const obs = new Map(m.view.observed().map((o) => [`${o.pool}\0${o.backend}`, o]));
  const pb = (b: BackendSnapshot) => `pool="${esc(b.pool)}",backend="${esc(b.backend)}"`;
  const frontends = m.book.rows.filter((r) => r.server === 'FRONTEND' && !r.proxy.startsWith('ek:'));
  const c = m.current;
  return m.view.requestSeries(m.book)
    + m.view.responseTimes(m.book.rows)
    + gauge('evenkeel_backend_up', '1 when the backend is usable (HAProxy: UP or no check)', m.backends.map((b) => [pb(b), b.up ? 1 : 0]))
    + gauge('evenkeel_backend_expected_share', "Share of its pool's requests the weights and health assign to the backend", m.backends.map((b) => [pb(b), b.expectedShare]))
    + gauge('evenkeel_backend_observed_share', "Share of its pool's requests the backend received over the last 10s", m.backends.map((b) => [pb(b), obs.get(`${b.pool}\0${b.backend}`)?.share ?? 0]))
    + gauge('evenkeel_backend_utilization', 'Observed requests/s over declared capacity, last 10s', m.backends.filter((b) => b.capacity).map((b) => [pb(b), (obs.get(`${b.pool}\0${b.backend}`)?.rps ?? 0) / b.capacity!]))
    + gauge('evenkeel_active_connections', 'Open client connections per listener', frontends.map((r) => [`listener="${esc(r.proxy)}"`, r.scur]))
    + (c
      ? gauge('evenkeel_config_version', 'Config version being served', [['', c.info.version]])
        + gauge('evenkeel_config_info', 'Config version and hash being served (value 1)', [[`version="${c.info.version}",hash="${esc(c.info.hash)}"`, 1]])
        + gauge('evenkeel_config_last_apply_timestamp_seconds', 'When the served config was applied', [['', c.appliedAt / 1000]])
      : '')
    + gauge('evenkeel_engine_info', 'The engine serving (value 1)', [[`engine="haproxy",version="${esc(m.version)}"`, 1]])
    + gauge('evenkeel_engine_reloads', 'HAProxy reloads since evenkeel started it', [['', m.reloads]]);
}
