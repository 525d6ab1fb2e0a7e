/**
 * A schema error does not hide every semantic finding (issue 10, item 7): a config with an
 * unknown key or a wrong value in one place is still judged without that key, so its capacity
 * and structure findings come out in the same run, at their lines; it stays invalid and has no
 * config to serve. A problem no single key explains (a missing required key) judges nothing more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../src/analysis/index.ts';

const config = (web2: string, extra = '') => `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes: [{ name: site, pool: web }]
pools:
  web:
    capacity: 100
    backends:
      - { name: web-1, address: 10.0.0.1:80 }
      - { ${web2} }
guardrails:
  traffic: { peakRps: 400 }
${extra}`;

test('an unknown key and a bad value are reported with the overload the rest of the config predicts', () => {
  const r = validateText(config('name: web-2, address: 10.0.0.2:80, weigth: 1', '  maxShift: 7\n'), 'x.yaml');
  assert.equal(r.valid, false);
  assert.equal(r.config, undefined, 'a config with schema errors is never served');
  const codes = r.findings.map((f) => `${f.code}@${f.line}`);
  assert.ok(codes.includes('EK102@10'), codes.join());
  assert.ok(r.findings.some((f) => f.line === 13 && f.severity === 'error' && f.code.startsWith('EK1')), `maxShift 7 is refused: ${codes.join()}`);
  const overload = r.findings.filter((f) => f.code === 'EK202');
  assert.equal(overload.length, 2, `both backends at 200 req/s over capacity 100: ${codes.join()}`);
  assert.deepEqual(overload.map((f) => f.line), [9, 10]);
});

test('a missing required key judges nothing more', () => {
  const r = validateText(config('name: web-2'), 'x.yaml');
  assert.equal(r.valid, false);
  assert.ok(r.findings.every((f) => f.code.startsWith('EK1')), r.findings.map((f) => f.code).join());
});
