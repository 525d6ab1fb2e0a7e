/**
 * Blame before rollback (issue 10, hole 2), on a real serve: a harmless change (it only adds
 * an alert webhook) is promoted; inside its bake window the only backend of a pool the change
 * never touched dies. The error-rate alert fires on that pool, and evenkeel alerts only: the
 * journal says why it did not roll back, the change (and with it the webhook) stays, and the
 * webhook hears the alert fire and, once the backend is back, resolve.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, onCleanup, startBackend, tempDir } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, serve, site, steadyTraffic, type Site } from './helpers.js';

after(cleanup);

interface Ev {
  type: string;
  version: number | null;
  data: Record<string, unknown>;
}

const journal = async (s: Site) => (await adminGet<{ events: Ev[] }>(s, '/api/v1/events')).events;

/** A webhook receiver that keeps the JSON bodies posted to it. */
async function receiver(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

/** A backend that can be stopped and started again on the same port. */
async function restartable(port: number): Promise<{ start(): Promise<void>; stop(): Promise<void> }> {
  let server: http.Server | undefined;
  const api = {
    async start() {
      const srv = http.createServer((req, res) => {
        req.resume();
        res.end('next');
      });
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
      server = srv;
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  onCleanup(() => api.stop());
  return api;
}

/** Requests one after another, alternating between the two pools, until stopped. */
function bothPools(port: number): { stop(): Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  let running = true;
  let n = 0;
  const one = (path: string) => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
  });
  const loop = (async () => {
    while (running) {
      await one(n++ % 2 ? '/next/x' : '/');
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
    },
  };
}

describe('blame before rollback', () => {
  it('a change that only adds a webhook survives an untouched pool\'s failure, and the alert reaches the webhook', async () => {
    const web = [await startBackend(), await startBackend()];
    const nextPort = await freePort();
    const next = await restartable(nextPort);
    await next.start();
    const hook = await receiver();
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
      - { name: web-next-1, address: 127.0.0.1:${nextPort} }
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
    const hook = await receiver();
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
