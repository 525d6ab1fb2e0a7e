/**
 * A node:cluster worker: runs a DataPlane and obeys its primary over IPC (config, health,
 * drain). Workers ignore terminal signals; the primary decides when they drain, and a worker
 * whose primary is gone exits.
 */
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { SampledRequest, VersionInfo } from '../proxy/index.js';
import { startLogging, type RequestCount, type WindowCount } from '../telemetry/index.js';
import { LocalPlane } from './plane.js';

/** Messages from the primary. */
export type ToWorker =
  | { type: 'config'; config: Config; info: VersionInfo }
  | { type: 'canary'; config: Config; info: VersionInfo; fraction: number }
  | { type: 'canary-stop' }
  | { type: 'sample' }
  | { type: 'certs' }
  | { type: 'counters' }
  | { type: 'health'; key: string; up: boolean }
  | { type: 'drain'; deadlineMs: number };

/** Messages to the primary. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'applied'; ok: true; bound: { name: string; port: number }[] }
  | { type: 'applied'; ok: false; error: string }
  | { type: 'canary'; ok: boolean; error?: string }
  | { type: 'sample'; requests: SampledRequest[] }
  | { type: 'certs'; errors: string[] }
  /**
   * The worker's counters as numbers: requests per pool/backend over the share window (the
   * primary adds the workers'), and every series' responses since the worker started (the
   * monitors' feed takes the increase from one poll to the next).
   */
  | { type: 'counters'; window: WindowCount[]; requests: RequestCount[] };

/** Runs this process as a data-plane worker until the primary tells it to drain. */
export function runWorker(log = true): void {
  const plane = new LocalPlane();
  // prom-client answers the primary's AggregatorRegistry from the registries set here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([plane.metrics.registry]);
  const stopLogging = log ? startLogging() : () => undefined;
  const send = (m: FromWorker) => process.send?.(m);
  // SIGUSR1 comes from the primary (logrotate): the access logs reopen on it; without a
  // listener Node would start its inspector.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1'] as const) process.on(sig, () => undefined);
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw: unknown) => {
    const m = raw as ToWorker;
    if (!m || typeof m !== 'object' || !('type' in m)) return;
    if (m.type === 'config') {
      plane.apply(m.config, m.info).then(
        (bound) => send({ type: 'applied', ok: true, bound: bound.map((b) => ({ name: b.name, port: b.port })) }),
        (err: Error) => send({ type: 'applied', ok: false, error: err.message }),
      );
    } else if (m.type === 'canary') {
      plane.startCanary(m.config, m.info, m.fraction).then(
        () => send({ type: 'canary', ok: true }),
        (err: Error) => send({ type: 'canary', ok: false, error: err.message }),
      );
    } else if (m.type === 'canary-stop') {
      void plane.stopCanary().then(() => send({ type: 'canary', ok: true }));
    } else if (m.type === 'sample') {
      void plane.sample().then((requests) => send({ type: 'sample', requests }));
    } else if (m.type === 'certs') {
      void plane.reloadCertificates().then((errors) => send({ type: 'certs', errors }));
    } else if (m.type === 'counters') {
      send({ type: 'counters', window: plane.metrics.windowCounts(), requests: plane.metrics.requestCounts() });
    } else if (m.type === 'health') {
      plane.setHealth(m.key, m.up);
    } else if (m.type === 'drain') {
      void plane.drain(m.deadlineMs).then(() => plane.close()).finally(() => {
        stopLogging();
        process.exit(0);
      });
    }
  });
  send({ type: 'ready' });
}
