/**
 * `evenkeel demo`: what `npm start` runs. A website and its API behind evenkeel on this
 * machine, with live traffic: four demo servers with a finite capacity (src/demo), pools `web`
 * and `api` over them, evenkeel serving the example config from a temp folder with its store
 * and admin token, and steady synthetic traffic well under capacity. It prints the site, the
 * dashboard and the token, then runs until Ctrl-C, which stops everything it started and
 * removes the folder.
 *
 * It opens with the first line of defence: the outage's change (three of four web servers
 * set to weight 0) planned against the config and refused, naming the server and the fix.
 * With `--incident` it then replays the outage live on the running site, step by step: the
 * change refused; forced, and aborted by the canary; forced without a canary, caught by the
 * monitors and rolled back by evenkeel itself; then the incident report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { validateFile, type Analysed } from '../../analysis/index.js';
import type { Instance } from '../../control/index.js';
import { type CommandResult, durationFlag } from '../shared.js';
import { pct } from '../../core/index.js';
import type { DemoBackend, Traffic, TrafficTotals } from '../../demo/index.js';
import { UsageError } from '../../errors.js';
import { displayPath } from '../format.js';

/** Runs a CLI command in this process (main), resolving to its exit code. */
type Run = (argv: string[]) => Promise<number>;

interface DemoFlags {
  incident?: boolean;
  incidentAfter: string;
  duration?: string;
  rps: string;
}

/** Every demo server's capacity, req/s: the steady load keeps each near 40% of it. */
const CAPACITY = 120;
/** Ports a visitor can remember; taken ones fall back to free ones. */
const SITE_PORT = 8080;
const ADMIN_PORT = 9901;
/** The monitors' window in the demo config: an alert resolves this long after it clears. */
const WINDOW = '10s';

export function registerDemo(program: Command, result: CommandResult, run: Run): void {
  program
    .command('demo')
    .description('run a demo website and API behind evenkeel with live traffic until Ctrl-C; --incident replays the outage live')
    .option('--incident', 'after --incident-after of steady traffic, replay the outage: refused, canary aborted, rolled back automatically')
    .option('--incident-after <duration>', 'steady traffic before the incident starts', '10s')
    .option('--duration <duration>', 'stop by itself after this long (default: run until Ctrl-C)')
    .option('--rps <n>', 'synthetic requests per second (the servers take 4 x 120 in all)', '200')
    .action(async (flags: DemoFlags) => {
      result.exitCode = await demo(flags, run);
    });
}

/** A demo in progress: what it started, and how to say things with the time. */
interface Session {
  readonly t0: number;
  readonly dir: string;
  readonly good: string;
  readonly bad: string;
  readonly siteUrl: string;
  readonly adminUrl: string;
  readonly token: string;
  readonly traffic: Traffic;
  readonly run: Run;
  /** True once Ctrl-C (or --duration) asked to stop. */
  stopping: boolean;
  /** Resolves when stopping starts. */
  readonly stopped: Promise<void>;
  /** True while the incident narrates (the heartbeat keeps quiet). */
  narrating: boolean;
}

