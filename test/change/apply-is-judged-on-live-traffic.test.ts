/**
 * The live traffic sample: the data plane keeps a bounded sample of request heads with no
 * bodies and no readable secrets, and `apply` judges a candidate with it. A change that is
 * fine for an even spread over the routes, but not for the traffic the site really gets, is
 * refused once the instance has seen that traffic.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateText } from '../../src/analysis/index.js';
import { LocalPlane } from '../../src/control/plane.js';
import { sampleChannel } from '../../src/telemetry/channels.js';
import { TrafficRecorder } from '../../src/proxy/index.js';
import { cleanup, freePort, onCleanup, request, spawnServe, startBackend, tempDir, writeConfig } from '../dataplane/helpers/harness.js';

after(cleanup);

describe('the live traffic sample', () => {
  it('keeps request heads, never bodies, and digests credentials and cookie values', async () => {
    const b = await startBackend();
    const port = await freePort();
    const report = validateText(`listeners:\n  - name: web\n    address: 127.0.0.1:${port}\n    routes: [{ name: all, pool: app }]\npools:\n  app: { backends: [{ address: ${b.address} }] }\n`, 'x.yaml');
    const plane = new LocalPlane();
    onCleanup(() => plane.close());
    await plane.apply(report.config!, { version: 1, hash: 'x', source: 'test' });
    const headers = { authorization: 'Bearer top-secret-token', cookie: 'sid=secret-session; theme=dark', 'x-api-key': 'secret-key', 'x-tenant': 'acme' };
    for (let i = 0; i < 3; i++) await request(port, { method: 'POST', path: `/orders/${i}?q=1`, headers, body: 'secret-body' });
    const sample = await plane.sample();
    assert.equal(sample.length, 3);
    const [first, second] = sample;
    assert.deepEqual([first.listener, first.method, first.path, first.host], ['web', 'POST', '/orders/0?q=1', `127.0.0.1:${port}`]);
    assert.equal(first.headers['x-tenant'], 'acme');
    assert.match(first.headers.authorization, /^h:[\w-]{16}$/);
    assert.match(first.headers['x-api-key'], /^h:[\w-]{16}$/);
    assert.match(first.headers.cookie, /^sid=h:[\w-]{16}; theme=h:[\w-]{16}$/);
    assert.equal(first.headers.cookie, second.headers.cookie, 'one value, one digest: a hot key stays hot');
    assert.ok(!JSON.stringify(sample).includes('secret'), 'no secret and no body in the sample');
  });

  it('is bounded: the newest requests replace the oldest', () => {
    const rec = new TrafficRecorder(5);
    onCleanup(() => rec.close());
    for (let i = 0; i < 12; i++) sampleChannel.publish({ ctx: { name: 'web' }, method: 'GET', host: 'h', path: `/${i}`, headers: {}, clientIp: '127.0.0.1' });
    assert.deepEqual(rec.requests().map((r) => r.path), ['/7', '/8', '/9', '/10', '/11']);
  });

  it('apply judges a candidate with the traffic the instance has seen', async () => {
    const [b1, b2] = [await startBackend(), await startBackend()];
    const [port, admin] = [await freePort(), await freePort()];
    const dir = tempDir();
    // Two routes; with no sample the model spreads the 600 req/s peak evenly (300 each). The
    // real traffic all goes to /api, so pool api takes the whole peak.
    const text = (apiCapacity: number) => `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes:
      - { name: api, match: { pathPrefix: /api }, pool: api }
      - { name: site, pool: site }
pools:
  api: { capacity: ${apiCapacity}, backends: [{ name: a1, address: ${b1.address} }] }
  site: { capacity: 5000, backends: [{ name: s1, address: ${b2.address} }] }
guardrails: { traffic: { peakRps: 600 } }
admin: { address: 127.0.0.1:${admin} }
`;
    const file = await writeConfig(dir, text(5000));
    await spawnServe(file);
    const candidate = text(450);
    assert.ok(validateText(candidate, 'c.yaml').valid, 'on an even spread the candidate fits: 300 req/s for 450');
    for (let i = 0; i < 300; i++) await request(port, { path: `/api/items/${i}` });
    const token = readFileSync(join(dir, 'store', 'admin.token'), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${admin}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: candidate, reason: 'smaller api boxes' }) });
    const body = (await res.json()) as { applied: boolean; findings: { code: string; severity: string; message: string }[] };
    assert.equal(res.status, 409, JSON.stringify(body));
    assert.equal(body.applied, false);
    const error = body.findings.find((f) => f.severity === 'error');
    assert.ok(error, JSON.stringify(body.findings));
    assert.match(error.message, /a1/);
    const events = (await (await fetch(`http://127.0.0.1:${admin}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } })).json()) as { events: { type: string; data: { sample?: { source: string; requests: number } } }[] };
    const refused = events.events.find((e) => e.type === 'config.refused');
    assert.equal(refused?.data.sample?.source, 'live');
    assert.ok((refused?.data.sample?.requests ?? 0) >= 100);
  });
});
