/**
 * The catalogues: the error table is derived from the error classes themselves (every exported
 * subclass of EvenkeelError), pinned by count, and documented in docs/errors.md; finding codes
 * are unique, well-formed, and grouped as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as errors from '../src/errors.ts';
import { CODES } from '../src/config/findings.ts';

type ErrorClass = (abstract new (...args: never[]) => errors.EvenkeelError) & { code: errors.ErrorCode; name: string };
const classes = (Object.values(errors) as unknown[]).filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof errors.EvenkeelError);
const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('every error class has its own EK_E_* code and exactly one row of the table, which names it', () => {
  // The pinned count: adding a code means adding its row, its docs section and this number; a
  // removed code is retired in docs/errors.md and never reused.
  assert.equal(classes.length, 14, `error classes: ${classes.map((c) => c.name).join(', ')}`);
  const codes = classes.map((c) => c.code);
  assert.equal(new Set(codes).size, codes.length, `two classes share a code: ${codes.join(', ')}`);
  for (const c of classes) assert.match(c.code, /^EK_E_[A-Z_]+$/, c.name);
  assert.deepEqual(Object.keys(errors.ERRORS).sort(), [...codes].sort());
  for (const c of classes) assert.equal(errors.ERRORS[c.code].error, c, `${c.code}'s row names ${c.name}`);
});

test('an instance carries its class code, and the exit code and status of its row', () => {
  for (const c of classes) {
    const err = Reflect.construct(c, ['x', 'y']) as errors.EvenkeelError;
    const row = errors.ERRORS[c.code];
    assert.equal(err.code, c.code);
    assert.equal(err.name, c.name);
    assert.equal(err.exitCode, row.exitCode);
    assert.equal(err.status, row.status);
    assert.equal(errors.httpStatusOf(err), row.status);
    assert.ok([1, 2].includes(err.exitCode), `${c.code}: exit 1 (refused) or 2 (usage/environment)`);
    assert.ok(err.status >= 400 && err.status <= 599, `${c.code}: an error status`);
  }
  assert.equal(errors.httpStatusOf(new Error('a bug')), 500);
});

test('docs/errors.md has each code in its table (class, exit, HTTP as in ERRORS) and a section', () => {
  for (const c of classes) {
    const row = errors.ERRORS[c.code];
    assert.ok(doc.includes(`| \`${c.code}\` | \`${c.name}\` | ${row.exitCode} | ${row.status} |`), `docs/errors.md: table row for ${c.code}`);
    assert.match(doc, new RegExp(`^## ${c.code}$`, 'm'), `docs/errors.md: a section for ${c.code}`);
  }
  const documented = [...doc.matchAll(/^## (EK_E_[A-Z_]+)/gm)].map((m) => m[1]);
  for (const code of documented) assert.ok(code in errors.ERRORS || doc.includes(`${code} (retired)`), `docs/errors.md documents ${code}, which no class has`);
});

test('finding codes are EK1xx-EK5xx with a severity and a title', () => {
  for (const [code, info] of Object.entries(CODES)) {
    assert.match(code, /^EK[1-5]\d\d$/);
    assert.ok(['error', 'warning', 'info'].includes(info.severity));
    assert.ok(info.title.length > 5);
  }
});
