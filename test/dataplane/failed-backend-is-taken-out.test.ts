/** A backend killed under load stops getting traffic after detection; with every backend down the proxy answers 503 at once. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, request, serveOnePool, startBackend, type Backend } from './helpers/harness.js';
import http from 'node:http';

after(cleanup);

async function setup(n: number, health: string): Promise<{ backends: Backend[]; port: number }> {
  const backends = await Promise.all(Array.from({ length: n }, () => startBackend()));
  const { port } = await serveOnePool(`
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address} }`).join('\n')}
${health}`, { rest: 'guardrails: { maxBackendShare: 1 }\n' });
  return { backends, port };
}

describe('a failed backend is taken out', () => {
  it('a backend killed under load: after detection, no request fails', async () => {
    const { backends, port } = await setup(3, '    healthCheck: { path: /healthz, interval: 200ms, timeout: 100ms, unhealthyThreshold: 2 }');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    let killedAt = 0;
    const late: number[] = [];
    const load = Promise.all(Array.from({ length: 8 }, async () => {
      while (!stop) {
        const r = await request(port, { agent }).catch(() => ({ status: 0 }));
        // Detection takes the health check's unhealthyThreshold × interval; count failures after that.
        if (killedAt && Date.now() - killedAt > 1000 && r.status !== 200) late.push(r.status);
      }
    }));
    await new Promise((r) => setTimeout(r, 300));
    await backends[1].kill();
    killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await load;
    agent.destroy();
    assert.deepEqual(late, []);
    const hits = backends[0].hits + backends[2].hits;
    assert.ok(hits > 100, `only ${hits} requests reached the live backends`);
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
    const { backends, port } = await setup(2, '    healthCheck: { path: /healthz, interval: 100ms, timeout: 50ms, unhealthyThreshold: 1, healthyThreshold: 1 }');
    const [a] = backends;
    await a.kill();
    await new Promise((r) => setTimeout(r, 400));
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
    } finally {
      revived.closeAllConnections();
      revived.close();
    }
  });
});
