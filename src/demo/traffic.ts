/**
 * An open-loop load generator: requests leave at a steady `rps` whatever the target does (a
 * closed loop would slow down with an overloaded target and hide the outage), over a mix of
 * paths, on keep-alive connections (undici Pool). In-flight requests are bounded, so a target
 * that stops answering cannot pile up unbounded work: a request that finds the bound full
 * waits for a free slot, and one that cannot be sent within `maxDelayMs` of its due time is
 * dropped and counts as failed. (Waiting a little matters: after a pause of this process the
 * scheduler runs before the answers that arrived meanwhile are read, so the bound looks full.) Each request is counted in the second it was due; `failed`
 * is a 5xx answer, a transport error or a timeout, or a request that could not be sent.
 *
 * Measured here (2 cores, the proxy in another process on the same box): 1,000 req/s through
 * evenkeel with this generator and the four demo backends in one process (bench/replay.ts).
 */
import { Pool } from 'undici';
import { LogBins } from '../core/index.js';

/** One path of the mix. */
export interface TrafficPath {
  readonly path: string;
  /** Relative frequency [1]. */
  readonly weight?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How to drive the load. */
export interface TrafficOptions {
  /** The target's origin, e.g. http://127.0.0.1:8080. */
  readonly origin: string;
  /** Requests per second. */
  readonly rps: number;
  /** Paths, interleaved by weight [`/`]. */
  readonly paths?: readonly (string | TrafficPath)[];
  /** Requests in flight at most [max(64, rps/4)]. */
  readonly maxInFlight?: number;
  /** A request that finds no free slot for this long after its due time is dropped (failed), ms [1000]. */
  readonly maxDelayMs?: number;
  /** A request without a complete answer after this long fails, ms [5000]. */
  readonly timeoutMs?: number;
  /**
   * Rises linearly from 0 to `rps` over this long, ms [0]: a freshly started target (cold JIT,
   * no connections yet) is not hit with the full rate in its first second. Counted like the rest.
   */
  readonly rampMs?: number;
}

/** What one second of the run saw (requests due in that second). */
export interface TrafficSecond {
  /** Seconds since the start. */
  readonly second: number;
  /** Epoch ms when the second began. */
  readonly at: number;
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Latency of the answered requests (5xx included), ms; null when none was answered. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** The whole run so far. */
export interface TrafficTotals {
  readonly sent: number;
  readonly ok: number;
  /** 5xx + transport errors + not sent. */
  readonly failed: number;
  readonly http5xx: number;
  readonly transportErrors: number;
  readonly notSent: number;
  /** Requests still waiting for an answer. */
  readonly inFlight: number;
  /** Whole-run latency quantiles, within 2%. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/** A running load. */
export interface Traffic {
  /** Epoch ms of the start. */
  readonly startedAt: number;
  /** Per second, from the start to now. */
  timeline(): TrafficSecond[];
  totals(): TrafficTotals;
  /** Stops sending, waits for answers (at most `drainMs` [2000]), closes the connections. */
  stop(drainMs?: number): Promise<TrafficTotals>;
}

interface Bucket {
  sent: number;
  ok: number;
  failed: number;
  http5xx: number;
  errors: number;
  notSent: number;
  /** Latencies of the second until every answer is in; then its quantiles, and null. */
  latencies: number[] | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Latencies of the whole run, for its quantiles, in logarithmic bins 2% wide from 0.05 ms
 * (1,000 bins reach past an hour): memory stays constant however long a demo runs.
 */
class LatencyHistogram {
  private static readonly BINS = new LogBins(0.05, 1.02, 1000);
  private readonly counts = new Float64Array(LatencyHistogram.BINS.count);

  add(ms: number): void {
    this.counts[LatencyHistogram.BINS.bin(ms)]++;
  }

