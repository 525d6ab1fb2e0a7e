/**
 * The webhook notifier. `notify()` only enqueues and returns: the caller (the monitor loop,
 * next to the data plane) never waits for a slow or failing receiver. Each webhook has its own
 * bounded queue and one request in flight, so one dead receiver delays no other and alerts to
 * one receiver keep their order (a resolution never overtakes its firing). Failures are
 * retried by undici's RetryAgent (one per receiver, so each has its own connections), with
 * our policy in its `retry` hook: 408, 429, 5xx and network errors or timeouts are retried,
 * after the receiver's Retry-After or an exponential backoff with jitter, at most
 * `maxAttempts` times; other statuses are final. When a queue is full the oldest notice is
 * dropped and counted, since the newest state of an alert is the one worth delivering.
 */
import { Agent, request, RetryAgent } from 'undici';
import { formatNotice, type WebhookFormat } from './format.js';
import type { AlertNotice } from './notice.js';

/** One receiver (alerts.webhooks[] of the config). */
export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

/** Tuning; the defaults suit a chat or paging webhook. */
export interface NotifierOptions {
  /** Notices waiting per webhook before the oldest is dropped [100]. */
  maxQueue?: number;
  /** Attempts per notice, the first included [6]. */
  maxAttempts?: number;
  /** First retry delay; doubled each attempt [500 ms]. */
  baseDelayMs?: number;
  /** Cap on one retry delay [30 s]. */
  maxDelayMs?: number;
  /** Timeout of one request [5 s]. */
  timeoutMs?: number;
  /** Jitter source (tests pass a seeded one). */
  random?: () => number;
  /** Called after each notice is delivered or given up on (for logs and metrics). */
  onResult?: (r: DeliveryResult) => void;
}

/** The outcome of one notice to one webhook. */
export interface DeliveryResult {
  url: string;
  id: string;
  status: AlertNotice['status'];
  delivered: boolean;
  attempts: number;
  /** The last HTTP status or error message when not delivered. */
  error?: string;
}

/** Counters over the notifier's life. */
export interface NotifierStats {
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
}

interface Lane {
  target: WebhookTarget;
  /** Waiting notices (the one being delivered is not among them). */
  queue: AlertNotice[];
  busy: boolean;
  /** This receiver's connections, with the retry policy on top. */
  agent: Agent;
  retrying: RetryAgent;
  /** Attempts made for the notice in flight (the retry hook counts them). */
  attempts: number;
}

/** Statuses worth another attempt: the receiver's temporary trouble; other 4xx will not get better. */
const RETRY_STATUSES = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/** Sends alert notices to webhooks without ever blocking the caller. */
export class WebhookNotifier {
  private readonly lanes: Lane[];
  private readonly o: Required<Omit<NotifierOptions, 'onResult'>> & Pick<NotifierOptions, 'onResult'>;
  private readonly counts = { delivered: 0, failed: 0, dropped: 0 };
  private readonly waiters: (() => void)[] = [];
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly inflight = new Set<AbortController>();
  private closed = false;

  constructor(targets: readonly WebhookTarget[], options: NotifierOptions = {}) {
    this.o = { maxQueue: 100, maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000, random: Math.random, ...options };
    const t = this.o.timeoutMs;
    this.lanes = targets.map((target) => {
      // Timeouts per attempt: connecting, the answer's head, and each pause in its body.
      const agent = new Agent({ connectTimeout: t, headersTimeout: t, bodyTimeout: t, connections: 1 });
      const lane: Lane = { target, queue: [], busy: false, agent, attempts: 0, retrying: undefined as unknown as RetryAgent };
      lane.retrying = new RetryAgent(agent, { statusCodes: RETRY_STATUSES, retry: (err, { state }, cb) => this.retry(lane, err, state.counter, cb) });
      return lane;
    });
  }

  /** The receivers' URLs. */
  urls(): string[] {
    return this.lanes.map((l) => l.target.url);
  }

