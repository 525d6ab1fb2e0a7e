/**
 * Blame before rollback (issue 10, hole 2), on a real serve: a harmless change (it only adds
 * an alert webhook) is promoted; inside its bake window the only backend of a pool the change
 * never touched dies. The error-rate alert fires on that pool, and evenkeel alerts only: the
 * journal says why it did not roll back, the change (and with it the webhook) stays, and the
 * webhook hears the alert fire and, once the backend is back, resolve.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, startBackend, tempDir } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, journal, restartableBackend, serve, site, steadyTraffic, webhookReceiver, type Site } from './helpers.js';

after(cleanup);

/** Requests alternating between the two pools, about 150 a second, until stopped. */
const bothPools = (port: number) => steadyTraffic(port, { rps: 150, paths: ['/', '/next/x'] });

describe('blame before rollback', () => {
  it('a change that only adds a webhook survives an untouched pool\'s failure, and the alert reaches the webhook', async () => {
    const web = [await startBackend(), await startBackend()];
    const next = await restartableBackend();
    const hook = await webhookReceiver();
    const [port, admin] = [await freePort(), await freePort()];
    const dir = tempDir();
    const text = (alerts: string) => `listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes:
      - { name: next, match: { pathPrefix: /next/ }, pool: web-next }
      - { name: site, pool: web }
pools:
  web:
    capacity: 50000
    backends:
      - { name: web-1, address: ${web[0].address} }
      - { name: web-2, address: ${web[1].address} }
  web-next:
    capacity: 50000
    backends:
      - { name: web-next-1, address: ${next.address} }
    retries: { attempts: 0 }
guardrails:
  traffic: { peakRps: 1000 }
  rollout: { canaryPercent: 10, canaryDuration: 1s }
  rollback: { window: 4s }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
${alerts}`;
    const file = join(dir, 'evenkeel.yaml');
    writeFileSync(file, text(''));
    const s: Site = { dir, file, port, admin, backends: web, text: () => text(''), write: () => file };
    await serve(s);
    const load = bothPools(port);
    try {
      const v2 = join(dir, 'v2.yaml');
      writeFileSync(v2, text(`alerts: { webhooks: [{ url: '${hook.url}' }] }\n`));
      const r = await evenkeel(['apply', v2, '--reason', 'page the on-call', '-c', file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /now serving version 2/);

      await next.stop();
      await eventually(async () => (await journal(s)).some((e) => e.type === 'alert.fired' && e.data.pool === 'web-next'), 60_000, 'the alert on web-next');
      const fired = (await journal(s)).find((e) => e.type === 'alert.fired' && e.data.pool === 'web-next')!;
      assert.equal(fired.version, 2);
      assert.match(String(fired.data.action), /alerted only \(not rolled back: v2 did not touch pool web-next\)/);
      await eventually(() => hook.bodies.some((b) => b.status === 'firing' && b.pool === 'web-next'), 30_000, 'the firing notice at the webhook');

      await next.start();
      await eventually(() => hook.bodies.some((b) => b.status === 'resolved' && b.pool === 'web-next'), 60_000, 'the resolved notice at the webhook');
    } finally {
      await load.stop();
    }
    const events = await journal(s);
    assert.ok(!events.some((e) => e.type.startsWith('rollback.')), `no rollback: ${events.map((e) => e.type).join()}`);
    assert.equal((await adminGet<{ version: number }>(s, '/api/v1/status')).version, 2);
  });

  it('a rollback that removes the webhooks says so, and the alert that caused it still resolves at the webhook', async () => {
    const s = await site();
    const hook = await webhookReceiver();
    const cfg = (w: [number, number], extra = '') => `${s.text(w).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1000 }\n  rollback: { window: 4s }\n')}${extra}`;
    s.write(cfg([1, 1]));
    await serve(s);
    const load = steadyTraffic(s.port);
    try {
      const bad = s.write(cfg([9, 1], `alerts: { webhooks: [{ url: '${hook.url}' }] }\n`), 'bad.yaml');
      const r = await evenkeel(['apply', bad, '--force', '--no-canary', '--reason', 'b1 and a pager', '-c', s.file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      await eventually(async () => (await journal(s)).some((e) => e.type === 'rollback.auto'), 60_000, 'the automatic rollback');
      const events = await journal(s);
      const rb = events.find((e) => e.type === 'rollback.auto')!;
      assert.deepEqual(rb.data.webhooks, { removed: [hook.url], added: [] });
      const fired = events.find((e) => e.type === 'alert.fired')!;
      assert.match(String(fired.data.action), /rolled back to v1 \(v2 changed pool app: backends\)/);
      await eventually(() => hook.bodies.some((b) => b.status === 'firing'), 30_000, 'the firing notice');
      assert.match(String(hook.bodies.find((b) => b.status === 'firing')!.action), /does not send alerts to .*this alert still resolves there/);
      await eventually(() => hook.bodies.some((b) => b.status === 'resolved'), 60_000, 'the resolved notice, after the rollback removed the webhook');
    } finally {
      await load.stop();
    }
  });
});
