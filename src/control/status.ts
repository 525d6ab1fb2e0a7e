/**
 * The per-pool view `GET /api/v1/status` serves and `evenkeel status` prints: each backend's
 * health, expected share (weights and health), observed share and requests/s (the metrics
 * window), capacity and utilization.
 */
import type { Plane } from './plane.js';

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
