// A finding about a haproxy.cfg or an nginx.conf is read by someone who knows backends and
// servers, `weight 0`, `disabled` and `down` — not evenkeel's pools and YAML keys. Run as
// `evenkeel validate` runs, through the built CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** The EK209 line and its hint line. */
const ek209 = (out: string) => out.split('\n').flatMap((l, i, all) => (/ EK209: /.test(l) ? [l, all[i + 1]] : [])).join('\n');
const validate = (file: string) => spawnSync(process.execPath, [join(ROOT, 'bin', 'evenkeel.js'), 'validate', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, EVENKEEL_HAPROXY: '' } });

test('haproxy.cfg: all but one disabled is said with backend, server, weight 0 or disabled, and a hint in haproxy.cfg words', () => {
  const r = validate('examples/haproxy/bad/disabled-left-in.cfg');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error EK209: all traffic of backend web goes to server web3 \(10\.0\.0\.13:8080\): the other 2 servers \(web1, web2\) are at weight 0 or disabled/);
  assert.match(r.stdout, /hint: give the other servers weight > 0 again \(weight 1 is the default; remove disabled\)/);
  assert.doesNotMatch(ek209(r.stdout), /weight: 1|pool web|backends/);
});

test('haproxy.cfg: primaries off and backups without option allbackups: the hint names option allbackups', () => {
  const r = validate('examples/haproxy/bad/backups-without-allbackups.cfg');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error EK209: all traffic of backend web goes to server dr1/);
  assert.match(r.stdout, /hint: .*option allbackups/);
});

test('nginx.conf: all but one down names the upstream and the address once, and says down', () => {
  const r = validate('examples/nginx/bad/all-but-one-down.conf');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error EK209: all traffic of upstream web goes to server 10\.0\.0\.14:8080, 1200 req\/s at peak: the other 3 servers \(10\.0\.0\.11:8080, 10\.0\.0\.12:8080, 10\.0\.0\.13:8080\) are down/);
  assert.match(r.stdout, /hint: remove down \(or backup\) from the other server lines/);
  assert.doesNotMatch(ek209(r.stdout), /weight 0|weight: 1|10\.0\.0\.14:8080 \(10\.0\.0\.14:8080\)/);
});

test('an evenkeel config keeps its own words', () => {
  const r = validate('examples/bad-change.yaml');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error EK209: all traffic of pool web goes to web-1 \(10\.0\.0\.11:8080\), \d+ req\/s at peak: the other 3 backends \(web-2, web-3, web-4\) have weight 0/);
});

test('the other hints that named YAML keys speak haproxy.cfg and nginx.conf', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-words-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, 'defaults\n  mode http\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n  server s1 10.0.0.1:80\n  server s2 10.0.0.2:80\n');
  const h = validate(cfg);
  assert.match(h.stdout, /info EK303: .*\n    hint: add check to the server lines \(with option httpchk GET \/healthz/);
  assert.doesNotMatch(h.stdout, /healthCheck:/);
  const n = validate('examples/nginx/bad/all-but-one-down.conf');
  assert.match(n.stdout, /error EK203: .*\n    hint: .*; 3 servers marked down could serve\n/);
});

test('nginx.conf: overload and share findings, their hints and the table say upstream and server, and an address once', () => {
  const r = validate('examples/nginx/bad/all-but-one-down.conf');
  assert.match(r.stdout, /error EK203: upstream web would get 1200 req\/s at peak but its 1 usable server can serve 400 req\/s in all/);
  assert.match(r.stdout, /error EK202: server 10\.0\.0\.14:8080 in upstream web would get 1200 req\/s at peak/);
  assert.match(r.stdout, /hint: it would overload: spread upstream web's traffic over more servers/);
  assert.match(r.stdout, /^upstream web \(round-robin, 1200 req\/s\)\n {2}server +address/m);
  assert.doesNotMatch(r.stdout, /\bpool\b|10\.0\.0\.14:8080 \(10\.0\.0\.14:8080\)/);
});
