/**
 * The data plane in node:cluster workers. The primary keeps health checks and the admin API,
 * pushes config and health verdicts to workers, restarts a worker that dies, and aggregates
 * metrics (prom-client's AggregatorRegistry). Workers share each listening socket with
 * SCHED_NONE: the kernel hands connections to whichever worker accepts first, rather than the
 * primary accepting and passing every connection on (round-robin costs a hop per connection).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/index.js';
import { addressKey } from '../core/index.js';
import { CanaryError, InstanceError } from '../errors.js';
import type { BoundListener, SampledRequest, VersionInfo } from '../proxy/index.js';
import { HealthCheckMetrics, windowShares, type BackendSnapshot, type RequestCount } from '../telemetry/index.js';
import type { ObservedBackend, Plane } from './plane.js';
import type { FromWorker, ToWorker } from './worker.js';

/** How long a worker may take to answer a message (apply a config, start a canary). */
const APPLY_TIMEOUT_MS = 15_000;
/**
 * How long a new worker may take to load and say it is ready: loading is the slow part (about
 * 20 s seen under tsx on a machine shared by a dozen test runs), and nothing waits on it but
 * start-up and the replacement of a dead worker.
 */
const START_TIMEOUT_MS = 60_000;
/** Pause before replacing a worker that died. */
const RESPAWN_DELAY_MS = 500;

/** N workers driven as one data plane. */
/**
 * V8 flags for a process that runs the data plane. Under load V8 grows each young-generation
 * semi-space to 16 MiB; measured with the bench's load (wrk -c50, 30,000 requests through one
 * process), 4 MiB semi-spaces cut RSS from 113 to 91 MiB at no CPU cost (135–140 µs of CPU per
 * request against 148–178 by default, on a loaded 2-core machine). bin/evenkeel.js sets the same.
 */
export const DATA_PLANE_NODE_FLAGS = ['--max-semi-space-size=4'];

export class ClusterPlane implements Plane {
  private readonly workers = new Set<Worker>();
  private readonly verdicts = new Map<string, boolean>();
  private readonly aggregator = new AggregatorRegistry();
  /** Health checks run here, in the primary: their counters are not the workers'. */
  private readonly checks = new HealthCheckMetrics();
  private current: { config: Config; info: VersionInfo } | undefined;
  private canary: { config: Config; info: VersionInfo; fraction: number } | undefined;
  private stopping = false;

