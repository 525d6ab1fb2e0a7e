/**
 * GET /api/v1/stream: the dashboard's live feed as server-sent events (EventSource cannot send
 * an Authorization header, so the session cookie authorizes it; see session.ts).
 *
 * One timer serves every open stream: each second it samples the traffic counters into a ring
 * of the last 5 minutes, reads the status once, tails the journal once, and writes the same
 * bytes to every stream. A stream gets, in order:
 *
 * - on connect: `history` (the whole ring, so a freshly opened page shows the last 5 minutes),
 *   `status`, and the recent journal as `event`s (after `Last-Event-ID` when the browser
 *   reconnects, so nothing is missed or repeated);
 * - every second: `status` and `sample` (the newest point of the ring);
 * - each new journal entry as an `event`, with the entry's id as the SSE id;
 * - a comment line every 15 s, so proxies and idle timers keep the connection open.
 *
 * Streams are bounded (a 503 past the limit), a slow reader is dropped rather than buffered
 * without end, and a disconnect frees the stream at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ring } from '../core/index.js';
import { round } from '../core/index.js';
import type { ConfigStore, StoreEvent } from './store/index.js';

/** One second of traffic: requests/s, failed (5xx) requests/s and their ratio. */
export interface RatePoint {
  /** End of the second, milliseconds since the epoch. */
  t: number;
  rps: number;
  /** 5xx responses per second. */
  eps: number;
  /** eps / rps, 0 without traffic. */
  errorRate: number;
}

/** Where the stream's data comes from. */
export interface StreamSources {
  status(): Promise<unknown>;
  /** Cumulative requests and 5xx since the instance started (the monitors' counters). */
  counters(): { requests?: unknown; failed?: unknown } | undefined;
  readonly store: ConfigStore;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
}

/** Tunables; the defaults are what serve uses. */
export interface StreamOptions {
  /** Seconds of history kept [300]. */
  historySeconds?: number;
  /** Open streams allowed at once [32]. */
  maxStreams?: number;
  /** Tick period [1000 ms]. */
  intervalMs?: number;
  /** Comment-line period [15 s]. */
  heartbeatMs?: number;
  /** Journal entries replayed to a new stream [50]. */
  replayEvents?: number;
}

/** Bytes a stream may have queued before it counts as a stalled reader and is dropped. */
const MAX_BUFFERED = 1024 * 1024;

/** The live feed behind GET /api/v1/stream. */
export class LiveStream {
  private readonly ring: Ring<RatePoint>;
  private readonly clients = new Set<ServerResponse>();
  private readonly now: () => number;
  private readonly maxStreams: number;
  private readonly replay: number;
  private readonly timer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  private last: { t: number; requests: number; failed: number } | undefined;
  private lastEventId = 0;
  private tailReady: Promise<void>;
  private status: unknown;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly sources: StreamSources, options: StreamOptions = {}) {
    this.now = sources.now ?? Date.now;
    this.ring = new Ring(options.historySeconds ?? 300);
    this.maxStreams = options.maxStreams ?? 32;
    this.replay = options.replayEvents ?? 50;
    this.sample();
    // Only entries written from now on are news; older ones are replayed per stream on connect.
    this.tailReady = this.latestEventId().then((id) => void (this.lastEventId = Math.max(this.lastEventId, id)), (err: Error) => this.sources.log?.(`stream: ${err.message}`));
    this.timer = setInterval(() => void this.tick(), options.intervalMs ?? 1000);
    this.timer.unref();
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** The request and error rates of the last `historySeconds`, oldest first. */
  history(): RatePoint[] {
    return this.ring.toArray();
  }

  /** Starts an event stream on `res`; false (nothing written) when the limit is reached. */
  async open(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (this.closed || this.clients.size >= this.maxStreams) return false;
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    // A browser reconnects after 2 s when the stream breaks (serve restarted, network blip).
    res.write(`retry: 2000\n\n${frame('history', { seconds: this.ring.capacity, points: this.ring.toArray() })}`);
    await this.tailReady;
    const status = this.status ?? (await this.sources.status().catch(() => undefined));
    if (status !== undefined) res.write(frame('status', status));
    const resume = Number(req.headers['last-event-id']);
    const after = Number.isInteger(resume) && resume >= 0 ? resume : Math.max(0, this.lastEventId - this.replay);
    const recent = await this.sources.store.events({ afterId: after, limit: this.replay }).catch(() => []);
    if (this.clients.has(res)) for (const e of recent) if (e.id <= this.lastEventId) res.write(eventFrame(e));
    return true;
  }

  /** Ends every stream and stops the timers. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    await this.running;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  /** One period: sample, then (with streams open) status, and the journal's news. */
  tick(): Promise<void> {
    if (this.running || this.closed) return this.running ?? Promise.resolve();
    this.running = this.run().catch((err: Error) => this.sources.log?.(`stream: ${err.message}`)).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const point = this.sample();
    await this.tailReady;
    const news = await this.sources.store.events({ afterId: this.lastEventId, limit: 500 });
    if (news.length > 0) this.lastEventId = news[news.length - 1].id;
    if (this.clients.size === 0) {
      this.status = undefined;
      return;
    }
    this.status = await this.sources.status();
    let out = frame('status', this.status);
    if (point) out += frame('sample', point);
    for (const e of news) out += eventFrame(e);
    this.broadcast(out);
  }

  /** Records the counters' increase since the last sample as one point of the ring. */
  private sample(): RatePoint | undefined {
    const c = this.sources.counters();
    const t = this.now();
    const requests = typeof c?.requests === 'number' ? c.requests : 0;
    const failed = typeof c?.failed === 'number' ? c.failed : 0;
    const before = this.last;
    this.last = { t, requests, failed };
    if (!before) return undefined;
    const seconds = Math.max(0.001, (t - before.t) / 1000);
    const dr = Math.max(0, requests - before.requests);
    const df = Math.max(0, failed - before.failed);
    const point: RatePoint = { t, rps: round(dr / seconds, 2), eps: round(df / seconds, 2), errorRate: dr > 0 ? round(df / dr, 4) : 0 };
    this.ring.push(point);
    return point;
  }

  private broadcast(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  private async latestEventId(): Promise<number> {
    let id = 0;
    // The journal has no "newest first" query: page forward from the start (once, at start-up).
    for (;;) {
      const page = await this.sources.store.events({ afterId: id, limit: 5000 });
      if (page.length === 0) return id;
      id = page[page.length - 1].id;
    }
  }
}

/** One SSE message. JSON never contains a raw newline, so one `data:` line suffices. */
function frame(event: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventFrame(e: StoreEvent): string {
  return frame('event', { ...e, time: new Date(e.time).toISOString() }, e.id);
}
