/**
 * What an alert says, whichever way it is sent: the monitor, pool, backend and figures, the
 * config version with a summary of what its change did, and what evenkeel did about it.
 */
import type { AlertTransition } from '../../telemetry/monitors/index.js';

/** One alert notification (firing or resolved). Times are milliseconds since the epoch. */
export interface AlertNotice {
  status: 'firing' | 'resolved';
  /** The alert's id: the same for its firing and its resolution. */
  id: string;
  monitor: string;
  pool: string;
  backend: string | null;
  startsAt: number;
  endsAt?: number;
  value: number;
  threshold: number;
  figures: Record<string, number | null>;
  summary: string;
  config: {
    version: number | null;
    hash?: string;
    /** What the version changed against the one before it, e.g. `pools.web.backends[1].weight: 1 → 0`. */
    diff?: string;
  };
  /** What evenkeel did: "rolled back to v3", "aborted canary v5", "alerted only (outside the bake window)". */
  action: string;
  /** Which instance sent it (host:port of the admin API, or a name). */
  instance?: string;
}

/** Context the monitors do not know: the version, its diff, and the action taken. */
export interface NoticeContext {
  version: number | null;
  hash?: string;
  diff?: string;
  action: string;
  instance?: string;
}

/** Builds a notice from a monitor transition. */
export function noticeFrom(t: AlertTransition, ctx: NoticeContext): AlertNotice {
  return {
    status: t.kind === 'fire' ? 'firing' : 'resolved',
    id: t.id,
    monitor: t.monitor,
    pool: t.pool,
    backend: t.backend,
    startsAt: t.firedAt,
    ...(t.kind === 'resolve' ? { endsAt: t.time } : {}),
    value: t.value,
    threshold: t.threshold,
    figures: t.figures,
    summary: t.summary,
    config: { version: ctx.version, ...(ctx.hash ? { hash: ctx.hash } : {}), ...(ctx.diff ? { diff: ctx.diff } : {}) },
    action: ctx.action,
    ...(ctx.instance ? { instance: ctx.instance } : {}),
  };
}
