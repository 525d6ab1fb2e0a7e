/**
 * Config test suites (issue 10, item 7): `expect: { always: true }` asserts that every request
 * like the case's reaches one and the same backend (what "same user, same backend" means), where
 * `pool` and `backends` only say "may reach"; a distribution's `backend:` with `maxShare` bounds
 * that backend's share (it was ignored: the largest share was checked instead).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runSuiteFile } from '../src/analysis/index.ts';
import { withFiles } from './helpers.ts';

const CONFIG = `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: api }
      - name: site
        split: [{ pool: web, weight: 9 }, { pool: api, weight: 1 }]
pools:
  api: { algorithm: consistent-hash, hashOn: header:x-user-id, backends: [{ name: a1, address: 10.0.0.1:80 }, { name: a2, address: 10.0.0.2:80 }, { name: a3, address: 10.0.0.3:80 }] }
  web: { backends: [{ name: w1, address: 10.0.1.1:80, weight: 3 }, { name: w2, address: 10.0.1.2:80, weight: 1 }] }
`;

const SUITE = `config: ./c.yaml
cases:
  - name: same user, same api backend
    request: { method: GET, host: x, path: /api/cart, headers: { x-user-id: "42" } }
    expect: { pool: api, always: true }
  - name: without the key there is no "always"
    request: { method: GET, host: x, path: /api/cart }
    expect: { pool: api, always: true }
  - name: a split is not "always"
    request: { method: GET, host: x, path: /home }
    expect: { pool: api, always: true }
distribution:
  - name: w2 at most 30%
    pool: web
    backend: w2
    maxShare: 0.3
    requests: 4000
  - name: w1 at most 30%
    pool: web
    backend: w1
    maxShare: 0.3
    requests: 4000
`;

test('always, and maxShare of one backend', () => {
  const dir = withFiles({ 'c.yaml': CONFIG, 's.test.yaml': SUITE });
  try {
    const r = runSuiteFile(join(dir, 's.test.yaml'));
    assert.deepEqual(r.problems, []);
    const by = Object.fromEntries(r.results.map((x) => [x.name, x]));
    assert.equal(by['same user, same api backend'].ok, true, by['same user, same api backend'].detail);
    assert.match(by['same user, same api backend'].detail, /→ always a[123]$/);
    assert.equal(by['without the key there is no "always"'].ok, false);
    assert.match(by['without the key there is no "always"'].detail, /expected always the same backend, but it may go to a1, a2, a3 \(consistent-hash: the request carries no header:x-user-id\)/);
    assert.equal(by['a split is not "always"'].ok, false);
    assert.match(by['a split is not "always"'].detail, /expected always one pool, but route site splits it across web, api/);
    assert.equal(by['w2 at most 30%'].ok, true, by['w2 at most 30%'].detail);
    assert.equal(by['w1 at most 30%'].ok, false, 'w1 takes 75%: the named backend is bounded, not ignored');
    assert.match(by['w1 at most 30%'].detail, /w1 gets 75\.0% of pool web/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
