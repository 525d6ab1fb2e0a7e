/**
 * A running evenkeel: serves the active version of the config store, runs the health checks
 * and the admin API, takes changes only through the change manager (apply, SIGHUP and
 * POST /reload, rollback), and drains on shutdown.
 *
 * The store, not the file, is the source of truth once a version exists: on an empty store the
 * file given to serve becomes version 1; on a store with an active version that version is
 * served, whatever the file says, so a restart never silently undoes a rollback.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { validateText, type ValidationReport } from '../analysis/index.js';
import type { Finding } from '../config/index.js';
import type { Config } from '../config/index.js';
import { HaproxyPlane } from '../engines/haproxy/index.js';
import { ConfigRefusedError, EvenkeelError, FileReadError } from '../errors.js';
import { ActiveHealthChecker } from '../health/index.js';
import type { BoundListener, VersionInfo } from '../proxy/index.js';
import { startLogging } from '../telemetry/index.js';
import { startAdmin, type AdminServer } from './admin.js';
import { ChangeManager, type ApplyOutcome, type Rollout } from './changes.js';
import { ClusterPlane } from './cluster.js';
import { LocalPlane, type Plane } from './plane.js';
import { buildStatus } from './status.js';
import { hashText, openSqliteStore, type ConfigStore, type ConfigVersion } from './store/index.js';
import { loadAdminToken, type AdminToken } from './token.js';
import { AlertWatch } from './watch.js';

/** How serve was asked to run. */
export interface InstanceOptions {
  readonly file: string;
  /** The loaded config of `file` (its admin and store settings are used whatever is served). */
  readonly config: Config;
  /** False when `file` has error findings: it may not become version 1 (default true). */
  readonly fileValid?: boolean;
  /** Overrides `workers:` in the config. */
  readonly workers?: number;
  /** JSON logs to stderr [true]. */
  readonly log?: boolean;
}

/** The outcome of a reload (an apply of the file's current text). */
export interface ReloadResult {
  readonly applied: boolean;
  /** The version serving after the reload. */
  readonly version: number;
  readonly findings: readonly Finding[];
  readonly error?: string;
  /** Present when the change went in as a canary (`version` is still the previous one). */
  readonly canary?: ApplyOutcome['canary'];
  /** The file holds the serving version's text: nothing was applied, and nothing needed to be. */
  readonly unchanged?: boolean;
}

/** What serve started from. */
export interface BootInfo {
  /** `file`: the file became version 1; `store`: the store's active version is served. */
  readonly source: 'file' | 'store';
  readonly version: ConfigVersion;
  /** True when the store's active version is not the file's text. */
  readonly fileDiffers: boolean;
  /** Findings of the served version (the file's, on an empty store). */
  readonly findings: readonly Finding[];
}

/** Hash of a config text, as shown with its version (the store keeps the full sha256). */
export function configHash(text: string): string {
  return shortHash(hashText(text));
}

function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

/** A running instance. */
export class Instance {
  listeners: BoundListener[] = [];
  admin!: AdminServer;
  token!: AdminToken;
  info!: VersionInfo;
  boot!: BootInfo;
  store!: ConfigStore;
  changes!: ChangeManager;
  /** The monitors on live traffic (alerts, automatic rollback). */
  watch: AlertWatch | undefined;
  readonly workers: number;
  private config: Config;
  private readonly plane: Plane;
  private readonly checker: ActiveHealthChecker;
  /** The active checker's latest verdict per address (why a backend is down, for the journal). */
  private readonly activeVerdicts = new Map<string, boolean>();
  private readonly stopLogging: () => void;

  private constructor(private readonly options: InstanceOptions) {
    this.config = options.config;
    const w = options.workers ?? (options.config.workers === 'auto' ? availableParallelism() : options.config.workers);
    this.workers = w;
    this.plane = options.config.engine.type === 'haproxy' ? this.haproxyPlane() : w > 1 ? new ClusterPlane(w, (e) => this.workerExited(e)) : new LocalPlane();
    this.checker = new ActiveHealthChecker((key, up) => {
      this.activeVerdicts.set(key, up);
      this.plane.setHealth(key, up);
    });
    this.stopLogging = options.log === false ? () => undefined : startLogging();
  }

