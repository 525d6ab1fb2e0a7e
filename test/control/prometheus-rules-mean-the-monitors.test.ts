/**
 * The exported Prometheus rules mean the same as the built-in monitors (issue 10, hole 4),
 * checked with Debian's `promtool test rules` on synthetic series: a healthy two-backend pool
 * at 50.5% does not page (the old `observed_share > 0.5, for: 0s` did); a pool under 50
 * requests in the window does not fire; the seed change (one backend gets everything) fires
 * overload; a hot key fires concentration and skew; 4% errors at a 5% limit do not fire, 10%
 * do; and every alert waits its `for:` (the monitor's window). The same series through the
 * monitors themselves agree. Skipped where promtool is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import { prometheusRules } from '../../src/control/alerts/prometheus-rules.ts';
import { Monitors, type BackendTarget } from '../../src/telemetry/monitors/index.ts';
import { tempDir } from '../helpers.ts';

const PROMTOOL = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0 ? 'promtool' : undefined;

const CONFIG = `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes: [{ name: site, pool: web }]
pools:
  web: { capacity: 50, backends: [{ name: web-1, address: 10.0.0.1:80 }, { name: web-2, address: 10.0.0.2:80 }, { name: web-3, address: 10.0.0.3:80 }] }
guardrails:
  maxBackendShare: 0.5
  rollback: { window: 20s, errorRate: 0.05, skew: 0.15 }
`;

/** A counter series growing by `perSecond` for 10 minutes at a 15 s scrape. */
function counter(pool: string, backend: string, perSecond: number, code = '200') {
  return { series: `evenkeel_requests_total{listener="public",route="site",pool="${pool}",backend="${backend}",code="${code}"}`, values: `0+${perSecond * 15}x40` };
}
function gauge(name: string, pool: string, backend: string, value: number) {
  return { series: `${name}{pool="${pool}",backend="${backend}"}`, values: `${value}x40` };
}
/** Up, expected share and capacity of each backend of a pool. */
function pool(name: string, expected: number[], capacity = 1000) {
  return expected.flatMap((e, i) => [gauge('evenkeel_backend_up', name, `${name}-${i + 1}`, 1), gauge('evenkeel_backend_expected_share', name, `${name}-${i + 1}`, e), gauge('evenkeel_backend_capacity', name, `${name}-${i + 1}`, capacity)]);
}
const labels = (monitor: string, severity: string, pool: string, backend?: string) => ({ exp_labels: { alertname: `Evenkeel${monitor}`, monitor, severity, source: 'evenkeel', pool, ...(backend ? { backend } : {}) } });