  /** `onExit` hears of every worker that ended unasked (it is restarted after RESPAWN_DELAY_MS). */
  constructor(private readonly count: number, private readonly onExit: (e: { pid: number | undefined; code: number | null; signal: string | null; restartInMs: number }) => void = () => undefined) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // Workers run the data plane: give them the small young generation (see DATA_PLANE_NODE_FLAGS).
    const execArgv = process.execArgv.some((f) => f.startsWith('--max-semi-space-size')) ? process.execArgv : [...process.execArgv, ...DATA_PLANE_NODE_FLAGS];
    cluster.setupPrimary({ silent: false, execArgv });
  }

  /** SIGUSR1 (logrotate) to the primary: every worker reopens its access logs. */
  private readonly onReopen = () => {
    for (const w of this.workers) w.process.kill('SIGUSR1');
  };

  /** Forks the workers and waits until each is ready. */
  async start(): Promise<void> {
    process.on('SIGUSR1', this.onReopen);
    await Promise.all(Array.from({ length: this.count }, () => this.fork()));
  }

  private fork(): Promise<Worker> {
    const w = cluster.fork({ EVENKEEL_WORKER: '1' });
    this.workers.add(w);
    // An IPC send to a worker that is going away reports here; it must not take the primary down.
    w.on('error', () => undefined);
    w.on('exit', (code: number | null, signal: string | null) => {
      this.workers.delete(w);
      if (this.stopping) return;
      this.onExit({ pid: w.process.pid, code, signal, restartInMs: RESPAWN_DELAY_MS });
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
      const timer = setTimeout(() => reject(new InstanceError(`a data-plane worker did not start within ${START_TIMEOUT_MS / 1000} s (is the machine overloaded? try fewer --workers)`)), START_TIMEOUT_MS);
      w.on('message', (m: FromWorker) => {
        if (m?.type === 'ready') {
          clearTimeout(timer);
          for (const [key, up] of this.verdicts) w.send({ type: 'health', key, up } satisfies ToWorker);
          resolve(w);
        }
      });
    });
  }

  /** Sends `msg` to `w` and resolves with its first reply of type `reply`. */
  private ask<R extends FromWorker['type']>(w: Worker, msg: ToWorker, reply: R): Promise<Extract<FromWorker, { type: R }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.off('message', onMessage);
        reject(new InstanceError(`a data-plane worker did not answer "${msg.type}" within ${APPLY_TIMEOUT_MS / 1000} s`));
      }, APPLY_TIMEOUT_MS);
      const onMessage = (m: FromWorker) => {
        if (m?.type !== reply) return;
        clearTimeout(timer);
        w.off('message', onMessage);
        resolve(m as Extract<FromWorker, { type: R }>);
      };
      w.on('message', onMessage);
      w.send(msg);
    });
  }

  private async applyTo(w: Worker, config: Config, info: VersionInfo): Promise<{ name: string; port: number }[]> {
    const m = await this.ask(w, { type: 'config', config, info }, 'applied');
    if (!m.ok) throw new Error(m.error);
    if (this.canary) await this.ask(w, { type: 'canary', ...this.canary }, 'canary');
    return m.bound;
  }

  async apply(config: Config, info: VersionInfo): Promise<BoundListener[]> {
    this.canary = undefined;
    const results = await Promise.all([...this.workers].map((w) => this.applyTo(w, config, info)));
    this.current = { config, info };
    const ports = new Map((results[0] ?? []).map((b) => [b.name, b.port]));
    return config.listeners.map((l) => ({ name: l.name, protocol: l.protocol, tls: l.tls !== undefined, address: l.address, port: ports.get(l.name) ?? 0 }));
  }

  async startCanary(config: Config, info: VersionInfo, fraction: number): Promise<void> {
    const replies = await Promise.all([...this.workers].map((w) => this.ask(w, { type: 'canary', config, info, fraction }, 'canary')));
    const failed = replies.find((r) => !r.ok);
    if (failed) {
      await this.stopCanary();
      throw new CanaryError(failed.error ?? 'a worker could not start the canary');
    }
    this.canary = { config, info, fraction };
  }

  async stopCanary(): Promise<void> {
    this.canary = undefined;
    await Promise.all([...this.workers].map((w) => this.ask(w, { type: 'canary-stop' }, 'canary')));
  }

  canaryBackends(): BackendSnapshot[] {
    return this.canary ? backendsOf(this.canary.config, this.verdicts) : [];
  }

  async sample(): Promise<SampledRequest[]> {
    const replies = await Promise.all([...this.workers].map((w) => this.ask(w, { type: 'sample' }, 'sample').catch(() => ({ requests: [] }))));
    return replies.flatMap((r) => r.requests);
  }

  async reloadCertificates(): Promise<string[]> {
    const replies = await Promise.all([...this.workers].map((w) => this.ask(w, { type: 'certs' }, 'certs').catch((err: Error) => ({ errors: [err.message] }))));
    return [...new Set(replies.flatMap((r) => r.errors))];
  }

  setHealth(key: string, up: boolean): void {
    this.verdicts.set(key, up);
    for (const w of this.workers) if (w.isConnected()) w.send({ type: 'health', key, up } satisfies ToWorker);
  }

  async metricsText(): Promise<string> {
    return `${await this.aggregator.clusterMetrics()}${await this.checks.text()}`;
  }

  async requestCounts(): Promise<RequestCount[]> {
    // Each worker's counts since it started, marked with the worker: a replacement's counts
    // start from zero as new series, not as a reset of the dead one's.
    const workers = [...this.workers];
    const replies = await Promise.all(workers.map((w) => this.ask(w, { type: 'counters' }, 'counters').catch(() => ({ requests: [] as RequestCount[] }))));
    return replies.flatMap((r, i) => r.requests.map((c) => ({ ...c, source: `worker ${workers[i].id}` })));
  }

  backends(): BackendSnapshot[] {
    return this.current ? backendsOf(this.current.config, this.verdicts) : [];
  }

  async observed(): Promise<ObservedBackend[]> {
    // Workers hold the counters and send them as numbers; the primary adds them up (no
    // Prometheus text rendered and parsed again, and requests/s known for every backend).
    const replies = await Promise.all([...this.workers].map((w) => this.ask(w, { type: 'counters' }, 'counters').catch(() => ({ window: [] }))));
    return windowShares(replies.flatMap((r) => r.window));
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopping = true;
    process.off('SIGUSR1', this.onReopen);
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
    this.checks.close();
    if (this.workers.size > 0) await this.drain(1000);
  }
}

/** Backends of `config` with the active-check verdicts (passive ejections live in each worker: see /metrics). */
function backendsOf(config: Config, verdicts: ReadonlyMap<string, boolean>): BackendSnapshot[] {
  const out: BackendSnapshot[] = [];
  for (const [pool, p] of Object.entries(config.pools)) {
    const up = p.backends.map((b) => verdicts.get(addressKey(b.address)) ?? true);
    const total = p.backends.reduce((sum, b, i) => sum + (up[i] ? b.weight : 0), 0);
    p.backends.forEach((b, i) => out.push({ pool, backend: b.name ?? b.address, up: up[i], expectedShare: total > 0 && up[i] ? b.weight / total : 0, capacity: b.capacity ?? p.capacity }));
  }
  return out;
}
