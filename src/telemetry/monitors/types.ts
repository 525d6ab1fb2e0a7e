/** The monitors' vocabulary: thresholds, the backends they judge, and the alerts they emit. */
import type { Config } from '../../config/index.js';

/** The five monitors of DESIGN.md, and `health`: a pool that lost half its capacity, or a split target with nothing usable (health.ts). */
export type MonitorName = 'overload' | 'concentration' | 'skew' | 'error-rate' | 'latency' | 'health';

/** Every monitor, in the order DESIGN.md lists them. */
export const MONITOR_NAMES: readonly MonitorName[] = ['overload', 'concentration', 'skew', 'error-rate', 'latency'];

/** Thresholds from the config's guardrails. */
export interface MonitorThresholds {
  /** rollback.window: the sliding window, and how long a value must stay low to resolve. */
  windowMs: number;
  errorRate: number;
  skew: number;
  maxBackendShare: number;
  latencyP99Ms?: number;
}

/** A backend as the monitors see it: what it should get, and what it can take (telemetry's BackendSnapshot fits). */
export interface BackendTarget {
  readonly pool: string;
  readonly backend: string;
  readonly up: boolean;
  /** Share of its pool's requests the weights and health assign it (0..1). */
  readonly expectedShare: number;
  /** Declared capacity in requests/s. */
  readonly capacity?: number;
}

/** Sample sizes and statistical margins; the defaults suit traffic from a few req/s up. */
export interface MonitorOptions {
  /** Requests a pool needs in the window before a share or error monitor may fire [50]. */
  minRequests?: number;
  /** Latency samples a pool needs before the latency monitor may fire [100]. */
  minLatencySamples?: number;
  /** Time a pool must have been counted before a rate (overload) is trusted [2000 ms]. */
  minSpanMs?: number;
  /** Standard errors an observation must clear its threshold by to fire [4]. */
  z?: number;
  /** Resolve below this fraction of the threshold (error rate, latency, skew, concentration) [0.8]. */
  resolveFactor?: number;
  /** Overload resolves below this fraction of capacity [0.9]: validation already keeps normal load at ≤ 1 − headroom. */
  overloadResolveFactor?: number;
  /** The recent part of the window an alert may fire on [min(window, 5 s)]; resolving always takes the whole window. */
  fireWindowMs?: number;
  /** Bucket width of the sliding window [1000 ms]. */
  bucketMs?: number;
}

/** One alert changing state: `fire` when a monitor starts firing, `resolve` when it stops. */
export interface AlertTransition {
  kind: 'fire' | 'resolve';
  /** Stable for the alert's life: monitor, pool, backend and when it fired. */
  id: string;
  monitor: MonitorName;
  pool: string;
  /** The backend concerned (for pool-wide monitors, the worst contributor), or null. */
  backend: string | null;
  time: number;
  /** When the alert fired (equals `time` on a fire). */
  firedAt: number;
  /** The measured value and the threshold it is compared with (units per monitor, see figures). */
  value: number;
  threshold: number;
  figures: Record<string, number | null>;
  /** Observed share of each backend of the pool over the window (for reports: predicted vs observed). */
  shares: Record<string, number>;
  summary: string;
}

/** The thresholds a config declares. */
export function thresholdsFromConfig(config: Config): MonitorThresholds {
  const r = config.guardrails.rollback;
  return { windowMs: r.window, errorRate: r.errorRate, skew: r.skew, maxBackendShare: config.guardrails.maxBackendShare, latencyP99Ms: r.latencyP99 };
}
