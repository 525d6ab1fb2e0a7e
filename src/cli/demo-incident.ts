/**
 * The narration of `evenkeel demo`: the outage replayed live on the running demo site, step by
 * step (src/demo/scenario.ts: the change refused; forced, and aborted by its canary; forced
 * without a canary, caught by the monitors and rolled back by evenkeel itself), then the
 * incident report; and a line on the traffic every 15 s. Printing is the CLI's, so it lives here.
 */
import { pct } from '../core/index.js';
import { OUTAGE_REASON, OUTAGE_STEPS, readJournal, type JournalEvent, type OutageStepName, type Traffic, type TrafficTotals } from '../demo/index.js';

/** Runs a CLI command in this process (main), resolving to its exit code. */
export type Run = (argv: string[]) => Promise<number>;

/** A demo in progress: what it started, and how to say things with the time. */
export interface DemoSession {
  readonly t0: number;
  readonly adminUrl: string;
  readonly token: string;
  readonly traffic: Traffic;
  readonly run: Run;
  /** The monitors' window of the demo config (an alert resolves this long after it clears). */
  readonly window: string;
  /** True once Ctrl-C (or --duration) asked to stop. */
  stopping: boolean;
  /** Resolves when stopping starts. */
  readonly stopped: Promise<void>;
  /** True while the incident narrates (the heartbeat keeps quiet). */
  narrating: boolean;
}

/** What the narration says before each step, and once it went as the scenario says. */
const SAY: Record<OutageStepName, { intro: string; done: string }> = {
  refused: { intro: "The outage's change, applied the normal way:", done: 'refused before anything changed' },
  canary: { intro: 'Forced past the findings (--force): it runs first as a canary on 10% of the requests:', done: 'the canary was aborted; the site kept serving version 1' },
  rollback: { intro: 'Forced with no canary (--force --no-canary): now only the monitors stand between the change and the users:', done: 'rolled back' },
};

/** The outage, live: the scenario's three applies of the bad change, narrated with times. False when a step did not go as the scenario says. */
export async function incident(s: DemoSession): Promise<boolean> {
  s.narrating = true;
  const say = (line: string) => process.stdout.write(`${stamp(s)} ${line}\n`);
  let ok = true;
  process.stdout.write(`\n=== The outage, replayed live (watch it on the dashboard: ${s.adminUrl})\n\n`);

  const [refused, canary, rollback] = OUTAGE_STEPS;
  for (const [i, step] of [refused, canary].entries()) {
    say(`${i + 1}/3  ${SAY[step.name].intro}`);
    const before = s.traffic.totals();
    const since = new Date(Date.now() - 1000).toISOString();
    const code = await cli(s, ['apply', 'bad-change.yaml', ...step.flags, '--reason', OUTAGE_REASON, '-c', 'evenkeel.yaml']);
    if (await sleepUnless(s, 3000)) return true;
    const seen = !step.event || (await journal(s, since)).some((e) => e.type === step.event);
    const went = code === step.exitCode && seen;
    ok &&= went;
    say(`     → ${went ? SAY[step.name].done : `unexpected: exit ${code}${step.event && !seen ? ` and no ${step.event} in the journal` : ''}`}; requests failed since the apply: ${failedSince(s, before)}`);
  }

  say(`3/3  ${SAY[rollback.name].intro}`);
  const before = s.traffic.totals();
  const since = new Date(Date.now() - 1000).toISOString();
  const changeAt = Date.now();
  let code = await cli(s, ['apply', 'bad-change.yaml', ...rollback.flags, '--reason', OUTAGE_REASON, '-c', 'evenkeel.yaml']);
  if (s.stopping) return true;
  ok &&= code === rollback.exitCode;
  const seen = new Set<number>();
  /** Prints the journal's new events; returns the whole journal since the change. */
  const follow = async () => {
    const events = await journal(s, since);
    for (const e of events) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      const line = narrate(e, changeAt);
      if (line) say(`     ${line}`);
    }
    return events;
  };
  // The monitors fire within seconds; the alert resolves a whole window after traffic is clean.
  const rolledBack = await pollUntil(s, 30_000, async () => (await follow()).some((e) => e.type === rollback.event));
  if (s.stopping) return true;
  ok &&= rolledBack;
  if (!rolledBack) say('     → no automatic rollback within 30 s (unexpected)');
  await sleepUnless(s, 2000);
  say(`     → requests failed from the change until now: ${failedSince(s, before)}; waiting for the alerts to resolve (${s.window} of clean traffic)…`);
  await pollUntil(s, 60_000, async () => {
    const events = await follow();
    const fired = events.filter((e) => e.type === 'alert.fired').map((e) => e.data.id);
    const resolved = new Set(events.filter((e) => e.type === 'alert.resolved').map((e) => e.data.id));
    return fired.length > 0 && fired.every((id) => resolved.has(id));
  });
  if (s.stopping) return true;

  process.stdout.write(`\n=== The incident report evenkeel wrote from its journal\n$ evenkeel report --since ${since} -c evenkeel.yaml\n\n`);
  code = await s.run(['node', 'evenkeel', 'report', '--since', since, '-c', 'evenkeel.yaml']);
  ok &&= code === 0;
  s.narrating = false;
  return ok;
}

