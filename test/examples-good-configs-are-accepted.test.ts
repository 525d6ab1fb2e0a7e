/** The good examples are accepted with no error; the bundled bad change is refused against them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateFile } from '../src/analysis/index.ts';
import { runSuiteFile } from '../src/analysis/suite.ts';
import { ROOT } from './helpers.ts';

const dir = join(ROOT, 'examples');
const good = readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml') && f !== 'bad-change.yaml');

test('there are good examples to check', () => assert.ok(good.length >= 1));

for (const f of good) {
  test(`examples/${f} has no error finding`, () => {
    const r = validateFile(join(dir, f));
    assert.equal(r.valid, true, r.findings.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.message}`).join('\n'));
  });
}

test('examples/website.test.yaml passes every case', () => {
  const r = runSuiteFile(join(dir, 'website.test.yaml'));
  assert.deepEqual(r.problems, []);
  assert.ok(r.results.length >= 8);
  for (const c of r.results) assert.ok(c.ok, `${c.name}: ${c.detail}`);
});

test('examples/bad-change.yaml (the seed incident) is refused against website.yaml', () => {
  const before = validateFile(join(dir, 'website.yaml'));
  const r = validateFile(join(dir, 'bad-change.yaml'), { previous: { config: before.config!, model: before.model! } });
  assert.equal(r.valid, false);
  const errors = new Set(r.findings.filter((x) => x.severity === 'error').map((x) => x.code));
  for (const c of ['EK209', 'EK202', 'EK203'] as const) assert.ok(errors.has(c), `${c} in ${[...errors]}`);
});
