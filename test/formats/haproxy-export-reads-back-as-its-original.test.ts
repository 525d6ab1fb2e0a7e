/**
 * `evenkeel validate` of evenkeel's own `export haproxy` output reads as the original: the same
 * pools, the same split weights, nothing refused. Regressions:
 * - the export's catch-all `ek:no-route` (no servers; `http-request return status 404`) was a
 *   pool with no servers, EK106, so every export was refused. A backend that answers every
 *   request itself (`return`, `deny`, `redirect`) is no pool: no request sent there gets a 503;
 * - its host rules (`req.hdr(host),field(1,:)`) were not read, so a routed pool looked unused (EK114);
 * - its splits (one `rand` draw in a variable, cut at rising edges) were not read, and a
 *   `rand` split followed by its remainder was warned as a rule that can never match (EK109).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeLoaded, validateFile, validateText } from '../../src/analysis/index.js';
import { readHaproxy, renderHaproxy } from '../../src/formats/haproxy/index.js';

const cfg = (frontend: string) => `defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend www
  bind 127.0.0.1:8080
${frontend}
backend app
  server a 10.0.0.1:80
  server b 10.0.0.2:80
backend be_deny
  http-request deny deny_status 403
backend be_notfound
  http-request return status 404 content-type text/plain string "no route"
`;

test('a default_backend that answers itself is where unmatched requests end, not a pool', () => {
  const r = analyzeLoaded(readHaproxy(cfg('  use_backend app if { path_beg /app/ }\n  default_backend be_notfound'), 'haproxy.cfg'));
  assert.equal(r.valid, true, JSON.stringify(r.findings));
  assert.deepEqual(Object.keys(r.config!.pools), ['app']);
  assert.deepEqual(r.findings.filter((f) => f.severity !== 'info').map((f) => f.code), []);
});

test('a use_backend to one is said to be outside the model, at its line, not refused as a pool with no servers', () => {
  const loaded = readHaproxy(cfg('  use_backend be_deny if { path_beg /admin/ }\n  default_backend app'), 'haproxy.cfg');
  const r = analyzeLoaded(loaded);
  assert.equal(r.valid, true, JSON.stringify(r.findings));
  const note = r.findings.find((f) => f.code === 'EK502');
  assert.ok(note, JSON.stringify(r.findings));
  assert.equal(note.line, 8);
  assert.match(note.message, /use_backend be_deny: that backend answers requests itself \(http-request deny\)/);
});

test('the export of an evenkeel config validates as its original does: same pools used, same shares, nothing refused', () => {
  const original = validateFile('examples/website.yaml');
  assert.ok(original.config);
  const back = analyzeLoaded(readHaproxy(renderHaproxy(original.config).text, 'haproxy.cfg'));
  assert.equal(back.valid, true, JSON.stringify(back.findings));
  assert.deepEqual(back.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code} ${f.message}`), []);
  assert.deepEqual(Object.keys(back.config!.pools).sort(), Object.keys(original.config.pools).sort());
});

test('a split reads back with its weights, however many ways it goes', () => {
  const original = validateText(`listeners:
  - name: web
    address: 127.0.0.1:8080
    routes:
      - { name: api, match: { pathPrefix: /api/ }, split: [{ pool: a, weight: 50 }, { pool: b, weight: 30 }, { pool: c, weight: 20 }] }
      - { name: rest, pool: a }
pools:
  a: { backends: [{ address: 10.0.0.1:80 }] }
  b: { backends: [{ address: 10.0.0.2:80 }] }
  c: { backends: [{ address: 10.0.0.3:80 }] }
`, 'split.yaml');
  assert.ok(original.config);
  const back = readHaproxy(renderHaproxy(original.config).text, 'haproxy.cfg');
  assert.deepEqual(back.findings.map((f) => `${f.code} ${f.message}`), []);
  const routes = back.config!.listeners[0].routes!;
  assert.deepEqual(routes[0].match, { pathPrefix: '/api/' });
  const total = routes[0].split!.reduce((n, t) => n + t.weight, 0);
  assert.deepEqual(routes[0].split!.map((t) => [t.pool, Math.round((100 * t.weight) / total)]), [['a', 50], ['b', 30], ['c', 20]]);
  assert.equal(routes[1].pool, 'a');
});

test('a rand split written by hand, and the rule that takes the rest, are a split, not a rule that never matches', () => {
  const r = analyzeLoaded(readHaproxy(cfg('  use_backend be_new if { path_beg /api/ } { rand(100) lt 10 }\n  use_backend app if { path_beg /api/ }\n  default_backend app').replace('backend be_deny', 'backend be_new\n  server n 10.0.0.9:80\nbackend be_deny'), 'haproxy.cfg'));
  assert.deepEqual(r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code} ${f.message}`), []);
  const split = r.config!.listeners[0].routes![0].split!;
  assert.deepEqual(split.map((t) => [t.pool, t.weight]), [['be_new', 1000], ['app', 9000]]);
});
