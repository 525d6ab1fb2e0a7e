/** Every problem in a config file is a finding with file:line:column, a code and a hint — never a throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseConfigText } from '../src/config/index.ts';
import { validateText } from '../src/analysis/index.ts';
import { smallConfig } from './helpers.ts';

const cases: { desc: string; text: string; code: string; line: number; column?: number; message: RegExp; hint?: RegExp }[] = [
  { desc: 'YAML syntax error', text: 'listeners:\n  - name: a\n    address: [1,\n', code: 'EK100', line: 4, message: /YAML syntax error/ },
  { desc: 'duplicate key', text: 'listeners: []\npools: {}\nlisteners: []\n', code: 'EK103', line: 3, column: 1, message: /duplicate key "listeners"/ },
  { desc: 'wrong type names the value', text: smallConfig().replace('weight: 1 }', 'weight: "3" }'), code: 'EK101', line: 11, message: /pools\.web\.backends\[0\]\.weight must be a number, not the string "3"/, hint: /weight: 1/ },
  { desc: 'unknown key with did-you-mean', text: smallConfig().replace('  web:\n', '  web:\n    algoritm: random\n'), code: 'EK102', line: 9, column: 5, message: /unknown key "algoritm" in pools\.web \(did you mean "algorithm"\?\)/, hint: /rename it to "algorithm"/ },
  { desc: 'missing required key', text: smallConfig().replace('address: 10.0.0.2:8080, ', ''), code: 'EK101', line: 12, message: /backends\[1\] is missing the required key "address"/ },
  { desc: 'bad address', text: smallConfig().replace('10.0.0.3:8080', '10.0.0.3'), code: 'EK101', line: 13, message: /expected host:port/ },
  { desc: 'out of range', text: smallConfig({ extra: '  maxBackendShare: 2\n' }), code: 'EK101', line: 17, message: /maxBackendShare must be <= 1 \(got 2\)/ },
  { desc: 'bad enum with did-you-mean', text: smallConfig().replace('  web:\n', '  web:\n    algorithm: round-robbin\n'), code: 'EK101', line: 9, message: /did you mean "round-robin"/ },
  { desc: 'bad duration', text: smallConfig().replace('healthCheck: { path: /healthz }', 'healthCheck: { path: /healthz, interval: 2 seconds }'), code: 'EK101', line: 9, message: /duration/ },
  { desc: 'empty file', text: '', code: 'EK101', line: 1, message: /is empty/ },
  { desc: 'top level is a list', text: '- a\n- b\n', code: 'EK101', line: 1, message: /must be a mapping/ },
  { desc: 'unknown pool', text: smallConfig().replace('pool: web', 'pool: wbe'), code: 'EK105', line: 6, message: /pool "wbe", which is not defined \(did you mean "web"\?\)/ },
];

for (const c of cases) {
  test(`${c.desc} is ${c.code} at line ${c.line}`, () => {
    const r = validateText(c.text, 'x.yaml');
    const f = r.findings.find((x) => x.code === c.code);
    assert.ok(f, `expected ${c.code}, got ${JSON.stringify(r.findings.map((x) => `${x.code} ${x.message}`))}`);
    assert.equal(r.valid, false);
    assert.equal(f.line, c.line, `${f.code} ${f.message} at ${f.line}:${f.column}`);
    if (c.column !== undefined) assert.equal(f.column, c.column);
    assert.match(f.message, c.message);
    if (c.hint) assert.match(f.hint, c.hint);
    assert.ok(f.hint.length > 10, 'every finding has a hint');
  });
}

test('relative paths resolve against the config file folder', () => {
  const r = parseConfigText(smallConfig({ extra: '  traffic: { sample: ./t.jsonl }\n' }).replace('  maxShift: 0.5\n', ''), '/srv/lb/evenkeel.yaml');
  assert.ok(r.config, JSON.stringify(r.findings));
  assert.equal(r.config.guardrails.traffic?.sample, join('/srv/lb', 't.jsonl'));
  assert.equal(r.config.store.path, join('/srv/lb', '.evenkeel'));
});

test('a loaded config is frozen', () => {
  const r = parseConfigText(smallConfig(), 'x.yaml');
  assert.ok(r.config);
  assert.throws(() => {
    (r.config!.pools.web.backends[0] as { weight: number }).weight = 9;
  }, TypeError);
});

test('defaults are applied, durations in milliseconds', () => {
  const r = parseConfigText(smallConfig(), 'x.yaml');
  const pool = r.config!.pools.web;
  assert.equal(pool.algorithm, 'round-robin');
  assert.equal(pool.healthCheck?.interval, 2000);
  assert.equal(pool.timeouts.request, 30000);
  assert.equal(r.config!.guardrails.rollout.bakeTime, 300000);
  assert.equal(r.config!.admin.address, '127.0.0.1:9901');
});
