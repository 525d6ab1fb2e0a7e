/**
 * The outage replay (issue 4's acceptance scenario), shared by `npm run replay`
 * (bench/replay.ts: figures against goals) and test/replay/ (behaviour only). The scenario
 * itself (config, the change, the three ways it is applied and what must follow) is
 * src/demo/scenario.ts, which `evenkeel demo --incident` replays live too; this module runs it
 * against a child `evenkeel serve` and measures it.
 *
 * Four backends that each serve at most `capacity` req/s (503 beyond, src/demo/backends.ts),
 * a steady open-loop load of `rps` through `evenkeel serve` (a child process, as a user runs
 * it), a good config v1 with every backend at weight 1, then the outage's change: three of the
 * four backends set to weight 0. Three phases, each on fresh backends, a fresh instance and a
 * fresh store, so a failure in one cannot leak into the next:
 *
 *   refused   `evenkeel apply bad.yaml`                          refused, nothing changes
 *   canary    `evenkeel apply bad.yaml --force --reason …`       the canary is aborted
 *   rollback  `evenkeel apply bad.yaml --force --no-canary …`    the monitors roll it back
 *
 * Each phase sends `steadyMs` of traffic before the apply (rising to `rps` over its first 2 s) and keeps sending until `afterMs`
 * after the change (and at least 2 s after the apply command returns). The figures come from
 * the instance's journal (when the change, the alert and the rollback happened) and from the
 * load generator's per-second timeline (when the failures stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stop } from '../tools.js';
import { OUTAGE_REASON, OUTAGE_STEPS, outageWeights, readJournal, scenarioConfig, startDemoBackend, startTraffic, type DemoBackend, type JournalEvent, type OutageStepName, type TrafficSecond, type TrafficTotals } from '../../src/demo/index.js';

export type { JournalEvent };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The three phases (the scenario's steps), in the order they run. */
export type PhaseName = OutageStepName;
export const PHASES: readonly PhaseName[] = OUTAGE_STEPS.map((s) => s.name);

/** What each phase does, for printing. */
export const PHASE_TITLES = Object.fromEntries(OUTAGE_STEPS.map((s) => [s.name, s.title])) as Record<PhaseName, string>;

