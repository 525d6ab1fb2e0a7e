// examples/haproxy/: the site + API haproxy.cfg validates (with and without its guardrails
// file) and its suite passes; every config in bad/ is refused through the real CLI with the
// code its `# expect:` line names, and that error names the server (or address).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cli } from '../helpers.ts';

const DIR = join(ROOT, 'examples', 'haproxy');
const BAD = join(DIR, 'bad');

test('the site + API haproxy.cfg validates, with its guardrails and without', () => {
  for (const args of [[], ['--guardrails', 'guardrails.yaml']]) {
    const r = cli(['validate', 'haproxy.cfg', ...args], { cwd: DIR });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /haproxy\.cfg: valid \(0 errors/);
  }
});

test('the suite on haproxy.cfg passes', () => {
  const r = cli(['test', 'haproxy.test.yaml'], { cwd: DIR });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, / 0 failed/);
});

const bad = readdirSync(BAD).filter((n) => n.endsWith('.cfg')).sort();

test('there are at least 6 bad haproxy configs', () => {
  assert.ok(bad.length >= 6, bad.join(', '));
});

for (const name of bad) {
  const [l1 = '', l2 = '', l3 = ''] = readFileSync(join(BAD, name), 'utf8').split('\n');
  test(`${name} is refused`, () => {
    assert.match(l1, /^# pitfall: \S/, `${name}: line 1 must be "# pitfall: …"`);
    const expect = /^# expect: (EK\d{3}) (\S+)$/.exec(l2);
    assert.ok(expect, `${name}: line 2 must be "# expect: EKnnn SERVER"`);
    const args = /^# args: (.+)$/.exec(l3)?.[1].split(' ') ?? [];
    const r = cli(['validate', name, '--format', 'json', ...args], { cwd: BAD });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { valid: boolean; findings: { code: string; severity: string; message: string; line: number }[]; prediction: unknown };
    assert.equal(out.valid, false);
    assert.ok(out.prediction, 'the prediction is in the JSON even when refused');
    const hit = out.findings.find((f) => f.code === expect[1] && f.severity === 'error');
    assert.ok(hit, `${name}: no error ${expect[1]}: ${out.findings.map((f) => `${f.code} ${f.message}`).join('; ')}`);
    assert.ok(hit.message.includes(expect[2]), `${name}: ${expect[1]} does not name ${expect[2]}: ${hit.message}`);
    assert.ok(hit.line > 3, `${name}: the finding points into the config, at line ${hit.line}`);
  });
}
