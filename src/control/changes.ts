/**
 * Change management over the config store: every change to what the data plane serves goes
 * through here (apply from the admin API, SIGHUP and POST /reload, manual rollback). An apply
 * is validated against the live version as `previous` (the EK4xx change rules) and with the
 * live traffic sample the data plane records; any error finding refuses it unless forced with
 * a reason, and a refusal is stored and journalled with nothing else touched. Changes run one
 * at a time.
 *
 * The rollout (DESIGN.md, second line of defence): an accepted candidate becomes a `canary`
 * version serving `canaryPercent` of requests beside the active one, with the guardrails of
 * the version serving now (a change cannot switch off its own canary), and what the change
 * touches (control/touched.ts). The watch judges it and hands each verdict to
 * `receiveVerdict`; the change manager decides: promote, abort (touching nothing else) or keep
 * waiting. It also remembers the change that put the active version in (`change`: when, and
 * which pools it touched), which the watch's blame reads. `--no-canary`
 * (only with force) and a candidate that listens elsewhere apply at once, and the event says so.
 *
 * Known good: the initial version, and a version that served unforced once it is replaced by
 * a newer one. `rollback` without `to` goes to the last known-good version, which is therefore
 * always older than the active one unless nothing was ever replaced; while a canary runs, it
 * aborts the canary.
 */
import { validateText, type Analysed, type ValidationReport } from '../analysis/index.js';
import type { SampleRequest } from '../analysis/index.js';
import type { Finding } from '../config/index.js';
import { parseConfigText } from '../config/index.js';
import type { Config } from '../config/index.js';
import { CanaryError, UsageError, VersionStateError } from '../errors.js';
import { sameListeners } from '../proxy/index.js';
import type { CanaryVerdict, TooFewRequests, VerdictReason } from '../telemetry/monitors/index.js';
import type { ConfigStore, ConfigVersion, StoreEvent } from './store/index.js';
import { touchedPools, type TouchedPools } from './touched.js';

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
  /** False: apply at once without a canary (only with `force`). */
  readonly canary?: boolean;
  /** Pools the change is meant to leave with one backend (maintenance): acknowledged, journalled, not judged on concentration. */
  readonly drainToOne?: readonly string[];
}

/** How the change manager reaches the data plane for a rollout. */
export interface Rollout {
  /** Serves `config` as `version` to `fraction` of requests beside the active version. */
  startCanary(config: Config, version: ConfigVersion, fraction: number): Promise<void>;
  stopCanary(): Promise<void>;
  /** The live traffic sample (empty until the instance has seen traffic). */
  sample(): Promise<readonly SampleRequest[]>;
}

/** A live sample smaller than this is not used: the config's own sample or declared peaks judge instead. */
export const MIN_LIVE_SAMPLE = 100;

/**
 * The change that made the active version what it is, kept in memory for the watch: when it
 * was applied (its bake window starts there) and which pools it touched (an alert elsewhere
 * is not blamed on it).
 */
export interface LiveChange {
  readonly version: number;
  readonly previous: number;
  readonly appliedAt: number;
  readonly touched: TouchedPools;
  /** `apply` (incl. a promoted canary), or a manual `rollback` to an older version. */
  readonly kind: 'apply' | 'rollback';
}

/** A canary in progress. */
export interface RunningCanary {
  readonly version: ConfigVersion;
  /** The candidate's config and traffic model. */
  readonly analysed: Analysed;
  /** The active version it would replace. */
  readonly previous: number;
  readonly forced: boolean;
  readonly percent: number;
  readonly durationMs: number;
  readonly startedAt: number;
  readonly applied: Record<string, unknown>;
  /** What the canary judgement needs about the change (telemetry/monitors/canary.ts). */
  readonly judge: CanaryJudgeInput;
  /** The monitors' latest judgement (set by `receiveVerdict`). */
  verdict?: CanaryVerdict;
}

/** The change's side of the canary judgement: which pools it touches and their projected peaks. */
export interface CanaryJudgeInput {
  readonly touched: ReadonlySet<string>;
  readonly projectedRps: ReadonlyMap<string, number>;
  readonly activeProjectedRps: ReadonlyMap<string, number>;
  readonly drainToOne: ReadonlySet<string>;
  readonly maxDurationMs: number;
  readonly tooFewRequests: TooFewRequests;
}

