/**
 * A running evenkeel: validates and serves a config file, runs the health checks and the
 * admin API, reloads (SIGHUP or the admin API) only a config that validates, and drains on
 * shutdown. The versioned store is a later issue: the file given to serve is version 1, and
 * every accepted reload is the next version.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { validateFile } from '../analysis/index.js';
import type { Finding } from '../config/findings.js';
import type { Config } from '../config/schema.js';
import { ActiveHealthChecker } from '../health/index.js';
import type { BoundListener, VersionInfo } from '../proxy/index.js';
import { configChannel, startLogging } from '../telemetry/index.js';
import { startAdmin, type AdminServer } from './admin.js';
import { ClusterPlane } from './cluster.js';
import { LocalPlane, type Plane } from './plane.js';
import { loadAdminToken, type AdminToken } from './token.js';

/** How serve was asked to run. */
export interface InstanceOptions {
  readonly file: string;
  /** An already validated config of `file` (serve validates first to print findings). */
  readonly config: Config;
  /** Overrides `workers:` in the config. */
  readonly workers?: number;
  /** JSON logs to stderr [true]. */
  readonly log?: boolean;
}

/** The outcome of a reload. */
export interface ReloadResult {
  readonly applied: boolean;
  readonly version: number;
  readonly findings: readonly Finding[];
  readonly error?: string;
}

/** Hash of a config text, as shown with its version. */
export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** A running instance. */
export class Instance {
  listeners: BoundListener[] = [];
  admin!: AdminServer;
  token!: AdminToken;
  info!: VersionInfo;
  readonly workers: number;
  private config: Config;
  private readonly plane: Plane;
  private readonly checker: ActiveHealthChecker;
  private readonly stopLogging: () => void;
  private reloading: Promise<ReloadResult> | undefined;

  private constructor(private readonly options: InstanceOptions) {
    this.config = options.config;
    const w = options.workers ?? (options.config.workers === 'auto' ? availableParallelism() : options.config.workers);
    this.workers = w;
    this.plane = w > 1 ? new ClusterPlane(w) : new LocalPlane();
    this.checker = new ActiveHealthChecker((key, up) => this.plane.setHealth(key, up));
    this.stopLogging = options.log === false ? () => undefined : startLogging();
  }

  /** Starts serving; throws ListenError, AdminExposedError or FileReadError (nothing is left running). */
  static async start(options: InstanceOptions): Promise<Instance> {
    const inst = new Instance(options);
    try {
      inst.token = loadAdminToken(options.config);
      if (inst.plane instanceof ClusterPlane) await inst.plane.start();
      inst.info = { version: 1, hash: configHash(readFileSync(options.file, 'utf8')), source: `file ${options.file}` };
      inst.listeners = await inst.plane.apply(options.config, inst.info);
      inst.checker.reconcile(options.config);
      inst.admin = await startAdmin(options.config.admin.address, inst.token.token, {
        metrics: () => inst.plane.metricsText(),
        status: () => inst.status(),
        reload: () => inst.reload(),
      });
    } catch (err) {
      await inst.stop(0);
      throw err;
    }
    return inst;
  }

  /** Re-reads the config file; applies it only when it validates. Concurrent calls share one reload. */
  reload(): Promise<ReloadResult> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    let report;
    let text: string;
    try {
      text = readFileSync(this.options.file, 'utf8');
      report = validateFile(this.options.file);
    } catch (err) {
      return this.refused([], (err as Error).message);
    }
    if (!report.valid || !report.config) return this.refused(report.findings);
    const info = { version: this.info.version + 1, hash: configHash(text), source: `file ${this.options.file}` };
    try {
      this.listeners = await this.plane.apply(report.config, info);
    } catch (err) {
      return this.refused(report.findings, (err as Error).message);
    }
    this.config = report.config;
    this.info = info;
    this.checker.reconcile(report.config);
    return { applied: true, version: info.version, findings: report.findings };
  }

  private refused(findings: readonly Finding[], error?: string): ReloadResult {
    const errors = findings.filter((f) => f.severity === 'error').length;
    if (configChannel.hasSubscribers) configChannel.publish({ ...this.info, source: `file ${this.options.file}`, applied: false, errors });
    return { applied: false, version: this.info.version, findings, error };
  }

  /** What the admin API's status endpoint shows. */
  status(): unknown {
    return {
      version: this.info.version,
      hash: this.info.hash,
      source: this.info.source,
      workers: this.workers,
      listeners: this.listeners,
      backends: this.plane.backends(),
    };
  }

  /** Drains in-flight requests (at most `deadlineMs`), then stops everything. */
  async stop(deadlineMs: number): Promise<void> {
    await this.checker.close();
    await this.admin?.close();
    await this.plane.drain(deadlineMs);
    await this.plane.close();
    this.stopLogging();
  }
}
