/**
 * Change management over the config store: every change to what the data plane serves goes
 * through here (apply from the admin API, SIGHUP and POST /reload, manual rollback). An apply
 * is validated against the live version as `previous` (the EK4xx change rules); any error
 * finding refuses it unless forced with a reason, and a refusal is stored and journalled with
 * nothing else touched. Changes run one at a time.
 *
 * Known good (until the canary and bake window exist): the initial version, and a version
 * that passed the gate unforced once it is replaced by a newer one. `rollback` without `to`
 * goes to the last known-good version, which is therefore always older than the active one
 * unless nothing was ever replaced.
 */
import { validateText, type Analysed, type ValidationReport } from '../analysis/index.js';
import type { Finding } from '../config/findings.js';
import type { Config } from '../config/schema.js';
import { VersionStateError } from '../errors.js';
import type { ConfigStore, ConfigVersion, StoreEvent } from './store/index.js';

/** Serves a validated config as `version` (the instance swaps the data plane). */
export type ServeFn = (config: Config, version: ConfigVersion) => Promise<void>;

/** An apply request (admin API body, or a reload of the file). */
export interface ApplyRequest {
  readonly text: string;
  /** Where the text came from; relative paths inside it resolve against its folder. */
  readonly file: string;
  readonly author: string;
  readonly reason: string;
  readonly force?: boolean;
}

/** What an apply did. */
export interface ApplyOutcome {
  readonly applied: boolean;
  readonly forced: boolean;
  /** The version stored for this request (refused or active); absent when nothing was stored. */
  readonly version?: number;
  /** The version serving after the call. */
  readonly active: number;
  readonly findings: readonly Finding[];
  readonly error?: string;
}

/** A rollback request; `auto` marks one the monitors asked for (journalled as rollback.auto). */
export interface RollbackRequest {
  readonly to?: number;
  readonly reason: string;
  readonly author: string;
  readonly auto?: {
    readonly monitor: string;
    /** The alert id that caused it. */
    readonly alert: string;
    /** Roll back only if this version is still the active one (a newer change wins). */
    readonly expectFrom: number;
  };
}

/** Extra data journalled on every change event (the traffic counters, for reports). */
export type EventContext = () => Record<string, unknown>;

/** What a rollback did. */
export interface RollbackOutcome {
  readonly from: number;
  readonly to: number;
  readonly event: StoreEvent | undefined;
}

/** The findings as journalled: validate's JSON fields, without the config-internal ones. */
function recordFindings(findings: readonly Finding[]): Record<string, unknown>[] {
  return findings.map(({ code, severity, message, subject, line, column, hint }) => ({ code, severity, message, subject, line, column, hint }));
}

/** Applies, refuses and rolls back config versions in the store and the data plane. */
export class ChangeManager {
  private queue: Promise<unknown> = Promise.resolve();
  private live: { version: ConfigVersion; analysed: Analysed };

  constructor(private readonly store: ConfigStore, private readonly file: string, active: { version: ConfigVersion; report: ValidationReport }, private readonly serve: ServeFn, private readonly context: EventContext = () => ({})) {
    this.live = { version: active.version, analysed: analysed(active.report) };
  }

  /** The version serving now. */
  get active(): ConfigVersion {
    return this.live.version;
  }

  /** Validates `req` against the live version and applies or refuses it. */
  apply(req: ApplyRequest): Promise<ApplyOutcome> {
    return this.serial(() => this.doApply(req));
  }

  /** Rolls back to version `to`, or to the last known-good version. */
  rollback(opts: RollbackRequest): Promise<RollbackOutcome> {
    return this.serial(() => this.doRollback(opts));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doApply(req: ApplyRequest): Promise<ApplyOutcome> {
    const forced = req.force === true;
    if (forced && !req.reason.trim()) throw new VersionStateError('--force needs a reason: say why this change must go in despite its findings');
    const report = validateText(req.text, req.file, { previous: this.live.analysed });
    const who = { author: req.author, reason: req.reason, file: req.file };
    if (!report.config || !report.model || (!report.valid && !forced)) {
      const { version } = await this.store.addVersion({ text: req.text, author: req.author, reason: req.reason, status: 'refused' }, {
        type: 'config.refused',
        data: { ...who, against: this.live.version.id, findings: recordFindings(report.findings), ...this.context() },
      });
      return { applied: false, forced, version: version.id, active: this.live.version.id, findings: report.findings };
    }
    const previous = this.live.version;
    // The replaced version served until now without being forced in: it becomes known good.
    if (!(await this.wasForced(previous.id))) await this.store.markKnownGood(previous.id);
    const { version } = await this.store.addVersion({ text: req.text, author: req.author, reason: req.reason, status: 'active' }, {
      type: 'config.applied',
      data: { ...who, forced, previous: previous.id, findings: recordFindings(report.findings), prediction: report.prediction ?? null, ...this.context() },
    });
    try {
      await this.serve(report.config, version);
    } catch (err) {
      // The data plane could not take it (a port in use): put the previous version back.
      const msg = (err as Error).message;
      await this.store.activate(previous.id, { previousStatus: 'rolled-back', event: { type: 'rollback.auto', data: { from: version.id, reason: `the data plane could not apply version ${version.id}: ${msg}` } } });
      return { applied: false, forced, version: version.id, active: previous.id, findings: report.findings, error: msg };
    }
    this.live = { version, analysed: analysed(report) };
    return { applied: true, forced, version: version.id, active: version.id, findings: report.findings };
  }

  private async doRollback(opts: RollbackRequest): Promise<RollbackOutcome> {
    const from = this.live.version;
    if (opts.auto && from.id !== opts.auto.expectFrom) throw new VersionStateError(`version ${opts.auto.expectFrom} is no longer active (version ${from.id} is)`);
    const target = opts.to !== undefined ? await this.store.get(opts.to) : await this.store.lastKnownGood();
    if (!target) throw new VersionStateError(opts.to !== undefined ? `version ${opts.to} does not exist` : 'no version is marked known good yet; name one with --to');
    if (target.id === from.id) throw new VersionStateError(`version ${target.id} is already the active version${opts.to === undefined ? ' and the last known good one; name an older version with --to' : ''}`);
    const report = validateText(target.text, this.file);
    if (!report.config || !report.model) throw new VersionStateError(`version ${target.id} no longer loads (${report.findings.find((f) => f.severity === 'error')?.message ?? 'unknown error'})`);
    const { version, event } = await this.store.activate(target.id, {
      previousStatus: 'rolled-back',
      event: opts.auto
        ? { type: 'rollback.auto', data: { from: from.id, to: target.id, monitor: opts.auto.monitor, alert: opts.auto.alert, reason: opts.reason, by: opts.author, ...this.context() } }
        : { type: 'rollback.manual', data: { from: from.id, to: target.id, by: opts.author, author: opts.author, reason: opts.reason, ...this.context() } },
    });
    await this.serve(report.config, version);
    this.live = { version, analysed: analysed(report) };
    return { from: from.id, to: version.id, event };
  }

  private async wasForced(id: number): Promise<boolean> {
    const applied = await this.store.events({ type: 'config.applied', version: id });
    return applied.some((e) => e.data.forced === true);
  }
}

function analysed(r: ValidationReport): Analysed {
  if (!r.config || !r.model) throw new VersionStateError(`${r.file} does not load`);
  return { config: r.config, model: r.model };
}
