// Every finding about an nginx.conf points at the nginx.conf line (and, inside an include or an
// `nginx -T` dump, the file) where the construct is written: lexer errors, include problems,
// nginx-refused parameters, and the analysis rules run on the model the reader built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readNginx, readNginxFile } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';
import type { Finding } from '../../src/config/findings.js';

interface Case {
  desc: string;
  /** Files by path relative to a temp folder; `nginx.conf` is read. A Buffer is written as is. */
  files: Record<string, string | Buffer>;
  /** Expected: code, line, and the file (relative) when it is not nginx.conf. */
  want: { code: string; line: number; file?: string; backend?: string }[];
}

const up = (servers: string) => `upstream app {\n${servers}}\n`;
const site = (body: string) => `events {}\nhttp {\n${body}server {\n  listen 8080;\n  location / { proxy_pass http://app; }\n}\n}\n`;

const cases: Case[] = [
  { desc: 'a block that is never closed', files: { 'nginx.conf': 'events {}\nhttp {\n  upstream app {\n    server 10.0.0.1:80;\n' }, want: [{ code: 'EK525', line: 3 }] },
  { desc: 'one "}" too many', files: { 'nginx.conf': 'events {}\n}\nhttp {}\n' }, want: [{ code: 'EK525', line: 2 }] },
  { desc: 'an unterminated quote', files: { 'nginx.conf': 'events {}\nhttp {\n  server_name "example.com;\n}\n' }, want: [{ code: 'EK525', line: 3 }] },
  { desc: 'a directive without ";" before "}"', files: { 'nginx.conf': 'events {}\nhttp {\n  upstream app { server 10.0.0.1:80 }\n}\n' }, want: [{ code: 'EK525', line: 3 }] },
  { desc: 'a syntax error inside an include', files: { 'nginx.conf': 'http {\n  include up.conf;\n}\n', 'up.conf': 'upstream app {\n  server 10.0.0.1:80;\n  server ;;\n}\n' }, want: [{ code: 'EK525', line: 3, file: 'up.conf' }] },
  { desc: 'an include loop', files: { 'nginx.conf': 'http {\n  include a.conf;\n}\n', 'a.conf': '# a\ninclude b.conf;\n', 'b.conf': '\n\ninclude a.conf;\n' }, want: [{ code: 'EK527', line: 3, file: 'b.conf' }, { code: 'EK535', line: 1 }] },
  { desc: 'an include that leaves the folder', files: { 'nginx.conf': 'events {}\n\nhttp {\n  include ../../etc/nginx/mime.types;\n}\n' }, want: [{ code: 'EK527', line: 4 }, { code: 'EK535', line: 3 }] },
  { desc: 'an include that does not exist', files: { 'nginx.conf': 'http {\n  include missing.conf;\n}\n' }, want: [{ code: 'EK528', line: 2 }, { code: 'EK535', line: 1 }] },
  { desc: 'binary garbage (a NUL byte on line 3)', files: { 'nginx.conf': Buffer.from('events {}\nhttp {\n\u0000\u0001\u0002\n}\n', 'latin1') }, want: [{ code: 'EK526', line: 3 }] },
  { desc: 'bytes that are not UTF-8 on line 2', files: { 'nginx.conf': Buffer.concat([Buffer.from('events {}\n# caf'), Buffer.from([0xe9, 0x0a]), Buffer.from('http {}\n')]) }, want: [{ code: 'EK526', line: 2 }] },
  { desc: 'weight=0, which nginx refuses', files: { 'nginx.conf': site(up('  server 10.0.0.1:80;\n  server 10.0.0.2:80 weight=0;\n')) }, want: [{ code: 'EK533', line: 5 }] },
  { desc: 'an unknown server parameter', files: { 'nginx.conf': site(up('  server 10.0.0.1:80 wieght=2;\n  server 10.0.0.2:80;\n')) }, want: [{ code: 'EK533', line: 4 }] },
  { desc: 'all servers but one down', files: { 'nginx.conf': site(up('  server 10.0.0.1:80 down;\n  server 10.0.0.2:80;\n  server 10.0.0.3:80 down;\n')) }, want: [{ code: 'EK209', line: 5, backend: '10.0.0.2:80' }] },
  { desc: 'a weight typo concentrates the pool', files: { 'nginx.conf': site(up('  server 10.0.0.1:80;\n  server 10.0.0.2:80 weight=20;\n  server 10.0.0.3:80;\n')) }, want: [{ code: 'EK201', line: 5, backend: '10.0.0.2:80' }] },
  { desc: 'a finding inside an included upstream names that file', files: { 'nginx.conf': 'events {}\nhttp {\n  include conf.d/*.conf;\n  server { listen 8080; location / { proxy_pass http://app; } }\n}\n', 'conf.d/app.conf': '# the app servers\nupstream app {\n  server 10.0.0.1:80 weight=5;\n  server 10.0.0.2:80;\n}\n' }, want: [{ code: 'EK201', line: 3, file: 'conf.d/app.conf', backend: '10.0.0.1:80' }] },
  { desc: 'the same server twice', files: { 'nginx.conf': site(up('  server 10.0.0.1:80;\n  server 10.0.0.2:80;\n  server 10.0.0.1:80;\n  server 10.0.0.3:80;\n')) }, want: [{ code: 'EK531', line: 6 }] },
  { desc: 'proxy_pass to a misspelt upstream', files: { 'nginx.conf': 'events {}\nhttp {\n  upstream app { server 10.0.0.1:80; server 10.0.0.2:80; }\n  server {\n    listen 8080;\n    location / { proxy_pass http://ap; }\n  }\n}\n' }, want: [{ code: 'EK534', line: 6 }, { code: 'EK114', line: 3 }] },
  { desc: 'a constant hash key', files: { 'nginx.conf': site(up('  hash "eu-west";\n  server 10.0.0.1:80;\n  server 10.0.0.2:80;\n')) }, want: [{ code: 'EK532', line: 4 }] },
  { desc: 'a regex location evenkeel cannot express', files: { 'nginx.conf': 'events {}\nhttp {\n  upstream app { server 10.0.0.1:80; }\n  server {\n    listen 8080;\n    location / { proxy_pass http://app; }\n    location ~ \\.php$ { proxy_pass http://app; }\n  }\n}\n' }, want: [{ code: 'EK529', line: 7 }] },
  { desc: 'an upstream nothing proxies to', files: { 'nginx.conf': site(up('  server 10.0.0.1:80;\n') + '  upstream old {\n    server 10.0.9.1:80;\n  }\n') }, want: [{ code: 'EK114', line: 6 }] },
  { desc: 'an evenkeel comment with a typo', files: { 'nginx.conf': site(up('  server 10.0.0.1:80; # evenkeel: capacty=500\n')) }, want: [{ code: 'EK536', line: 4 }] },
  { desc: 'capacity from the server line, load from peakRps', files: { 'nginx.conf': `# evenkeel: peakRps=900\n${site(up('  server 10.0.0.1:80; # evenkeel: capacity=500\n  server 10.0.0.2:80; # evenkeel: capacity=500\n  server 10.0.0.3:80 down; # evenkeel: capacity=500\n'))}` }, want: [{ code: 'EK202', line: 5 }] },
  { desc: 'a listener-level finding after a server that proxies nothing', files: { 'nginx.conf': 'events {}\nhttp {\n  upstream app { server 10.0.0.1:80; server 10.0.0.2:80; }\n  server { listen 80; root /srv; }\n  server {\n    listen 8080;\n    location / { proxy_pass http://app; }\n  }\n  server {\n    listen 127.0.0.1:8080;\n    location / { proxy_pass http://app; }\n  }\n}\n' }, want: [{ code: 'EK529', line: 10 }] },
  { desc: 'no proxy_pass anywhere', files: { 'nginx.conf': 'events {}\n\nhttp {\n  server { listen 8080; root /srv/www; }\n}\n' }, want: [{ code: 'EK535', line: 3 }] },
];

