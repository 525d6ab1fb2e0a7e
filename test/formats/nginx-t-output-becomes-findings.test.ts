// What the installed `nginx -t` refuses becomes EK533 at the file:line nginx names (for the
// CLI to add beside evenkeel's own findings); files missing on this machine are set apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxTestFindings } from '../../src/formats/nginx/index.js';
import { NGINX, noNginx } from './nginx-harness.js';

function nginxT(files: Record<string, string>): { dir: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-t-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `error_log stderr; pid ${join(dir, 'nginx.pid')};`], { encoding: 'utf8' });
  return { dir, out: r.stderr };
}

test('an invalid parameter, in the main file and in an include', { skip: noNginx }, () => {
  const main = nginxT({ 'nginx.conf': 'events {}\nhttp {\n  upstream app {\n    server 10.0.0.1:80 wieght=2;\n  }\n}\n' });
  const a = nginxTestFindings(main.out, join(main.dir, 'nginx.conf'));
  assert.deepEqual(a.findings.map((f) => [f.code, f.line, f.file]), [['EK533', 4, undefined]]);
  assert.match(a.findings[0].message, /invalid parameter "wieght=2"/);

  const inc = nginxT({ 'nginx.conf': 'events {}\nhttp {\n  include up.conf;\n}\n', 'up.conf': '\nupstream x {\n  server 10.0.0.1 weight=0;\n}\n' });
  const b = nginxTestFindings(inc.out, join(inc.dir, 'nginx.conf'));
  assert.deepEqual(b.findings.map((f) => [f.code, f.line, f.file]), [['EK533', 3, join(inc.dir, 'up.conf')]]);
});

test('a certificate that is not on this machine is the environment, not a finding', { skip: noNginx }, () => {
  const r = nginxT({ 'nginx.conf': 'events {}\nhttp {\n  server {\n    listen 8443 ssl;\n    ssl_certificate /nonexistent/cert.pem;\n    ssl_certificate_key /nonexistent/key.pem;\n  }\n}\n' });
  const f = nginxTestFindings(r.out, join(r.dir, 'nginx.conf'));
  assert.deepEqual(f.findings, []);
  assert.equal(f.environment.length, 1, r.out);
});

test('both message shapes are read', () => {
  const out = 'nginx: [emerg] unknown directive "proxy_pas" in /etc/nginx/nginx.conf:12\n2026/12/01 22:05:29 [emerg] 19189#19189: duplicate upstream "app" in /etc/nginx/conf.d/a.conf:3\nnginx: configuration file /etc/nginx/nginx.conf test failed\n';
  assert.deepEqual(nginxTestFindings(out, '/etc/nginx/nginx.conf').findings.map((f) => [f.line, f.file ?? 'main']), [[12, 'main'], [3, '/etc/nginx/conf.d/a.conf']]);
});
