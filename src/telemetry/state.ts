/**
 * The view of backend state that metrics read at scrape time. The data plane registers a
 * provider (telemetry sits below upstream and cannot import it).
 */

/** One backend of one pool, as metrics see it at scrape time. */
export interface BackendSnapshot {
  readonly pool: string;
  readonly backend: string;
  readonly up: boolean;
  /** Share the weights and health say it should get (0..1). */
  readonly expectedShare: number;
  /** Declared capacity in requests/s, if any. */
  readonly capacity?: number;
}

/** Returns the current backends of the current config. */
export type StateProvider = () => readonly BackendSnapshot[];
