/**
 * Once, end to end (issue 10, hole 4): Debian's `prometheus` scrapes a real `evenkeel serve`
 * through its bearer token, with the rules `evenkeel export prometheus-rules` writes for that
 * config. The seed change (two of three web servers drained, forced in without a canary and
 * with automatic rollback off so it stays) fires EvenkeelOverload on web-1; the healthy pool
 * beside it fires nothing. Skipped where prometheus is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { adminToken, evenkeel, steadyTraffic, type Site } from '../change/helpers.js';
import { cleanup, eventually, freePort, onCleanup, spawnServe, startBackend, tempDir } from '../dataplane/helpers/harness.js';

after(cleanup);

const PROMETHEUS = spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).status === 0;

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

test('a real Prometheus scraping a real serve: the seed change fires overload, the healthy pool nothing', { skip: PROMETHEUS ? false : 'prometheus is not installed (apt-get install prometheus)', timeout: 110_000 }, async () => {
  const web = [await startBackend(), await startBackend(), await startBackend()];
  const app = [await startBackend(), await startBackend()];
  const [port, admin, promPort] = [await freePort(), await freePort(), await freePort()];
  const dir = tempDir();
  const text = (weights: number[]) => `listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes:
      - { name: app, match: { pathPrefix: /app/ }, pool: app }
      - { name: site, pool: web }
pools:
  web:
    capacity: 30
    backends:
${web.map((b, i) => `      - { name: web-${i + 1}, address: ${b.address}, weight: ${weights[i]} }`).join('\n')}
  app:
    capacity: 100000
    backends:
${app.map((b, i) => `      - { name: app-${i + 1}, address: ${b.address} }`).join('\n')}
guardrails:
  rollout: { canaryPercent: 10, canaryDuration: 1s }
  rollback: { auto: false, window: 5s }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`;
  const file = join(dir, 'evenkeel.yaml');
  writeFileSync(file, text([1, 1, 1]));
  const s = { dir, file, port, admin } as Site;
  await spawnServe(file);

  const rules = await evenkeel(['export', 'prometheus-rules', '-c', file, '--scrape-interval', '1s', '-o', join(dir, 'rules.yaml')]);
  assert.equal(rules.code, 0, rules.stderr);
  writeFileSync(join(dir, 'prometheus.yml'), `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [rules.yaml]
scrape_configs:
  - job_name: evenkeel
    metrics_path: /metrics
    authorization: { type: Bearer, credentials_file: ${join(dir, 'store', 'admin.token')} }
    static_configs: [{ targets: ['127.0.0.1:${admin}'] }]
`);
  assert.ok(adminToken(s).length > 10);
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr!.on('data', (d) => (promLog += d));
  onCleanup(async () => {
    if (prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
    }
  });
  const query = async <T>(path: string): Promise<T> => ((await (await fetch(`http://127.0.0.1:${promPort}${path}`)).json()) as { data: T }).data;
  const alerts = async () => (await query<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts;
  await eventually(async () => {
    try {
      const t = await query<{ activeTargets: { health: string }[] }>('/api/v1/targets');
      return t.activeTargets.some((x) => x.health === 'up');
    } catch {
      return false;
    }
  }, 30_000, `prometheus to scrape evenkeel with the token: ${promLog}`);

  // ~45 req/s to web (15 per server, half its capacity), ~20 req/s to app.
  const load = steadyTraffic(port, { rps: 60, paths: ['/', '/', '/', '/app/x'] });
  try {
    // Healthy: a couple of rule ranges (5 s) of traffic and no alert, pending or firing.
    await new Promise((r) => setTimeout(r, 10_000));
    assert.deepEqual((await alerts()).map((a) => a.labels.alertname), [], 'a healthy config fires nothing');

    const seed = join(dir, 'seed.yaml');
    writeFileSync(seed, text([1, 0, 0]));
    const forced = await evenkeel(['apply', seed, '--force', '--no-canary', '--reason', 'the seed change', '-c', file]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    await eventually(async () => (await alerts()).some((a) => a.state === 'firing' && a.labels.alertname === 'EvenkeelOverload' && a.labels.backend === 'web-1'), 50_000, 'EvenkeelOverload on web-1 firing');
    const now = await alerts();
    assert.ok(!now.some((a) => a.labels.pool === 'app'), `the healthy pool fires nothing: ${JSON.stringify(now)}`);
    assert.equal(now.find((a) => a.labels.alertname === 'EvenkeelOverload')!.labels.severity, 'critical');
  } finally {
    await load.stop();
  }
});