/** How to run the replay; the defaults are the figures. */
export interface ReplayOptions {
  /** Steady load through evenkeel, requests/s [1000]. */
  readonly rps?: number;
  /** Each backend's capacity, requests/s [400]. */
  readonly capacity?: number;
  /** Traffic before the apply, ms [10 000]. */
  readonly steadyMs?: number;
  /** Traffic after the change, ms [30 000]. */
  readonly afterMs?: number;
  /** guardrails.rollout.canaryDuration [30s]. */
  readonly canaryDuration?: string;
  /** guardrails.rollback.window [10s]. */
  readonly window?: string;
  /** The phases to run [all three]. */
  readonly phases?: readonly PhaseName[];
  /** The data plane [builtin]; `haproxy` runs the same phases with `engine: haproxy`. */
  readonly engine?: 'builtin' | 'haproxy';
  /** How to run the CLI [node bin/evenkeel.js, the compiled CLI]. */
  readonly evenkeel?: readonly string[];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What one CLI run printed and returned. */
export interface CliRun {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Everything one phase observed. */
export interface PhaseResult {
  phase: PhaseName;
  apply: CliRun;
  /** The journal of the phase's instance, oldest first. */
  events: JournalEvent[];
  /** The active version before the apply and at the end of the phase. */
  versionBefore: number;
  versionAfter: number;
  traffic: { timeline: TrafficSecond[]; totals: TrafficTotals; seconds: number };
  backends: { name: string; served: number; rejected: number }[];
  /** Epoch ms of the change: its first journal event (refused, canary started, applied), else when apply started. */
  changeAt: number;
  /** Failed share of the traffic before the change. */
  baselineFailedShare: number;
  /** Change → first alert.fired, from the journal; null when none fired. */
  changeToAlertMs: number | null;
  /** Change → the canary's verdict (canary.aborted or canary.promoted), from the journal; null when none came. */
  changeToVerdictMs: number | null;
  /** Change → rollback.auto, from the journal; null when none happened. */
  changeToRollbackMs: number | null;
  /** Change → the end of the last second whose failed share was above baseline (0: none was); null when it never came back. */
  changeToRecoveredMs: number | null;
  /** Failed share of the seconds after the change, worst second. */
  worstSecondFailedShare: number;
  /** `evenkeel report` of the incident (rollback phase). */
  report?: string;
  /**
   * When evenkeel counted a backend out (health check or outlier ejection), from its status
   * API polled every 500 ms: ms relative to the change; `to` null when still out at the end.
   */
  outages: { backend: string; from: number; to: number | null }[];
}

/** The load rises to `rps` over this long at the start of a phase (a cold process is not hit at full rate at once). */
const RAMP_MS = 2000;

/** Above this failed share (or twice the baseline) a second counts as not back to baseline. */
const RECOVERED_SHARE = 0.01;

/** Runs the phases one after another and returns what each observed. */
export async function runReplay(options: ReplayOptions = {}): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  for (const phase of options.phases ?? PHASES) out.push(await runPhase(phase, options));
  return out;
}

/** One phase on fresh backends, instance and store. */
export async function runPhase(phase: PhaseName, options: ReplayOptions = {}): Promise<PhaseResult> {
  const rps = options.rps ?? 1000;
  const capacity = options.capacity ?? 400;
  const steadyMs = options.steadyMs ?? 10_000;
  const afterMs = options.afterMs ?? 30_000;
  const cmd = options.evenkeel ?? [process.execPath, join(ROOT, 'bin', 'evenkeel.js')];
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), `evenkeel-replay-${phase}-`));
  const backends: DemoBackend[] = [];
  let serve: ChildProcess | undefined;
  let traffic: ReturnType<typeof startTraffic> | undefined;
  try {
    for (let i = 1; i <= 4; i++) backends.push(await startDemoBackend({ name: `web-${i}`, capacity }));
    const [port, admin] = [await freePort(), await freePort()];
    const config = (weights: number[]) => configText({ port, admin, dir, capacity, rps, backends, weights, canaryDuration: options.canaryDuration ?? '30s', window: options.window ?? '10s', engine: options.engine ?? 'builtin' });
    const v1 = join(dir, 'v1.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(v1, config(outageWeights(backends.length, false)));
    writeFileSync(bad, config(outageWeights(backends.length, true)));

    serve = await startServe(cmd, v1, dir);
    const api = new AdminApi(`http://127.0.0.1:${admin}`, readFileSync(join(dir, 'store', 'admin.token'), 'utf8').trim());
    log(`${PHASE_TITLES[phase]}: evenkeel serving v1 on :${port}, ${rps} req/s for ${steadyMs / 1000} s`);
    const watch = watchBackends(api);
    traffic = startTraffic({ origin: `http://127.0.0.1:${port}`, rps, paths: ['/', '/products', '/cart', '/static/app.js'], rampMs: RAMP_MS });
    await sleep(steadyMs);
    const versionBefore = await api.version();

    const flags = OUTAGE_STEPS.find((s) => s.name === phase)!.flags;
    const startedAt = Date.now();
    const apply = await runCli(cmd, ['apply', bad, '--reason', OUTAGE_REASON, '--author', 'replay', ...flags, '-c', v1], dir);
    log(`${PHASE_TITLES[phase]}: exit ${apply.code} after ${(apply.ms / 1000).toFixed(1)} s`);
    const firstEvents = await api.events();
    const changeAt = changeTime(firstEvents, versionBefore) ?? startedAt;
    await sleep(Math.max(changeAt + afterMs - Date.now(), 2000));
    const totals = await traffic.stop();
    const timeline = traffic.timeline();
    traffic = undefined;

    const downs = await watch.stop();
    const events = await api.events();
    const versionAfter = await api.version();
    let report: string | undefined;
    if (phase === 'rollback') {
      const r = await runCli(cmd, ['report', '--since', new Date(changeAt - 1000).toISOString(), '-c', v1], dir);
      report = r.code === 0 ? r.stdout : `evenkeel report exited ${r.code}: ${r.stderr}`;
    }
    const after = timeline.filter((s) => s.at + 1000 > changeAt);
    const before = timeline.filter((s) => s.at + 1000 <= changeAt);
    const baseline = share(sum(before, 'failed'), sum(before, 'sent'));
    const bad2 = Math.max(RECOVERED_SHARE, 2 * baseline);
    const lastBad = [...after].reverse().find((s) => share(s.failed, s.sent) > bad2);
    const lastSecond = timeline.at(-1);
    const at = (type: string) => firstAfter(events, type, changeAt);
    return {
      phase,
      apply,
      events,
      versionBefore,
      versionAfter,
      traffic: { timeline, totals, seconds: timeline.length },
      backends: backends.map((b) => ({ name: b.name, served: b.served, rejected: b.rejected })),
      changeAt,
      baselineFailedShare: baseline,
      changeToAlertMs: at('alert.fired'),
      changeToRollbackMs: at('rollback.auto'),
      changeToVerdictMs: at('canary.aborted') ?? at('canary.promoted'),
      changeToRecoveredMs: !lastBad ? 0 : lastBad === lastSecond ? null : Math.max(0, lastBad.at + 1000 - changeAt),
      worstSecondFailedShare: Math.max(0, ...after.map((s) => share(s.failed, s.sent))),
      report,
      outages: downs.map((d) => ({ backend: d.backend, from: d.from - changeAt, to: d.to === null ? null : d.to - changeAt })),
    };
  } finally {
    await traffic?.stop(0);
    if (serve) await stop(serve, 10_000);
    await Promise.all(backends.map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The error findings an apply printed (`file:line:col: error EKnnn: …`). */
export function refusalLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /: error EK\d+: /.test(l));
}

/** v1 and the bad change differ in the weights only. */
function configText(o: { port: number; admin: number; dir: string; capacity: number; rps: number; backends: DemoBackend[]; weights: number[]; canaryDuration: string; window: string; engine: string }): string {
  return scenarioConfig({
    comment: [`The outage replay: four servers of ${o.capacity} req/s behind evenkeel, ${o.rps} req/s at peak.`],
    site: o.port, admin: o.admin, storePath: join(o.dir, 'store'), servers: o.backends, capacity: o.capacity, peakRps: o.rps, weights: o.weights,
    healthCheck: { interval: '1s', timeout: '500ms' }, canaryDuration: o.canaryDuration, window: o.window, engine: o.engine,
  });
}

/** The time of the first journal event about a version newer than `before`. */
function changeTime(events: JournalEvent[], before: number): number | undefined {
  const e = events.find((x) => (x.version ?? 0) > before && ['config.refused', 'canary.started', 'config.applied'].includes(x.type));
  return e ? Date.parse(e.time) : undefined;
}

function firstAfter(events: JournalEvent[], type: string, t: number): number | null {
  const e = events.find((x) => x.type === type && Date.parse(x.time) >= t);
  return e ? Math.max(0, Date.parse(e.time) - t) : null;
}

function sum(seconds: TrafficSecond[], k: 'sent' | 'failed'): number {
  return seconds.reduce((s, x) => s + x[k], 0);
}

function share(n: number, of: number): number {
  return of > 0 ? n / of : 0;
}

/** The admin API of the phase's instance. */
class AdminApi {
  constructor(private readonly url: string, private readonly token: string) {}

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  events(): Promise<JournalEvent[]> {
    return readJournal(this.url, this.token);
  }

  async version(): Promise<number> {
    return (await this.get<{ version: number }>('/api/v1/status')).version;
  }
}

/** Polls the instance's status every 500 ms and records when each backend was counted down. */
function watchBackends(api: AdminApi): { stop(): Promise<{ backend: string; from: number; to: number | null }[]> } {
  const out: { backend: string; from: number; to: number | null }[] = [];
  const open = new Map<string, { backend: string; from: number; to: number | null }>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { backends } = await api.get<{ backends: { backend: string; up: boolean }[] }>('/api/v1/status');
        const now = Date.now();
        for (const b of backends) {
          const o = open.get(b.backend);
          if (!b.up && !o) {
            const d = { backend: b.backend, from: now, to: null };
            open.set(b.backend, d);
            out.push(d);
          } else if (b.up && o) {
            o.to = now;
            open.delete(b.backend);
          }
        }
      } catch {
        // A missed poll is a gap in the record, not a failure of the phase.
      }
      await sleep(500);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return out;
    },
  };
}

/** `evenkeel serve -c FILE` as a child process, once it prints its admin line. */
async function startServe(cmd: readonly string[], file: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(cmd[0], [...cmd.slice(1), 'serve', '-c', file, '--no-log'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const until = Date.now() + 30_000;
  while (!/admin: http/.test(out)) {
    if (child.exitCode !== null) throw new Error(`evenkeel serve exited ${child.exitCode}: ${out}`);
    if (Date.now() > until) {
      await stop(child, 10_000);
      throw new Error(`evenkeel serve did not start within 30 s: ${out}`);
    }
    await sleep(50);
  }
  return child;
}

/** Runs one CLI command to completion (killed after 2 minutes). */
function runCli(cmd: readonly string[], args: string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.EVENKEEL_TOKEN;
    const t0 = Date.now();
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: CliRun = { args, code: null, stdout: '', stderr: '', ms: 0 };
    child.stdout.on('data', (d) => (run.stdout += d));
    child.stderr.on('data', (d) => (run.stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ ...run, code, ms: Date.now() - t0 });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
