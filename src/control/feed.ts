/**
 * Where the monitors' responses come from, in the primary process. With one worker the data
 * plane runs here and publishes every completed request on the request channel, which the
 * feed subscribes to like the metrics do. Otherwise (node:cluster workers, HAProxy) the counters
 * live outside this process and the plane reports them as data (`Plane.requestCounts`: every
 * series' responses since its counting process started); the feed polls them and records each
 * series' increase as one count. Latency is unknown across node:cluster workers (the latency
 * monitor judges single-process serve only); the HAProxy engine gives each backend's average
 * response time (HAProxy's rtime) with its counts, and each response of that backend counts
 * with that average: the monitor's p99 is then the highest recent average, below the true p99
 * (a slow tail moves it only as far as it moves the mean), so the latency monitor on HAProxy
 * catches a backend that turns slow as a whole, not a tail. Requests a config canary served
 * carry its mark (the `canary` flag of their series), so the monitors of the active version
 * and the canary's judgement each see their own slice.
 *
 * The feed also keeps cumulative counters (requests and 5xx, per route and pool) that the
 * journal carries on its events, so a report can state the failed requests of an incident.
 */
import { performance } from 'node:perf_hooks';
import { requestChannel, type RequestCount, type RequestRecord } from '../telemetry/index.js';

/** Counts `count` responses of one status; `canary` marks the config canary's slice. */
export type ResponseSink = (pool: string, backend: string | null, status: number, latencyMs: number, now: number, canary: boolean, count: number) => void;

/** Requests and failures (status >= 500) since the instance started. */
export interface TrafficCounters {
  requests: number;
  failed: number;
  routes: Record<string, { requests: number; failed: number }>;
  pools: Record<string, { requests: number; failed: number }>;
}

/** A stream of responses into a sink. */
export class TrafficFeed {
  private readonly totals: TrafficCounters = { requests: 0, failed: 0, routes: {}, pools: {} };
  /** Each polled series' count at the last poll. */
  private readonly last = new Map<string, number>();
  private polled = false;
  private readonly onRequest = (m: unknown) => {
    const r = m as RequestRecord;
    const k = r.key;
    this.count(k.route, k.pool, r.status, 1);
    this.sink(k.pool, k.backend === '' ? null : k.backend, r.status, performance.now() - r.start, this.now(), k.canary, 1);
  };

  /**
   * `counts` given: poll the plane's counters (workers, HAProxy); otherwise subscribe to the
   * request channel of this process.
   */
  constructor(private readonly sink: ResponseSink, private readonly now: () => number, private readonly counts?: () => Promise<RequestCount[]>) {
    if (!counts) requestChannel.subscribe(this.onRequest);
  }

  /** Reads what the plane counted since the last poll (nothing to do when subscribed to the channel). */
  async poll(): Promise<void> {
    if (!this.counts) return;
    const rows = await this.counts();
    const now = this.now();
    for (const r of rows) {
      const id = `${r.source ?? ''}\0${r.listener}\0${r.route}\0${r.pool}\0${r.backend}\0${r.code}\0${r.canary ? 'c' : ''}`;
      // A series that appears after the first poll started from zero since the poll before
      // (a canary's, a new backend's, a replaced worker's); on the first poll everything is a
      // baseline, not a burst.
      const before = this.last.get(id) ?? (this.polled ? 0 : undefined);
      this.last.set(id, r.requests);
      if (before === undefined) continue;
      // A smaller count is a counter that started again (a restarted engine worker).
      const delta = r.requests >= before ? r.requests - before : r.requests;
      if (delta <= 0) continue;
      this.count(r.route, r.pool, r.code, delta);
      this.sink(r.pool, r.backend === '' ? null : r.backend, r.code, r.latencyMs ?? 0, now, r.canary, delta);
    }
    this.polled = true;
  }

  /** A copy of the cumulative counters (journalled on events). */
  counters(): TrafficCounters {
    return structuredClone(this.totals);
  }

  close(): void {
    if (!this.counts) requestChannel.unsubscribe(this.onRequest);
  }

  private count(route: string, pool: string, status: number, n: number): void {
    const failed = status >= 500 ? n : 0;
    const t = this.totals;
    t.requests += n;
    t.failed += failed;
    const r = (t.routes[route] ??= { requests: 0, failed: 0 });
    r.requests += n;
    r.failed += failed;
    const p = (t.pools[pool] ??= { requests: 0, failed: 0 });
    p.requests += n;
    p.failed += failed;
  }
}
