/**
 * `npm run screenshot`: docs/dashboard.png, the dashboard in the middle of the seed incident.
 *
 * Starts six local backends that slow down and fail some requests past their capacity (a website pool
 * of four and an API pool of two), `evenkeel serve` in this process on a temp store, and steady
 * traffic (about 280 req/s to the site, 90 req/s to the API). After a minute of calm it forces
 * the incident's change through the admin API (three of four web backends drained; automatic
 * rollback is off so the alert stays up), waits until the monitors fire, logs into the page
 * with the admin token and saves a desktop-size screenshot. Everything listens on 127.0.0.1.
 *
 * Options: `--out FILE` [docs/dashboard.png], `--calm SECONDS` of traffic before the change [60],
 * `--viewport WIDTHxHEIGHT` [1440x1000] (the page is captured whole).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { validateFile } from '../src/analysis/index.js';
import { Instance } from '../src/control/instance.js';
import { openBrowser, openDashboard } from '../test/ui/browser.js';

const { values: flags } = parseArgs({ options: { out: { type: 'string', default: 'docs/dashboard.png' }, calm: { type: 'string', default: '60' }, viewport: { type: 'string', default: '1440x1000' } } });
const out = resolve(flags.out!);
const calmMs = Number(flags.calm) * 1000;
const [width, height] = flags.viewport!.split('x').map(Number);
if (!(calmMs >= 0) || !(width > 0) || !(height > 0)) throw new Error('usage: npm run screenshot -- [--out FILE] [--calm SECONDS] [--viewport WIDTHxHEIGHT]');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (m: string) => process.stdout.write(`screenshot: ${m}\n`);

/** A backend that answers in a few ms up to `capacity` req/s, then slowly and with some 503s (an overloaded server). */
async function backend(capacity: number): Promise<{ address: string; close(): Promise<void> }> {
  let second = 0;
  let served = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/healthz') return void res.end('ok');
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) [second, served] = [now, 0];
    served++;
    const over = served > capacity;
    // Past capacity it gets slow and fails some requests; not every one, or evenkeel's outlier
    // detection would eject it after five 503s in a row and the picture would be of that instead.
    const fail = over && Math.random() < 0.12;
    setTimeout(() => {
      res.statusCode = fail ? 503 : 200;
      res.end(fail ? 'overloaded\n' : 'ok\n');
    }, over ? 80 + Math.random() * 120 : 2 + Math.random() * 4);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => r(port));
    });
  });
}

/** Requests at a steady `perSecond` to `path` until stopped (bounded by the run itself). */
function traffic(port: number, path: string, perSecond: number, headers: Record<string, string> = {}): () => void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let n = 0;
  const tick = setInterval(() => {
    for (let i = 0; i < perSecond / 20; i++) {
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { ...headers, 'x-user-id': String(n++ % 500) } }, (res) => res.resume());
      req.on('error', () => undefined);
    }
  }, 50);
  return () => {
    clearInterval(tick);
    agent.destroy();
  };
}

function config(port: number, admin: number, dir: string, web: string[], api: string[], webWeights: number[]): string {
  return `# The dashboard screenshot's site: a website and its API.
listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: api }
      - { name: site, match: { pathPrefix: / }, pool: web }
pools:
  web:
    capacity: 150
    backends:
${web.map((a, i) => `      - { name: web-${i + 1}, address: ${a}, weight: ${webWeights[i]} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 2s }
  api:
    capacity: 120
    backends:
${api.map((a, i) => `      - { name: api-${i + 1}, address: ${a} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 2s }
guardrails:
  traffic: { peakRps: 400, routes: { api: 100 } }
  rollback: { auto: false, window: 10s }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-screenshot-'));
  const web = await Promise.all([150, 150, 150, 150].map(backend));
  const api = await Promise.all([120, 120].map(backend));
  const [port, admin] = [await freePort(), await freePort()];
  const file = join(dir, 'evenkeel.yaml');
  writeFileSync(file, config(port, admin, dir, web.map((b) => b.address), api.map((b) => b.address), [1, 1, 1, 1]));
  const report = validateFile(file);
  if (!report.config || !report.valid) throw new Error(`the screenshot's config is invalid: ${report.findings.map((f) => f.message).join('; ')}`);
  const inst = await Instance.start({ file, config: report.config, log: false });
  const base = `http://127.0.0.1:${inst.admin.port}`;
  const stops = [traffic(port, '/', 280), traffic(port, '/api/orders', 90)];
  const browser = await openBrowser({ width, height });
  try {
    say(`serving on 127.0.0.1:${port}, dashboard at ${base}; ${calmMs / 1000} s of steady traffic first`);
    await sleep(calmMs);
    const bad = config(port, admin, dir, web.map((b) => b.address), api.map((b) => b.address), [1, 0, 0, 0]);
    const res = await fetch(`${base}/api/v1/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inst.token.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: bad, file, force: true, canary: false, author: 'alice', reason: 'routine change: take web-2..4 out for patching' }),
    });
    const applied = (await res.json()) as { applied: boolean; version?: number; error?: string };
    if (!applied.applied) throw new Error(`the bad change was not applied: ${JSON.stringify(applied)}`);
    say(`forced the bad change in as version ${applied.version}; waiting for the monitors`);
    const until = Date.now() + 90_000;
    for (;;) {
      const alerts = ((await inst.status()) as { alerts: { monitor: string }[] }).alerts;
      if (alerts.some((a) => a.monitor === 'overload')) break;
      if (Date.now() > until) throw new Error(`the monitors did not fire within 90 s (firing: ${alerts.map((a) => a.monitor).join(', ') || 'none'})`);
      await sleep(500);
    }
    // Some incident in the chart, but the alert still fresh.
    await sleep(20_000);
    const page = await openDashboard(browser, base, inst.token.token);
    await page.locator('#alerts .alert').first().waitFor();
    await page.waitForFunction(() => Number(document.getElementById('chart-rps')?.dataset.points ?? 0) > 30);
    // Open the bad version's diff, as an operator would.
    await page.locator(`#version-list li[data-version="${applied.version}"] button`, { hasText: 'Diff' }).click();
    await page.locator(`#version-list li[data-version="${applied.version}"] .diff pre`).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(1500);
    await page.screenshot({ path: out, fullPage: true });
    say(`saved ${out}`);
  } finally {
    await browser.close();
    for (const stop of stops) stop();
    await inst.stop(0);
    await Promise.all([...web, ...api].map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`screenshot: ${err.message}\n`);
    process.exit(1);
  },
);
