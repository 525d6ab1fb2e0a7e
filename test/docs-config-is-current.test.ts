/** docs/config.md is generated from the schema; a schema change without `npm run docs:config` fails here. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { validateText } from '../src/analysis/index.ts';
import { CONFIG_DOC, renderConfigDoc } from '../scripts/gen-config-doc.ts';

test('docs/config.md is what the schema generates (run npm run docs:config when this fails)', () => {
  const fresh = renderConfigDoc();
  const onDisk = readFileSync(CONFIG_DOC, 'utf8');
  assert.ok(onDisk === fresh, 'docs/config.md is stale: run npm run docs:config');
});

test('every key of the schema has a row in docs/config.md', () => {
  const doc = renderConfigDoc();
  for (const key of ['workers', 'maxBodyBytes', 'hashOn', 'maxConnections', 'expectStatus', 'budgetPercent', 'tolerateFailures', 'latencyP99', 'tokenFile']) {
    assert.match(doc, new RegExp(`^\\| \`${key}\` \\|`, 'm'), key);
  }
});

test('the example config on the page is valid', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml, 'docs/config.md has a yaml example');
  assert.ok(parse(yaml));
  const r = validateText(yaml, 'docs/config.md');
  assert.equal(r.valid, true, r.findings.map((f) => `${f.code} ${f.message}`).join('\n'));
});
