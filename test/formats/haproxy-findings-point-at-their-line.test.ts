// Every finding about a haproxy.cfg points at the line (and word) it is about, table-driven;
// and the five configs that sent everything to one server while `haproxy -c` said nothing are
// refused, naming that server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHaproxy } from '../../src/formats/index.ts';
import { analyzeLoaded } from '../../src/analysis/index.ts';

/** A config whose frontend sends everything to backend `web`, with `backend` as web's body. */
function site(backend: string, frontendExtra = ''): string {
  return `global
    maxconn 100
defaults
    mode http
    timeout connect 5s
frontend public
    bind :8080
${frontendExtra}    default_backend web
backend web
${backend}`;
}

interface Case {
  desc: string;
  text: string;
  code: string;
  line: number;
  column?: number;
  /** The server the finding must name (message or subject). */
  names?: string;
  guardrails?: Record<string, unknown>;
}

const cases: Case[] = [
  { desc: 'all but one server at weight 0', code: 'EK209', line: 11, column: 5, names: 'web2', text: site('    server web1 10.0.0.1:80 weight 0\n    server web2 10.0.0.2:80\n    server web3 10.0.0.3:80 weight 0\n') },
  { desc: 'balance first without maxconn', code: 'EK503', line: 11, column: 12, names: 'web1', text: site('    balance first\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'every server but one disabled', code: 'EK209', line: 12, names: 'web3', text: site('    server web1 10.0.0.1:80 disabled\n    server web2 10.0.0.2:80 disabled\n    server web3 10.0.0.3:80\n') },
  { desc: 'primaries disabled, backups without allbackups', code: 'EK209', line: 11, names: 'spare1', text: site('    server web1 10.0.0.1:80 disabled\n    server spare1 10.0.0.2:80 backup\n    server spare2 10.0.0.3:80 backup\n') },
  { desc: 'rand(100) lt 100 is always true', code: 'EK508', line: 8, names: 'canary1', text: site('    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\nbackend canary\n    server canary1 10.0.0.9:80\n', '    use_backend canary if { rand(100) lt 100 }\n') },
  { desc: 'rand(100) gt 100 is never true', code: 'EK509', line: 8, text: site('    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\nbackend canary\n    server canary1 10.0.0.9:80\n', '    use_backend canary if { rand(100) gt 100 }\n') },
  { desc: 'use_backend to an unknown backend', code: 'EK105', line: 8, column: 17, text: site('    server web1 10.0.0.1:80\n', '    use_backend wbe if { path_beg /x }\n') },
  { desc: 'leastconn is an approximation', code: 'EK505', line: 10, column: 13, text: site('    balance leastconn\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'balance source uses evenkeel\'s hash', code: 'EK506', line: 10, column: 13, text: site('    balance source\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'balance url_param cannot be followed', code: 'EK507', line: 10, column: 13, text: site('    balance url_param userid\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'an ACL fetch the model cannot hold', code: 'EK502', line: 9, column: 24, text: site('    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\nbackend php\n    server php1 10.0.0.5:80\n', '    acl is_php path_end .php\n    use_backend php if is_php\n') },
  { desc: 'an unterminated quote', code: 'EK501', line: 10, column: 29, text: site('    server web1 10.0.0.1:80 "weight 1\n') },
  { desc: 'weight above 256', code: 'EK501', line: 10, column: 36, text: site('    server web1 10.0.0.1:80 weight 300\n') },
  { desc: 'an ACL that is not declared', code: 'EK501', line: 8, column: 24, text: site('    server web1 10.0.0.1:80\n', '    use_backend web if is_api\n') },
  { desc: 'defaults from an unknown section', code: 'EK501', line: 9, column: 18, text: site('    server web1 10.0.0.1:80\n').replace('\nbackend web\n', '\nbackend web from base\n') },
  { desc: 'a disabled backend answers 503', code: 'EK107', line: 10, text: site('    disabled\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'a stats page is served by HAProxy itself and left out', code: 'EK502', line: 13, column: 5, text: site('    server web1 10.0.0.1:80\nlisten stats\n    bind :8404\n    stats enable\n    stats uri /\n') },
  { desc: 'server-template from DNS is modelled as distinct servers', code: 'EK502', line: 10, column: 29, text: site('    server-template app 1-3 app.service.consul:8080 check\n') },
  { desc: 'server-template on an IP literal is one server, three times', code: 'EK111', line: 10, names: '10.0.0.7:80', text: site('    server-template app 3 10.0.0.7:80 check\n') },
  { desc: 'a use_backend rule shadowed by an earlier one', code: 'EK109', line: 9, column: 5, text: site('    server web1 10.0.0.1:80\nbackend api\n    server a1 10.0.0.5:80\n', '    use_backend web if { path_beg / }\n    use_backend api if { path_beg /api/ }\n') },
  { desc: 'a timeout that is not a time', code: 'EK501', line: 5, column: 21, text: site('    server web1 10.0.0.1:80\n').replace('timeout connect 5s', 'timeout connect 5x') },
  { desc: 'no frontend', code: 'EK513', line: 1, text: 'backend web\n    server web1 10.0.0.1:80\n' },
  { desc: 'a second backup without allbackups', code: 'EK510', line: 12, column: 12, text: site('    server web1 10.0.0.1:80\n    server b1 10.0.0.2:80 backup\n    server b2 10.0.0.3:80 backup\n') },
  { desc: 'one primary, the rest backups', code: 'EK550', line: 10, names: 'web1', text: site('    server web1 10.0.0.1:80\n    server spare 10.0.0.2:80 backup\n') },
  { desc: 'balance first with maxconn', code: 'EK504', line: 11, column: 12, text: site('    balance first\n    server web1 10.0.0.1:80 maxconn 50\n    server web2 10.0.0.2:80 maxconn 50\n') },
  { desc: 'two server lines with one address', code: 'EK111', line: 11, names: '10.0.0.1:80', text: site('    server web1 10.0.0.1:80\n    server web1b 10.0.0.1:80\n    server web2 10.0.0.2:80\n') },
  { desc: 'a capacity comment and a peak: overload', code: 'EK202', line: 10, names: 'web1', guardrails: { traffic: { peakRps: 1000 } }, text: site('    server web1 10.0.0.1:80  # evenkeel: capacity=300\n    server web2 10.0.0.2:80  # evenkeel: capacity=800\n') },
  { desc: 'a named defaults section\'s timeout check', code: 'EK301', line: 4, guardrails: {}, text: 'global\ndefaults base\n    mode http\n    timeout check 5s\nfrontend public from base\n    bind :80\n    default_backend web\nbackend web from base\n    server web1 10.0.0.1:80 check inter 2s\n    server web2 10.0.0.2:80 check inter 2s\n' },
];

for (const c of cases) {
  test(`${c.desc}: ${c.code} at line ${c.line}`, () => {
    const load = readHaproxy(c.text, 'haproxy.cfg', { guardrails: c.guardrails });
    const report = analyzeLoaded(load);
    const hit = report.findings.find((f) => f.code === c.code);
    const all = report.findings.map((f) => `${f.line}:${f.column} ${f.code} ${f.message}`).join('\n');
    assert.ok(hit, `no ${c.code}; findings:\n${all}`);
    assert.equal(hit.line, c.line, `${c.code} line; findings:\n${all}`);
    if (c.column !== undefined) assert.equal(hit.column, c.column, `${c.code} column: ${hit.message}`);
    if (c.names) assert.ok(hit.message.includes(c.names) || Object.values(hit.subject).includes(c.names), `${c.code} should name ${c.names}: ${hit.message}`);
    if (hit.severity === 'error') assert.equal(report.valid, false);
  });
}

test('the five outage configs haproxy -c accepts are refused, naming the server', () => {
  for (const c of cases.slice(0, 5)) {
    const report = analyzeLoaded(readHaproxy(c.text, 'haproxy.cfg'));
    assert.equal(report.valid, false, c.desc);
    const errors = report.findings.filter((f) => f.severity === 'error');
    assert.ok(errors.some((f) => f.message.includes(c.names!)), `${c.desc}: no error names ${c.names}: ${errors.map((f) => f.message).join('; ')}`);
    assert.ok(report.prediction, `${c.desc}: the prediction is there even when refused`);
  }
});

test('the prediction names pools after backends and backends after servers; share is of the pool, backups 0', () => {
  const report = analyzeLoaded(readHaproxy(site('    server web1 10.0.0.1:80 weight 2\n    server web2 10.0.0.2:80\n    server web3 10.0.0.3:80\n    server spare 10.0.0.4:80 backup\n'), 'haproxy.cfg'));
  assert.deepEqual(report.prediction?.pools.web.backends.web1.share, 0.5);
  assert.deepEqual(report.prediction?.pools.web.backends.spare.share, 0);
  assert.equal(report.valid, true, report.findings.map((f) => f.message).join('; '));
});

test('a hash key the traffic never sends is not concentration; a constant one is', () => {
  const text = site('    balance hdr(x-user)\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n    server web3 10.0.0.3:80\n');
  const load = readHaproxy(text, 'haproxy.cfg');
  const none = analyzeLoaded(load, { sampleRequests: Array.from({ length: 300 }, (_, i) => ({ method: 'GET', host: 'x', path: `/${i}`, headers: {} })) });
  assert.equal(none.findings.filter((f) => f.code === 'EK201').length, 0, 'keyless requests fall back to round-robin');
  const one = analyzeLoaded(load, { sampleRequests: Array.from({ length: 300 }, () => ({ method: 'GET', host: 'x', path: '/', headers: { 'x-user': 'proxy-7' } })) });
  assert.ok(one.findings.some((f) => f.code === 'EK201' && f.severity === 'error'), 'one constant key sends everything to one server');
});

test('balance source behind one proxy address is refused with a sample', () => {
  const load = readHaproxy(site('    balance source\n    server web1 10.0.0.1:80\n    server web2 10.0.0.2:80\n'), 'haproxy.cfg');
  const r = analyzeLoaded(load, { sampleRequests: Array.from({ length: 200 }, (_, i) => ({ method: 'GET', host: 'x', path: `/${i}`, headers: {}, clientIp: '10.9.9.9' })) });
  assert.equal(r.valid, false);
  assert.ok(r.findings.some((f) => f.code === 'EK205'), 'the hot key is named');
});

test('${ENV} expands inside double quotes only, with defaults', () => {
  const text = site('    server web1 "${WEB1_ADDR}"\n    server web2 "${WEB2_ADDR-10.0.0.2:80}"\n    server web3 10.0.0.3:80\n');
  const r = readHaproxy(text, 'haproxy.cfg', { env: { WEB1_ADDR: '10.0.0.1:8080' } });
  assert.deepEqual(r.config?.pools.web.backends.map((b) => b.address), ['10.0.0.1:8080', '10.0.0.2:80', '10.0.0.3:80']);
});
