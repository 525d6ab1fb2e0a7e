/**
 * The data plane as the control plane drives it: in this process (LocalPlane), or in
 * node:cluster workers (ClusterPlane, cluster.ts). Both take a validated config, health
 * verdicts from the primary's checker, and drain on shutdown.
 */
import type { Config } from '../config/index.js';
import { DataPlane, TrafficRecorder, type BoundListener, type SampledRequest, type VersionInfo } from '../proxy/index.js';
import { AccessLogs, configChannel, HealthCheckMetrics, Metrics, type BackendSnapshot, type RequestCount } from '../telemetry/index.js';

/** One backend's observed traffic. */
export interface ObservedBackend {
  readonly pool: string;
  readonly backend: string;
  readonly share: number;
  readonly rps: number;
}

/** What the instance needs from a data plane, wherever it runs. */
export interface Plane {
  apply(config: Config, info: VersionInfo): Promise<BoundListener[]>;
  /** Serves `config` to `fraction` of requests beside the active version (throws CanaryError when it cannot). */
  startCanary(config: Config, info: VersionInfo, fraction: number): Promise<void>;
  /** Ends the canary (nothing to do when none runs). */
  stopCanary(): Promise<void>;
  /** The canary version's backends (expected shares under the candidate), empty when none runs. */
  canaryBackends(): BackendSnapshot[];
  /** The live traffic sample (bounded, sampled, secrets digested), oldest first. */
  sample(): Promise<SampledRequest[]>;
  setHealth(key: string, up: boolean): void;
  /** Re-reads TLS certificate files (SIGHUP); the errors of listeners that keep their old ones. */
  reloadCertificates(): Promise<string[]>;
  /** Prometheus exposition for /metrics (read by Prometheus, never parsed by evenkeel). */
  metricsText(): Promise<string>;
  /** Responses per series since each counting process started, as data: what the monitors' feed reads. */
  requestCounts(): Promise<RequestCount[]>;
  backends(): BackendSnapshot[];
  /** Observed share and requests/s per backend over the metrics window (all workers). */
  observed(): Promise<ObservedBackend[]>;
  drain(deadlineMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The data plane in this process, with its metrics. */
export class LocalPlane implements Plane {
  readonly dataplane = new DataPlane();
  readonly metrics = new Metrics();
  readonly recorder = new TrafficRecorder();
  /** The listeners' access logs (a subscriber of the request channel; SIGUSR1 reopens them). */
  readonly accessLogs = new AccessLogs();
  /** Active health-check results (the checker runs in this process). */
  readonly checks = new HealthCheckMetrics();

  constructor() {
    this.metrics.setStateProvider(() => this.dataplane.backends());
  }

  async apply(config: Config, info: VersionInfo): Promise<BoundListener[]> {
    await this.dataplane.apply(config, info);
    this.accessLogs.configure(config.listeners);
    if (configChannel.hasSubscribers) configChannel.publish({ ...info, applied: true });
    return this.dataplane.bound();
  }

  async startCanary(config: Config, info: VersionInfo, fraction: number): Promise<void> {
    this.dataplane.startCanary(config, info, fraction);
  }

  async stopCanary(): Promise<void> {
    this.dataplane.stopCanary();
  }

  canaryBackends(): BackendSnapshot[] {
    return this.dataplane.backends('canary');
  }

  async sample(): Promise<SampledRequest[]> {
    return this.recorder.requests();
  }

  setHealth(key: string, up: boolean): void {
    this.dataplane.setHealth(key, up);
  }

  async reloadCertificates(): Promise<string[]> {
    return this.dataplane.reloadCertificates();
  }

  async metricsText(): Promise<string> {
    return `${await this.metrics.text()}${await this.checks.text()}`;
  }

  async requestCounts(): Promise<RequestCount[]> {
    return this.metrics.requestCounts();
  }

  backends(): BackendSnapshot[] {
    return this.dataplane.backends();
  }

  async observed(): Promise<ObservedBackend[]> {
    return this.metrics.observed();
  }

  drain(deadlineMs: number): Promise<void> {
    return this.dataplane.drain(deadlineMs);
  }

  async close(): Promise<void> {
    this.metrics.close();
    this.checks.close();
    this.recorder.close();
    await this.dataplane.close(0);
    this.accessLogs.close();
  }
}
