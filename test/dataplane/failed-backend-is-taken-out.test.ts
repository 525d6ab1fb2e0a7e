/** A backend killed under load stops getting traffic after detection; with every backend down the proxy answers 503 at once. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, request, serveOnePool, startBackend, type Backend } from './helpers/harness.js';
import http from 'node:http';
import type { Instance } from '../../src/control/instance.js';

after(cleanup);

async function setup(n: number, health: string): Promise<{ backends: Backend[]; port: number; inst: Instance }> {
  const backends = await Promise.all(Array.from({ length: n }, () => startBackend()));
  const { port, inst } = await serveOnePool(`
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address} }`).join('\n')}
${health}`, { rest: 'guardrails: { maxBackendShare: 1 }\n' });
  return { backends, port, inst };
}

/** The backends the instance counts as up now. */
async function upBackends(inst: Instance): Promise<string[]> {
  const { backends } = (await inst.status()) as { backends: { backend: string; up: boolean }[] };
  return backends.filter((b) => b.up).map((b) => b.backend);
}

describe('a failed backend is taken out', () => {
  it('a backend killed under load: after detection, no request fails', async () => {
    // Checks with room to spare (a check that times out on a loaded machine would take a live
    // backend out too); detection is awaited, not assumed to take a fixed time.
    const { backends, port, inst } = await setup(3, '    healthCheck: { path: /healthz, interval: 1s, timeout: 900ms, unhealthyThreshold: 2 }');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    let detectedAt = 0;
    const late: number[] = [];
    let after = 0;
    const load = Promise.all(Array.from({ length: 8 }, async () => {
      while (!stop) {
        const started = Date.now();
        const r = await request(port, { agent }).catch(() => ({ status: 0 }));
        // Only requests that started after the proxy marked the backend down must all succeed.
        if (detectedAt && started > detectedAt) {
          after++;
          if (r.status !== 200) late.push(r.status);
        }
      }
    }));
    await new Promise((r) => setTimeout(r, 300));
    await backends[1].kill();
    await eventually(async () => !(await upBackends(inst)).includes('b1'), 10_000, 'b1 to be marked down');
    detectedAt = Date.now();
    // A count, not a time: on a loaded machine 1.5 s may hold only a few requests.
    await eventually(() => after >= 200, 30_000, '200 requests after detection');
    stop = true;
    await load;
    agent.destroy();
    assert.deepEqual(late, []);
    assert.deepEqual(await upBackends(inst), ['b0', 'b2'], 'the live backends stayed up');
  });

  it('passive ejection alone (no health check) keeps GETs succeeding: connect failures are retried elsewhere', async () => {
    const { backends, port } = await setup(3, '    outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 30s, maxEjectionPercent: 50 }');
    await backends[0].kill();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await request(port)).status);
    assert.deepEqual(statuses.filter((s) => s !== 200), []);
  });

  it('every backend down: 503 at once, not a hang', async () => {
    const { backends, port } = await setup(2, '    healthCheck: { path: /healthz, interval: 100ms, timeout: 50ms, unhealthyThreshold: 1 }');
    for (const b of backends) await b.kill();
    await eventually(async () => (await request(port)).status === 503, 3000, 'the pool to be marked down');
    const started = performance.now();
    const r = await request(port);
    const ms = performance.now() - started;
    assert.equal(r.status, 503);
    // The issue asks for < 50 ms (measured in bench/); asserted loosely here so CI timing never flakes.
    assert.ok(ms < 1000, `503 took ${ms.toFixed(0)} ms`);
  });

  it('a backend that comes back is used again after healthyThreshold checks', async () => {
    const { backends, port, inst } = await setup(2, '    healthCheck: { path: /healthz, interval: 100ms, timeout: 50ms, unhealthyThreshold: 1, healthyThreshold: 1 }');
    const [a] = backends;
    await a.kill();
    // Out first (awaited, not assumed after a fixed time), so what follows is a comeback.
    await eventually(async () => !(await upBackends(inst)).includes('b0'), 10_000, 'b0 to be marked down');
    const revived = http.createServer((req, res) => {
      if (req.url !== '/healthz') a.hits++;
      res.end(JSON.stringify({ port: a.port }));
    });
    await new Promise<void>((r) => revived.listen(a.port, '127.0.0.1', r));
    try {
      const before = a.hits;
      await eventually(async () => {
        await request(port);
        return a.hits > before;
      }, 5000, 'the revived backend to get traffic');
      assert.deepEqual(await upBackends(inst), ['b0', 'b1'], 'counted up again');
    } finally {
      revived.closeAllConnections();
      revived.close();
    }
  });
});
