/** The CLI as a user runs it (node bin/evenkeel.js): exit codes 0/1/2, the JSON shape, compiler-style text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSync, closeSync, ftruncateSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cli, smallConfig, withFiles, ROOT } from './helpers.ts';

test('validate: a good config exits 0 and prints the predicted distribution', () => {
  const r = cli(['validate', 'examples/website.yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /predicted distribution at peak/);
  assert.match(r.stdout, /web-1\s+10\.0\.0\.11:8080/);
  assert.match(r.stdout, /examples\/website\.yaml: valid/);
});

test('validate: a bad config exits 1 with file:line:col: error CODE, the hint, and the table', () => {
  const dir = withFiles({ 'lb.yaml': smallConfig({ weights: [1, 0, 0, 0], capacity: 500, peakRps: 1000 }) });
  const r = cli(['validate', 'lb.yaml'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^lb\.yaml:12:9: error EK209: all traffic of pool web goes to web-1/m);
  assert.match(r.stdout, /\n {4}hint: give the drained backends weight > 0/);
  assert.match(r.stdout, /web-1 .* OVERLOAD/);
  assert.match(r.stdout, /lb\.yaml: invalid \(\d+ errors/);
});

test('validate --format json prints exactly one object in the documented shape', () => {
  const dir = withFiles({ 'lb.yaml': smallConfig({ weights: [1, 0, 0, 0], capacity: 500, peakRps: 1000 }) });
  const r = cli(['validate', 'lb.yaml', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['file', 'valid', 'findings', 'prediction']);
  assert.equal(out.valid, false);
  const f = out.findings.find((x: { code: string }) => x.code === 'EK209');
  assert.deepEqual(Object.keys(f), ['code', 'severity', 'message', 'subject', 'path', 'line', 'column', 'hint']);
  assert.deepEqual(f.subject, { pool: 'web', backend: 'web-1', address: '10.0.0.1:8080' });
  assert.deepEqual(f.path, ['pools', 'web', 'backends', 0]);
  assert.deepEqual(out.prediction.pools.web.backends['web-1'], { share: 1, peakRps: 1000, capacity: 500, utilization: 2 });
});

test('validate: a missing file exits 2 with a one-line reason, no stack trace', () => {
  const r = cli(['validate', 'no-such.yaml']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'evenkeel: cannot read no-such.yaml: no such file');
  assert.equal(r.stdout, '');
});

test('validate: a directory exits 2', () => {
  const r = cli(['validate', 'examples']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /it is a directory/);
});

test('validate: bad flags exit 2', () => {
  assert.equal(cli(['validate', 'examples/website.yaml', '--format', 'xml']).code, 2);
  assert.equal(cli(['validate', '--no-such-flag']).code, 2);
  assert.equal(cli(['no-such-command']).code, 2);
});

test('validate: a 50 MB file is refused with its size, exit 1, without reading it', () => {
  const dir = withFiles({});
  const file = join(dir, 'huge.yaml');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, 50 * 1024 * 1024);
  closeSync(fd);
  const r = cli(['validate', file]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /huge\.yaml:1:1: error EK100: .*50\.0 MiB; a config may be at most 8 MiB/);
});

test('validate: binary garbage is EK100 with a line, exit 1, no stack trace', () => {
  const dir = withFiles({ 'bin.yaml': Buffer.from([0x6c, 0x3a, 0x0a, 0xff, 0xfe, 0x00, 0x01, 0x9c]) });
  const r = cli(['validate', 'bin.yaml'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /bin\.yaml:2:1: error EK100: bin\.yaml is not text/);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /);
});

test('validate: a missing or malformed sample is EK119 with its location, exit 1', () => {
  const missing = withFiles({ 'lb.yaml': smallConfig({ peakRps: 100 }).replace('traffic: { peakRps: 100 }', 'traffic: { peakRps: 100, sample: ./nope.jsonl }') });
  const r1 = cli(['validate', 'lb.yaml'], { cwd: missing });
  assert.equal(r1.code, 1);
  assert.match(r1.stdout, /lb\.yaml:16:\d+: error EK119: traffic sample .*nope\.jsonl cannot be read: no such file/);
  const bad = withFiles({ 'lb.yaml': smallConfig({ peakRps: 100 }).replace('traffic: { peakRps: 100 }', 'traffic: { peakRps: 100, sample: ./t.jsonl }'), 't.jsonl': '{"path":"/"}\n{"path": oops}\n' });
  const r2 = cli(['validate', 'lb.yaml'], { cwd: bad });
  assert.equal(r2.code, 1);
  assert.match(r2.stdout, /t\.jsonl:2:1: error EK119: traffic sample line 2: not JSON/);
});

test('plan: the seed incident against the good config is refused, worse rows marked, exit 1', () => {
  const r = cli(['plan', 'examples/bad-change.yaml', '--against', 'examples/website.yaml']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /web-1\s+25\.0%\s+100\.0%\s+968\s+500\s+193\.5% OVERLOAD\s+<< worse: share \+75\.0%, overloaded/);
  assert.match(r.stdout, /error EK209/);
  assert.match(r.stdout, /warning EK402: pool web loses capacity: 2000 req\/s → 500 req\/s/);
  assert.match(r.stdout, /an apply would be REFUSED/);
  assert.match(r.stdout, /2 unchanged pools not shown/);
});

test('plan: moving more than maxShift is EK401, even when capacity holds', () => {
  const before = smallConfig({ weights: [1, 1, 1, 1], capacity: 5000, peakRps: 1000 });
  const after = smallConfig({ weights: [1, 1, 1, 1], capacity: 5000, peakRps: 1000 }).replace(/10\.0\.0\.(\d):8080/g, '10.0.9.$1:8080');
  const dir = withFiles({ 'old.yaml': before, 'new.yaml': after });
  const r = cli(['plan', 'new.yaml', '--against', 'old.yaml', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.equal(out.moved, 1);
  assert.ok(out.findings.some((f: { code: string }) => f.code === 'EK401'));
});

test('plan: an identical config is accepted with nothing moved, exit 0', () => {
  const r = cli(['plan', 'examples/website.yaml', '--against', 'examples/website.yaml']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /traffic moved between servers: 0\.0%/);
});

test('plan --against live with no running instance says so, exit 2', () => {
  const r = cli(['plan', 'examples/website.yaml', '--against', 'live', '--admin', 'http://127.0.0.1:1', '--token-file', 'examples/website.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no running evenkeel answers at http:\/\/127\.0\.0\.1:1/);
});

test('test: the example suite passes, exit 0', () => {
  const r = cli(['test', 'examples/website.test.yaml']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /\n(\d+) passed, 0 failed/);
});

test('test: a failing case and a failing distribution exit 1 and say what and where', () => {
  const dir = withFiles({
    'lb.yaml': readFileSync(join(ROOT, 'examples/website.yaml'), 'utf8').replace('./traffic.jsonl', join(ROOT, 'examples/traffic.jsonl')),
    'lb.test.yaml': `config: ./lb.yaml
cases:
  - name: api goes to web (wrong on purpose)
    request: { host: api.example.com, path: /v1/x }
    expect: { pool: web }
  - name: unknown path on the api host falls to the site
    request: { host: api.example.com, path: /elsewhere }
    expect: { route: site }
distribution:
  - name: web is perfectly even (too strict on purpose)
    pool: web
    maxShare: 0.2
`,
  });
  const r = cli(['test', 'lb.test.yaml'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL {2}api goes to web \(wrong on purpose\)\n\s+lb\.test\.yaml:3: expected pool web, but route api sends to api/);
  assert.match(r.stdout, /ok {4}unknown path on the api host falls to the site/);
  assert.match(r.stdout, /FAIL {2}web is perfectly even.*\n.*lb\.test\.yaml:10: web-\d gets 2\d\.\d% of pool web over \d+ sampled requests, above 20\.0%/);
  assert.match(r.stdout, /2 passed, 2 failed/);
});

test('test: a malformed suite is reported with its line, exit 1', () => {
  const dir = withFiles({ 's.test.yaml': 'config: ./x.yaml\ncases:\n  - name: a\n    requets: {}\n' });
  const r = cli(['test', 's.test.yaml'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /s\.test\.yaml:4:5: error EK102: unknown key "requets" in cases\[0\] \(did you mean "request"\?\)/);
});

test('schema: prints a draft-7 JSON Schema that describes the config', () => {
  const r = cli(['schema']);
  assert.equal(r.code, 0);
  const s = JSON.parse(r.stdout);
  assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(s.required, ['listeners', 'pools']);
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.properties.pools.additionalProperties.properties.algorithm.enum, ['round-robin', 'least-request', 'random', 'consistent-hash']);
});

test('schema: docs/config.schema.json is the current schema (regenerate with evenkeel schema)', () => {
  const r = cli(['schema']);
  assert.equal(readFileSync(join(ROOT, 'docs/config.schema.json'), 'utf8'), r.stdout);
});

test('demo (npm start) opens with the refused change and, with --duration, stops by itself with exit 0', () => {
  const r = cli(['demo', '--duration', '2s']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /an apply would be REFUSED/);
  assert.match(r.stdout, /^stopped: .*; removed /m);
});

test('demo: a bad flag is a usage error (exit 2)', () => {
  const r = cli(['demo', '--duration', 'soon']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--duration soon: expected a duration/);
});

test('output piped into a reader that closes early does not crash', () => {
  // 5000 backends: a distribution table of about 350 KiB, far past a 64 KiB pipe buffer,
  // so the writer is still writing when `head` has closed the pipe (EPIPE).
  const backends = Array.from({ length: 5000 }, (_, i) => `      - { name: web-${i}, address: 10.0.${i >> 8}.${i & 255}:8080 }`).join('\n');
  const dir = withFiles({ 'big.yaml': `listeners:\n  - { name: public, address: 127.0.0.1:8080, routes: [{ name: all, pool: web }] }\npools:\n  web:\n    backends:\n${backends}\n` });
  const full = cli(['validate', 'big.yaml'], { cwd: dir });
  assert.equal(full.code, 0, full.stderr);
  assert.ok(full.stdout.length > 4 * 65536, `the output (${full.stdout.length} bytes) must overfill the pipe`);
  const r = spawnSync('bash', ['-c', `set -o pipefail; node ${join(ROOT, 'bin/evenkeel.js')} validate big.yaml | head -c 100 >/dev/null`], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.stderr, '', 'nothing on stderr: a closed pipe is the reader\'s choice, not an error');
  assert.equal(r.status, 0, 'and no crash exit status');
});