  /** The HAProxy engine (throws EngineError when haproxy is missing or too old); its events go to the journal. */
  private haproxyPlane(): HaproxyPlane {
    const e = this.options.config.engine;
    const setting = 'binary' in e || 'runDir' in e ? (e as { binary?: string; runDir?: string }) : {};
    return new HaproxyPlane({
      binary: setting.binary,
      runDir: setting.runDir ?? join(this.options.config.store.path, 'haproxy'),
      // `workers:` is HAProxy's thread count on this engine.
      threads: this.workers,
      onEvent: (type, data) => {
        if (type !== 'engine.started' && this.options.log !== false) process.stderr.write(`evenkeel: ${type}: ${JSON.stringify(data)}\n`);
        void this.store?.appendEvent({ type, version: this.info?.version ?? null, data }).catch(() => undefined);
      },
    });
  }

  /** Which engine serves, and its version (status). */
  engine(): Record<string, unknown> {
    if (this.plane instanceof HaproxyPlane) return { ...this.plane.engineInfo() };
    return { type: 'builtin', version: `evenkeel on Node ${process.versions.node}`, workers: this.workers };
  }

  /**
   * Starts serving; throws ListenError, AdminExposedError, FileReadError, StoreError, or
   * ConfigRefusedError (an invalid file on an empty store). Nothing is left running on failure.
   */
  static async start(options: InstanceOptions): Promise<Instance> {
    const inst = new Instance(options);
    try {
      inst.token = loadAdminToken(options.config);
      inst.store = openSqliteStore(options.config.store.path);
      const { boot, report } = await inst.bootstrap();
      inst.boot = boot;
      if (inst.plane instanceof ClusterPlane) await inst.plane.start();
      inst.watch = new AlertWatch({
        store: inst.store,
        plane: inst.plane,
        changes: () => inst.changes,
        config: () => inst.config,
        // The counters live outside this process (workers, HAProxy): read them from the metrics.
        cluster: !(inst.plane instanceof LocalPlane),
        instance: options.config.admin.address,
        log: (m) => process.stderr.write(`evenkeel: ${m}\n`),
        activeHealth: (address) => inst.activeVerdicts.get(address),
      });
      await inst.serveVersion(report.config as Config, boot.version);
      const rollout: Rollout = {
        startCanary: (config, version, fraction) => inst.plane.startCanary(config, versionInfo(version), fraction),
        stopCanary: () => inst.plane.stopCanary(),
        sample: () => inst.plane.sample(),
      };
      inst.changes = new ChangeManager(inst.store, options.file, { version: boot.version, report }, (config, version) => inst.serveVersion(config, version), () => ({ counters: inst.watch?.counters() }), rollout);
      await inst.changes.recall();
      inst.admin = await startAdmin(options.config.admin.address, inst.token.token, {
        metrics: async () => `${await inst.plane.metricsText()}${(await inst.watch?.metricsText()) ?? ''}`,
        status: () => inst.status(),
        reload: () => inst.reload('admin'),
        apply: (req) => inst.changes.apply(req),
        rollback: (req) => inst.changes.rollback(req),
        store: inst.store,
        configFile: options.file,
        counters: () => inst.watch?.counters(),
        allowedHosts: options.config.admin.allowedHosts,
      });
      inst.watch.start();
    } catch (err) {
      await inst.stop(0);
      throw err;
    }
    return inst;
  }

  /** The store's active version, or the file as version 1 on an empty store. */
  private async bootstrap(): Promise<{ boot: BootInfo; report: ValidationReport }> {
    const file = this.options.file;
    const text = readText(file);
    const active = await this.store.active();
    // A canary the last run left behind never finished its judgement: it did not go in.
    const orphan = await this.store.canary();
    if (orphan) await this.store.setStatus(orphan.id, 'aborted', { type: 'canary.aborted', data: { version: orphan.id, by: 'evenkeel', summary: `evenkeel restarted while version ${orphan.id} was in canary; it was not promoted`, reasons: [] } });
    if (active) {
      const report = validateText(active.text, file);
      if (!report.config) throw new ConfigRefusedError(`the store's active version ${active.id} no longer loads: ${report.findings.find((f) => f.severity === 'error')?.message ?? 'unknown error'}`, report.findings);
      return { boot: { source: 'store', version: active, fileDiffers: hashText(text) !== active.hash, findings: report.findings }, report };
    }
    const report = validateText(text, file);
    if (!report.config || this.options.fileValid === false || !report.valid) throw new ConfigRefusedError(`${file} is invalid and the store has no version to serve instead`, report.findings);
    const { version } = await this.store.addVersion({ text, author: 'initial', reason: 'initial', status: 'active' }, {
      type: 'config.applied',
      data: { author: 'initial', reason: 'initial', file, forced: false, findings: report.findings.map(({ code, severity, message }) => ({ code, severity, message })), prediction: report.prediction ?? null },
    });
    await this.store.markKnownGood(version.id);
    return { boot: { source: 'file', version, fileDiffers: false, findings: report.findings }, report };
  }

