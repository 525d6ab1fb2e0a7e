/**
 * Health is part of the story (issue 10, item 5), on a real serve with active health checks: a
 * backend going down and coming back is journalled once each way (pool, backend, address,
 * reason); a pool left with half its capacity alerts, and so does a split whose target pool has
 * no usable backend; both resolve when the backend is back; `evenkeel report` and
 * `evenkeel events` tell it (the latter without Markdown asterisks).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, tempDir } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, journal as journalOf, restartableBackend, serve, type Site } from './helpers.js';

after(cleanup);

describe('health is part of the story', () => {
  it('down and up are journalled once each; half a pool down, and a split target with nothing usable, alert and resolve', async () => {
    const [w1, w2, next] = [await restartableBackend(), await restartableBackend(), await restartableBackend()];
    const [port, admin] = [await freePort(), await freePort()];
    const dir = tempDir();
    const hc = '{ path: /healthz, interval: 300ms, timeout: 200ms, healthyThreshold: 1, unhealthyThreshold: 2 }';
    const file = join(dir, 'evenkeel.yaml');
    writeFileSync(file, `listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes:
      - name: site
        split:
          - { pool: web, weight: 95 }
          - { pool: web-next, weight: 5 }
pools:
  web:
    capacity: 500
    healthCheck: ${hc}
    backends:
      - { name: web-1, address: ${w1.address} }
      - { name: web-2, address: ${w2.address} }
  web-next:
    capacity: 500
    healthCheck: ${hc}
    backends:
      - { name: web-next-1, address: ${next.address} }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`);
    const s = { dir, file, port, admin } as Site;
    await serve(s);
    const start = new Date().toISOString();
    const journal = () => journalOf(s);
    const alerts = async () => (await adminGet<{ alerts: { monitor: string; pool: string; summary: string }[] }>(s, '/api/v1/status')).alerts;

    await w2.stop();
    await next.stop();
    await eventually(async () => (await journal()).filter((e) => e.type === 'backend.down').length === 2, 20_000, 'two backend.down events');
    await eventually(async () => (await alerts()).length === 3, 20_000, 'three health alerts');
    const down = (await journal()).filter((e) => e.type === 'backend.down').map((e) => e.data).sort((a, b) => String(a.backend).localeCompare(String(b.backend)));
    assert.deepEqual(down, [
      { pool: 'web', backend: 'web-2', address: w2.address, reason: 'active health check failing (GET /healthz)' },
      { pool: 'web-next', backend: 'web-next-1', address: next.address, reason: 'active health check failing (GET /healthz)' },
    ]);
    const summaries = (await alerts()).map((a) => `${a.monitor} ${a.summary}`).sort();
    assert.deepEqual(summaries, [
      'health pool web lost 50.0% of its capacity: 1 of 2 backends usable (500 of 1000 req/s); down or ejected: web-2',
      'health pool web-next has no usable backend (web-next-1 down or ejected): its requests get 503',
      'health route site sends 5.0% of its requests to pool web-next, which has no usable backend: those requests get 503',
    ]);
    const fired = (await journal()).filter((e) => e.type === 'alert.fired');
    assert.equal(fired.length, 3, 'each alert fires once');
    assert.ok(fired.every((e) => /alerted only/.test(String(e.data.action))), JSON.stringify(fired.map((e) => e.data.action)));

    await w2.start();
    await next.start();
    await eventually(async () => (await journal()).filter((e) => e.type === 'backend.up').length === 2, 20_000, 'two backend.up events');
    await eventually(async () => (await alerts()).length === 0, 20_000, 'the health alerts to resolve');
    const events = await journal();
    assert.equal(events.filter((e) => e.type === 'backend.down').length, 2, 'once each');
    assert.equal(events.filter((e) => e.type === 'alert.resolved').length, 3);

    const report = await evenkeel(['report', '--since', start, '-c', file]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, new RegExp(`Backend web-2 \\(${w2.address}\\) of pool web \\*\\*down\\*\\*: active health check failing \\(GET /healthz\\)`));
    assert.match(report.stdout, /Backend web-2 .* of pool web up again after \d+ s/);
    const listed = await evenkeel(['events', '--since', start, '-c', file]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /backend\.down\s+Backend web-2 .* down: active health check failing/);
    assert.match(listed.stdout, /alert\.fired\s+Alert health fired on pool web/);
    assert.doesNotMatch(listed.stdout, /\*\*/, 'no Markdown in the terminal');
  });
});