/** What status shows of a running canary. */
export interface CanaryStatus {
  version: number;
  percent: number;
  startedAt: string;
  durationMs: number;
  /** How long it may run on while a touched pool has too few requests. */
  maxDurationMs: number;
  requests: number;
  /** Canary requests per pool the change touches (and every pool it served). */
  pools: Record<string, number>;
  summary: string;
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
  /** Present when the change went in as a canary: `active` is still the previous version. */
  readonly canary?: { version: number; percent: number; durationMs: number; until: string; maxDurationMs: number; touched: string[] };
  /** Why no canary ran for an applied change (`--no-canary`, canaryPercent 0, listeners changed). */
  readonly noCanary?: string;
  /** The text is the serving version's: nothing was judged, stored or changed (`applied` is false). */
  readonly unchanged?: boolean;
}

/** A rollback request; `auto` marks one the monitors asked for (journalled as rollback.auto). */
export interface RollbackRequest {
  readonly to?: number;
  readonly reason: string;
  readonly author: string;
  /** Serve `to` although its past (refused, aborted, rolled back) or its findings now say no; needs a reason. */
  readonly force?: boolean;
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
  /** The canary version this rollback aborted, if one was running. */
  readonly canaryAborted?: number;
  /** True when `to` is newer than `from`: the active version was superseded, not rolled back. */
  readonly forward?: boolean;
  /** Present when the version rolled back to sends alerts elsewhere (said, never silent). */
  readonly webhooks?: { removed: string[]; added: string[] };
}

/** The findings as journalled: validate's JSON fields, without the config-internal ones. */
function recordFindings(findings: readonly Finding[]): Record<string, unknown>[] {
  return findings.map(({ code, severity, message, subject, line, column, hint }) => ({ code, severity, message, subject, line, column, hint }));
}

/** Applies, refuses and rolls back config versions in the store and the data plane. */
export class ChangeManager {
  private queue: Promise<unknown> = Promise.resolve();
  private live: { version: ConfigVersion; analysed: Analysed };
  private running: RunningCanary | undefined;
  private lastChange: LiveChange | undefined;
  /** The change a person asked for that is running now (apply or rollback). */
  private inProgress: string | undefined;

  constructor(private readonly store: ConfigStore, private readonly file: string, active: { version: ConfigVersion; report: ValidationReport }, private readonly serve: ServeFn, private readonly context: EventContext = () => ({}), private readonly rollout?: Rollout, private readonly now: () => number = Date.now) {
    this.live = { version: active.version, analysed: analysed(active.report) };
  }

  /** The version serving now. */
  get active(): ConfigVersion {
    return this.live.version;
  }

  /** The change that put the active version in (absent for the initial version and after an automatic rollback). */
  get change(): LiveChange | undefined {
    return this.lastChange;
  }

  /**
   * Recalls, once at start, the change that put the stored active version in, from the journal
   * (a restart inside a bake window still knows what the change touched and when).
   */
  async recall(): Promise<void> {
    const id = this.live.version.id;
    const applied = (await this.store.events({ type: ['config.applied', 'rollback.manual'], version: id })).at(-1);
    if (!applied || applied.data.author === 'initial') return;
    const from = typeof applied.data.previous === 'number' ? applied.data.previous : applied.data.from;
    const previous = typeof from === 'number' ? await this.store.get(from) : undefined;
    const prev = previous ? parseConfigText(previous.text, this.file).config : undefined;
    if (!previous || !prev) return;
    this.lastChange = { version: id, previous: previous.id, appliedAt: applied.time, touched: touchedPools(prev, this.live.analysed.config), kind: applied.type === 'rollback.manual' ? 'rollback' : 'apply' };
  }

  /** The canary in progress, if any. */
  get canary(): RunningCanary | undefined {
    return this.running;
  }

  /** The running canary as status shows it. */
  canaryStatus(): CanaryStatus | null {
    const c = this.running;
    if (!c) return null;
    return { version: c.version.id, percent: c.percent, startedAt: new Date(c.startedAt).toISOString(), durationMs: c.durationMs, maxDurationMs: c.judge.maxDurationMs, requests: c.verdict?.canaryRequests ?? 0, pools: c.verdict?.pools ?? {}, summary: c.verdict?.summary ?? 'canary starting' };
  }

