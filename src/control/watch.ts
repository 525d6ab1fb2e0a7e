/**
 * The third line of defence (DESIGN.md): the monitors, run continuously in the primary. Every
 * `intervalMs` the watch refreshes the monitors' targets (expected shares from the weights and
 * health the data plane serves now), evaluates them, and acts on each transition:
 *
 * - `alert.fired` / `alert.resolved` in the journal, with the transition's id, figures and
 *   observed shares (what the incident report reads), and the traffic counters;
 * - a notice to every `alerts.webhooks` receiver (the notifier only enqueues: never blocks);
 * - on a fire within `guardrails.rollout.bakeTime` after the active version was applied, with
 *   `guardrails.rollback.auto` on, a rollback to the last known-good version through the
 *   change manager (journalled as `rollback.auto`); outside the bake window, an alert only.
 *
 * While a config canary runs, the responses it served feed monitors of their own, and every
 * tick judges that slice against the active one (telemetry/monitors/canary.ts): an `abort`
 * ends the canary with nothing else touched (and notifies the webhooks), a `promote` makes
 * the candidate the active version, whose bake window then starts.
 *
 * The clock is injected (tests), and a tick never overlaps the one before it.
 */
import type { Config } from '../config/schema.js';
import { formatAge } from '../core/index.js';
import { judgeCanary, Monitors, thresholdsFromConfig, type AlertTransition, type MonitorThresholds } from '../telemetry/monitors/index.js';
import { noticeFrom, WebhookNotifier } from './alerts/index.js';
import type { ChangeManager } from './changes.js';
import { TrafficFeed } from './feed.js';
import type { Plane } from './plane.js';
import { summarizeDiff } from './report/diff.js';
import type { ConfigStore, ConfigVersion } from './store/index.js';

/** What the watch needs from the instance. */
export interface WatchDeps {
  readonly store: ConfigStore;
  readonly plane: Plane;
  readonly changes: () => ChangeManager;
  /** The config serving now. */
  readonly config: () => Config;
  /** True when the data plane runs in workers: responses are read from the aggregated metrics. */
  readonly cluster?: boolean;
  /** Names this instance in notices (the admin address). */
  readonly instance?: string;
  readonly now?: () => number;
  /** Evaluation period [250 ms]: an alert, and the rollback it may start, come at most this late. */
  readonly intervalMs?: number;
  readonly log?: (message: string) => void;
}

/** One firing alert as status shows it. */
export interface FiringAlert {
  id: string;
  monitor: string;
  pool: string;
  backend: string | null;
  since: string;
  value: number;
  threshold: number;
  summary: string;
}

/** What to do about a fire. */
interface Decision {
  action: string;
  rollbackTo?: ConfigVersion;
  diff?: string;
  /** When the active version was applied. */
  appliedAt?: number;
}

