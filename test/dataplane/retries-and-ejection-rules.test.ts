/** Retry rules (idempotent or connect failure, never the same backend twice in a row), the ejection cap, and slow start. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { configSchema, type Pool } from '../../src/config/schema.js';
import { recordFailure } from '../../src/health/index.js';
import { EndpointRegistry, PoolRuntime } from '../../src/upstream/index.js';
import { upstreamErrorChannel, type UpstreamErrorEvent } from '../../src/telemetry/channels.js';
import { cleanup, freePort, request, serveOnePool, startBackend } from './helpers/harness.js';

after(cleanup);

function pool(backends: number, extra: Record<string, unknown> = {}): Pool {
  const cfg = configSchema.parse({
    listeners: [{ name: 'l', address: '127.0.0.1:1', routes: [{ name: 'r', pool: 'p' }] }],
    pools: { p: { backends: Array.from({ length: backends }, (_, i) => ({ name: `b${i}`, address: `127.0.0.${i + 1}:9` })), ...extra } },
  });
  return cfg.pools.p;
}

describe('retries through the proxy', () => {
  it('a GET answered 503 by one backend is retried on another; a POST with a body is not', async () => {
    const bad = await startBackend((req, res) => {
      req.resume();
      res.statusCode = 503;
      res.end('overloaded');
    });
    const good = await startBackend();
    const { port } = await serveOnePool(`
    backends: [{ name: bad, address: ${bad.address} }, { name: good, address: ${good.address} }]
    retries: { attempts: 1, on: [503] }
    outlierDetection: { consecutiveFailures: 1000 }`);
    for (let i = 0; i < 10; i++) assert.equal((await request(port)).status, 200);
    const posts = [];
    for (let i = 0; i < 10; i++) posts.push((await request(port, { method: 'POST', body: 'x' })).status);
    assert.ok(posts.includes(503), 'a POST with a body is never replayed');
    assert.ok(bad.hits >= 10);
  });
});

describe('the upstream-error log', () => {
  it('names the backend that failed, not the one the retry went to', async () => {
    const good = await startBackend();
    const { port } = await serveOnePool(`
    backends: [{ name: dead, address: 127.0.0.1:${await freePort()} }, { name: good, address: ${good.address} }]
    retries: { attempts: 1, on: [connect-failure] }
    outlierDetection: { consecutiveFailures: 1000 }`);
    const seen: UpstreamErrorEvent[] = [];
    const on = (m: unknown) => void seen.push(m as UpstreamErrorEvent);
    upstreamErrorChannel.subscribe(on);
    try {
      for (let i = 0; i < 6; i++) assert.equal((await request(port)).status, 200);
    } finally {
      upstreamErrorChannel.unsubscribe(on);
    }
    assert.ok(seen.length >= 2, `connect failures seen: ${seen.length}`);
    assert.deepEqual([...new Set(seen.map((e) => `${e.backend} retried=${e.retried}`))], ['dead retried=true']);
  });
});

describe('maxConnections', () => {
  it('sheds with 503 once every backend is at its maxConnections, instead of queueing without bound', async () => {
    const slow = await startBackend((req, res) => {
      req.resume();
      setTimeout(() => res.end('done'), 300);
    });
    const { port } = await serveOnePool(`{ backends: [{ address: ${slow.address}, maxConnections: 2 }] }`);
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => request(port)))).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503, 503]);
    assert.equal((await request(port)).status, 200, 'capacity frees up when requests finish');
  });
});

describe('ejection and slow start (the pool runtime)', () => {
  it('never ejects more than maxEjectionPercent of a pool', () => {
    const registry = new EndpointRegistry();
    const rt = new PoolRuntime('p', pool(4, { outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 50 } }), registry);
    for (const ep of rt.endpoints) recordFailure(ep, rt, registry);
    assert.equal(rt.ejectedCount(), 2);
    assert.equal(rt.usableCount, 2);
    rt.dispose();
    void registry.close(true);
  });

  it('drained (weight 0) backends do not count: the one backend left serving is never ejected', () => {
    const registry = new EndpointRegistry();
    const cfg = pool(4, { outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 50 } });
    const drained = { ...cfg, backends: cfg.backends.map((b, i) => ({ ...b, weight: i === 0 ? 1 : 0 })) };
    const rt = new PoolRuntime('p', drained, registry);
    for (let i = 0; i < 10; i++) recordFailure(rt.endpoints[0], rt, registry);
    assert.equal(rt.ejectedCount(), 0, 'ejecting it would turn an overload into a total outage');
    assert.equal(rt.usableCount, 1);
    rt.dispose();
    void registry.close(true);
  });

  it('ramps the weight of an endpoint that came back up over slowStart', () => {
    const registry = new EndpointRegistry();
    const rt = new PoolRuntime('p', pool(2, { slowStart: '10s' }), registry);
    const now = Date.now();
    registry.setActive(rt.endpoints[0].key, false, now);
    assert.equal(rt.weight(0), 0);
    registry.setActive(rt.endpoints[0].key, true, now);
    rt.refresh(registry, now + 1000);
    assert.ok(rt.weight(0) > 0 && rt.weight(0) < 0.2, `weight after 1 s of 10 s: ${rt.weight(0)}`);
    rt.refresh(registry, now + 5000);
    assert.ok(Math.abs(rt.weight(0) - 0.5) < 1e-9);
    rt.refresh(registry, now + 10_000);
    assert.equal(rt.weight(0), 1);
    assert.equal(rt.weight(1), 1);
    rt.dispose();
    void registry.close(true);
  });

  it('picks another endpoint for a retry, never the one that just failed', () => {
    const registry = new EndpointRegistry();
    const rt = new PoolRuntime('p', pool(3), registry);
    const info = { method: 'GET', host: '', path: '/', headers: {} };
    for (let i = 0; i < 30; i++) {
      const first = rt.pick(info);
      assert.notEqual(rt.pickOther(info, first), first);
    }
    rt.dispose();
    void registry.close(true);
  });
});