  /**
   * Takes the monitors' latest judgement of canary `version` (the watch judges, the change
   * manager decides): a promote makes it the active version, an abort ends it with nothing else
   * touched, a wait keeps it running. `stale` when that canary is no longer running.
   */
  async receiveVerdict(version: number, verdict: CanaryVerdict): Promise<'promoted' | 'aborted' | 'waiting' | 'stale'> {
    const c = this.running;
    if (!c || c.version.id !== version) return 'stale';
    c.verdict = verdict;
    if (verdict.decision === 'promote') return (await this.serial(() => this.doPromote(version, verdict))) ? 'promoted' : 'stale';
    if (verdict.decision === 'abort') {
      const why = { by: 'evenkeel', summary: verdict.summary, reasons: verdict.reasons, requests: verdict.canaryRequests };
      return (await this.serial(() => this.doAbort(version, why))) ? 'aborted' : 'stale';
    }
    return 'waiting';
  }

  /** Validates `req` against the live version and applies or refuses it. */
  apply(req: ApplyRequest): Promise<ApplyOutcome> {
    return this.exclusive(`an apply of ${req.file} by ${req.author}`, () => this.doApply(req));
  }

  /** Rolls back to version `to`, or to the last known-good version. */
  rollback(opts: RollbackRequest): Promise<RollbackOutcome> {
    if (opts.auto) return this.serial(() => this.doRollback(opts));
    return this.exclusive(`a rollback to ${opts.to === undefined ? 'the last known-good version' : `version ${opts.to}`} by ${opts.author}`, () => this.doRollback(opts));
  }

