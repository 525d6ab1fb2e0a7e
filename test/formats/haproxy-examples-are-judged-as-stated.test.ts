// examples/haproxy/: the site + API haproxy.cfg validates (with and without its guardrails
// file) and its suite passes; every config in bad/ is refused through the real CLI with the
// code its `# expect:` line names, and that error names the server (or address).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, cli } from '../helpers.ts';

const DIR = join(ROOT, 'examples', 'haproxy');
const BAD = join(DIR, 'bad');

test('the site + API haproxy.cfg validates, with its guardrails and without', () => {
  for (const args of [[], ['--guardrails', 'guardrails.yaml']]) {
    const r = cli(['validate', 'haproxy.cfg', ...args], { cwd: DIR });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /haproxy\.cfg: valid \(0 errors/);
  }
});

test('the suite on haproxy.cfg passes', () => {
  const r = cli(['test', 'haproxy.test.yaml'], { cwd: DIR });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, / 0 failed/);
});

const bad = readdirSync(BAD).filter((n) => n.endsWith('.cfg')).sort();

test('there are at least 6 bad haproxy configs', () => {
  assert.ok(bad.length >= 6, bad.join(', '));
});

for (const name of bad) {
  const [l1 = '', l2 = '', l3 = ''] = readFileSync(join(BAD, name), 'utf8').split('\n');
  test(`${name} is refused`, () => {
    assert.match(l1, /^# pitfall: \S/, `${name}: line 1 must be "# pitfall: …"`);
    const expect = /^# expect: (EK\d{3}) (\S+)$/.exec(l2);
    assert.ok(expect, `${name}: line 2 must be "# expect: EKnnn SERVER"`);
    const args = /^# args: (.+)$/.exec(l3)?.[1].split(' ') ?? [];
    const r = cli(['validate', name, '--format', 'json', ...args], { cwd: BAD });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { valid: boolean; findings: { code: string; severity: string; message: string; line: number }[]; prediction: unknown };
    assert.equal(out.valid, false);
    assert.ok(out.prediction, 'the prediction is in the JSON even when refused');
    const hit = out.findings.find((f) => f.code === expect[1] && f.severity === 'error');
    assert.ok(hit, `${name}: no error ${expect[1]}: ${out.findings.map((f) => `${f.code} ${f.message}`).join('; ')}`);
    assert.ok(hit.message.includes(expect[2]), `${name}: ${expect[1]} does not name ${expect[2]}: ${hit.message}`);
    assert.ok(hit.line > 3, `${name}: the finding points into the config, at line ${hit.line}`);
  });
}

/** A temp folder with an `evenkeel` command that runs this checkout's CLI. */
function evenkeelOnPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-bin-'));
  writeFileSync(join(dir, 'evenkeel'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'evenkeel.js')}" "$@"\n`);
  chmodSync(join(dir, 'evenkeel'), 0o755);
  return dir;
}

const haveHaproxy = existsSync('/usr/sbin/haproxy');

test('the CI recipe: evenkeel validate, then haproxy -c; a refused config stops the job', { skip: !haveHaproxy && 'haproxy is not installed' }, () => {
  const bin = evenkeelOnPath();
  const env = { ...process.env, PATH: `${bin}:/usr/sbin:${process.env.PATH}` };
  const ok = spawnSync('/bin/sh', ['ci-check.sh'], { cwd: DIR, env, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout + ok.stderr, /Configuration file is valid/);
  const refused = spawnSync('/bin/sh', ['ci-check.sh', 'bad/all-but-one-weight-0.cfg'], { cwd: DIR, env, encoding: 'utf8' });
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stdout, /error EK209: all traffic of backend web goes to server web1 \(10\.0\.0\.11:8080\), 2000 req\/s at peak: the other 3 servers \(web2, web3, web4\) are at weight 0 or disabled/);
  assert.doesNotMatch(refused.stdout + refused.stderr, /Configuration file is valid/, 'haproxy -c does not run after a refusal');
});

test('the Data Plane API validate_cmd: no shell, no PATH, the transaction in $DATAPLANEAPI_TRANSACTION_FILE; exit 0 accepts, 1 rejects with the findings on stderr', { skip: !haveHaproxy && 'haproxy is not installed' }, () => {
  const bin = evenkeelOnPath();
  const tx = mkdtempSync(join(tmpdir(), 'evenkeel-tx-'));
  const run = (cfg: string) => {
    const file = join(tx, `haproxy.cfg.${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, readFileSync(join(DIR, cfg)));
    // What client-native does: exec the command with only this variable set (plus ours).
    return spawnSync(join(DIR, 'dataplaneapi-validate.sh'), [], { encoding: 'utf8', env: { DATAPLANEAPI_TRANSACTION_FILE: file, EVENKEEL: join(bin, 'evenkeel'), GUARDRAILS: join(DIR, 'guardrails.yaml') } });
  };
  const ok = run('haproxy.cfg');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = run('bad/balance-first-without-maxconn.cfg');
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /error EK503: backend web uses balance first and server app1/);
  assert.equal(bad.stdout, '');
});
