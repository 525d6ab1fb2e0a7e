/**
 * The data plane in node:cluster workers. The primary keeps health checks and the admin API,
 * pushes config and health verdicts to workers, restarts a worker that dies, and aggregates
 * metrics (prom-client's AggregatorRegistry). Workers share each listening socket with
 * SCHED_NONE: the kernel hands connections to whichever worker accepts first, rather than the
 * primary accepting and passing every connection on (round-robin costs a hop per connection).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { addressKey } from '../core/address.js';
import type { BoundListener, VersionInfo } from '../proxy/index.js';
import type { BackendSnapshot } from '../telemetry/index.js';
import type { ObservedBackend, Plane } from './plane.js';
import { observedFromMetrics } from './status.js';
import type { FromWorker, ToWorker } from './worker.js';

/** How long a worker may take to start and apply a config. */
const APPLY_TIMEOUT_MS = 15_000;
/** Pause before replacing a worker that died. */
const RESPAWN_DELAY_MS = 500;

/** N workers driven as one data plane. */
export class ClusterPlane implements Plane {
  private readonly workers = new Set<Worker>();
  private readonly verdicts = new Map<string, boolean>();
  private readonly aggregator = new AggregatorRegistry();
  private current: { config: Config; info: VersionInfo } | undefined;
  private stopping = false;

  constructor(private readonly count: number) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ silent: false });
  }

  /** Forks the workers and waits until each is ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.count }, () => this.fork()));
  }

  private fork(): Promise<Worker> {
    const w = cluster.fork({ EVENKEEL_WORKER: '1' });
    this.workers.add(w);
    // An IPC send to a worker that is going away reports here; it must not take the primary down.
    w.on('error', () => undefined);
    w.on('exit', () => {
      this.workers.delete(w);
      if (this.stopping) return;
      // A worker died: start another (after a pause, so a crash loop cannot spin) and give it
      // the current config and health.
      setTimeout(() => {
        if (this.stopping) return;
        this.fork().then(async (nw) => {
          if (this.current) await this.applyTo(nw, this.current.config, this.current.info);
        }).catch(() => undefined);
      }, RESPAWN_DELAY_MS).unref();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a worker did not start in time')), APPLY_TIMEOUT_MS);
      w.on('message', (m: FromWorker) => {
        if (m?.type === 'ready') {
          clearTimeout(timer);
          for (const [key, up] of this.verdicts) w.send({ type: 'health', key, up } satisfies ToWorker);
          resolve(w);
        }
      });
    });
  }

  private applyTo(w: Worker, config: Config, info: VersionInfo): Promise<{ name: string; port: number }[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a worker did not apply the config in time')), APPLY_TIMEOUT_MS);
      const onMessage = (m: FromWorker) => {
        if (m?.type !== 'applied') return;
        clearTimeout(timer);
        w.off('message', onMessage);
        if (m.ok) resolve(m.bound);
        else reject(new Error(m.error));
      };
      w.on('message', onMessage);
      w.send({ type: 'config', config, info } satisfies ToWorker);
    });
  }

  async apply(config: Config, info: VersionInfo): Promise<BoundListener[]> {
    const results = await Promise.all([...this.workers].map((w) => this.applyTo(w, config, info)));
    this.current = { config, info };
    const ports = new Map((results[0] ?? []).map((b) => [b.name, b.port]));
    return config.listeners.map((l) => ({ name: l.name, protocol: l.protocol, address: l.address, port: ports.get(l.name) ?? 0 }));
  }

  setHealth(key: string, up: boolean): void {
    this.verdicts.set(key, up);
    for (const w of this.workers) if (w.isConnected()) w.send({ type: 'health', key, up } satisfies ToWorker);
  }

  metricsText(): Promise<string> {
    return this.aggregator.clusterMetrics();
  }

  backends(): BackendSnapshot[] {
    const cfg = this.current?.config;
    if (!cfg) return [];
    const out: BackendSnapshot[] = [];
    for (const [pool, p] of Object.entries(cfg.pools)) {
      // Active-check verdicts only: passive ejections live in each worker (see /metrics for those).
      const up = p.backends.map((b) => this.verdicts.get(addressKey(b.address)) ?? true);
      const total = p.backends.reduce((sum, b, i) => sum + (up[i] ? b.weight : 0), 0);
      p.backends.forEach((b, i) => out.push({ pool, backend: b.name ?? b.address, up: up[i], expectedShare: total > 0 && up[i] ? b.weight / total : 0, capacity: b.capacity ?? p.capacity }));
    }
    return out;
  }

  async observed(): Promise<ObservedBackend[]> {
    // Workers hold the counters; the aggregated exposition is the one view of all of them.
    return observedFromMetrics(await this.metricsText(), this.backends());
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.workers].map((w) => new Promise<void>((resolve) => {
      const kill = setTimeout(() => w.process.kill('SIGKILL'), deadlineMs + 2000);
      w.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (w.isConnected()) w.send({ type: 'drain', deadlineMs } satisfies ToWorker);
      else w.process.kill('SIGKILL');
    })));
  }

  async close(): Promise<void> {
    if (this.workers.size > 0) await this.drain(1000);
  }
}
