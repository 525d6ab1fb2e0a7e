/**
 * The webhook notifier. `notify()` only enqueues and returns: the caller (the monitor loop,
 * next to the data plane) never waits for a slow or failing receiver. Each webhook has its own
 * bounded queue and one request in flight, so one dead receiver delays no other and alerts to
 * one receiver keep their order (a resolution never overtakes its firing). Failures are
 * retried with exponential backoff and jitter; when a queue is full the oldest notice is
 * dropped and counted, since the newest state of an alert is the one worth delivering.
 */
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
}

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
    this.lanes = targets.map((target) => ({ target, queue: [], busy: false }));
    this.o = { maxQueue: 100, maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000, random: Math.random, ...options };
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
    this.wake();
  }

  private async drain(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (!this.closed && lane.queue.length) {
        const notice = lane.queue.shift() as AlertNotice;
        const result = await this.deliver(lane.target, notice);
        if (result.delivered) this.counts.delivered++;
        else this.counts.failed++;
        this.o.onResult?.(result);
      }
    } finally {
      lane.busy = false;
      this.wake();
    }
  }

  private async deliver(target: WebhookTarget, notice: AlertNotice): Promise<DeliveryResult> {
    const body = JSON.stringify(formatNotice(notice, target.format));
    let error = '';
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt++) {
      if (this.closed) return { url: target.url, id: notice.id, status: notice.status, delivered: false, attempts: attempt - 1, error: 'notifier closed' };
      const outcome = await this.post(target.url, body);
      if (outcome.ok) return { url: target.url, id: notice.id, status: notice.status, delivered: true, attempts: attempt };
      error = outcome.error;
      if (!outcome.retry || attempt === this.o.maxAttempts) return { url: target.url, id: notice.id, status: notice.status, delivered: false, attempts: attempt, error };
      const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + this.o.random() / 2);
      await this.sleep(delay);
    }
    return { url: target.url, id: notice.id, status: notice.status, delivered: false, attempts: this.o.maxAttempts, error };
  }

  private async post(url: string, body: string): Promise<{ ok: true } | { ok: false; retry: boolean; error: string }> {
    const controller = new AbortController();
    this.inflight.add(controller);
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'evenkeel-alerts' }, body, signal: controller.signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      // 408, 429 and 5xx are the receiver's temporary trouble; other 4xx will not get better.
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      return { ok: false, retry, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, retry: true, error: controller.signal.aborted ? 'timed out or aborted' : (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.inflight.delete(controller);
    }
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
