// looksLikeNginx: nginx.conf is told apart by its block syntax (`http {`, `upstream NAME {`,
// `server {`, directives ending in `;`) or an `nginx -T` dump's markers — not by `listen`,
// which HAProxy has too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeNginx } from '../../src/formats/nginx/index.js';

const root = join(import.meta.dirname, '..', '..');
const nginxExamples = [join(root, 'examples/nginx/site-and-api/nginx.conf'), join(root, 'examples/nginx/site-and-api/conf.d/upstreams.conf'), ...readdirSync(join(root, 'examples/nginx/bad')).map((f) => join(root, 'examples/nginx/bad', f))];

test('every nginx example looks like nginx', () => {
  for (const f of nginxExamples) assert.equal(looksLikeNginx(readFileSync(f, 'utf8')), true, f);
});

const cases: [string, string, boolean][] = [
  ['an nginx -T dump', '# configuration file /etc/nginx/nginx.conf:\nevents {}\n', true],
  ['a one-line upstream', 'upstream app { server 10.0.0.1:80; }', true],
  ['a server block fragment', 'server {\n    listen 80;\n    location / { proxy_pass http://app; }\n}\n', true],
  ['haproxy.cfg', 'global\n    maxconn 100\ndefaults\n    mode http\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    server s1 10.0.0.1:80 check\nlisten stats\n    bind :8404\n', false],
  ['an evenkeel YAML config', 'listeners:\n  - name: public\n    address: 0.0.0.0:8080\npools:\n  web:\n    backends: []\n', false],
  ['JSON', '{ "listeners": [], "pools": {} }', false],
  ['empty', '', false],
  ['prose with braces', 'This server { is } not; a config at all\n', false],
];
for (const [desc, text, want] of cases) {
  test(`${desc}: ${want ? 'nginx' : 'not nginx'}`, () => assert.equal(looksLikeNginx(text), want));
}
