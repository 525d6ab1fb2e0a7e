// Property: whatever text arrives as a haproxy.cfg — generated configs built from HAProxy's own
// vocabulary, or garbage — reading and validating it yields findings with positions, never an
// exception, and never the reader's "could not finish" safety net (which would hide a bug).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readHaproxy } from '../../src/formats/index.ts';
import { analyzeLoaded } from '../../src/analysis/index.ts';
import { CODES } from '../../src/config/findings.ts';

function check(text: string): void {
  const load = readHaproxy(text, 'fuzz.cfg', { env: { SET: '10.0.0.1:80' } });
  const report = analyzeLoaded(load);
  const lines = text.split('\n').length;
  for (const f of report.findings) {
    assert.ok(f.code in CODES, `unknown code ${f.code}`);
    assert.ok(!f.message.includes('could not finish reading'), `the reader threw inside: ${f.message}\n--- input ---\n${text}`);
    if (f.line !== undefined) assert.ok(f.line >= 1 && f.line <= lines, `line ${f.line} outside the file (${lines} lines): ${f.code} ${f.message}`);
    if (f.severity === 'error') assert.equal(report.valid, false);
  }
}

const name = fc.constantFrom('web', 'api', 'static', 'be_1', 'x.y', 'canary', 'a:b', '_x');
const value = fc.oneof(
  name,
  fc.constantFrom('10.0.0.1:80', '10.0.0.2:8080', '[::1]:80', '::1:80', 'db.internal:5432', '10.0.0.3', 'unix@/tmp/s', '"${SET}"', '"${UNSET}"', '"${UNSET-10.0.0.9:80}"', "'quoted words'", '"a b', '\\ ', '\\x41', '#c'),
  fc.constantFrom('weight', '0', '1', '256', '300', '-1', 'backup', 'disabled', 'check', 'inter', '2s', 'rise', 'fall', 'maxconn', 'from', 'if', 'unless', '!', '||', 'or', '{', '}'),
  fc.constantFrom('hdr(host)', 'hdr_dom(host)', 'hdr_end(host)', 'hdr(x-beta)', 'path', 'path_beg', 'path_end', 'path_reg', 'url_beg', 'method', '-i', '-m', 'beg', 'reg', 'rand(100)', 'rand', 'lt', 'gt', 'le', 'ge', 'eq', '100', '/api/', '^/api/', '^/v[12]/', 'api.example.com', '.example.com', 'GET', 'POST', 'TRUE', 'FALSE', 'METH_GET', 'src', '%[req.hdr(host)]'),
  fc.string({ maxLength: 8 }),
);
const directive = fc.tuple(
  fc.constantFrom('bind', 'server', 'server-template', 'default-server', 'disabled', 'stats', 'balance', 'hash-type', 'mode', 'option', 'no', 'timeout', 'acl', 'use_backend', 'default_backend', 'http-request', 'use-server', 'http-check', 'lua-load', 'maxconn', 'unknown-keyword'),
  fc.array(value, { maxLength: 7 }),
).map(([k, args]) => `    ${k} ${args.join(' ')}`);
const balance = fc.constantFrom('roundrobin', 'static-rr', 'leastconn', 'first', 'random', 'random(3)', 'source', 'uri', 'url_param id', 'hdr(x-user)', 'hash req.hdr(x)', 'hash src', 'rdp-cookie', 'nonsense').map((b) => `    balance ${b}`);
const section = fc.tuple(
  fc.constantFrom('global', 'defaults', 'defaults base', 'frontend', 'backend', 'listen', 'peers', 'frontend fe from base', 'backend web from nowhere'),
  fc.option(name, { nil: undefined }),
  fc.array(fc.oneof(directive, balance), { maxLength: 10 }),
).map(([kind, n, body]) => [`${kind}${n && !kind.includes(' ') ? ` ${n}` : ''}`, ...body].join('\n'));
const cfg = fc.array(section, { maxLength: 8 }).map((s) => s.join('\n'));

test('generated haproxy.cfg text: findings only, never a throw', () => {
  fc.assert(fc.property(cfg, (text) => check(text)), { numRuns: 400 });
});

test('a generated frontend with rules over real backends always loads into a config', () => {
  const rule = fc.tuple(name, fc.array(fc.constantFrom('is_api', '!is_api', 'is_get', '{ path_beg /x }', '{ rand(100) lt 10 }', '||', 'TRUE', '!TRUE'), { minLength: 1, maxLength: 5 }), fc.constantFrom('if', 'unless'))
    .map(([b, cond, kw]) => `    use_backend ${['web', 'api', 'static'].includes(b) ? b : 'web'} ${kw} ${cond.join(' ')}`);
  const text = fc.array(rule, { maxLength: 12 }).map((rules) => `defaults\n    mode http\nfrontend fe\n    bind :80\n    acl is_api path_beg /api/\n    acl is_api hdr(host) api.example.com\n    acl is_get method GET\n${rules.join('\n')}\n    default_backend web\nbackend web\n    server w1 10.0.0.1:80\n    server w2 10.0.0.2:80\nbackend api\n    server a1 10.0.0.3:80\n    server a2 10.0.0.4:80\nbackend static\n    server s1 10.0.0.5:80\n    server s2 10.0.0.6:80\n`);
  fc.assert(fc.property(text, (t) => {
    check(t);
    const load = readHaproxy(t, 'fuzz.cfg');
    assert.ok(load.config, load.findings.map((f) => `${f.line}: ${f.code} ${f.message}`).join('\n'));
  }), { numRuns: 300 });
});

test('garbage text: findings only, never a throw', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.array(fc.constantFrom('frontend x\n', 'bind :1\n', '"', "'", '\\', '{', '}', '#', '${', ' ', '\t', '\r\n', 'server', 'use_backend', 'acl a', 'listen l\n'), { maxLength: 60 }).map((a) => a.join(''))), (text) => check(text)), { numRuns: 500 });
});
