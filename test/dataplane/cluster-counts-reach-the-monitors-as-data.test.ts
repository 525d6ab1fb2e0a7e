/**
 * With node:cluster workers the monitors' counts travel as data: each worker reports its series'
 * responses as numbers (the `counters` message), the primary's feed takes each series' increase
 * and records it as one count. Real workers, real backends on loopback: the monitors' window
 * holds exactly the responses each backend gave, per status and per slice (canary or not), and
 * a worker's whole increase arrives in one record call per series, not one per request.
 */
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { validateText } from '../../src/analysis/index.js';
import type { Config } from '../../src/config/index.js';
import { ClusterPlane } from '../../src/control/cluster.js';
import { TrafficFeed } from '../../src/control/feed.js';
import { Monitors, thresholdsFromConfig } from '../../src/telemetry/monitors/index.js';
import { cleanup, freePort, onCleanup, startBackend } from './helpers/harness.js';

after(cleanup);

function config(port: number, pools: string, routes: string): Config {
  const r = validateText(`listeners:\n  - { name: web, address: 127.0.0.1:${port}, routes: ${routes} }\npools:\n${pools}\nguardrails: { maxBackendShare: 1 }\n`, 'cluster.yaml');
  assert.ok(r.config, r.findings.map((f) => f.message).join('\n'));
  return r.config;
}

/** Sends GET `path` `n` times, 8 at a time; the statuses seen, counted. */
async function send(port: number, agent: Agent, path: string, n: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < n) {
      const r = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent });
      await r.body.dump();
      seen.set(r.statusCode, (seen.get(r.statusCode) ?? 0) + 1);
    }
  }));
  return seen;
}

describe('cluster telemetry as data', () => {
  test('the feed records exactly what the workers served, per backend, status and slice, one call per series', { timeout: 180_000 }, async () => {
    const ok = await startBackend();
    const failing = await startBackend((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end('no');
    });
    const next = await startBackend();
    const port = await freePort();
    const pools = `  app: { backends: [{ name: ok, address: ${ok.address} }], retries: { attempts: 0 }, outlierDetection: { consecutiveFailures: 100000 } }
  bad: { backends: [{ name: failing, address: ${failing.address} }], retries: { attempts: 0 }, outlierDetection: { consecutiveFailures: 100000 } }`;
    const active = config(port, pools, '[{ name: broken, match: { pathPrefix: /bad }, pool: bad }, { name: all, pool: app }]');
    const candidate = config(port, `${pools}\n  next: { backends: [{ name: next, address: ${next.address} }] }`, '[{ name: broken, match: { pathPrefix: /bad }, pool: bad }, { name: all, pool: next }]');

    const plane = new ClusterPlane(2);
    // The workers run this file's sibling rather than the test file (which would run the tests again).
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./helpers/cluster-worker.ts', import.meta.url)) });
    onCleanup(() => plane.close());
    await plane.start();
    await plane.apply(active, { version: 1, hash: 'h1', source: 'test' });

    const now = 1_000_000;
    const monitors = new Monitors(thresholdsFromConfig(active));
    const canaryMonitors = new Monitors(thresholdsFromConfig(active));
    const calls: { pool: string; backend: string | null; status: number; canary: boolean; count: number }[] = [];
    const feed = new TrafficFeed((pool, backend, status, ms, t, canary, count) => {
      calls.push({ pool, backend, status, canary, count });
      (canary ? canaryMonitors : monitors).record(pool, backend, status, ms, t, count);
    }, () => now, () => plane.requestCounts());
    onCleanup(() => feed.close());

    const agent = new Agent({ connections: 8 });
    onCleanup(() => agent.close());
    // Served before the first poll: a baseline, not a burst of traffic.
    assert.deepEqual([...(await send(port, agent, '/', 50))], [[200, 50]]);
    await feed.poll();
    assert.equal(calls.length, 0, 'the first poll only takes the baseline');
    assert.equal(feed.counters().requests, 0);

    assert.deepEqual([...(await send(port, agent, '/', 600))], [[200, 600]]);
    assert.deepEqual([...(await send(port, agent, '/bad', 150))], [[500, 150]]);
    await plane.startCanary(candidate, { version: 2, hash: 'h2', source: 'test' }, 0.5);
    const mixed = await send(port, agent, '/', 400);
    assert.deepEqual([...mixed], [[200, 400]]);
    await feed.poll();

    const byBackend = (m: Monitors) => {
      const out: Record<string, [number, number]> = {};
      for (const [pool, p] of m.snapshot(now).pools) for (const [backend, c] of p.backends) out[`${pool}/${backend}`] = [c.requests, c.errors];
      return out;
    };
    const toCanary = next.hits;
    assert.ok(toCanary > 100 && toCanary < 300, `the canary took its half of 400: ${toCanary}`);
    assert.equal(ok.hits, 50 + 600 + 400 - toCanary);
    assert.deepEqual(byBackend(monitors), { 'app/ok': [600 + 400 - toCanary, 0], 'bad/failing': [150, 150] });
    assert.deepEqual(byBackend(canaryMonitors), { 'next/next': [toCanary, 0] });
    assert.deepEqual(feed.counters(), {
      requests: 600 + 150 + 400, failed: 150,
      routes: { all: { requests: 1000, failed: 0 }, broken: { requests: 150, failed: 150 } },
      pools: { app: { requests: 1000 - toCanary, failed: 0 }, bad: { requests: 150, failed: 150 }, next: { requests: toCanary, failed: 0 } },
    });
    // Each worker's increase of a series is one record call: at most 2 workers × 3 series (app, bad, next).
    assert.ok(calls.length <= 6, `${calls.length} record calls for 1,150 responses: ${JSON.stringify(calls)}`);
    assert.equal(calls.reduce((n, c) => n + c.count, 0), 1150);

    // Nothing new served: nothing new recorded.
    await feed.poll();
    assert.equal(calls.reduce((n, c) => n + c.count, 0), 1150);
  });
});
