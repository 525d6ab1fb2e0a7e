/**
 * On the HAProxy engine the latency monitor judges HAProxy's own figure: each server's `rtime`
 * (average response time of its last 1024 requests) reaches /metrics as
 * evenkeel_backend_response_seconds and the monitors as each response's latency. A backend that
 * answers in 300 ms beside one that answers at once fires the latency alert (limit 150 ms) and
 * names the slow one; the fast one's figure stays near 0.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Agent, request } from 'undici';
import { cleanup, eventually, freePort, onCleanup, serveInProcess, startBackend, tempDir, writeConfig } from '../dataplane/helpers/harness.js';
import { NO_HAPROXY } from './helpers.js';

after(cleanup);

test('a slow backend fires the latency monitor from haproxy rtime', { skip: NO_HAPROXY }, async () => {
  const slow = await startBackend((_req, res) => void setTimeout(() => res.end('slow\n'), 300));
  const fast = await startBackend();
  const port = await freePort();
  const inst = await serveInProcess(await writeConfig(tempDir(), `listeners:
  - { name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }
pools:
  app:
    backends:
      - { name: slow, address: ${slow.address} }
      - { name: fast, address: ${fast.address} }
guardrails:
  maxBackendShare: 1
  rollback: { window: 10s, latencyP99: 150ms }
engine: haproxy
`));
  const agent = new Agent({ connections: 40 });
  onCleanup(() => agent.close());
  let running = true;
  const worker = async () => {
    while (running) {
      const r = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent }).catch(() => undefined);
      await r?.body.dump();
    }
  };
  const load = Array.from({ length: 40 }, worker);
  try {
    await eventually(async () => (await inst.store.events({ type: 'alert.fired' })).some((e) => e.data.monitor === 'latency'), 30_000, 'the latency alert');
  } finally {
    running = false;
    await Promise.all(load);
  }
  const fired = (await inst.store.events({ type: 'alert.fired' })).find((e) => e.data.monitor === 'latency')!;
  assert.equal(fired.data.pool, 'app');
  assert.equal(fired.data.backend, 'slow', JSON.stringify(fired.data));
  assert.ok((fired.data.value as number) >= 250, JSON.stringify(fired.data));
  const metrics = await fetch(`http://127.0.0.1:${inst.admin.port}/metrics`).then((r) => r.text());
  const seconds = (b: string) => Number(new RegExp(`^evenkeel_backend_response_seconds\\{pool="app",backend="${b}",slice="active"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
  assert.ok(seconds('slow') >= 0.25 && seconds('slow') < 1, metrics);
  assert.ok(seconds('fast') < 0.05, metrics);
});
