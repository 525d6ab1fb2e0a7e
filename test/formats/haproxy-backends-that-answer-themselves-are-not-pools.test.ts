/**
 * A haproxy.cfg backend with no servers that answers every request itself (`http-request
 * return`, `deny`, `redirect`) is not a pool with no servers: no request sent there gets a 503.
 * Regression: `evenkeel validate` of evenkeel's own `export haproxy` output was refused (EK106
 * on the export's catch-all `ek:no-route`, which answers 404), and its host rules
 * (`req.hdr(host),field(1,:)`) were not read, so a routed pool looked unused (EK114).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeLoaded, validateFile } from '../../src/analysis/index.js';
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