  /** The bin's upper bound holding the q-quantile (within 2%), or null when empty. */
  quantile(q: number): number | null {
    return LatencyHistogram.BINS.quantile(this.counts, q);
  }
}

/** How often the scheduler wakes, ms: requests due since the last wake leave together. */
const TICK_MS = 2;

/** Starts the load at once. */
export function startTraffic(options: TrafficOptions): Traffic {
  const rps = options.rps;
  if (!(rps > 0)) throw new RangeError('traffic: rps must be > 0');
  const maxInFlight = options.maxInFlight ?? Math.max(64, Math.ceil(rps / 4));
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  const mix = interleave((options.paths ?? ['/']).map((p) => (typeof p === 'string' ? { path: p } : p)));
  const pool = new Pool(options.origin, {
    connections: maxInFlight,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  const buckets: Bucket[] = [];
  const bucket = (s: number): Bucket => (buckets[s] ??= { sent: 0, ok: 0, failed: 0, http5xx: 0, errors: 0, notSent: 0, latencies: [], p50Ms: null, p99Ms: null });
  const histogram = new LatencyHistogram();
  /** Seconds before this one have every answer in (or timed out) and hold quantiles only. */
  let settled = 0;
  const settle = (b: Bucket) => {
    if (!b.latencies) return;
    b.latencies.sort((x, y) => x - y);
    b.p50Ms = quantile(b.latencies, 0.5);
    b.p99Ms = quantile(b.latencies, 0.99);
    b.latencies = null;
  };
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const done = (b: Bucket) => {
    inFlight--;
    if (inFlight === 0 && drained) drained();
    return b;
  };

  // Request i is due at t(i) ms: n(t) = rps·t²/2ramp during the ramp, rps·(t − ramp/2) after it.
  const ramp = Math.max(0, options.rampMs ?? 0);
  const inRamp = (rps * ramp) / 2000;
  const dueCount = (t: number) => Math.floor(t < ramp ? (rps * t * t) / (2000 * ramp) : (rps * (t - ramp / 2)) / 1000);
  const dueAt = (i: number) => (i < inRamp ? Math.sqrt((2000 * ramp * i) / rps) : (1000 * i) / rps + ramp / 2);

  /** A request that could not be sent in time. */
  const drop = (i: number) => {
    const b = bucket(Math.floor(dueAt(i) / 1000));
    b.sent++;
    b.failed++;
    b.notSent++;
  };
  const fire = (i: number) => {
    const b = bucket(Math.floor(dueAt(i) / 1000));
    b.sent++;
    inFlight++;
    const p = mix[i % mix.length];
    const t0 = performance.now();
    pool.request({ path: p.path, method: 'GET', headers: p.headers }).then(
      async ({ statusCode, body }) => {
        try {
          await body.dump();
        } catch {
          done(b);
          b.failed++;
          b.errors++;
          return;
        }
        const ms = performance.now() - t0;
        done(b).latencies?.push(ms);
        histogram.add(ms);
        if (statusCode >= 500) {
          b.failed++;
          b.http5xx++;
        } else {
          b.ok++;
        }
      },
      () => {
        done(b);
        b.failed++;
        b.errors++;
      },
    );
  };

  const startedAt = Date.now();
  const start = performance.now();
  let scheduled = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = performance.now() - start;
    const due = dueCount(now);
    while (scheduled < due) {
      if (inFlight < maxInFlight) fire(scheduled++);
      else if (now - dueAt(scheduled) > maxDelayMs) drop(scheduled++);
      else break;
    }
    // A second settles once its last request is past sending and answering (bounded memory).
    while (settled < buckets.length && (settled + 1) * 1000 + maxDelayMs + 2 * timeoutMs + 1000 < now) settle(bucket(settled++));
    timer = setTimeout(tick, TICK_MS);
  };
  tick();

  const totals = (): TrafficTotals => {
    let sent = 0, ok = 0, failed = 0, http5xx = 0, errors = 0, notSent = 0;
    for (const b of buckets) {
      if (!b) continue;
      sent += b.sent;
      ok += b.ok;
      failed += b.failed;
      http5xx += b.http5xx;
      errors += b.errors;
      notSent += b.notSent;
    }
    return { sent, ok, failed, http5xx, transportErrors: errors, notSent, inFlight, p50Ms: histogram.quantile(0.5), p99Ms: histogram.quantile(0.99) };
  };

  let stopped: Promise<TrafficTotals> | undefined;
  return {
    startedAt,
    timeline() {
      const out: TrafficSecond[] = [];
      for (let s = 0; s < buckets.length; s++) {
        const b = bucket(s);
        const sorted = b.latencies ? [...b.latencies].sort((x, y) => x - y) : null;
        out.push({ second: s, at: startedAt + s * 1000, sent: b.sent, ok: b.ok, failed: b.failed, p50Ms: sorted ? quantile(sorted, 0.5) : b.p50Ms, p99Ms: sorted ? quantile(sorted, 0.99) : b.p99Ms });
      }
      return out;
    },
    totals,
    stop(drainMs = 2000) {
      stopped ??= (async () => {
        clearTimeout(timer);
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, drainMs);
            drained = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        await pool.destroy();
        return totals();
      })();
      return stopped;
    },
  };
}

/** The paths in a cycle where each appears `weight` times, spread out (smooth weighted round-robin). */
function interleave(paths: readonly TrafficPath[]): TrafficPath[] {
  if (paths.length === 0) throw new RangeError('traffic: paths must not be empty');
  const weights = paths.map((p) => Math.max(0, Math.round(p.weight ?? 1)));
  const total = weights.reduce((s, w) => s + w, 0);
  if (total === 0) throw new RangeError('traffic: every path has weight 0');
  const current = weights.map(() => 0);
  const out: TrafficPath[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let i = 0; i < paths.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push(paths[best]);
  }
  return out;
}

/** The q-quantile of sorted values (nearest rank), or null. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
