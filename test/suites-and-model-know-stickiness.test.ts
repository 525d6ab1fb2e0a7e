/** Config tests and the traffic model with sticky pools: a cookie pins a case to its backend; shares are those of new sessions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runSuiteFile } from '../src/analysis/suite.ts';
import { validateText } from '../src/analysis/index.ts';
import { withFiles } from './helpers.ts';

const config = `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes: [{ name: site, pool: web }]
pools:
  web:
    stickiness: { cookie: SRV, ttl: 1h }
    healthCheck: {}
    backends:
      - { name: web-1, address: 10.0.0.1:80 }
      - { name: web-2, address: 10.0.0.2:80 }
      - { name: web-3, address: 10.0.0.3:80, weight: 0 }
`;

test('a case with sticky: BACKEND reaches that backend; a drained or unknown one falls back to the balancer', () => {
  const dir = withFiles({
    'lb.yaml': config,
    'lb.test.yaml': `config: ./lb.yaml
cases:
  - name: a returning session stays on web-2
    request: { path: /, sticky: web-2 }
    expect: { backend: web-2 }
  - name: a session on the drained web-3 is balanced again
    request: { path: /, sticky: web-3 }
    expect: { backends: [web-1, web-2] }
  - name: a new session may go to any weighted backend
    request: { path: / }
    expect: { backend: web-1 }
`,
  });
  const r = runSuiteFile(join(dir, 'lb.test.yaml'));
  assert.deepEqual(r.results.map((c) => [c.name, c.ok]), [
    ['config is valid', true],
    ['a returning session stays on web-2', true],
    ['a session on the drained web-3 is balanced again', true],
    ['a new session may go to any weighted backend', false],
  ]);
});

test('the traffic model gives a sticky pool the shares of its new sessions (weights)', () => {
  const r = validateText(`${config}guardrails:\n  traffic: { peakRps: 100 }\n`, 'x.yaml');
  assert.equal(r.prediction?.pools.web.backends['web-1'].share, 0.5);
  assert.equal(r.prediction?.pools.web.backends['web-3'].share, 0);
});
