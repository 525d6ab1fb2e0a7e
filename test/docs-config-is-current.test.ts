/** docs/config.md is generated from the schema; a schema change without `npm run docs:config` fails here. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { validateText } from '../src/analysis/index.ts';
import { configJsonSchema } from '../src/config/index.ts';
import { CONFIG_DOC, renderConfigDoc } from '../scripts/gen-config-doc.ts';

test('docs/config.md is what the schema generates (run npm run docs:config when this fails)', () => {
  const fresh = renderConfigDoc();
  const onDisk = readFileSync(CONFIG_DOC, 'utf8');
  assert.ok(onDisk === fresh, 'docs/config.md is stale: run npm run docs:config');
});

/** A JSON Schema node, as far as this test reads it. */
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

/**
 * Every key of the schema with the path of the object that holds it (`pools.<name>.backends[]`),
 * found by walking the JSON Schema itself (objects, list items, map values, every anyOf branch),
 * independently of the generator's own walk.
 */
function schemaKeys(node: SchemaNode, path: string, out: Map<string, Set<string>>): Map<string, Set<string>> {
  for (const branch of node.anyOf ?? []) schemaKeys(branch, path, out);
  if (node.type === 'array' && node.items) schemaKeys(node.items, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object') schemaKeys(node.additionalProperties, `${path}.<name>`, out);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (!out.has(path)) out.set(path, new Set());
    out.get(path)!.add(key);
    schemaKeys(child, path === '' ? key : `${path}.${key}`, out);
  }
  return out;
}

test('every key of the schema has a row in its section of docs/config.md', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const sections = new Map(doc.split(/^### /m).slice(1).map((s) => {
    const title = s.slice(0, s.indexOf('\n'));
    return [title === 'Top level' ? '' : title.replace(/^`|`$/g, ''), s] as const;
  }));
  const keys = schemaKeys(configJsonSchema() as SchemaNode, '', new Map());
  let n = 0;
  for (const [path, names] of keys) {
    const section = sections.get(path);
    assert.ok(section !== undefined, `docs/config.md has no section for ${path || 'the top level'}`);
    for (const key of names) {
      assert.match(section, new RegExp(`^\\| \`${key}\` \\|`, 'm'), `docs/config.md: no row for ${path ? `${path}.` : ''}${key}`);
      n++;
    }
  }
  // The walk itself must have found the schema: today's keys, so an empty walk cannot pass.
  assert.ok(n >= 80, `found only ${n} keys in the schema`);
});

test('the example config on the page is valid', () => {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml, 'docs/config.md has a yaml example');
  assert.ok(parse(yaml));
  const r = validateText(yaml, 'docs/config.md');
  assert.equal(r.valid, true, r.findings.map((f) => `${f.code} ${f.message}`).join('\n'));
});