  /** Swaps the data plane to `config` as `version` (the change manager's only way in). */
  private async serveVersion(config: Config, version: ConfigVersion): Promise<void> {
    const info = versionInfo(version);
    this.listeners = await this.plane.apply(config, info);
    this.config = config;
    this.info = info;
    // HAProxy runs the checks itself (rendered from healthCheck); a second checker would only double them.
    if (!(this.plane instanceof HaproxyPlane)) this.checker.reconcile(config);
  }

  /** A data-plane worker died: said on stderr and in the journal (the cluster starts another). */
  private workerExited(e: { pid: number | undefined; code: number | null; signal: string | null; restartInMs: number }): void {
    const how = e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
    process.stderr.write(`evenkeel: data-plane worker ${e.pid ?? '?'} ended (${how}); starting another in ${e.restartInMs} ms\n`);
    this.store?.appendEvent({ type: 'worker.exited', data: { ...e } }).catch(() => undefined);
  }

  /** Applies the file's current text (SIGHUP or POST /reload), gated like any apply. */
  async reload(author: 'sighup' | 'admin' = 'sighup'): Promise<ReloadResult> {
    const certErrors = await this.plane.reloadCertificates();
    for (const e of certErrors) process.stderr.write(`evenkeel: reload: ${e}\n`);
    let text: string;
    try {
      text = readText(this.options.file);
    } catch (err) {
      return { applied: false, version: this.info.version, findings: [], error: (err as Error).message };
    }
    let r: ApplyOutcome;
    try {
      r = await this.changes.apply({ text, file: this.options.file, author, reason: `reload of ${this.options.file}` });
    } catch (err) {
      // The admin API answers these itself (409 while a canary runs). A signal has nobody to
      // answer: the reload is refused, journalled, and the process carries on (not queued: the
      // file may change again before the canary ends; send SIGHUP again after its verdict).
      if (author === 'admin' || !(err instanceof EvenkeelError)) throw err;
      await this.store.appendEvent({ type: 'reload.refused', data: { author, file: this.options.file, reason: err.message } });
      return { applied: false, version: this.info.version, findings: [], error: err.message };
    }
    return { applied: r.applied, version: r.active, findings: r.findings, error: r.error, canary: r.canary, unchanged: r.unchanged };
  }

  /** What the admin API's status endpoint shows. */
  async status(): Promise<unknown> {
    const lkg = await this.store.lastKnownGood();
    return {
      version: this.info.version,
      hash: this.info.hash,
      source: this.info.source,
      active: this.changes ? summary(this.changes.active) : undefined,
      canary: this.changes?.canaryStatus() ?? null,
      lastKnownGood: lkg?.id ?? null,
      workers: this.workers,
      engine: this.engine(),
      listeners: this.listeners,
      backends: this.plane.backends(),
      pools: await buildStatus(this.plane),
      alerts: this.watch?.firing() ?? [],
      guardrails: guardrailsInEffect(this.config),
    };
  }

  /** Drains in-flight requests (at most `deadlineMs`), then stops everything. */
  async stop(deadlineMs: number): Promise<void> {
    await this.watch?.close();
    await this.checker.close();
    await this.admin?.close();
    await this.plane.drain(deadlineMs);
    await this.plane.close();
    await this.store?.close();
    this.stopLogging();
  }
}

function versionInfo(version: ConfigVersion): VersionInfo {
  return { version: version.id, hash: shortHash(version.hash), source: `store version ${version.id}` };
}

function summary(v: ConfigVersion) {
  return { id: v.id, hash: v.hash, author: v.author, reason: v.reason, createdAt: new Date(v.createdAt).toISOString(), status: v.status };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FileReadError(file, (err as Error).message, { cause: err });
  }
}

/**
 * The thresholds of the version serving that the dashboard marks backends by before a monitor
 * fires: `nearCapacity` is 1 − headroom (the utilization validate allows), `skew` the skew
 * monitor's limit, with the concentration and error-rate limits beside them.
 */
function guardrailsInEffect(config: Config): { headroom: number; nearCapacity: number; skew: number; maxBackendShare: number; errorRate: number } {
  const g = config.guardrails;
  return { headroom: g.headroom, nearCapacity: 1 - g.headroom, skew: g.rollback.skew, maxBackendShare: g.maxBackendShare, errorRate: g.rollback.errorRate };
}
