/** The traffic model: route → split → pool → backend, exact figures for small configs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { validateText } from '../src/analysis/index.ts';
import { smallConfig, tempDir } from './helpers.ts';

function predict(text: string, file = 'x.yaml') {
  const r = validateText(text, file);
  assert.ok(r.prediction, JSON.stringify(r.findings));
  return { r, pools: r.prediction.pools };
}

test('round-robin pools split their traffic by weight', () => {
  const { pools } = predict(smallConfig({ weights: [3, 1, 0, 0], capacity: 5000, peakRps: 1000 }));
  assert.deepEqual(pools.web.backends['web-1'], { share: 0.75, peakRps: 750, capacity: 5000, utilization: 0.15 });
  assert.equal(pools.web.backends['web-2'].peakRps, 250);
  assert.equal(pools.web.backends['web-3'].share, 0);
});

const twoPools = (extra: string) => `listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: api }
      - name: site
        split: [{ pool: web, weight: 90 }, { pool: canary, weight: 10 }]
pools:
  api: { capacity: 1000, healthCheck: {}, backends: [{ name: api-1, address: 10.0.1.1:80 }, { name: api-2, address: 10.0.1.2:80 }] }
  web: { capacity: 1000, healthCheck: {}, backends: [{ name: web-1, address: 10.0.0.1:80 }, { name: web-2, address: 10.0.0.2:80 }] }
  canary: { capacity: 1000, backends: [{ name: canary-1, address: 10.0.0.9:80 }] }
guardrails:
${extra}`;

test('per-route peaks are used first, the rest spreads evenly, splits follow their weights', () => {
  const { pools } = predict(twoPools('  traffic: { peakRps: 1000, routes: { api: 400 } }\n'));
  assert.equal(pools.api.peakRps, 400);
  assert.equal(pools.web.peakRps, 540);
  assert.equal(pools.canary.peakRps, 60);
  assert.equal(pools.web.backends['web-1'].peakRps, 270);
});

test('without per-route peaks and without a sample, reachable routes share peakRps evenly', () => {
  const { pools } = predict(twoPools('  traffic: { peakRps: 1000 }\n'));
  assert.equal(pools.api.peakRps, 500);
  assert.equal(pools.web.peakRps, 450);
});

test('a sample decides the route fractions, through the real route matching', () => {
  const dir = tempDir();
  const lines = [...Array(3).fill({ path: '/api/x' }), { path: '/' }].map((l) => JSON.stringify(l)).join('\n');
  writeFileSync(join(dir, 't.jsonl'), lines);
  const { pools } = predict(twoPools('  traffic: { peakRps: 1000, sample: ./t.jsonl }\n'), join(dir, 'evenkeel.yaml'));
  assert.equal(pools.api.peakRps, 750);
  assert.equal(pools.web.peakRps, 225);
});

test('a sample with UTF-8 beside one in ASCII: the same text either way (the ASCII fast path)', () => {
  const dir = tempDir();
  // A path in UTF-8 that the api route must match as written, and a Host with a non-ASCII name.
  const lines = [{ path: '/api/ünïcode' }, { path: '/api/ünïcode' }, { path: '/api/x', host: 'exämple.com' }, { path: '/' }].map((l) => JSON.stringify(l)).join('\n');
  writeFileSync(join(dir, 't.jsonl'), lines);
  const withUtf8 = predict(twoPools('  traffic: { peakRps: 1000, sample: ./t.jsonl }\n').replace('pathPrefix: /api/ }', 'pathPrefix: /api/ü }'), join(dir, 'evenkeel.yaml'));
  // Two of the four requests start with /api/ü: the others take the site route.
  assert.equal(withUtf8.pools.api.peakRps, 500);
});

test('no peakRps: shares only, no load, and an EK200 note', () => {
  const { r, pools } = predict(smallConfig({ weights: [1, 1] }));
  assert.equal(pools.web.peakRps, null);
  assert.equal(pools.web.backends['web-1'].share, 0.5);
  assert.equal(pools.web.backends['web-1'].utilization, null);
  assert.ok(r.findings.some((f) => f.code === 'EK200' && f.severity === 'info'));
});

test('backends sharing an address are one server for capacity, across pools', () => {
  const text = twoPools('  traffic: { peakRps: 1000 }\n').replace('name: canary-1, address: 10.0.0.9:80', 'name: canary-1, address: 10.0.0.1:80');
  const { r, pools } = predict(text);
  // web-1 gets 225 via web and canary-1 (same server) 50 via canary: 275 on one server.
  assert.equal(pools.web.backends['web-1'].utilization, 0.275);
  assert.equal(pools.canary.backends['canary-1'].utilization, 0.275);
  assert.ok(r.findings.some((f) => f.code === 'EK112'));
});

test('consistent-hash hashes the sample keys through the real table; a hot key is named', () => {
  const dir = tempDir();
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(JSON.stringify({ path: '/', headers: { 'x-user-id': i < 200 ? 'celebrity' : `u${i}` } }));
  writeFileSync(join(dir, 't.jsonl'), lines.join('\n'));
  const text = `listeners:
  - name: public
    address: 0.0.0.0:8080
    routes: [{ name: site, pool: web }]
pools:
  web:
    algorithm: consistent-hash
    hashOn: header:x-user-id
    capacity: 1000
    healthCheck: {}
    backends: [{ name: a, address: 10.0.0.1:80 }, { name: b, address: 10.0.0.2:80 }, { name: c, address: 10.0.0.3:80 }]
guardrails:
  traffic: { peakRps: 300, sample: ./t.jsonl }
`;
  const { r, pools } = predict(text, join(dir, 'evenkeel.yaml'));
  const shares = Object.values(pools.web.backends).map((b) => b.share).sort();
  assert.ok(shares[2] > 0.66, `the celebrity's backend carries at least 2/3: ${shares}`);
  const hot = r.findings.find((f) => f.code === 'EK205');
  assert.ok(hot, JSON.stringify(r.findings.map((f) => f.code)));
  assert.match(hot.message, /"celebrity"/);
  assert.ok(r.findings.some((f) => f.code === 'EK201'), 'the concentrated backend is above maxBackendShare');
});

test('the seed incident: three of four backends at weight 0 is refused, naming web-1', () => {
  const r = validateText(smallConfig({ weights: [1, 0, 0, 0], capacity: 500, peakRps: 1000 }), 'x.yaml');
  assert.equal(r.valid, false);
  const codes = new Set(r.findings.filter((f) => f.severity === 'error').map((f) => f.code));
  for (const c of ['EK209', 'EK202', 'EK203'] as const) assert.ok(codes.has(c), `${c} in ${[...codes]}`);
  const f = r.findings.find((x) => x.code === 'EK209')!;
  assert.equal(f.subject.backend, 'web-1');
  assert.match(f.hint, /weight/);
});

test('tolerateFailures: capacity must hold with the worst backends down', () => {
  const ok = validateText(smallConfig({ capacity: 400, peakRps: 900, extra: '  tolerateFailures: 1\n' }), 'x.yaml');
  assert.ok(!ok.findings.some((f) => f.code === 'EK204'), 'four backends of 400 hold 900 with one down (300 each)');
  const bad = validateText(smallConfig({ capacity: 400, peakRps: 1000, extra: '  tolerateFailures: 2\n' }), 'x.yaml');
  const f = bad.findings.find((x) => x.code === 'EK204');
  assert.ok(f, 'with two down, two backends get 500 each, above 400');
  assert.match(f.message, /500 req\/s, above its capacity 400/);
});

test('a rateLimit caps each sampled key of its route at rps per worker; without a sample nothing is capped', () => {
  const dir = tempDir();
  // 8 of 10 sampled API requests come from one client, 2 from another.
  const lines = [...Array(8).fill({ path: '/api/x', clientIp: '203.0.113.1' }), ...Array(2).fill({ path: '/api/x', clientIp: '203.0.113.2' })].map((l) => JSON.stringify(l)).join('\n');
  writeFileSync(join(dir, 't.jsonl'), lines);
  const limited = (workers: number, traffic: string) => twoPools(`  traffic: ${traffic}\n`)
    .replace('{ name: api, match: { pathPrefix: /api/ }, pool: api }', '{ name: api, match: { pathPrefix: /api/ }, pool: api, rateLimit: { rps: 50 } }')
    .concat(`workers: ${workers}\n`);
  // Route peak 1000: client 1 would send 800/s, client 2 200/s; each is held to 50/s per worker.
  assert.equal(predict(limited(1, '{ peakRps: 1000, sample: ./t.jsonl }'), join(dir, 'evenkeel.yaml')).pools.api.peakRps, 100);
  assert.equal(predict(limited(2, '{ peakRps: 1000, sample: ./t.jsonl }'), join(dir, 'evenkeel.yaml')).pools.api.peakRps, 200);
  assert.equal(predict(limited(1, '{ peakRps: 1000 }'), join(dir, 'evenkeel.yaml')).pools.api.peakRps, 500);
});