test('promtool test rules: the exported rules fire where the monitors do, and only there', { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus)' }, () => {
  const load = parseConfigText(CONFIG, 'evenkeel.yaml');
  assert.ok(load.config);
  const rulesText = prometheusRules(load.config);
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'rules.yaml'), rulesText);
    const check = spawnSync(PROMTOOL!, ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    // promtool compares annotations exactly; their templates are checked above, the test compares labels.
    const rules = parse(rulesText) as { groups: { rules: Record<string, unknown>[] }[] };
    for (const r of rules.groups[0].rules) delete r.annotations;
    writeFileSync(join(dir, 'labels-only.yaml'), stringify(rules));
    const rps = 40;
    const tests = {
      rule_files: ['labels-only.yaml'],
      evaluation_interval: '15s',
      tests: [
        {
          // Healthy: two backends at 50.46% / 49.54% (the 0.5046), and a quiet pool with all of its 10 requests on one backend.
          interval: '15s',
          input_series: [
            counter('app', 'app-1', 50.46), counter('app', 'app-2', 49.54), ...pool('app', [0.5, 0.5]),
            counter('quiet', 'quiet-1', 0.05), counter('quiet', 'quiet-2', 0), ...pool('quiet', [0.5, 0.5]),
            counter('shy', 'shy-1', rps * 0.92), counter('shy', 'shy-1', rps * 0.08, '502'), counter('shy', 'shy-2', rps), ...pool('shy', [0.5, 0.5]),
          ],
          alert_rule_test: ['Overload', 'Concentration', 'Skew', 'ErrorRate'].map((m) => ({ eval_time: '10m', alertname: `Evenkeel${m}`, exp_alerts: [] })),
        },
        {
          // The seed change: web-2 and web-3 drained, web-1 takes 100 req/s against a capacity of 50.
          interval: '15s',
          input_series: [counter('web', 'web-1', 100), counter('web', 'web-2', 0), counter('web', 'web-3', 0), ...pool('web', [1, 0, 0], 50)],
          alert_rule_test: [
            { eval_time: '10s', alertname: 'EvenkeelOverload', exp_alerts: [] },
            { eval_time: '10m', alertname: 'EvenkeelOverload', exp_alerts: [labels('overload', 'critical', 'web', 'web-1')] },
            // Its own weights give web-1 everything and one backend is usable: not a concentration or skew, as in the monitors.
            { eval_time: '10m', alertname: 'EvenkeelConcentration', exp_alerts: [] },
            { eval_time: '10m', alertname: 'EvenkeelSkew', exp_alerts: [] },
          ],
        },
        {
          // A hot key: web-1 takes 80% where the weights expect a third; 10% errors in pool api.
          interval: '15s',
          input_series: [
            counter('web', 'web-1', 32), counter('web', 'web-2', 4), counter('web', 'web-3', 4), ...pool('web', [1 / 3, 1 / 3, 1 / 3]),
            counter('api', 'api-1', 16), counter('api', 'api-1', 4, '503'), counter('api', 'api-2', 20), ...pool('api', [0.5, 0.5]),
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'EvenkeelConcentration', exp_alerts: [labels('concentration', 'warning', 'web', 'web-1')] },
            { eval_time: '10m', alertname: 'EvenkeelSkew', exp_alerts: [labels('skew', 'warning', 'web', 'web-1'), labels('skew', 'warning', 'web', 'web-2'), labels('skew', 'warning', 'web', 'web-3')] },
            { eval_time: '10m', alertname: 'EvenkeelErrorRate', exp_alerts: [labels('error-rate', 'critical', 'api')] },
            { eval_time: '10m', alertname: 'EvenkeelOverload', exp_alerts: [] },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
    const r = spawnSync(PROMTOOL!, ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the monitors agree on the same traffic', () => {
  const T = { windowMs: 20_000, errorRate: 0.05, skew: 0.15, maxBackendShare: 0.5 };
  /** 20 s of `perSecond[i]` requests a second to backend i (errors[i] of them 5xx); what fires. */
  const fired = (perSecond: number[], expected: number[], errors: number[] = perSecond.map(() => 0), capacity = 100_000) => {
    const m = new Monitors(T);
    const targets: BackendTarget[] = expected.map((e, i) => ({ pool: 'p', backend: `p-${i + 1}`, up: true, expectedShare: e, capacity }));
    m.setTargets(targets);
    const t0 = Date.UTC(2026, 0, 1);
    for (let s = 0; s < 20; s++) {
      perSecond.forEach((n, i) => {
        for (let k = 0; k < n; k++) m.record('p', `p-${i + 1}`, k < (errors[i] * n) / perSecond[i] ? 503 : 200, 5, t0 + s * 1000 + (k * 1000) / n);
      });
    }
    return m.evaluate(t0 + 20_000).map((a) => `${a.monitor}:${a.backend ?? ''}`).sort();
  };
  assert.deepEqual(fired([5046, 4954], [0.5, 0.5]), [], 'a healthy pool at 50.46% is quiet');
  assert.deepEqual(fired([100, 0, 0], [1, 0, 0], undefined, 50), ['overload:p-1'], 'the seed change overloads web-1');
  assert.deepEqual(fired([32, 4, 4], [1 / 3, 1 / 3, 1 / 3]).filter((x) => !x.startsWith('skew')), ['concentration:p-1']);
  assert.deepEqual(fired([50, 50], [0.5, 0.5], [4, 0]), [], "4% errors under a 5% limit");
  assert.deepEqual(fired([20, 20], [0.5, 0.5], [4, 0]), ['error-rate:p-1']);
});
