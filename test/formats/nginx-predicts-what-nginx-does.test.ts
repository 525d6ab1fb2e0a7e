// Differential tests: the real nginx (Debian's 1.22) on 127.0.0.1 in front of Node backends,
// N sequential requests, and evenkeel's prediction for the same nginx.conf with the same
// requests as its traffic sample. Every backend's predicted share of all requests must be
// within 0.03 of the share nginx really gave it. This is the proof that the reader's
// semantics (weights, down, backup, duplicate lines, location precedence, server_name,
// split_clients, hash fallbacks) are nginx's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readNginxFile } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';
import type { Finding } from '../../src/config/findings.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fractions, freePort, measure, noNginx, predict, startBackends, startNginx, startNginxFiles, type Probe } from './nginx-harness.js';

const TOLERANCE = 0.03;
let backends: Awaited<ReturnType<typeof startBackends>>;
let B: string[] = [];

/** Figures printed at the end, for the report: case, backend, predicted, measured. */
const figures: string[] = [];

before(async () => {
  if (noNginx) return;
  backends = await startBackends(5);
  B = backends.addresses;
});
after(async () => {
  await backends?.close();
  if (figures.length) console.log(`# predicted vs measured\n${figures.map((f) => `#   ${f}`).join('\n')}`);
});

/** Runs nginx on `body`, sends `probes(port)`, and compares every backend's share. */
async function differential(name: string, body: (port: number) => string, probes: (port: number) => Probe[]): Promise<{ predicted: Map<string, number>; measured: Map<string, number>; findings: string[] }> {
  const port = await freePort();
  const nginx = await startNginx(body(port), port);
  try {
    const ps = probes(port);
    const measured = fractions(await measure(ps), ps.length);
    const { shares: predicted, findings } = predict(nginx.file, ps);
    for (const k of measured.keys()) assert.ok(B.includes(k), `${name}: nginx answered "${k}" (not a backend) — findings:\n${findings.join('\n')}`);
    for (const addr of new Set([...predicted.keys(), ...measured.keys()])) {
      const p = predicted.get(addr) ?? 0;
      const m = measured.get(addr) ?? 0;
      figures.push(`${name}: ${addr.replace('127.0.0.1:', 'b')} predicted ${p.toFixed(3)} measured ${m.toFixed(3)}`);
      assert.ok(Math.abs(p - m) <= TOLERANCE, `${name}: backend ${addr} predicted ${p.toFixed(3)}, nginx gave it ${m.toFixed(3)}\nfindings:\n${findings.join('\n')}`);
    }
    return { predicted, measured, findings };
  } finally {
    await nginx.stop();
  }
}

/** Upstreams a…e, one backend each. */
const fiveUpstreams = () => ['a', 'b', 'c', 'd', 'e'].map((u, i) => `upstream ${u} { server ${B[i]}; }`).join(' ');

/**
 * Runs nginx on `body`, sends 60 requests, and checks that they all went to one backend and
 * that evenkeel's EK532 names it (`named` turns the finding into the backend it names).
 */
async function oneServer(label: string, body: (port: number) => string, named: (f: Finding) => string | undefined): Promise<void> {
  const port = await freePort();
  const nginx = await startNginx(body(port), port);
  try {
    const measured = await measure(repeat(port, 60));
    assert.equal(measured.size, 1, `nginx spread the requests: ${[...measured].join(', ')}`);
    const [only] = measured.keys();
    const report = analyzeLoaded(readNginxFile(nginx.file));
    const f = report.findings.find((x) => x.code === 'EK532');
    assert.ok(f, `no EK532: ${report.findings.map((x) => x.code).join(' ')}`);
    assert.equal(named(f), only, f.message);
    assert.equal(report.valid, false);
    figures.push(`${label}: EK532 names ${named(f)?.replace('127.0.0.1:', 'b')}, nginx sent 60/60 to ${only.replace('127.0.0.1:', 'b')}`);
  } finally {
    await nginx.stop();
  }
}

const repeat = (port: number, n: number, path = '/', host?: string): Probe[] => Array.from({ length: n }, () => ({ port, path, host }));

describe('evenkeel predicts the share nginx gives every server', { skip: noNginx }, () => {
  test('weights, and down as weight 0', async () => {
    await differential('weights', (port) => `
      upstream app { server ${B[0]} weight=3; server ${B[1]}; server ${B[2]} weight=2; server ${B[3]} down; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 600));
  });

  test('two lines with one address are one server carrying the sum', async () => {
    await differential('duplicate', (port) => `
      upstream app { server ${B[0]}; server ${B[0]}; server ${B[1]}; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 600));
  });

  test('backup only serves while no primary is usable', async () => {
    await differential('backup-only', (port) => `
      upstream app { server ${B[0]} down; server ${B[1]} down; server ${B[2]} backup; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 300));
  });

  test('with every primary down, the backups share by weight', async () => {
    await differential('backups-share', (port) => `
      upstream app { server ${B[0]} down; server ${B[1]} backup; server ${B[2]} backup weight=3; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 400));
  });

  test('backup gets nothing while primaries are up', async () => {
    await differential('backup', (port) => `
      upstream app { server ${B[0]}; server ${B[1]}; server ${B[2]} backup; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 400));
  });

  test('location precedence: exact prefix length, ^~ stops regexes, regexes beat plain prefixes', async () => {
    // (Not /api: nginx answers it with its own 301 to /api/, an auto-redirect evenkeel does not model.)
    const paths = ['/', '/x', '/api/x', '/api/static/x', '/api/static/v1/x', '/api/v2/x', '/apix', '/api/v2'];
    await differential('locations', (port) => `
      ${fiveUpstreams()}
      server {
        listen 127.0.0.1:${port};
        location / { proxy_pass http://a; }
        location /api/ { proxy_pass http://b; }
        location ^~ /api/static/ { proxy_pass http://c; }
        location ~ ^/api/static/v1/ { proxy_pass http://e; }
        location ~ ^/api/v2/ { proxy_pass http://d; }
      }`, (port) => paths.flatMap((p) => repeat(port, 40, p)));
  });

  test('location precedence: a plain prefix longer than a ^~ one wins over it; exact and nested locations', async () => {
    // (Not /login/x: evenkeel predicts `= /login` as the prefix /login, and EK529 says so.)
    const paths = ['/', '/assets/x', '/assets/img/x', '/assets/img/v1/x', '/login', '/admin/x', '/admin/users/x', '/other'];
    await differential('locations-2', (port) => `
      ${fiveUpstreams()}
      server {
        listen 127.0.0.1:${port};
        location / { proxy_pass http://a; }
        location ^~ /assets/ { proxy_pass http://b; }
        location /assets/img/ { proxy_pass http://c; }
        location = /login { proxy_pass http://d; }
        location /admin/ {
          proxy_pass http://e;
          location /admin/users/ { proxy_pass http://b; }
        }
      }`, (port) => paths.flatMap((p) => repeat(port, 30, p)));
  });

  test('server_name: exact, then the longest *. wildcard, else default_server', async () => {
    const hosts = ['example.com', 'www.example.com', 'x.example.com', 'a.b.example.com', 'a.shop.example.com', 'other.org', 'EXAMPLE.COM'];
    await differential('server_name', (port) => `
      ${fiveUpstreams()}
      server { listen 127.0.0.1:${port}; server_name example.com; location / { proxy_pass http://a; } }
      server { listen 127.0.0.1:${port}; server_name *.example.com; location / { proxy_pass http://b; } }
      server { listen 127.0.0.1:${port} default_server; server_name _; location / { proxy_pass http://c; } }
      server { listen 127.0.0.1:${port}; server_name www.example.com; location / { proxy_pass http://d; } }
      server { listen 127.0.0.1:${port}; server_name *.shop.example.com; location / { proxy_pass http://e; } }`, (port) => hosts.flatMap((h) => repeat(port, 40, '/', h)));
  });

  test('split_clients on a per-request key splits by its percentages', async () => {
    await differential('split_clients', (port) => `
      upstream a { server ${B[0]}; server ${B[1]}; } upstream b { server ${B[2]}; }
      split_clients "\${request_uri}" $pool { 70% a; * b; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://$pool; } }`, (port) => Array.from({ length: 1000 }, (_, i) => ({ port, path: `/?user=${i}` })));
  });

  test('hash on a header the traffic never sends falls back to round-robin', async () => {
    await differential('hash-missing-key', (port) => `
      upstream app { hash $http_x_user_id consistent; server ${B[0]}; server ${B[1]}; server ${B[2]}; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 600));
  });

  test('least_conn with sequential requests is weight-proportional (the approximation EK530 names)', async () => {
    const { findings } = await differential('least_conn', (port) => `
      upstream app { least_conn; server ${B[0]} weight=3; server ${B[1]}; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (port) => repeat(port, 400));
    assert.ok(findings.some((f) => f.includes('EK530')));
  });

  test('the site + API example, pointed at local backends, gets the shares evenkeel predicts', async () => {
    const port = await freePort();
    const local = await startBackends(10);
    const ex = join(import.meta.dirname, '..', '..', 'examples', 'nginx', 'site-and-api');
    // Each 10.0.x.y:port of the example becomes one local backend, in order of appearance.
    const seen = new Map<string, string>();
    const relocate = (text: string) => text
      .replace(/10\.0\.\d+\.\d+:\d+/g, (a) => { if (!seen.has(a)) seen.set(a, local.addresses[seen.size]); return seen.get(a)!; })
      .replace(/listen \[::\]:80[^;]*;/g, '')
      .replace(/listen 80( default_server)?;/g, `listen 127.0.0.1:${port}$1;`);
    const nginx = await startNginxFiles(() => ({
      'nginx.conf': relocate(readFileSync(join(ex, 'nginx.conf'), 'utf8')),
      'conf.d/upstreams.conf': relocate(readFileSync(join(ex, 'conf.d', 'upstreams.conf'), 'utf8')),
      'mime.types': readFileSync(join(ex, 'mime.types'), 'utf8'),
    }), port);
    try {
      const probes: Probe[] = [];
      for (let i = 0; i < 200; i++) {
        const ua = { 'user-agent': `client-${i}` };
        probes.push({ port, host: 'example.com', path: `/page/${i}`, headers: ua }, { port, host: 'www.example.com', path: '/', headers: ua });
        probes.push({ port, host: 'api.example.com', path: `/v1/items/${i}`, headers: ua }, { port, host: 'api.example.com', path: `/v1/reports/${i}`, headers: ua });
      }
      const measured = fractions(await measure(probes), probes.length);
      const { shares: predicted, findings } = predict(nginx.file, probes);
      for (const addr of new Set([...predicted.keys(), ...measured.keys()])) {
        const p = predicted.get(addr) ?? 0;
        const m = measured.get(addr) ?? 0;
        figures.push(`site-and-api: ${addr.replace('127.0.0.1:', 'b')} predicted ${p.toFixed(3)} measured ${m.toFixed(3)}`);
        assert.ok(Math.abs(p - m) <= TOLERANCE, `site-and-api: ${addr} predicted ${p.toFixed(3)}, nginx gave it ${m.toFixed(3)}\n${findings.join('\n')}`);
      }
    } finally {
      await nginx.stop();
      await local.close();
    }
  });

  for (const [label, key] of [['split_clients on $remote_addr behind one client address', '${remote_addr}'], ['split_clients on a constant key', 'abc'], ['split_clients on another constant key', 'tenant-7']] as const) {
    test(`${label}: EK532 names the one part nginx really sends everything to`, () => oneServer(label, (port) => `
      upstream left { server ${B[0]}; } upstream right { server ${B[1]}; }
      split_clients "${key}" $side { 50% left; * right; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://$side; } }`, (f) => ({ left: B[0], right: B[1] })[f.subject.pool ?? '']));
  }

  const oneKey = [
    ['ip_hash behind one client address', 'ip_hash;'],
    ['hash $remote_addr behind one client address', 'hash $remote_addr;'],
    ['hash $remote_addr consistent behind one client address', 'hash $remote_addr consistent;'],
    ...['tenant-7', 'eu', 'static', 'a', 'checkout-service', '42'].map((k) => [`hash on the constant key "${k}"`, `hash "${k}";`]),
    ...['tenant-7', 'eu', 'static', 'a', 'checkout-service', '42'].map((k) => [`consistent hash on the constant key "${k}"`, `hash "${k}" consistent;`]),
  ] as const;
  for (const [label, directive] of oneKey) {
    test(`${label}: EK532 names the one server nginx really sends everything to`, () => oneServer(label, (port) => `
      upstream app { ${directive} server ${B[0]}; server ${B[1]} weight=2; server ${B[2]}; server ${B[3]} weight=3; }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; } }`, (f) => f.subject.backend));
  }
});