  /**
   * Runs a change a person asked for, unless another is in progress: concurrent apply and
   * rollback do not queue behind each other (the second would be judged against a version its
   * author never saw); the second is refused (409) with what is running.
   */
  private exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.inProgress) return Promise.reject(new VersionStateError(`${this.inProgress} is in progress; nothing changed, try again when it is done`));
    this.inProgress = what;
    return this.serial(fn).finally(() => (this.inProgress = undefined));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doApply(req: ApplyRequest): Promise<ApplyOutcome> {
    const forced = req.force === true;
    if (forced && !req.reason.trim()) throw new VersionStateError('--force needs a reason: say why this change must go in despite its findings');
    if (req.canary === false && !forced) throw new UsageError('--no-canary only with --force (and a --reason): skipping the canary is an override and is recorded as one');
    if (this.running) throw new VersionStateError(`version ${this.running.version.id} is in canary until ${new Date(this.running.startedAt + this.running.durationMs).toISOString()}; wait for its verdict, or abort it with \`evenkeel rollback\``);
    // The serving version's own text (a SIGHUP sent to re-read certificates, an apply run
    // twice): nothing to judge, store or canary. --force still makes it a new version.
    if (!forced && req.text === this.live.version.text && !req.drainToOne?.length) {
      return { applied: false, forced, active: this.live.version.id, findings: [], unchanged: true };
    }
    const live = await this.liveSample();
    const report = validateText(req.text, req.file, { previous: this.live.analysed, sampleRequests: live });
    const who = { author: req.author, reason: req.reason, file: req.file };
    const sample = live ? { source: 'live', requests: live.length } : { source: 'config' };
    if (!report.config || !report.model || (!report.valid && !forced)) {
      const { version } = await this.store.addVersion({ text: req.text, author: req.author, reason: req.reason, status: 'refused' }, {
        type: 'config.refused',
        data: { ...who, against: this.live.version.id, findings: recordFindings(report.findings), sample, ...this.context() },
      });
      return { applied: false, forced, version: version.id, active: this.live.version.id, findings: report.findings };
    }
    const previous = this.live.version;
    const drainToOne = [...new Set(req.drainToOne ?? [])];
    const unknown = drainToOne.filter((p) => !report.config!.pools[p]);
    if (unknown.length) throw new UsageError(`--drain-to-one ${unknown.join(', ')}: no such pool in the new config`);
    const touched = touchedPools(this.live.analysed.config, report.config);
    const applied = { ...who, forced, previous: previous.id, findings: recordFindings(report.findings), prediction: report.prediction ?? null, sample, touched: Object.fromEntries(touched), ...(drainToOne.length ? { drainToOne } : {}) };
    const rollout = this.live.analysed.config.guardrails.rollout;
    const noCanary = req.canary === false ? 'skipped with --no-canary'
      : !this.rollout ? 'no rollout in this process'
      : rollout.canaryPercent <= 0 || rollout.canaryDuration <= 0 ? 'guardrails.rollout.canaryPercent or canaryDuration is 0'
      : !sameListeners(this.live.analysed.config, report.config) ? 'the change moves listeners, and a canary serves a slice of the same sockets'
      : undefined;
    if (noCanary === undefined) {
      const judge: CanaryJudgeInput = {
        touched: new Set(touched.keys()),
        projectedRps: poolPeaks(report.model),
        activeProjectedRps: poolPeaks(this.live.analysed.model),
        drainToOne: new Set(drainToOne),
        maxDurationMs: Math.max(rollout.canaryDuration, rollout.canaryMaxDuration ?? 3 * rollout.canaryDuration),
        tooFewRequests: rollout.tooFewRequests,
      };
      return this.startCanary(req.text, report, applied, { percent: rollout.canaryPercent, durationMs: rollout.canaryDuration }, judge);
    }
    await this.retire(previous);
    const { version } = await this.store.addVersion({ text: req.text, author: req.author, reason: req.reason, status: 'active' }, {
      type: 'config.applied',
      data: { ...applied, canary: noCanary, ...this.context() },
    });
    const out = await this.serveOrRestore(analysed(report), report.findings, version, previous);
    return { ...out, forced, noCanary };
  }

  /** Stores the candidate as a canary and serves it to its slice of requests. */
  private async startCanary(text: string, report: ValidationReport, applied: Record<string, unknown> & { forced: boolean; previous: number; author: string; reason: string }, r: { percent: number; durationMs: number }, judge: CanaryJudgeInput): Promise<ApplyOutcome> {
    const candidate = analysed(report);
    const { version } = await this.store.addVersion({ text, author: applied.author, reason: applied.reason, status: 'canary' }, {
      type: 'canary.started',
      data: { ...applied, percent: r.percent, durationMs: r.durationMs, maxDurationMs: judge.maxDurationMs, tooFewRequests: judge.tooFewRequests, ...this.context() },
    });
    try {
      await this.rollout!.startCanary(candidate.config, version, r.percent / 100);
    } catch (err) {
      const msg = (err as Error).message;
      await this.store.setStatus(version.id, 'aborted', { type: 'canary.aborted', data: { version: version.id, by: 'evenkeel', summary: `the canary could not start: ${msg}`, reasons: [] } });
      if (err instanceof CanaryError) throw new CanaryError(`version ${version.id} could not start as a canary: ${msg}; nothing changed`);
      throw err;
    }
    const startedAt = this.now();
    this.running = { version, analysed: candidate, previous: applied.previous, forced: applied.forced, percent: r.percent, durationMs: r.durationMs, startedAt, applied, judge };
    return { applied: true, forced: applied.forced, version: version.id, active: this.live.version.id, findings: report.findings, canary: { version: version.id, percent: r.percent, durationMs: r.durationMs, until: new Date(startedAt + r.durationMs).toISOString(), maxDurationMs: judge.maxDurationMs, touched: [...judge.touched].sort() } };
  }

  private async doPromote(id: number, verdict: CanaryVerdict): Promise<ApplyOutcome | undefined> {
    const c = this.running;
    if (!c || c.version.id !== id) return undefined;
    this.running = undefined;
    const previous = this.live.version;
    await this.retire(previous);
    const judged = { requests: verdict.canaryRequests, pools: verdict.pools, thin: verdict.thin, summary: verdict.summary };
    await this.store.appendEvent({ type: 'canary.promoted', version: id, data: { version: id, ...judged, ...this.context() } });
    const { version } = await this.store.activate(id, { event: { type: 'config.applied', version: id, data: { ...c.applied, canary: judged, ...this.context() } } });
    return { ...(await this.serveOrRestore(c.analysed, [], version, previous)), forced: c.forced };
  }

  private async doAbort(id: number, why: { by: string; summary: string; reasons?: readonly VerdictReason[]; requests?: number }): Promise<StoreEvent | undefined> {
    const c = this.running;
    if (!c || c.version.id !== id) return undefined;
    this.running = undefined;
    // Stop the harm first; the journal follows.
    await this.rollout!.stopCanary();
    const { event } = await this.store.setStatus(id, 'aborted', {
      type: 'canary.aborted',
      data: { version: id, active: this.live.version.id, by: why.by, summary: why.summary, reasons: why.reasons ?? [], requests: why.requests ?? c.verdict?.canaryRequests ?? 0, pools: c.verdict?.pools ?? {}, ...this.context() },
    });
    return event;
  }

  /** Serves `version`; when the data plane cannot take it (a port in use), puts `previous` back. */
  private async serveOrRestore(next: Analysed, findings: readonly Finding[], version: ConfigVersion, previous: ConfigVersion): Promise<Omit<ApplyOutcome, 'forced'>> {
    try {
      await this.serve(next.config, version);
    } catch (err) {
      const msg = (err as Error).message;
      await this.store.activate(previous.id, { previousStatus: 'rolled-back', event: { type: 'rollback.auto', data: { from: version.id, reason: `the data plane could not apply version ${version.id}: ${msg}` } } });
      return { applied: false, version: version.id, active: previous.id, findings, error: msg };
    }
    this.lastChange = { version: version.id, previous: previous.id, appliedAt: this.now(), touched: touchedPools(this.live.analysed.config, next.config), kind: 'apply' };
    this.live = { version, analysed: next };
    return { applied: true, version: version.id, active: version.id, findings };
  }

  /** The version being replaced served until now without being forced in: it becomes known good. */
  private async retire(previous: ConfigVersion): Promise<void> {
    if (!(await this.wasForced(previous.id))) await this.store.markKnownGood(previous.id);
  }

  /** The live traffic sample when it is large enough to judge with. */
  private async liveSample(): Promise<readonly SampleRequest[] | undefined> {
    const s = await this.rollout?.sample();
    return s && s.length >= MIN_LIVE_SAMPLE ? s : undefined;
  }

  private async doRollback(opts: RollbackRequest): Promise<RollbackOutcome> {
    const c = this.running;
    if (c && !opts.auto && opts.to !== undefined && opts.to !== this.live.version.id) {
      throw new VersionStateError(`version ${c.version.id} is in canary; nothing changed. Abort it first with \`evenkeel rollback\` (no --to), then roll back to version ${opts.to}`);
    }
    if (c) {
      // A rollback during a canary aborts it: the candidate never served everyone.
      const event = await this.doAbort(c.version.id, { by: opts.author, summary: `aborted by ${opts.author}: ${opts.reason}` });
      if (opts.to === undefined || opts.to === this.live.version.id) return { from: this.live.version.id, to: this.live.version.id, event, canaryAborted: c.version.id };
      return { ...(await this.rollbackActive(opts)), canaryAborted: c.version.id };
    }
    return this.rollbackActive(opts);
  }

  private async rollbackActive(opts: RollbackRequest): Promise<RollbackOutcome> {
    const from = this.live.version;
    if (opts.auto && from.id !== opts.auto.expectFrom) throw new VersionStateError(`version ${opts.auto.expectFrom} is no longer active (version ${from.id} is)`);
    const target = opts.to !== undefined ? await this.store.get(opts.to) : await this.store.lastKnownGood();
    if (!target) throw new VersionStateError(opts.to !== undefined ? `version ${opts.to} does not exist` : 'no version is marked known good yet; name one with --to');
    if (target.id === from.id) throw new VersionStateError(`version ${target.id} is already the active version${opts.to === undefined ? ' and the last known good one; name an older version with --to' : ''}`);
    if (opts.force && !opts.reason.trim()) throw new VersionStateError('--force needs a reason: say why this version must be served again despite its past or its findings');
    // Through the gate, like an apply: judged against the live version and the live sample.
    const report = validateText(target.text, this.file, { previous: this.live.analysed, sampleRequests: await this.liveSample() });
    if (!report.config || !report.model) throw new VersionStateError(`version ${target.id} no longer loads (${report.findings.find((f) => f.severity === 'error')?.message ?? 'unknown error'}); nothing changed`);
    // The change rules (EK4xx) judge the size of a move; going back to a version that served is
    // the move a rollback exists for, so they are journalled but do not stop it.
    const errors = report.findings.filter((f) => f.severity === 'error' && !f.code.startsWith('EK4'));
    const past = opts.auto ? [] : await this.pastOf(target.id);
    // The last known-good version (plain `rollback`) is the emergency exit: judged and journalled, never blocked.
    if (opts.to !== undefined && !opts.auto && (past.length || errors.length) && !opts.force) {
      const found = errors.length ? `${errors.length} error finding${errors.length === 1 ? '' : 's'} against the live version (${errors.map((f) => `${f.code} ${f.message}`).join('; ')})` : '';
      throw new VersionStateError(`version ${target.id} ${[...past, found].filter(Boolean).join('; it has ')}; nothing changed. Serving it again needs --force --reason TEXT`);
    }
    const forward = target.id > from.id;
    const alerts = webhooksChange(this.live.analysed.config, report.config);
    const judged = { findings: recordFindings(report.findings), forced: opts.force === true && (past.length > 0 || errors.length > 0), ...(past.length ? { past } : {}), ...(forward ? { direction: 'forward' } : {}) };
    const { version, event } = await this.store.activate(target.id, {
      // Going forward to a newer version is not rolling the active one back: it is superseded.
      previousStatus: forward ? 'superseded' : 'rolled-back',
      event: opts.auto
        ? { type: 'rollback.auto', data: { from: from.id, to: target.id, monitor: opts.auto.monitor, alert: opts.auto.alert, reason: opts.reason, by: opts.author, ...alerts, ...this.context() } }
        : { type: 'rollback.manual', data: { from: from.id, to: target.id, by: opts.author, author: opts.author, reason: opts.reason, ...judged, ...alerts, ...this.context() } },
    });
    await this.serve(report.config, version);
    // A manual rollback is a change like any other and starts a bake window; an automatic one
    // does not (the monitors would otherwise bounce between two versions).
    this.lastChange = opts.auto ? undefined : { version: version.id, previous: from.id, appliedAt: this.now(), touched: touchedPools(this.live.analysed.config, report.config), kind: 'rollback' };
    this.live = { version, analysed: analysed(report) };
    return { from: from.id, to: version.id, event, ...alerts, ...(forward ? { forward } : {}) };
  }

  /** What went wrong with a version before, in words: refused, aborted as a canary, rolled back. */
  private async pastOf(id: number): Promise<string[]> {
    const events = await this.store.events({ type: ['config.refused', 'canary.aborted', 'rollback.auto', 'rollback.manual'] });
    const out: string[] = [];
    for (const e of events) {
      if (e.type === 'config.refused' && e.version === id) {
        const n = Array.isArray(e.data.findings) ? (e.data.findings as { severity?: string }[]).filter((f) => f.severity === 'error').length : 0;
        out.push(`was refused (${n} error finding${n === 1 ? '' : 's'})`);
      } else if (e.type === 'canary.aborted' && e.version === id) out.push(`was aborted as a canary (${String(e.data.summary ?? 'no summary')})`);
      else if (e.type.startsWith('rollback.') && e.data.from === id && !(e.data.direction === 'forward')) out.push(`was rolled back ${e.type === 'rollback.auto' ? `automatically (${String(e.data.monitor ?? 'a monitor')} fired)` : `by ${String(e.data.by ?? 'someone')} (${String(e.data.reason ?? '')})`}`);
    }
    return out;
  }

  private async wasForced(id: number): Promise<boolean> {
    const applied = await this.store.events({ type: 'config.applied', version: id });
    return applied.some((e) => e.data.forced === true);
  }
}

/** The webhooks a move from `a` to `b` removes and adds, when it changes them. */
function webhooksChange(a: Config, b: Config): { webhooks?: { removed: string[]; added: string[] } } {
  const before = a.alerts.webhooks.map((w) => w.url);
  const after = b.alerts.webhooks.map((w) => w.url);
  const removed = before.filter((u) => !after.includes(u));
  const added = after.filter((u) => !before.includes(u));
  return removed.length || added.length ? { webhooks: { removed, added } } : {};
}

/** Each pool's requests/s at the declared peak, when the config declares one. */
function poolPeaks(model: Analysed['model']): Map<string, number> {
  const out = new Map<string, number>();
  if (model.peakRps === null) return out;
  for (const [name, p] of model.pools) out.set(name, p.rps);
  return out;
}

function analysed(r: ValidationReport): Analysed {
  if (!r.config || !r.model) throw new VersionStateError(`${r.file} does not load`);
  return { config: r.config, model: r.model };
}
