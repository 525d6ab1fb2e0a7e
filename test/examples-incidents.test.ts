/**
 * examples/incidents/: bad configs derived from real, public incidents. Each must be refused
 * with the findings its `# expect:` line names (as errors), judged against its `.previous.yaml`
 * when it has one; and each `.previous.yaml` (the good "before") must itself be free of errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateFile } from '../src/analysis/index.ts';
import { CODES } from '../src/config/findings.ts';
import { ROOT } from './helpers.ts';

const DIR = join(ROOT, 'examples', 'incidents');

interface Incident {
  file: string;
  previous?: string;
  incident: string;
  expect: string[];
}

/** Reads the three header lines every incident file starts with. */
function readIncident(name: string): Incident {
  const file = join(DIR, name);
  const [l1 = '', l2 = '', l3 = ''] = readFileSync(file, 'utf8').split('\n');
  const incident = /^# incident: (.+) \((https?:\/\/\S+)\)$/.exec(l1);
  assert.ok(incident, `${name}: line 1 must be "# incident: <who, when, what> (<source URL>)", got ${JSON.stringify(l1)}`);
  assert.match(l2, /^# bad change: \S/, `${name}: line 2 must be "# bad change: …"`);
  const expect = /^# expect: (EK\d{3}(?:, ?EK\d{3})*)\s*$/.exec(l3);
  assert.ok(expect, `${name}: line 3 must be "# expect: EKnnn, EKnnn", got ${JSON.stringify(l3)}`);
  const previous = file.replace(/\.yaml$/, '.previous.yaml');
  return { file, previous: existsSync(previous) ? previous : undefined, incident: incident[1], expect: expect[1].split(/,\s*/) };
}

const names = readdirSync(DIR).filter((n) => n.endsWith('.yaml') && !n.endsWith('.previous.yaml')).sort();
const incidents = names.map((n) => ({ name: n, ...readIncident(n) }));
const previousFiles = readdirSync(DIR).filter((n) => n.endsWith('.previous.yaml')).sort();

test('there are at least 8 incident configs', () => {
  assert.ok(names.length >= 8, `found ${names.length}: ${names.join(', ')}`);
});

test('every .previous.yaml belongs to an incident config', () => {
  for (const p of previousFiles) assert.ok(names.includes(p.replace(/\.previous\.yaml$/, '.yaml')), `${p} has no incident config next to it`);
});

for (const inc of incidents) {
  // "Cloudflare, 2020-07-17: a config change …" → "Cloudflare, 2020-07-17"
  const who = inc.incident.split(': ')[0];
  test(`${who} (${inc.name}) is refused with ${inc.expect.join(', ')}`, () => {
    for (const code of inc.expect) assert.ok(code in CODES, `${inc.name}: ${code} is not a finding code`);
    let previous;
    if (inc.previous) {
      const before = validateFile(inc.previous);
      const errors = before.findings.filter((f) => f.severity === 'error');
      assert.deepEqual(errors.map((f) => `${f.code}:${f.line} ${f.message}`), [], `${inc.name}: the previous version must be free of errors`);
      assert.ok(before.valid && before.config && before.model, `${inc.name}: the previous version must load`);
      previous = { config: before.config, model: before.model };
    }
    const r = validateFile(inc.file, { previous });
    const got = r.findings.map((f) => `${f.severity} ${f.code}:${f.line} ${f.message}`);
    assert.equal(r.valid, false, `${inc.name} must be refused; findings: ${JSON.stringify(got, null, 1)}`);
    assert.ok(r.config, `${inc.name} must be schema-valid (the bad part is semantic); findings: ${JSON.stringify(got, null, 1)}`);
    for (const code of inc.expect) {
      assert.ok(
        r.findings.some((f) => f.code === code && f.severity === 'error'),
        `${inc.name}: expected ${code} as an error; findings: ${JSON.stringify(got, null, 1)}`,
      );
    }
  });
}

for (const p of previousFiles) {
  test(`the good "before" ${p} has no error findings`, () => {
    const r = validateFile(join(DIR, p));
    const errors = r.findings.filter((f) => f.severity === 'error').map((f) => `${f.code}:${f.line} ${f.message}`);
    assert.deepEqual(errors, []);
    assert.equal(r.valid, true);
  });
}
