/** The catalogues: error codes and finding codes are unique, well-formed, and grouped as documented. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '../src/errors.ts';
import { CODES } from '../src/config/findings.ts';

test('error codes are unique and EK_E_*', () => {
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  for (const c of ERROR_CODES) assert.match(c, /^EK_E_[A-Z_]+$/);
});

test('finding codes are EK1xx-EK5xx with a severity and a title', () => {
  for (const [code, info] of Object.entries(CODES)) {
    assert.match(code, /^EK[1-5]\d\d$/);
    assert.ok(['error', 'warning', 'info'].includes(info.severity));
    assert.ok(info.title.length > 5);
  }
});
