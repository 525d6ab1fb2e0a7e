// validate, plan and test on a haproxy.cfg through the built CLI: format detection and --from,
// --guardrails (with findings that point into the guardrails file), the JSON shape, and bad
// input — a file in no format, an unreadable one, a 50 MB one, binary garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { cli, withFiles } from '../helpers.ts';

const SITE = `defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend public
    bind :8080
    default_backend web
backend web
    server web1 10.0.0.11:8080 check
    server web2 10.0.0.12:8080 check
    server web3 10.0.0.13:8080 check
`;
const DRAINED = SITE.replace('web2 10.0.0.12:8080 check', 'web2 10.0.0.12:8080 check weight 0').replace('web3 10.0.0.13:8080 check', 'web3 10.0.0.13:8080 check disabled');

test('validate --format json: pools are backends, backends are servers, prediction present when refused', () => {
  const dir = withFiles({ 'haproxy.cfg': DRAINED });
  const r = cli(['validate', 'haproxy.cfg', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { valid: boolean; findings: { code: string; line: number; column: number; subject: { backend?: string } }[]; prediction: { pools: Record<string, { backends: Record<string, { share: number }> }> } };
  assert.equal(out.valid, false);
  const refusal = out.findings.find((f) => f.code === 'EK209');
  assert.deepEqual([refusal?.line, refusal?.column, refusal?.subject.backend], [10, 5, 'web1']);
  assert.deepEqual(Object.fromEntries(Object.entries(out.prediction.pools.web.backends).map(([k, v]) => [k, v.share])), { web1: 1, web2: 0, web3: 0 });
});

test('plan NEW --against OLD on two haproxy.cfg: the drain moves traffic and is refused', () => {
  const dir = withFiles({ 'old.cfg': SITE, 'new.cfg': DRAINED });
  const r = cli(['plan', 'new.cfg', '--against', 'old.cfg'], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /plan: old\.cfg → new\.cfg/);
  assert.match(r.stdout, /web1\s+33\.3%\s+100\.0%/);
  assert.match(r.stdout, /new\.cfg:10:5: error EK209/);
  assert.match(r.stdout, /EK401/);
});

test('--guardrails: peak and capacities for the haproxy.cfg; a typo in it points into the guardrails file', () => {
  const dir = withFiles({
    'haproxy.cfg': SITE,
    'guard.yaml': 'traffic:\n  peakRps: 900\ncapacity:\n  web: 250\n',
    'typo.yaml': 'traffic:\n  peakRps: 900\ncapacity:\n  web: { web1: 300, wbe2: 300 }\n',
    'bad.yaml': 'traffic:\n  peakRsp: 900\n',
  });
  const over = cli(['validate', 'haproxy.cfg', '--guardrails', 'guard.yaml'], { cwd: dir });
  assert.equal(over.code, 1, over.stdout);
  assert.match(over.stdout, /haproxy\.cfg:\d+:5: error EK202: server web\d \(10\.0\.0\.1\d:8080\) in backend web would get 300 req\/s/);
  const typo = cli(['validate', 'haproxy.cfg', '--guardrails', 'typo.yaml'], { cwd: dir });
  assert.equal(typo.code, 1);
  assert.match(typo.stdout, /typo\.yaml:4:\d+: error EK102: capacity names server wbe2 of web/);
  const bad = cli(['validate', 'haproxy.cfg', '--guardrails', 'bad.yaml'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /bad\.yaml:2:3: error EK102: unknown key "peakRsp"/);
});

test('a test suite with config: ./haproxy.cfg runs its cases', () => {
  const dir = withFiles({
    'haproxy.cfg': SITE,
    'site.test.yaml': 'config: ./haproxy.cfg\ncases:\n  - name: pages go to web\n    request: { path: / }\n    expect: { pool: web, backends: [web1, web2, web3] }\ndistribution:\n  - { pool: web, requests: 300, maxShare: 0.34 }\n',
  });
  const r = cli(['test', 'site.test.yaml'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 passed, 0 failed/);
});

test('a file that is no config evenkeel reads: one line saying what was expected, exit 1', () => {
  const dir = withFiles({ 'notes.txt': 'remember to drain web2 before friday\n' });
  const r = cli(['validate', 'notes.txt'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /not a config evenkeel reads: expected an evenkeel YAML config .*a haproxy\.cfg .*an nginx\.conf/);
});

test('--from forces the format; an unreadable file is exit 2', () => {
  const dir = withFiles({ 'lb.conf': SITE });
  assert.equal(cli(['validate', 'lb.conf', '--from', 'haproxy'], { cwd: dir }).code, 0);
  assert.equal(cli(['validate', 'missing.cfg'], { cwd: dir }).code, 2);
  assert.equal(cli(['validate', 'lb.conf', '--from', 'bogus'], { cwd: dir }).code, 2);
  const asYaml = cli(['validate', 'lb.conf', '--from', 'evenkeel'], { cwd: dir });
  assert.equal(asYaml.code, 1);
  assert.match(asYaml.stdout, /EK10\d/);
});

test('a 50 MB haproxy.cfg and binary garbage are EK500 with a location, exit 1, no stack trace', () => {
  const dir = withFiles({ 'garbage.cfg': Buffer.from([0x66, 0x0a, 0x0a, 0xff, 0xfe, 0x00, 0x9c]) });
  const fd = openSync(join(dir, 'haproxy.cfg'), 'w');
  ftruncateSync(fd, 50 * 1024 * 1024);
  closeSync(fd);
  const huge = cli(['validate', 'haproxy.cfg'], { cwd: dir });
  assert.equal(huge.code, 1);
  assert.match(huge.stdout, /haproxy\.cfg:1:1: error EK500: .*larger than 8 MiB/);
  const garbage = cli(['validate', 'garbage.cfg'], { cwd: dir });
  assert.equal(garbage.code, 1);
  assert.match(garbage.stdout, /garbage\.cfg:3:1: error EK500: .*not text|garbage\.cfg:3:1: error EK500: .*NUL byte/);
  assert.doesNotMatch(huge.stdout + huge.stderr + garbage.stdout + garbage.stderr, /\n\s+at /);
});

test('an nginx.conf is told apart from a haproxy.cfg by content and read by the nginx reader', () => {
  const dir = withFiles({ 'lb.conf': 'http {\n  upstream web { server 10.0.0.1:80; server 10.0.0.2:80 down; }\n  server { listen 80; location / { proxy_pass http://web; } }\n}\n' });
  const r = cli(['validate', 'lb.conf', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as { findings: { code: string; line: number }[]; prediction: { pools: Record<string, { backends: Record<string, { share: number }> }> } };
  assert.ok(out.findings.some((f) => f.code === 'EK209' && f.line === 2), JSON.stringify(out.findings));
  assert.deepEqual(Object.entries(out.prediction.pools.web.backends).map(([b, v]) => [b, v.share]), [['10.0.0.1:80', 1], ['10.0.0.2:80', 0]]);
});

test('balance first says once, in its own words, that the next servers take the overflow (no active/standby warning beside it)', () => {
  const first = SITE.replace('\nbackend web\n', '\nbackend web\n    balance first\n').replace(/check\n/g, 'check maxconn 100\n');
  const dir = withFiles({ 'haproxy.cfg': first });
  const r = cli(['validate', 'haproxy.cfg', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const codes = (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code);
  assert.ok(codes.includes('EK504'), codes.join(' '));
  assert.ok(!codes.includes('EK550'), `EK550 contradicts EK504: ${codes.join(' ')}`);
});