function write(files: Case['files']): string {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-pos-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

const show = (fs: Finding[]) => fs.map((f) => `${f.file ?? ''}:${f.line}: ${f.severity} ${f.code} ${f.message}`).join('\n');

for (const c of cases) {
  test(`${c.desc}: ${c.want.map((w) => `${w.code} at ${w.file ?? 'nginx.conf'}:${w.line}`).join(', ')}`, () => {
    const dir = write(c.files);
    const report = analyzeLoaded(readNginxFile(join(dir, 'nginx.conf')));
    for (const w of c.want) {
      const hit = report.findings.find((f) => f.code === w.code && f.line === w.line && (f.file ?? join(dir, 'nginx.conf')) === join(dir, w.file ?? 'nginx.conf'));
      assert.ok(hit, `expected ${w.code} at ${w.file ?? 'nginx.conf'}:${w.line}; got:\n${show(report.findings)}`);
      if (w.backend) assert.equal(hit.subject.backend, w.backend, hit.message);
      assert.ok(hit.message.length > 0 && hit.hint.length > 0);
    }
  });
}

test('a 50 MB file is refused with a finding at line 1, not read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-big-'));
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, Buffer.alloc(50 * 1024 * 1024, '#'));
  const r = readNginxFile(file);
  assert.equal(r.config, undefined);
  assert.deepEqual(r.findings.map((f) => [f.code, f.line]), [['EK526', 1]]);
});

test('an nginx -T dump: findings point at the original files and lines', () => {
  const dump = [
    '# configuration file /etc/nginx/nginx.conf:',
    'events {}',
    'http {',
    '  include conf.d/*.conf;',
    '  include /etc/nginx/sites-enabled/*;',
    '}',
    '',
    '# configuration file /etc/nginx/conf.d/upstreams.conf:',
    'upstream app {',
    '  server 10.0.0.1:80;',
    '  server 10.0.0.2:80 weight=9;',
    '}',
    '',
    '# configuration file /etc/nginx/sites-enabled/site:',
    'server {',
    '  listen 80;',
    '  location / { proxy_pass http://app; }',
    '}',
    '',
  ].join('\n');
  const report = analyzeLoaded(readNginx(dump, 'nginx-T.txt'));
  const f = report.findings.find((x) => x.code === 'EK201');
  assert.ok(f, show(report.findings));
  assert.equal(f.file, '/etc/nginx/conf.d/upstreams.conf');
  assert.equal(f.line, 3);
  assert.equal(f.subject.backend, '10.0.0.2:80');
  assert.deepEqual(Object.keys(report.prediction!.pools.app.backends), ['10.0.0.1:80', '10.0.0.2:80']);
});

test('text without file access reports its includes instead of reading them', () => {
  const r = readNginx('http {\n  include conf.d/*.conf;\n  upstream app { server 10.0.0.1:80; }\n  server { listen 80; location / { proxy_pass http://app; } }\n}\n', '<stdin>');
  assert.ok(r.config);
  assert.deepEqual(r.findings.map((f) => [f.code, f.line]), [['EK528', 2]]);
});
