/**
 * Where the monitors' responses come from, in the primary process. With one worker the data
 * plane runs here and publishes every completed request on the request channel, which the
 * feed subscribes to like the metrics do. With node:cluster workers the counters live in the
 * workers and the primary sees them only through the aggregated metrics, so the feed polls
 * `evenkeel_requests_total` and records each series' increase. Latency is unknown across
 * node:cluster workers (the latency monitor judges single-process serve only); the HAProxy
 * engine gives each backend's average response time (`evenkeel_backend_response_seconds`,
 * HAProxy's rtime), and each response of that backend counts with that average: the monitor's
 * p99 is then the highest recent average, which is below the true p99 (a slow tail moves it
 * only as far as it moves the mean), so the latency monitor on HAProxy catches a backend that
 * turns slow as a whole, not a tail. Requests a config canary served carry its
 * mark (the `canary` flag of their metric key, `evenkeel_canary_requests_total` across workers),
 * so the monitors of the active version and the canary's judgement each see their own slice.
 *
 * The feed also keeps cumulative counters (requests and 5xx, per route and pool) that the
 * journal carries on its events, so a report can state the failed requests of an incident.
 */
import { performance } from 'node:perf_hooks';
import { requestChannel, type RequestRecord } from '../telemetry/index.js';

/** Counts one response; `canary` marks the config canary's slice. */
export type ResponseSink = (pool: string, backend: string | null, status: number, latencyMs: number, now: number, canary: boolean) => void;

/** Requests and failures (status >= 500) since the instance started. */
export interface TrafficCounters {
  requests: number;
  failed: number;
  routes: Record<string, { requests: number; failed: number }>;
  pools: Record<string, { requests: number; failed: number }>;
}

const ALL_SERIES = 'evenkeel_requests_total';
const CANARY_SERIES = 'evenkeel_canary_requests_total';
const RESPONSE_SERIES = 'evenkeel_backend_response_seconds';

/** At most this many responses are replayed per series and poll (a long stall must not spin the primary). */
const MAX_REPLAY = 20_000;

/** A stream of responses into a sink. */
export class TrafficFeed {
  private readonly totals: TrafficCounters = { requests: 0, failed: 0, routes: {}, pools: {} };
  private readonly last = new Map<string, number>();
  private polled = false;
  private readonly onRequest = (m: unknown) => {
    const r = m as RequestRecord;
    const k = r.key;
    this.count(k.route, k.pool, r.status, 1);
    this.sink(k.pool, k.backend === '' ? null : k.backend, r.status, performance.now() - r.start, this.now(), k.canary);
  };

  /**
   * `metrics` given: poll that exposition (cluster mode); otherwise subscribe to the request
   * channel of this process.
   */
  constructor(private readonly sink: ResponseSink, private readonly now: () => number, private readonly metrics?: () => Promise<string>) {
    if (!metrics) requestChannel.subscribe(this.onRequest);
  }

  /** Reads what the workers counted since the last poll (cluster mode; nothing to do otherwise). */
  async poll(): Promise<void> {
    if (!this.metrics) return;
    const text = await this.metrics();
    const now = this.now();
    // The canary's requests are counted in both series: what is left of the total is the active slice's.
    const canary = this.increases(text, CANARY_SERIES);
    const all = this.increases(text, ALL_SERIES);
    const latency = responseTimes(text);
    this.polled = true;
    for (const [id, [labels, delta]] of all) {
      const c = canary.get(id)?.[1] ?? 0;
      const status = Number(labels.code);
      const pool = labels.pool ?? '';
      const ms = (slice: string) => latency.get(`${pool}\0${labels.backend ?? ''}\0${slice}`) ?? 0;
      this.count(labels.route ?? '', pool, status, delta);
      this.replay(pool, labels.backend, status, delta - c, now, false, ms('active'));
      this.replay(pool, labels.backend, status, Math.min(c, delta), now, true, ms('canary'));
    }
  }

  /** Each series' increase since the last poll, by label set. */
  private increases(text: string, name: string): Map<string, [Record<string, string>, number]> {
    const out = new Map<string, [Record<string, string>, number]>();
    const prefix = `${name}{`;
    for (const line of text.split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const close = line.lastIndexOf('}');
      const labels = parseLabels(line.slice(prefix.length, close));
      const value = Number(line.slice(close + 1).trim());
      if (!Number.isFinite(value)) continue;
      const id = seriesId(labels);
      // A series that appears after the first poll started from zero since the poll before
      // (a canary's, a new backend's); on the first poll everything is a baseline, not a burst.
      const before = this.last.get(`${name}|${id}`) ?? (this.polled ? 0 : undefined);
      this.last.set(`${name}|${id}`, value);
      // A smaller value is a restarted worker.
      if (before === undefined) continue;
      const delta = value >= before ? value - before : value;
      if (delta > 0) out.set(id, [labels, delta]);
    }
    return out;
  }

  private replay(pool: string, backend: string | undefined, status: number, n: number, now: number, canary: boolean, latencyMs: number): void {
    const times = Math.min(n, MAX_REPLAY);
    for (let i = 0; i < times; i++) this.sink(pool, backend ? backend : null, status, latencyMs, now, canary);
  }

  /** A copy of the cumulative counters (journalled on events). */
  counters(): TrafficCounters {
    return structuredClone(this.totals);
  }

  close(): void {
    if (!this.metrics) requestChannel.unsubscribe(this.onRequest);
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

/** `evenkeel_backend_response_seconds` as ms by pool, backend and slice (absent: none given). */
function responseTimes(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const prefix = `${RESPONSE_SERIES}{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const l = parseLabels(line.slice(prefix.length, close));
    const v = Number(line.slice(close + 1).trim());
    if (Number.isFinite(v)) out.set(`${l.pool}\0${l.backend}\0${l.slice}`, v * 1000);
  }
  return out;
}

function seriesId(l: Record<string, string>): string {
  return `${l.listener}\0${l.route}\0${l.pool}\0${l.backend}\0${l.code}`;
}

/** `a="x",b="y"` → { a: 'x', b: 'y' } (Prometheus label escaping undone). */
function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return out;
}
