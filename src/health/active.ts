/**
 * Active health checks: every `interval`, GET `path` on each backend with `timeout`; after
 * `unhealthyThreshold` failures in a row it is down, after `healthyThreshold` successes in a
 * row it is up again. Checks are keyed by address and settings, so a reload keeps the streaks
 * of unchanged checks. Verdicts go to a sink: the registry in one process, or the cluster
 * primary's broadcast to workers.
 */
import { Agent, request } from 'undici';
import { addressKey } from '../core/index.js';
import type { Config, HealthCheck } from '../config/index.js';
import { healthCheckChannel, type HealthCheckEvent } from '../telemetry/channels.js';

/** Receives a verdict change for an endpoint (canonical address key). */
export type HealthSink = (key: string, up: boolean) => void;

/** Parses `200-399` or `200,204,300-399` into a predicate on status codes. */
export function statusMatcher(spec: string): (status: number) => boolean {
  const ranges = spec.split(',').map((part) => {
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    return [a, b ?? a] as const;
  });
  return (s) => ranges.some(([a, b]) => s >= a && s <= b);
}

class Check {
  private timer: NodeJS.Timeout | undefined;
  private ok = 0;
  private failed = 0;
  private stopped = false;
  private readonly expect: (s: number) => boolean;
  private readonly url: string;

  constructor(readonly key: string, private readonly hc: HealthCheck, private readonly agent: Agent, private readonly sink: HealthSink, public up: boolean) {
    this.expect = statusMatcher(hc.expectStatus);
    this.url = `http://${key}${hc.path}`;
  }

  start(): void {
    // The first check runs soon (not after a full interval), spread a little so checks do not beat in step.
    this.schedule(Math.min(this.hc.interval, 50 + Math.floor(Math.random() * 100)));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    let pass = false;
    try {
      const res = await request(this.url, {
        dispatcher: this.agent,
        method: 'GET',
        headers: { 'user-agent': 'evenkeel-health-check' },
        headersTimeout: this.hc.timeout,
        bodyTimeout: this.hc.timeout,
        signal: AbortSignal.timeout(this.hc.timeout),
      });
      await res.body.dump();
      pass = this.expect(res.statusCode);
    } catch {
      pass = false;
    }
    if (this.stopped) return;
    if (healthCheckChannel.hasSubscribers) healthCheckChannel.publish({ key: this.key, pass } satisfies HealthCheckEvent);
    if (pass) {
      this.failed = 0;
      this.ok++;
      if (!this.up && this.ok >= this.hc.healthyThreshold) this.flip(true);
    } else {
      this.ok = 0;
      this.failed++;
      if (this.up && this.failed >= this.hc.unhealthyThreshold) this.flip(false);
    }
    this.schedule(this.hc.interval);
  }

  private flip(up: boolean): void {
    this.up = up;
    this.sink(this.key, up);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Runs the active checks of a config; `reconcile` on every reload. */
export class ActiveHealthChecker {
  private readonly checks = new Map<string, Check>();
  private readonly agent = new Agent({ keepAliveTimeout: 1000, connections: 2 });

  constructor(private readonly sink: HealthSink) {}

  /** Starts checks the config needs, stops the others, keeps unchanged ones (and their streaks). */
  reconcile(config: Config): void {
    const wanted = new Map<string, { key: string; hc: HealthCheck }>();
    for (const pool of Object.values(config.pools)) {
      if (!pool.healthCheck) continue;
      for (const b of pool.backends) {
        const key = addressKey(b.address);
        // One check per address: several pools naming a server share its verdict.
        const id = `${key}|${JSON.stringify(pool.healthCheck)}`;
        if (![...wanted.values()].some((w) => w.key === key)) wanted.set(id, { key, hc: pool.healthCheck });
      }
    }
    const previous = new Map<string, boolean>();
    for (const [id, check] of this.checks) {
      if (wanted.has(id)) continue;
      check.stop();
      this.checks.delete(id);
      previous.set(check.key, check.up);
    }
    const keys = new Set<string>();
    for (const [id, { key, hc }] of wanted) {
      keys.add(key);
      if (this.checks.has(id)) continue;
      // A check whose settings changed keeps the verdict it had: the registry still holds it.
      const c = new Check(key, hc, this.agent, this.sink, previous.get(key) ?? true);
      this.checks.set(id, c);
      c.start();
    }
    // An address no longer checked at all goes back to "up" (passive checks only).
    for (const [key, up] of previous) if (!up && !keys.has(key)) this.sink(key, true);
  }

  /** Current verdicts by address key (sent to a worker that just started). */
  verdicts(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const c of this.checks.values()) out.set(c.key, c.up);
    return out;
  }

  /** Stops every check. */
  async close(): Promise<void> {
    for (const c of this.checks.values()) c.stop();
    this.checks.clear();
    await this.agent.close().catch(() => undefined);
  }
}
