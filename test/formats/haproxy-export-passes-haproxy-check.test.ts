/**
 * `evenkeel export haproxy`: every construct renders to a haproxy.cfg the real `haproxy -c`
 * accepts, what HAProxy cannot say exactly is a comment in the file and a warning on stderr,
 * and the runtime sections the HAProxy engine adds (stats socket, canary map) parse too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { validateText } from '../../src/analysis/index.js';
import type { Config } from '../../src/config/index.js';
import { renderHaproxy } from '../../src/formats/haproxy/write.js';
import { scaleWeights } from '../../src/formats/haproxy/render/weights.js';
import { cli, ROOT, tempDir } from '../helpers.js';

const HAPROXY = '/usr/sbin/haproxy';
const skip = !existsSync(HAPROXY) && 'haproxy is not installed';

function load(yaml: string): Config {
  const r = validateText(yaml, 'x.yaml');
  assert.ok(r.config, r.findings.map((f) => f.message).join('\n'));
  return r.config;
}

function haproxyCheck(text: string): { code: number; out: string } {
  const file = join(tempDir(), 'haproxy.cfg');
  writeFileSync(file, text);
  const r = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const EVERYTHING = `listeners:
  - name: public
    address: 0.0.0.0:8080
    limits: { maxHeaderBytes: 32768, maxBodyBytes: 1048576 }
    routes:
      - { name: api, match: { host: "*.api.example.com", pathPrefix: "/v1/", methods: [GET, POST] }, pool: api }
      - { name: odd, match: { headers: { x-note: "it's a #tag $HOME", x-plain: "a b" } }, pool: sticky-cookie }
      - { name: byip, match: { pathPrefix: /ip/ }, pool: sticky-ip }
      - { name: bypath, match: { pathPrefix: /p/ }, pool: sticky-path }
      - { name: closed, match: { pathPrefix: /closed/ }, split: [{ pool: web, weight: 0 }] }
      - { name: site, split: [{ pool: web, weight: 2 }, { pool: web-next, weight: 1 }, { pool: db, weight: 0 }] }
  - name: v6
    address: "[::1]:8081"
    routes: [{ name: all, pool: web }]
  - name: pg
    address: 127.0.0.1:5432
    protocol: tcp
    pool: db
pools:
  api:
    algorithm: least-request
    capacity: 400
    backends:
      - { name: api-1, address: 10.0.1.11:9000, weight: 2.5, capacity: 300, maxConnections: 64 }
      - { name: api-2, address: "[2001:db8::2]:9000", weight: 0.1 }
    healthCheck: { path: /healthz, expectStatus: "200,204-299" }
    outlierDetection: { consecutiveFailures: 3 }
    slowStart: 20s
    retries: { attempts: 0 }
  sticky-cookie: { algorithm: consistent-hash, hashOn: "cookie:session", backends: [{ address: 10.0.2.1:80 }, { address: 10.0.2.2:80 }] }
  sticky-ip: { algorithm: consistent-hash, hashOn: client-ip, backends: [{ address: 10.0.3.1:80 }, { address: 10.0.3.2:80 }] }
  sticky-path: { algorithm: consistent-hash, hashOn: path, backends: [{ address: 10.0.4.1:80 }, { address: 10.0.4.2:80 }] }
  web:
    algorithm: random
    backends:
      - { name: web-1, address: 10.0.0.11:8080, weight: 300 }
      - { name: web-2, address: 10.0.0.12:8080, weight: 100 }
      - { name: web-standby, address: 10.0.0.13:8080, backup: true }
      - { name: web-standby-2, address: 10.0.0.14:8080, backup: true }
  web-next: { backends: [{ name: n1, address: 10.0.0.21:8080 }] }
  db:
    healthCheck: { path: /healthz }
    backends: [{ name: db-1, address: 10.0.9.1:5432 }, { name: db-2, address: 10.0.9.2:5432 }]
guardrails: { maxBackendShare: 1 }
`;

test('every construct exports to a haproxy.cfg that haproxy -c accepts', { skip }, () => {
  const { text, notes } = renderHaproxy(load(EVERYTHING));
  const r = haproxyCheck(text);
  assert.equal(r.code, 0, `${r.out}\n${text}`);
  // Nothing silently: each inexact construct is a note and a comment.
  const said = notes.map((n) => `${n.section}: ${n.message}`).join('\n');
  for (const expected of [/backend api: least-request is HAProxy leastconn/, /backend api: weights scaled/, /backend sticky-cookie: consistent-hash on cookie:session/, /backend tcp:db: healthCheck on a tcp pool/, /above maxconn HAProxy queues/]) assert.match(said, expected);
  for (const n of notes) assert.ok(text.includes(`# not exact: ${n.message}`), n.message);
  assert.match(text, /^ {2}option idle-close-on-response$/m);
  assert.match(text, /acl route:api:host req\.hdr\(host\),field\(1,:\) -m end -i \.api\.example\.com/);
  assert.match(text, /server api-1 10\.0\.1\.11:9000 weight 256 maxconn 64 check inter 2s rise 2 fall 3 observe layer7 error-limit 3 on-error mark-down slowstart 20s # evenkeel: capacity=300/);
  assert.match(text, /server api-2 ipv6@2001:db8::2:9000 weight 10 /);
  assert.match(text, /http-check expect status 200,204-299/);
  assert.match(text, /balance hash req\.cook\(session\)/);
  assert.match(text, /balance source/);
  assert.match(text, /balance uri whole/);
  assert.match(text, /balance random\(1\)\n/);
  assert.match(text, /server web-standby 10\.0\.0\.13:8080 weight 0 backup|server web-standby 10\.0\.0\.13:8080 weight \d+ backup/);
  assert.match(text, /option allbackups/);
  assert.match(text, /bind ipv6@::1:8081/);
  assert.match(text, /frontend pg\n {2}mode tcp\n {2}bind 127\.0\.0\.1:5432\n {2}timeout client 1m\n {2}default_backend tcp:db/);
  // A route whose split weights are all 0 answers 503 rather than fall through to the next route.
  assert.match(text, /use_backend ek:no-target if route:closed:path\n/);
  assert.match(text, /backend ek:no-target\n {2}mode http\n.*\n {2}http-request return status 503/);
  // A weight-0 split entry is never drawn; 2:1 cuts the draw at two thirds.
  assert.match(text, /use_backend web if \{ var\(txn\.ek_split\) -m int lt 666667 \}\n {2}use_backend web-next\n/);
});

test('the engine sections (stats socket, a canary beside the active backends) parse too', { skip }, () => {
  const active = load(EVERYTHING);
  const candidate = load(EVERYTHING.replace('weight: 300', 'weight: 100').replace('name: site, split', 'name: site2, split'));
  const dir = tempDir();
  const { text } = renderHaproxy(active, { engine: { statsSocket: join(dir, 'stats.sock'), mapFile: join(dir, 'canary.map'), canary: candidate, portFor: () => 18080 } });
  writeFileSync(join(dir, 'canary.map'), 'canary 0\n');
  const r = haproxyCheck(text);
  assert.equal(r.code, 0, `${r.out}\n${text}`);
  assert.match(text, /stats socket \S+stats\.sock level admin expose-fd listeners/);
  assert.match(text, /backend canary:web\n/);
  assert.match(text, /use_backend canary:web if ek_canary \{ var\(txn\.ek_split\) -m int lt \d+ \}/);
  assert.match(text, /use_backend canary:tcp:db if ek_canary/);
});

test('weights outside 0-256 are scaled, exactly when the ratios allow', () => {
  assert.deepEqual(scaleWeights([1, 2, 3]), { weights: [1, 2, 3], exact: true, maxShareError: 0 });
  assert.deepEqual(scaleWeights([3, 1], true).weights, [255, 85]);
  assert.deepEqual(scaleWeights([512, 1024]), { weights: [128, 256], exact: true, maxShareError: 0 });
  const odd = scaleWeights([1000, 1, 0]);
  assert.deepEqual(odd.weights, [256, 1, 0]);
  assert.equal(odd.exact, false);
  assert.ok(odd.maxShareError > 0.002 && odd.maxShareError < 0.004);
});

test('evenkeel export haproxy writes the file and warns on stderr; a config that does not load exits 1', { skip }, () => {
  const dir = tempDir();
  const out = join(dir, 'haproxy.cfg');
  const r = cli(['export', 'haproxy', '-c', join(ROOT, 'examples', 'website.yaml'), '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: backend api: consistent-hash on header:x-user-id/m);
  assert.match(r.stderr, /wrote /);
  assert.equal(haproxyCheck(readFileSync(out, 'utf8')).code, 0);
  const stdout = cli(['export', 'haproxy', '-c', join(ROOT, 'examples', 'website.yaml')]);
  assert.match(stdout.stdout, /^frontend public$/m);
  writeFileSync(join(dir, 'bad.yaml'), 'listeners: 3\n');
  const bad = cli(['export', 'haproxy', '-c', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot render a haproxy\.cfg from a config that does not load/);
});
