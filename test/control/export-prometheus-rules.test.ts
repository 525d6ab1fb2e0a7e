/** `evenkeel export prometheus-rules`: the monitors as alerting rules with the config's thresholds and DESIGN.md's metric names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { smallConfig, withFiles } from '../helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the CLI from source in a child process (the command writes to stdout). */
function evenkeel(args: string[], cwd: string) {
  const script = join(cwd, 'run.mjs');
  writeFileSync(script, `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/cli/main.ts')).href)};\nprocess.exitCode = await main(['node', 'evenkeel', ...process.argv.slice(2)]);\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  keep_firing_for: string;
  labels: Record<string, string>;
}

test('writes one rule per monitor with the config thresholds; latency only when latencyP99 is set', () => {
  const dir = withFiles({
    'evenkeel.yaml': smallConfig({ extra: '  maxBackendShare: 0.6\n  rollback: { window: 30s, errorRate: 0.02, skew: 0.1, latencyP99: 1500ms }\n' }),
    'plain.yaml': smallConfig(),
  });
  try {
    const r = evenkeel(['export', 'prometheus-rules', '-c', join(dir, 'evenkeel.yaml')], dir);
    assert.equal(r.code, 0, r.stderr);
    const rules = (parse(r.stdout) as { groups: { name: string; rules: Rule[] }[] }).groups[0].rules;
    assert.deepEqual(rules.map((x) => x.alert), ['EvenkeelOverload', 'EvenkeelConcentration', 'EvenkeelSkew', 'EvenkeelErrorRate', 'EvenkeelLatency']);
    const expr = Object.fromEntries(rules.map((x) => [x.labels.monitor, x.expr]));
    // Counted over the window (at least 1m) from the request counters, with the monitors' sample minimum and tolerance.
    assert.match(expr.overload, /^\(sum by \(pool, backend\) \(increase\(evenkeel_requests_total\{backend!=""\}\[1m\]\)\) - 4 \* sqrt\(.*\)\) \/ 60 > max by \(pool, backend\) \(evenkeel_backend_capacity\) and .* >= 50$/);
    assert.match(expr.concentration, /> on \(pool\) group_left \(\) \(0\.61 \+ 1\.959\d* \/ sqrt\(.*>= 50\) and on \(pool\) \(count by \(pool\) \(min by \(pool, backend\) \(evenkeel_backend_up\) == 1 and max by \(pool, backend\) \(evenkeel_backend_expected_share\) > 0\) >= 2\)$/);
    assert.match(expr.skew, /^abs\(.* - max by \(pool, backend\) \(evenkeel_backend_expected_share\)\) - 4 \* sqrt\(clamp\(.*\) > 0\.1 and on \(pool\) \(.* >= 50\)$/);
    assert.match(expr['error-rate'], /evenkeel_requests_total\{code=~"5\.\."\}\[1m\].*> \(0\.02 \+ 0\.56\d* \/ sqrt\(.*\)\) and .* >= 50$/);
    assert.match(expr.latency, /histogram_quantile\(0\.99, sum by \(pool, le\) \(rate\(evenkeel_request_duration_seconds_bucket\[1m\]\)\)\) > 1\.5 and/);
    assert.ok(rules.every((x) => x.for === '30s'), 'for: the monitor window');
    assert.deepEqual(Object.fromEntries(rules.map((x) => [x.labels.monitor, x.labels.severity])), { overload: 'critical', concentration: 'warning', skew: 'warning', 'error-rate': 'critical', latency: 'warning' });
    assert.ok(rules.every((x) => x.keep_firing_for === '30s'));

    const out = join(dir, 'rules.yaml');
    const p = evenkeel(['export', 'prometheus-rules', '-c', join(dir, 'plain.yaml'), '-o', out], dir);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, '');
    const plain = (parse(readFileSync(out, 'utf8')) as { groups: { rules: Rule[] }[] }).groups[0].rules;
    assert.equal(plain.length, 4, 'no latency rule without latencyP99');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config that does not load: exit 1 with its findings; a missing file: exit 2', () => {
  const dir = withFiles({ 'broken.yaml': 'listeners: 3\n' });
  try {
    const bad = evenkeel(['export', 'prometheus-rules', '-c', join(dir, 'broken.yaml')], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /broken\.yaml:1:1: error EK101/);
    assert.equal(bad.stdout, '');
    const missing = evenkeel(['export', 'prometheus-rules', '-c', join(dir, 'nope.yaml')], dir);
    assert.equal(missing.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