async function demo(flags: DemoFlags, run: Run): Promise<number> {
  const incidentAfter = durationFlag('--incident-after', flags.incidentAfter);
  const until = flags.duration === undefined ? undefined : durationFlag('--duration', flags.duration);
  const rps = Number(flags.rps);
  if (!Number.isFinite(rps) || rps <= 0 || rps > 5000) throw new UsageError(`--rps ${flags.rps}: expected a number of requests per second from 1 to 5000`);

  // The data plane and the load generator load only when the demo runs.
  const { startDemoBackend, startTraffic } = await import('../../demo/index.js');
  const { Instance } = await import('../../control/index.js');

  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-demo-'));
  const cwd = process.cwd();
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopNow: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stopNow = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    process.stdout.write(`\n${sig}: stopping the demo…\n`);
    stopNow();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 0;
  try {
    const servers: DemoBackend[] = [];
    for (let i = 1; i <= 4; i++) {
      const b = await startDemoBackend({ name: `srv-${i}`, capacity: CAPACITY });
      servers.push(b);
      cleanups.push(() => b.close());
    }
    const [site, admin] = [await preferPort(SITE_PORT), await preferPort(ADMIN_PORT)];
    const good = join(dir, 'evenkeel.yaml');
    const bad = join(dir, 'bad-change.yaml');
    writeFileSync(good, demoConfig({ site, admin, dir, servers, rps, drained: false }));
    writeFileSync(bad, demoConfig({ site, admin, dir, servers, rps, drained: true }));
    // Relative paths in the output (bad-change.yaml:12:9: error …) read better than temp paths.
    process.chdir(dir);

    const report = validateFile(good);
    if (!report.config || !report.model || !report.valid) throw new Error(`the demo config is invalid: ${report.findings.filter((f) => f.severity === 'error').map((f) => f.message).join('; ')}`);
    process.stdout.write(prologue(bad, { config: report.config, model: report.model }));
    const inst: Instance = await Instance.start({ file: good, config: report.config, log: false });
    cleanups.push(() => inst.stop(1000));
    const siteUrl = `http://127.0.0.1:${inst.listeners[0].port}/`;
    const adminUrl = `http://127.0.0.1:${inst.admin.port}/`;
    const traffic = startTraffic({ origin: siteUrl.slice(0, -1), rps, paths: TRAFFIC_PATHS, rampMs: 1000 });
    cleanups.push(() => traffic.stop(500));
    const s: Session = { t0, dir, good, bad, siteUrl, adminUrl, token: inst.token.token, traffic, run, stopping: false, stopped, narrating: false };
    void stopped.then(() => (s.stopping = true));

    process.stdout.write(`
evenkeel is serving the demo site, with ${rps} synthetic requests/s (each server can take ${CAPACITY}/s):

  site        ${siteUrl}   (pages from the web pool; ${siteUrl}api/products from the api pool)
  dashboard   ${adminUrl}   (asks for the admin token once)
  token       ${inst.token.token}
              (in ${inst.token.file})
  config      ${good}
              four servers (${servers.map((b) => b.name).join(', ')}), pools web and api over all four

Try, in another terminal (npx evenkeel, or node bin/evenkeel.js, from the repository):
  evenkeel plan ${bad} --against ${good}
  evenkeel status -c ${good}
  evenkeel apply ${bad} --reason test -c ${good}
${flags.incident ? `\nThe outage replays live in ${Math.round(incidentAfter / 1000)} s; watch it on the dashboard.\n` : '\nTo watch the outage replayed live: evenkeel demo --incident\n'}
Ctrl-C stops everything the demo started.

`);
    if (until !== undefined) setTimeout(stopNow, until).unref();
    const beat = heartbeat(s);
    cleanups.push(async () => clearInterval(beat));
    if (flags.incident && !(await sleepUnless(s, incidentAfter))) {
      const ok = await incident(s);
      if (!ok && !s.stopping) code = 1;
      if (!s.stopping) process.stdout.write(`\nThe demo keeps serving: look at the dashboard (${adminUrl}). Ctrl-C stops it.\n`);
    }
    await stopped;
  } catch (err) {
    // Whatever failed, stop what was started before reporting it.
    stopNow();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`stopped: the servers, evenkeel and the traffic; removed ${dir}\n`);
  }
  return code;
}

/**
 * The first line of defence, in a few lines: the outage's change planned against the config
 * (what `evenkeel plan bad-change.yaml --against evenkeel.yaml` says, without the tables and hints).
 */
function prologue(bad: string, previous: Analysed): string {
  const plan = validateFile(bad, { previous });
  const errors = plan.findings.filter((f) => f.severity === 'error');
  const lines = errors.map((f) => `  ${displayPath(f.file ?? bad)}:${f.line ?? 1}:${f.column ?? 1}: error ${f.code}: ${f.message}\n`).join('');
  return 'evenkeel demo: a website and its API behind evenkeel, with live traffic\n\n' +
    'Before anything is deployed, evenkeel judges a change by the traffic it would send where.\n' +
    "The outage's change (three of four web servers set to weight 0), planned against the site's config:\n\n" +
    `${lines}  → an apply would be ${errors.length ? `REFUSED (${errors.length} errors)` : 'accepted (unexpected)'}; ` +
    'the whole plan, with tables and hints, is the first command under "Try" below.\n';
}

/** The mix the synthetic visitors request: 80% pages (pool web), 20% API calls (pool api). */
const TRAFFIC_PATHS = [
  { path: '/', weight: 3 },
  { path: '/products', weight: 2 },
  { path: '/cart', weight: 1 },
  { path: '/static/app.js', weight: 2 },
  { path: '/api/products', weight: 1 },
  { path: '/api/orders/7', weight: 1 },
];

/**
 * The demo config: the site and its API over the same four servers (one server, one capacity,
 * whichever pool sends to it), sized so the steady load keeps each server near 40% of its
 * capacity. `drained` is the outage's change.
 */
function demoConfig(o: { site: number; admin: number; dir: string; servers: readonly DemoBackend[]; rps: number; drained: boolean }): string {
  const peak = Math.ceil((o.rps * 1.25) / 10) * 10;
  const list = (pool: string, drain: boolean) => o.servers.map((b, i) => `      - { name: ${pool}-${i + 1}, address: ${b.address}${drain && i > 0 ? ', weight: 0' : ''} }`).join('\n');
  return `# evenkeel demo: a website and its API over four servers of ${CAPACITY} req/s each.
${o.drained ? '# The outage\'s change: three of the four web servers set to weight 0.\n' : ''}listeners:
  - name: public
    address: 127.0.0.1:${o.site}
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: api }
      - { name: site, match: { pathPrefix: / }, pool: web }
pools:
  web:
    capacity: ${CAPACITY}
    backends:
${list('web', o.drained)}
    healthCheck: { path: /healthz, interval: 2s, timeout: 1s }
  api:
    algorithm: least-request
    capacity: ${CAPACITY}
    backends:
${list('api', false)}
    healthCheck: { path: /healthz, interval: 2s, timeout: 1s }
guardrails:
  traffic: { peakRps: ${peak}, routes: { api: ${Math.ceil(peak / 5)} } }
  rollout: { canaryPercent: 10, canaryDuration: 20s, bakeTime: 5m }
  rollback: { auto: true, window: ${WINDOW}, errorRate: 0.05 }
admin:
  address: 127.0.0.1:${o.admin}
store:
  path: ${join(o.dir, 'store')}
`;
}