/**
 * Runs `evenkeel ARGS` in this process, showing the command first. Ctrl-C does not wait for it
 * (an apply may be waiting for a canary's verdict): the demo stops, and the command ends when
 * the instance it talks to is gone.
 */
async function cli(s: DemoSession, args: string[]): Promise<number> {
  process.stdout.write(`\n$ evenkeel ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\n`);
  const code = await Promise.race([s.run(['node', 'evenkeel', ...args]), s.stopped.then(() => -1)]);
  if (!s.stopping) process.stdout.write('\n');
  return code;
}

/** The journal since `since` (empty when the admin API does not answer: the demo is stopping). */
function journal(s: DemoSession, since: string): Promise<JournalEvent[]> {
  return readJournal(s.adminUrl, s.token, since).catch(() => []);
}

/** One line for the events a visitor should see during step 3. */
function narrate(e: JournalEvent, changeAt: number): string | undefined {
  const after = `${((Date.parse(e.time) - changeAt) / 1000).toFixed(1)} s after the change`;
  const d = e.data;
  if (e.type === 'alert.fired') return `alert fired, ${after}: ${String(d.monitor)}: ${String(d.summary)}`;
  if (e.type === 'rollback.auto') return `rolled back automatically to version ${String(d.to)}, ${after}`;
  if (e.type === 'alert.resolved') return `alert resolved, ${after}: ${String(d.monitor)} on pool ${String(d.pool)}`;
  return undefined;
}

/** Every 15 s, one line on the traffic (quiet while the incident narrates). */
export function heartbeat(s: DemoSession): NodeJS.Timeout {
  let last: TrafficTotals = s.traffic.totals();
  const t = setInterval(() => {
    const now = s.traffic.totals();
    if (!s.narrating && !s.stopping) {
      const sent = now.sent - last.sent;
      const failed = now.failed - last.failed;
      process.stdout.write(`${stamp(s)} traffic: ${sent} requests in 15 s, ${failed} failed (${pct(sent ? failed / sent : 0)})\n`);
    }
    last = now;
  }, 15_000);
  t.unref();
  return t;
}

function failedSince(s: DemoSession, before: TrafficTotals): string {
  const now = s.traffic.totals();
  const sent = now.sent - before.sent;
  const failed = now.failed - before.failed;
  return `${failed} of ${sent} (${pct(sent ? failed / sent : 0)})`;
}

/** `[mm:ss]` since the demo started. */
function stamp(s: DemoSession): string {
  const sec = Math.floor((Date.now() - s.t0) / 1000);
  return `[${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}]`;
}

/** Sleeps `ms`; true when the demo started stopping instead. */
export async function sleepUnless(s: DemoSession, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([s.stopped, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
  return s.stopping;
}

/** Polls `check` every 250 ms until it holds (true), `ms` pass or the demo stops (false). */
async function pollUntil(s: DemoSession, ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!s.stopping && Date.now() < deadline) {
    if (await check()) return true;
    if (await sleepUnless(s, 250)) return false;
  }
  return false;
}