/** Runs the monitors against live traffic and acts on what they find. */
export class AlertWatch {
  private monitors: Monitors;
  /** The running canary's slice, and the version it belongs to. */
  private canary: { version: number; monitors: Monitors } | undefined;
  private thresholds: MonitorThresholds;
  private notifier: WebhookNotifier;
  private hooks: string;
  private readonly feed: TrafficFeed;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly deps: WatchDeps) {
    this.now = deps.now ?? Date.now;
    const config = deps.config();
    this.thresholds = thresholdsFromConfig(config);
    this.monitors = new Monitors(this.thresholds);
    this.hooks = JSON.stringify(config.alerts.webhooks);
    this.notifier = this.newNotifier(config);
    const sink = (pool: string, backend: string | null, status: number, ms: number, now: number, canary: boolean) => (canary ? this.canary?.monitors : this.monitors)?.record(pool, backend, status, ms, now);
    this.feed = new TrafficFeed(sink, this.now, deps.cluster ? () => deps.plane.metricsText() : undefined);
  }

  /** Starts the timer (unref'd: it never keeps the process alive). */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? 250);
    this.timer.unref();
  }

  /** One evaluation; exported for tests. Never throws (errors are logged). */
  tick(): Promise<void> {
    if (this.running || this.closed) return this.running ?? Promise.resolve();
    this.running = this.evaluate().catch((err: Error) => this.deps.log?.(`monitors: ${err.message}`)).finally(() => (this.running = undefined));
    return this.running;
  }

  /** The alerts firing now. */
  firing(): FiringAlert[] {
    return this.monitors.firing().map((a) => ({ id: a.id, monitor: a.monitor, pool: a.pool, backend: a.backend, since: new Date(a.firedAt).toISOString(), value: a.value, threshold: a.threshold, summary: a.summary }));
  }

  /** Cumulative traffic counters (also journalled on change events). */
  counters(): Record<string, unknown> {
    return { ...this.feed.counters() };
  }

  /** `evenkeel_alerts_firing{monitor,pool}` in Prometheus text format. */
  metricsText(): string {
    const n = new Map<string, number>();
    for (const a of this.monitors.firing()) {
      const k = `monitor="${esc(a.monitor)}",pool="${esc(a.pool)}"`;
      n.set(k, (n.get(k) ?? 0) + 1);
    }
    let out = '# HELP evenkeel_alerts_firing Alerts firing now, by monitor and pool\n# TYPE evenkeel_alerts_firing gauge\n';
    for (const [k, v] of n) out += `evenkeel_alerts_firing{${k}} ${v}\n`;
    return out;
  }

  /** Stops the timer and the feed, and waits for a tick in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.feed.close();
    this.notifier.close();
  }

  private async evaluate(): Promise<void> {
    await this.feed.poll();
    const config = this.deps.config();
    this.sync(config);
    this.monitors.setTargets(this.deps.plane.backends());
    for (const t of this.monitors.evaluate(this.now())) await this.handle(t, config);
    await this.judgeCanary();
  }

  /** Judges a running canary's slice against the active one; aborts or promotes it when the verdict is in. */
  private async judgeCanary(): Promise<void> {
    const changes = this.deps.changes();
    const c = changes.canary;
    if (!c) {
      this.canary = undefined;
      return;
    }
    if (this.canary?.version !== c.version.id) {
      // Fresh counts for each canary (the first tick loses at most one interval of its responses).
      this.canary = { version: c.version.id, monitors: new Monitors(this.thresholds) };
      return;
    }
    const now = this.now();
    const targets = this.deps.plane.canaryBackends();
    this.canary.monitors.setTargets(targets);
    const verdict = judgeCanary({ canary: this.canary.monitors.snapshot(now), active: this.monitors.snapshot(now), canaryTargets: targets, thresholds: this.thresholds, elapsedMs: now - c.startedAt, durationMs: c.durationMs });
    c.verdict = verdict;
    if (verdict.decision === 'promote') {
      await changes.promoteCanary(c.version.id, verdict);
      this.deps.log?.(`canary v${c.version.id} promoted: ${verdict.summary}`);
    } else if (verdict.decision === 'abort') {
      const active = changes.active;
      await changes.abortCanary(c.version.id, { by: 'evenkeel', summary: verdict.summary, reasons: verdict.reasons, requests: verdict.canaryRequests });
      const action = `aborted canary v${c.version.id}; still serving v${active.id}`;
      this.deps.log?.(`canary v${c.version.id} aborted: ${verdict.summary}`);
      const previous = await this.deps.store.get(c.previous);
      const diff = previous ? summarizeDiff(previous.text, c.version.text) : undefined;
      for (const r of verdict.reasons) {
        const t: AlertTransition = { kind: 'fire', id: `canary:${c.version.id}:${r.monitor}:${r.pool}:${r.backend ?? ''}`, monitor: r.monitor, pool: r.pool, backend: r.backend, time: now, firedAt: now, value: r.value, threshold: r.threshold, figures: { value: r.value, threshold: r.threshold }, shares: {}, summary: r.summary };
        this.notifier.notify(noticeFrom(t, { version: c.version.id, hash: c.version.hash.slice(0, 12), diff, action, instance: this.deps.instance }));
      }
    }
  }

  /** New thresholds start fresh monitors; new webhooks a new notifier. */
  private sync(config: Config): void {
    const th = thresholdsFromConfig(config);
    if (JSON.stringify(th) !== JSON.stringify(this.thresholds)) {
      this.thresholds = th;
      this.monitors = new Monitors(th);
    }
    const hooks = JSON.stringify(config.alerts.webhooks);
    if (hooks !== this.hooks) {
      this.notifier.close();
      this.hooks = hooks;
      this.notifier = this.newNotifier(config);
    }
  }

  private newNotifier(config: Config): WebhookNotifier {
    const log = this.deps.log;
    return new WebhookNotifier(config.alerts.webhooks, { onResult: (r) => (r.delivered ? undefined : log?.(`alert ${r.id} (${r.status}) not delivered to ${r.url}: ${r.error ?? 'unknown error'}`)) });
  }

  private async handle(t: AlertTransition, config: Config): Promise<void> {
    const active = this.deps.changes().active;
    const data = { id: t.id, monitor: t.monitor, pool: t.pool, backend: t.backend, value: t.value, threshold: t.threshold, figures: t.figures, shares: t.shares, summary: t.summary, firedAt: t.firedAt, counters: this.feed.counters() };
    const ctx = { version: active.id, hash: active.hash.slice(0, 12), instance: this.deps.instance };
    if (t.kind === 'resolve') {
      await this.deps.store.appendEvent({ type: 'alert.resolved', version: active.id, time: t.time, data });
      this.notifier.notify(noticeFrom(t, { ...ctx, action: 'resolved' }));
      this.deps.log?.(`alert resolved: ${t.summary}`);
      return;
    }
    const d = await this.decide(config, active, t.time);
    await this.deps.store.appendEvent({ type: 'alert.fired', version: active.id, time: t.time, data: { ...data, action: d.action } });
    this.deps.log?.(`alert fired: ${t.summary}; ${d.action}`);
    let action = d.action;
    if (d.rollbackTo) {
      const reason = `${t.monitor} fired on pool ${t.pool} ${formatAge(t.time - (d.appliedAt ?? t.time))} after version ${active.id} was applied (inside the bake window): ${t.summary}`;
      try {
        await this.deps.changes().rollback({ to: d.rollbackTo.id, reason, author: 'evenkeel', auto: { monitor: t.monitor, alert: t.id, expectFrom: active.id } });
      } catch (err) {
        action = `automatic rollback to v${d.rollbackTo.id} failed (${(err as Error).message}); alerted only`;
        this.deps.log?.(action);
      }
    }
    this.notifier.notify(noticeFrom(t, { ...ctx, diff: d.diff, action }));
  }

  /** Rolls back inside the bake window of an applied change (auto on, an older known-good version); alerts otherwise. */
  private async decide(config: Config, active: ConfigVersion, now: number): Promise<Decision> {
    const applied = (await this.deps.store.events({ type: 'config.applied', version: active.id })).at(-1);
    const previous = typeof applied?.data.previous === 'number' ? await this.deps.store.get(applied.data.previous) : undefined;
    const diff = previous ? summarizeDiff(previous.text, active.text) : undefined;
    const bake = config.guardrails.rollout.bakeTime;
    if (!applied || applied.data.author === 'initial' || now - applied.time > bake) return { action: `alerted only (outside the ${formatAge(bake)} bake window of version ${active.id})`, diff };
    if (!config.guardrails.rollback.auto) return { action: 'alerted only (guardrails.rollback.auto is off)', diff };
    const lkg = await this.deps.store.lastKnownGood();
    if (!lkg || lkg.id === active.id) return { action: 'alerted only (no older known-good version to roll back to)', diff };
    return { action: `rolled back to v${lkg.id}`, rollbackTo: lkg, diff, appliedAt: applied.time };
  }
}

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