  /** Enqueues `notice` for every webhook (but those in `skip`) and returns at once. */
  notify(notice: AlertNotice, skip?: ReadonlySet<string>): void {
    if (this.closed) return;
    for (const lane of this.lanes) {
      if (skip?.has(lane.target.url)) continue;
      lane.queue.push(notice);
      if (lane.queue.length > this.o.maxQueue) {
        lane.queue.shift();
        this.counts.dropped++;
      }
      if (!lane.busy) void this.drain(lane);
    }
  }

  /** Counters so far. */
  stats(): NotifierStats {
    return { queued: this.lanes.reduce((n, l) => n + l.queue.length + (l.busy ? 1 : 0), 0), ...this.counts };
  }

  /** Resolves when every queue is empty and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops: pending notices are dropped, requests in flight aborted, retry timers cleared. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes) {
      this.counts.dropped += lane.queue.length;
      lane.queue.length = 0;
    }
    // Wake sleeping retries so their loops see `closed` and finish.
    for (const [t, resolve] of this.timers) (clearTimeout(t), resolve());
    this.timers.clear();
    for (const c of this.inflight) c.abort();
    for (const lane of this.lanes) void lane.retrying.destroy().catch(() => undefined);
    this.wake();
  }

  private async drain(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (!this.closed && lane.queue.length) {
        const notice = lane.queue.shift() as AlertNotice;
        const result = await this.deliver(lane, notice);
        if (result.delivered) this.counts.delivered++;
        else this.counts.failed++;
        this.o.onResult?.(result);
      }
    } finally {
      lane.busy = false;
      this.wake();
    }
  }

  private async deliver(lane: Lane, notice: AlertNotice): Promise<DeliveryResult> {
    const target = lane.target;
    const result = (delivered: boolean, error?: string): DeliveryResult => ({ url: target.url, id: notice.id, status: notice.status, delivered, attempts: lane.attempts, ...(error === undefined ? {} : { error }) });
    lane.attempts = 0;
    if (this.closed) return result(false, 'notifier closed');
    const body = JSON.stringify(formatNotice(notice, target.format));
    const controller = new AbortController();
    this.inflight.add(controller);
    try {
      lane.attempts = 1;
      const res = await request(target.url, { dispatcher: lane.retrying, method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'evenkeel-alerts' }, body, signal: controller.signal });
      await res.body.dump().catch(() => undefined);
      return res.statusCode >= 200 && res.statusCode < 300 ? result(true) : result(false, `HTTP ${res.statusCode}`);
    } catch (err) {
      const e = err as Error & { statusCode?: number };
      if (this.closed) return result(false, 'notifier closed');
      return result(false, e.statusCode ? `HTTP ${e.statusCode}` : controller.signal.aborted ? 'aborted' : e.message);
    } finally {
      this.inflight.delete(controller);
    }
  }

  /**
   * RetryAgent's hook after failed attempt `counter` (1 = the first): `cb()` sends the next
   * attempt, `cb(err)` gives up with that error.
   */
  private retry(lane: Lane, err: Error, counter: number, cb: (err?: Error | null) => void): void {
    const e = err as Error & { statusCode?: number; code?: string; headers?: Record<string, string | string[] | undefined> };
    // Our own abort (close) is final; a 4xx other than 408/429 never reaches here (not in statusCodes).
    if (this.closed || e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED' || counter >= this.o.maxAttempts) return cb(err);
    const backoff = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (counter - 1)) * (0.5 + this.o.random() / 2);
    const after = retryAfterMs(e.headers?.['retry-after']);
    void this.sleep(after === undefined ? backoff : Math.min(this.o.maxDelayMs, after)).then(() => {
      if (this.closed) return cb(err);
      lane.attempts = counter + 1;
      cb(null);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      // A pending retry must not keep a CLI or a test process alive.
      t.unref();
      this.timers.set(t, resolve);
    });
  }

  private isIdle(): boolean {
    return this.lanes.every((l) => !l.busy && l.queue.length === 0);
  }

  private wake(): void {
    if (!this.isIdle()) return;
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from now; undefined when absent or unreadable. */
function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s.trim() === '') return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim()) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
