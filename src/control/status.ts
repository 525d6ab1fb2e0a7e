/**
 * The per-pool view `GET /api/v1/status` serves and `evenkeel status` prints: each backend's
 * health, expected share (weights and health), observed share and requests/s (the metrics
 * window), capacity and utilization.
 */
import type { BackendSnapshot } from '../telemetry/index.js';
import type { ObservedBackend, Plane } from './plane.js';

/** One backend's row. */
export interface BackendStatus {
  backend: string;
  up: boolean;
  expectedShare: number;
  observedShare: number;
  rps: number;
  capacity: number | null;
  utilization: number | null;
}

/** Per pool: its backends' rows, in config order. */
export type PoolsStatus = Record<string, { rps: number; backends: BackendStatus[] }>;

/** Joins the data plane's backend state with what the metrics observed. */
export async function buildStatus(plane: Plane): Promise<PoolsStatus> {
  const seen = new Map((await plane.observed()).map((o) => [`${o.pool}\0${o.backend}`, o]));
  const out: PoolsStatus = {};
  for (const b of plane.backends()) {
    const o = seen.get(`${b.pool}\0${b.backend}`);
    const rps = o?.rps ?? 0;
    const pool = (out[b.pool] ??= { rps: 0, backends: [] });
    pool.rps += rps;
    pool.backends.push({ backend: b.backend, up: b.up, expectedShare: b.expectedShare, observedShare: o?.share ?? 0, rps, capacity: b.capacity ?? null, utilization: b.capacity ? rps / b.capacity : null });
  }
  return out;
}

const GAUGE = /^evenkeel_backend_(observed_share|utilization)\{pool="((?:[^"\\]|\\.)*)",backend="((?:[^"\\]|\\.)*)"\} (\S+)$/;

/**
 * Observed shares from Prometheus text (cluster mode, where workers hold the counters).
 * Requests/s is known only through utilization, so only for backends with a capacity.
 */
export function observedFromMetrics(text: string, backends: readonly BackendSnapshot[]): ObservedBackend[] {
  const caps = new Map(backends.map((b) => [`${b.pool}\0${b.backend}`, b.capacity]));
  const rows = new Map<string, { pool: string; backend: string; share: number; rps: number }>();
  for (const line of text.split('\n')) {
    const m = GAUGE.exec(line);
    if (!m) continue;
    const key = `${m[2]}\0${m[3]}`;
    const row = rows.get(key) ?? { pool: m[2], backend: m[3], share: 0, rps: 0 };
    if (m[1] === 'observed_share') row.share = Number(m[4]);
    else row.rps = Number(m[4]) * (caps.get(key) ?? 0);
    rows.set(key, row);
  }
  return [...rows.values()];
}
