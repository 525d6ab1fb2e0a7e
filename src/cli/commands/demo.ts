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
 * With `--incident` it then replays the outage live on the running site (the scenario is
 * src/demo/scenario.ts, shared with the outage replay; the narration cli/demo-incident.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { validateFile, type Analysed } from '../../analysis/index.js';
import type { Instance } from '../../control/index.js';
import { type CommandResult, durationFlag } from '../shared.js';
import type { DemoBackend, ScenarioConfigOptions } from '../../demo/index.js';
import { UsageError } from '../../errors.js';
import type { DemoSession, Run } from '../demo-incident.js';
import { displayPath } from '../format.js';

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

async function demo(flags: DemoFlags, run: Run): Promise<number> {
  const incidentAfter = durationFlag('--incident-after', flags.incidentAfter);
  const until = flags.duration === undefined ? undefined : durationFlag('--duration', flags.duration);
  const rps = Number(flags.rps);
  if (!Number.isFinite(rps) || rps <= 0 || rps > 5000) throw new UsageError(`--rps ${flags.rps}: expected a number of requests per second from 1 to 5000`);

  // The data plane, the load generator and the narration load only when the demo runs.
  const { outageWeights, scenarioConfig, startDemoBackend, startTraffic } = await import('../../demo/index.js');
  const { heartbeat, incident, sleepUnless } = await import('../demo-incident.js');
  const demoConfig = (o: { site: number; admin: number; dir: string; servers: readonly DemoBackend[]; rps: number; drained: boolean }) => scenarioConfig(demoConfigOptions(o, outageWeights(o.servers.length, o.drained)));
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
    const s: DemoSession = { t0, adminUrl, token: inst.token.token, traffic, run, window: WINDOW, stopping: false, stopped, narrating: false };
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
 * The demo config (the scenario's, src/demo/scenario.ts): the site and its API over the same
 * four servers (one server, one capacity, whichever pool sends to it), sized so the steady load
 * keeps each server near 40% of its capacity. `drained` (the web weights given) is the outage's change.
 */
function demoConfigOptions(o: { site: number; admin: number; dir: string; servers: readonly DemoBackend[]; rps: number; drained: boolean }, weights: number[]): ScenarioConfigOptions {
  const peak = Math.ceil((o.rps * 1.25) / 10) * 10;
  return {
    comment: [`evenkeel demo: a website and its API over four servers of ${CAPACITY} req/s each.`, ...(o.drained ? ["The outage's change: three of the four web servers set to weight 0."] : [])],
    site: o.site, admin: o.admin, storePath: join(o.dir, 'store'), servers: o.servers, capacity: CAPACITY, peakRps: peak, apiPeakRps: Math.ceil(peak / 5),
    weights, healthCheck: { interval: '2s', timeout: '1s' }, canaryDuration: '20s', window: WINDOW,
  };
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
