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
import { Gauge, Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { addressKey } from '../core/index.js';
import { formatAge } from '../core/index.js';
import type { BackendSnapshot } from '../telemetry/index.js';
import { healthConditions, judgeCanary, Monitors, thresholdsFromConfig, type AlertTransition, type HealthBackend, type MonitorThresholds } from '../telemetry/monitors/index.js';
import { noticeFrom, WebhookNotifier } from './alerts/index.js';
import type { ChangeManager } from './changes.js';
import { TrafficFeed } from './feed.js';
import type { Plane } from './plane.js';
import { summarizeDiff } from './report/diff.js';
import type { ConfigStore, ConfigVersion } from './store/index.js';
import { touchedWhy } from './touched.js';

/** What the watch needs from the instance. */
export interface WatchDeps {
  readonly store: ConfigStore;
  readonly plane: Plane;
  readonly changes: () => ChangeManager;
  /** The config serving now. */
  readonly config: () => Config;
  /** True when the data plane runs outside this process (workers, HAProxy): responses are polled from the plane's counters. */
  readonly cluster?: boolean;
  /** Names this instance in notices (the admin address). */
  readonly instance?: string;
  readonly now?: () => number;
  /** Evaluation period [250 ms]: an alert, and the rollback it may start, come at most this late. */
  readonly intervalMs?: number;
  readonly log?: (message: string) => void;
  /** The active health checker's verdict for an address (undefined: not checked), to say why a backend is down. */
  readonly activeHealth?: (address: string) => boolean | undefined;
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
  /** The notifier each firing alert was announced through: its resolution goes there too. */
  private readonly announced = new Map<string, WebhookNotifier>();
  /** Notifiers of earlier webhook configs, kept until their alerts resolve and their queues drain. */
  private readonly retired = new Set<WebhookNotifier>();
  private hooks: string;
  private readonly feed: TrafficFeed;
  /** Each backend's last seen usability and since when (pool NUL backend), for backend.down / backend.up. */
  private readonly seen = new Map<string, { up: boolean; since: number }>();
  /** Health alerts firing now, by condition key. */
  private readonly healthFiring = new Map<string, AlertTransition>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  /** The alerts gauge's own registry: the monitors run in the primary, beside the data plane's metrics. */
  private readonly registry = new Registry();

  constructor(private readonly deps: WatchDeps) {
    this.now = deps.now ?? Date.now;
    const self = this;
    new Gauge({ name: 'evenkeel_alerts_firing', help: 'Alerts firing now, by monitor and pool', labelNames: ['monitor', 'pool'], registers: [this.registry],
      collect() {
        this.reset();
        for (const a of self.allFiring()) this.inc({ monitor: a.monitor, pool: a.pool });
      } });
    const config = deps.config();
    this.thresholds = thresholdsFromConfig(config);
    this.monitors = new Monitors(this.thresholds);
    this.hooks = JSON.stringify(config.alerts.webhooks);
    this.notifier = this.newNotifier(config);
    const sink = (pool: string, backend: string | null, status: number, ms: number, now: number, canary: boolean, count: number) => (canary ? this.canary?.monitors : this.monitors)?.record(pool, backend, status, ms, now, count);
    this.feed = new TrafficFeed(sink, this.now, deps.cluster ? () => deps.plane.requestCounts() : undefined);
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
    return this.allFiring().map((a) => ({ id: a.id, monitor: a.monitor, pool: a.pool, backend: a.backend, since: new Date(a.firedAt).toISOString(), value: a.value, threshold: a.threshold, summary: a.summary }));
  }

  /** Cumulative traffic counters (also journalled on change events). */
  counters(): Record<string, unknown> {
    return { ...this.feed.counters() };
  }

  /** `evenkeel_alerts_firing{monitor,pool}` (and nothing else of this registry) in Prometheus text format. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  private allFiring(): AlertTransition[] {
    return [...this.monitors.firing(), ...this.healthFiring.values()];
  }

  /** Stops the timer and the feed, and waits for a tick in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.feed.close();
    this.notifier.close();
    for (const r of this.retired) r.close();
  }

  private async evaluate(): Promise<void> {
    await this.feed.poll();
    const config = this.deps.config();
    for (const t of this.sync(config)) await this.handle(t, config);
    const backends = this.deps.plane.backends();
    this.monitors.setTargets(backends);
    for (const t of this.monitors.evaluate(this.now())) await this.handle(t, config);
    await this.watchHealth(config, backends);
    await this.judgeCanary();
  }

  /**
   * Health is part of the story: each backend going down or up is journalled once
   * (`backend.down` / `backend.up`: pool, backend, address, reason), and a pool left with half
   * its capacity or less, or a split target with nothing usable, alerts like a monitor.
   */
  private async watchHealth(config: Config, backends: readonly BackendSnapshot[]): Promise<void> {
    const now = this.now();
    const version = this.deps.changes().active.id;
    const present = new Set<string>();
    for (const b of backends) {
      const key = `${b.pool}\u0000${b.backend}`;
      present.add(key);
      const was = this.seen.get(key);
      if (was?.up === b.up) continue;
      this.seen.set(key, { up: b.up, since: now });
      if (!was && b.up) continue;
      const pool = config.pools[b.pool];
      const address = pool?.backends.find((x) => (x.name ?? x.address) === b.backend)?.address;
      const active = address ? this.deps.activeHealth?.(addressKey(address)) : undefined;
      const reason = b.up ? 'usable again' : active === false ? `active health check failing (GET ${pool?.healthCheck?.path ?? '/'})` : 'ejected by passive outlier detection (consecutive failures)';
      await this.deps.store.appendEvent({ type: b.up ? 'backend.up' : 'backend.down', version, time: now, data: { pool: b.pool, backend: b.backend, address: address ?? null, reason, ...(b.up && was ? { downForMs: now - was.since } : {}) } });
      this.deps.log?.(`backend ${b.backend} of pool ${b.pool} ${b.up ? 'up again' : `down: ${reason}`}`);
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);

    const up = new Map(backends.map((b) => [`${b.pool}\u0000${b.backend}`, b.up]));
    const pools = new Map<string, HealthBackend[]>();
    for (const [name, p] of Object.entries(config.pools)) {
      pools.set(name, p.backends.map((b) => ({ name: b.name ?? b.address, weight: b.weight, backup: b.backup, capacity: b.capacity ?? p.capacity, up: up.get(`${name}\u0000${b.name ?? b.address}`) ?? true })));
    }
    const splits = config.listeners.flatMap((l) => (l.routes ?? []).filter((r) => r.split).map((r) => ({ listener: l.name, route: r.name, targets: r.split! })));
    const holding = new Set<string>();
    for (const c of healthConditions(pools, splits)) {
      holding.add(c.key);
      if (this.healthFiring.has(c.key)) continue;
      const t: AlertTransition = { kind: 'fire', id: `health:${c.key}:${now}`, monitor: 'health', pool: c.pool, backend: null, time: now, firedAt: now, value: c.value, threshold: c.threshold, figures: c.figures, shares: {}, summary: c.summary };
      this.healthFiring.set(c.key, t);
      await this.handle(t, config);
    }
    for (const [key, t] of this.healthFiring) {
      if (holding.has(key)) continue;
      this.healthFiring.delete(key);
      await this.handle({ ...t, kind: 'resolve', time: now, summary: `resolved: ${t.summary.replace(/: its requests get 503$|: those requests get 503$/, '')} no longer holds` }, config);
    }
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
    const j = c.judge;
    const verdict = judgeCanary({
      canary: this.canary.monitors.snapshot(now), active: this.monitors.snapshot(now), canaryTargets: targets, activeTargets: this.deps.plane.backends(), thresholds: this.thresholds,
      elapsedMs: now - c.startedAt, durationMs: c.durationMs, maxDurationMs: j.maxDurationMs, touched: j.touched, projectedRps: j.projectedRps, activeProjectedRps: j.activeProjectedRps, drainToOne: j.drainToOne, tooFewRequests: j.tooFewRequests,
    });
    const outcome = await changes.receiveVerdict(c.version.id, verdict);
    if (outcome === 'promoted') {
      this.deps.log?.(`canary v${c.version.id} promoted: ${verdict.summary}`);
    } else if (outcome === 'aborted') {
      const active = changes.active;
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

  /**
   * New thresholds start fresh monitors, and the alerts the old ones had firing are resolved
   * out loud (returned, to be journalled and sent) rather than forgotten; new webhooks a new
   * notifier, while the old one stays until the alerts announced through it have resolved.
   */
  private sync(config: Config): AlertTransition[] {
    const out: AlertTransition[] = [];
    const th = thresholdsFromConfig(config);
    if (JSON.stringify(th) !== JSON.stringify(this.thresholds)) {
      const now = this.now();
      const version = this.deps.changes().active.id;
      for (const a of this.monitors.firing()) out.push({ ...a, kind: 'resolve', time: now, summary: `${a.monitor} on pool ${a.pool} no longer judged as before: version ${version} changed the monitor thresholds` });
      this.thresholds = th;
      this.monitors = new Monitors(th);
    }
    const hooks = JSON.stringify(config.alerts.webhooks);
    if (hooks !== this.hooks) {
      this.retired.add(this.notifier);
      this.hooks = hooks;
      this.notifier = this.newNotifier(config);
      this.releaseRetired();
    }
    return out;
  }

  /** Closes each retired notifier no firing alert still needs, once its queues are empty. */
  private releaseRetired(): void {
    const needed = new Set(this.announced.values());
    for (const r of this.retired) {
      if (needed.has(r)) continue;
      this.retired.delete(r);
      void r.idle().then(() => r.close());
    }
  }

  /**
   * A notifier for the config's webhooks. A notice given up on is logged and journalled
   * (`alert.undelivered`: which alert, where, how many attempts, the last error), so an alert
   * no receiver took is on record; the journal names the receiver by origin only, since a
   * webhook URL's path is often its secret (Slack's are).
   */
  private newNotifier(config: Config): WebhookNotifier {
    const log = this.deps.log;
    return new WebhookNotifier(config.alerts.webhooks, {
      onResult: (r) => {
        if (r.delivered) return;
        const error = r.error ?? 'unknown error';
        log?.(`alert ${r.id} (${r.status}) not delivered to ${r.url}: ${error}`);
        if (this.closed) return;
        const receiver = originOf(r.url);
        const summary = `alert ${r.id} (${r.status}) not delivered to ${receiver} after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}: ${error}`;
        void this.deps.store.appendEvent({ type: 'alert.undelivered', version: this.deps.changes().active.id, time: this.now(), data: { id: r.id, status: r.status, receiver, attempts: r.attempts, error, summary } })
          .catch((err: Error) => log?.(`journal: ${err.message}`));
      },
    });
  }

  private async handle(t: AlertTransition, config: Config): Promise<void> {
    const active = this.deps.changes().active;
    const data = { id: t.id, monitor: t.monitor, pool: t.pool, backend: t.backend, value: t.value, threshold: t.threshold, figures: t.figures, shares: t.shares, summary: t.summary, firedAt: t.firedAt, counters: this.feed.counters() };
    const ctx = { version: active.id, hash: active.hash.slice(0, 12), instance: this.deps.instance };
    if (t.kind === 'resolve') {
      await this.deps.store.appendEvent({ type: 'alert.resolved', version: active.id, time: t.time, data });
      const notice = noticeFrom(t, { ...ctx, action: 'resolved' });
      this.notifier.notify(notice);
      // The receivers that heard it fire hear it resolve, even if a rollback removed them since.
      const heard = this.announced.get(t.id);
      this.announced.delete(t.id);
      if (heard && heard !== this.notifier) heard.notify(notice, new Set(this.notifier.urls()));
      this.releaseRetired();
      this.deps.log?.(`alert resolved: ${t.summary}`);
      return;
    }
    const d = await this.decide(config, active, t.pool, t.time);
    await this.deps.store.appendEvent({ type: 'alert.fired', version: active.id, time: t.time, data: { ...data, action: d.action } });
    this.deps.log?.(`alert fired: ${t.summary}; ${d.action}`);
    let action = d.action;
    if (d.rollbackTo) {
      const reason = `${t.monitor} fired on pool ${t.pool} ${formatAge(t.time - (d.appliedAt ?? t.time))} after version ${active.id} was applied (inside the bake window): ${t.summary}`;
      try {
        const r = await this.deps.changes().rollback({ to: d.rollbackTo.id, reason, author: 'evenkeel', auto: { monitor: t.monitor, alert: t.id, expectFrom: active.id } });
        if (r.webhooks?.removed.length) action += `; v${r.to} does not send alerts to ${r.webhooks.removed.join(', ')}: this alert still resolves there, later ones will not`;
      } catch (err) {
        action = `automatic rollback to v${d.rollbackTo.id} failed (${(err as Error).message}); alerted only`;
        this.deps.log?.(action);
      }
    }
    // Announced through the notifier of the config the alert fired under (a rollback may replace it).
    this.announced.set(t.id, this.notifier);
    this.notifier.notify(noticeFrom(t, { ...ctx, diff: d.diff, action }));
  }

  /**
   * Rolls back inside the bake window of the change that put the active version in (auto on,
   * an older known-good version), and only when the alert can be blamed on that change: its
   * pool, or a route or split leading there, is touched by the change. Alerts otherwise, and
   * says why.
   */
  private async decide(config: Config, active: ConfigVersion, pool: string, now: number): Promise<Decision> {
    const change = this.deps.changes().change;
    const mine = change && change.version === active.id ? change : undefined;
    const previous = mine ? await this.deps.store.get(mine.previous) : undefined;
    const diff = previous ? summarizeDiff(previous.text, active.text) : undefined;
    const bake = config.guardrails.rollout.bakeTime;
    if (!mine || now - mine.appliedAt > bake) return { action: `alerted only (outside the ${formatAge(bake)} bake window of version ${active.id})`, diff };
    if (!config.guardrails.rollback.auto) return { action: 'alerted only (guardrails.rollback.auto is off)', diff };
    const why = touchedWhy(mine.touched, pool);
    if (why === undefined) return { action: `alerted only (not rolled back: v${active.id} did not touch pool ${pool})`, diff };
    const lkg = await this.deps.store.lastKnownGood();
    if (!lkg || lkg.id === active.id) return { action: 'alerted only (no older known-good version to roll back to)', diff };
    return { action: `rolled back to v${lkg.id} (v${active.id} changed pool ${pool}: ${why})`, rollbackTo: lkg, diff, appliedAt: mine.appliedAt };
  }
}

/** A webhook URL's origin and an ellipsis for its path (`https://hooks.example.com/…`). */
function originOf(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return 'an unparsable URL';
  }
}
