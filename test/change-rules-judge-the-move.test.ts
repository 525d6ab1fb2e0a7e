/** EK4xx: what one change moves, hides or removes, judged against the previous version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText, movedShare } from '../src/analysis/index.ts';

const site = (routes: string, extra = '') => `listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
${routes}
pools:
  api: { capacity: 1000, healthCheck: {}, backends: [{ name: api-1, address: 10.0.1.1:80 }, { name: api-2, address: 10.0.1.2:80 }] }
  web: { capacity: 1000, healthCheck: {}, backends: [{ name: web-1, address: 10.0.0.1:80 }, { name: web-2, address: 10.0.0.2:80 }] }
guardrails:
  traffic: { peakRps: 1000${extra} }
`;
const API = '      - { name: api, match: { pathPrefix: /api/ }, pool: api }\n';
const SITE = '      - { name: site, match: { pathPrefix: / }, pool: web }\n';

function plan(before: string, after: string) {
  const b = validateText(before, 'before.yaml');
  assert.ok(b.valid, JSON.stringify(b.findings));
  return validateText(after, 'after.yaml', { previous: { config: b.config!, model: b.model! } });
}

const codes = (r: ReturnType<typeof plan>) => r.findings.map((f) => `${f.severity} ${f.code}`);

test('a route hidden by reordering counts as removed (EK404), with its declared peak', () => {
  const r = plan(site(API + SITE, ', routes: { api: 300 }'), site(SITE + API, ', routes: { api: 300 }'));
  const f = r.findings.find((x) => x.code === 'EK404');
  assert.ok(f, codes(r).join(', '));
  assert.match(f.message, /route api .* can no longer be reached \(route site now matches its requests first\), but it carried 300 req\/s/);
  assert.equal(r.prediction!.pools.api.peakRps, 0, 'the hidden route\'s peak lands on the route that shadows it');
  assert.equal(r.prediction!.pools.web.peakRps, 1000);
});

test('renaming a route without changing its match is not a removal', () => {
  const r = plan(site(API + SITE), site(API.replace('name: api', 'name: api-v1') + SITE));
  assert.ok(!r.findings.some((f) => f.code === 'EK404'), codes(r).join(', '));
  assert.equal(r.valid, true);
});

test('removing a route that carried traffic is EK404', () => {
  const r = plan(site(API + SITE), site(SITE));
  assert.ok(r.findings.some((f) => f.code === 'EK404' && f.severity === 'error'));
});

test('traffic that a change drops (503) counts as moved', () => {
  const before = validateText(site(API + SITE), 'b.yaml');
  const after = validateText(site(API + SITE).replace(/(api-\d, address: [\d.:]+)/g, '$1, weight: 0'), 'a.yaml');
  const { moved, gainers } = movedShare(before.model!, after.model!);
  assert.equal(Math.round(moved * 100) / 100, 0.5);
  assert.equal(gainers[0][0], '(dropped: 404/503)');
});

test('a two-backend consistent-hash pool with even weights is not refused for 50% shares', () => {
  const text = site(SITE).replace('web: { capacity: 1000,', 'web: { algorithm: consistent-hash, hashOn: header:x-user-id, capacity: 1000,');
  const r = validateText(text, 'x.yaml');
  assert.ok(!r.findings.some((f) => f.code === 'EK201'), codes(r).join(', '));
});