/** The outage, live: three applies of the bad change, narrated with times. False when a step did not go as expected. */
async function incident(s: Session): Promise<boolean> {
  s.narrating = true;
  const say = (line: string) => process.stdout.write(`${stamp(s)} ${line}\n`);
  const reason = 'routine update: drain web-2, web-3 and web-4';
  let ok = true;
  process.stdout.write(`\n=== The outage, replayed live (watch it on the dashboard: ${s.adminUrl})\n\n`);

  say("1/3  The outage's change, applied the normal way:");
  let before = s.traffic.totals();
  let code = await cli(s, ['apply', 'bad-change.yaml', '--reason', reason, '-c', 'evenkeel.yaml']);
  if (await sleepUnless(s, 3000)) return true;
  ok &&= code === 1;
  say(`     → ${code === 1 ? 'refused before anything changed' : `unexpected: exit ${code}`}; requests failed since the apply: ${failedSince(s, before)}`);

  say('2/3  Forced past the findings (--force): it runs first as a canary on 10% of the requests:');
  before = s.traffic.totals();
  const step2 = new Date(Date.now() - 1000).toISOString();
  code = await cli(s, ['apply', 'bad-change.yaml', '--force', '--reason', reason, '-c', 'evenkeel.yaml']);
  if (await sleepUnless(s, 3000)) return true;
  const aborted = (await journal(s, step2)).some((e) => e.type === 'canary.aborted');
  ok &&= code === 1 && aborted;
  say(`     → ${aborted ? 'the canary was aborted; the site kept serving version 1' : `unexpected: exit ${code} and no canary.aborted in the journal`}; requests failed since the apply: ${failedSince(s, before)}`);

  say('3/3  Forced with no canary (--force --no-canary): now only the monitors stand between the change and the users:');
  before = s.traffic.totals();
  const since = new Date(Date.now() - 1000).toISOString();
  const changeAt = Date.now();
  code = await cli(s, ['apply', 'bad-change.yaml', '--force', '--no-canary', '--reason', reason, '-c', 'evenkeel.yaml']);
  if (s.stopping) return true;
  ok &&= code === 0;
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
  const rolledBack = await pollUntil(s, 30_000, async () => (await follow()).some((e) => e.type === 'rollback.auto'));
  if (s.stopping) return true;
  ok &&= rolledBack;
  if (!rolledBack) say('     → no automatic rollback within 30 s (unexpected)');
  await sleepUnless(s, 2000);
  say(`     → requests failed from the change until now: ${failedSince(s, before)}; waiting for the alerts to resolve (${WINDOW} of clean traffic)…`);
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
async function cli(s: Session, args: string[]): Promise<number> {
  process.stdout.write(`\n$ evenkeel ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}\n`);
  const code = await Promise.race([s.run(['node', 'evenkeel', ...args]), s.stopped.then(() => -1)]);
  if (!s.stopping) process.stdout.write('\n');
  return code;
}

interface JournalEvent {
  id: number;
  time: string;
  type: string;
  version: number | null;
  data: Record<string, unknown>;
}

/** The journal since `since`, from the admin API (empty when it does not answer: the demo is stopping). */
async function journal(s: Session, since: string): Promise<JournalEvent[]> {
  try {
    const res = await fetch(`${s.adminUrl}api/v1/events?since=${encodeURIComponent(since)}`, { headers: { authorization: `Bearer ${s.token}` } });
    return res.ok ? ((await res.json()) as { events: JournalEvent[] }).events : [];
  } catch {
    return [];
  }
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
function heartbeat(s: Session): NodeJS.Timeout {
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

function failedSince(s: Session, before: TrafficTotals): string {
  const now = s.traffic.totals();
  const sent = now.sent - before.sent;
  const failed = now.failed - before.failed;
  return `${failed} of ${sent} (${pct(sent ? failed / sent : 0)})`;
}

/** `[mm:ss]` since the demo started. */
function stamp(s: Session): string {
  const sec = Math.floor((Date.now() - s.t0) / 1000);
  return `[${String(Math.floor(sec / 60)).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}]`;
}

/** Sleeps `ms`; true when the demo started stopping instead. */
async function sleepUnless(s: Session, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([s.stopped, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
  return s.stopping;
}

/** Polls `check` every 250 ms until it holds (true), `ms` pass or the demo stops (false). */
async function pollUntil(s: Session, ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!s.stopping && Date.now() < deadline) {
    if (await check()) return true;
    if (await sleepUnless(s, 250)) return false;
  }
  return false;
}

/** `port` on 127.0.0.1 when it is free, else one the OS picks. */
async function preferPort(port: number): Promise<number> {
  const tryListen = (p: number) => new Promise<number | undefined>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(p, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
  return (await tryListen(port)) ?? (await tryListen(0))!;
}
