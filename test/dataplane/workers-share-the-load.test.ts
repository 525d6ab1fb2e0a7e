/** `--workers 2`: both workers serve, health verdicts reach them, metrics are aggregated, SIGTERM stops all. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, request, spawnServe, startBackend, tempDir, writeConfig, onePoolConfig } from './helpers/harness.js';

after(cleanup);

describe('workers', () => {
  it('serves through 2 workers, aggregates metrics, takes a dead backend out everywhere, and stops on SIGTERM', async () => {
    const backends = await Promise.all([startBackend(), startBackend()]);
    const [p, admin] = [await freePort(), await freePort()];
    const file = await writeConfig(tempDir(), onePoolConfig(p, `
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 500ms, timeout: 450ms, unhealthyThreshold: 2 }
    retries: { attempts: 0 }
    outlierDetection: { consecutiveFailures: 1000 }`, { rest: `admin: { address: 127.0.0.1:${admin} }\n` }));
    const sp = await spawnServe(file, ['--workers', '2']);
    assert.match(sp.stdout, /2 workers/);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => request(p, { agent }).then((r) => r.status)));
    assert.deepEqual([...new Set(statuses)], [200]);
    const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const total = [...metrics.matchAll(/^evenkeel_requests_total\{[^}]*code="200"\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    assert.equal(total, 200, 'every worker\'s requests are counted once');
    // The workers send their window counts as data: shares add up over both, and requests/s is
    // known for backends that declare no capacity (it used to come only from utilization).
    const token = readFileSync(join(dirname(file), 'store', 'admin.token'), 'utf8').trim();
    const status = (await (await fetch(`http://127.0.0.1:${admin}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { pools: Record<string, { backends: { backend: string; observedShare: number; rps: number }[] }> };
    const rows = status.pools.app.backends;
    assert.equal(Math.round(rows.reduce((n, b) => n + b.observedShare, 0) * 1000), 1000, JSON.stringify(rows));
    assert.ok(rows.every((b) => b.observedShare > 0 && b.rps > 0), JSON.stringify(rows));
    assert.equal(Math.round(rows.reduce((n, b) => n + b.rps, 0) * 10), 200, 'the 200 requests over the 10 s window: 20 req/s');
    // Health checks run in the primary; verdicts must reach both workers (retries and passive ejection are off here).
    // A worker without the verdict answers 502 for b0 for ever, so "eventually every request
    // succeeds" holds only once both have it; no fixed wait that a loaded machine can outlast.
    await backends[0].kill();
    let after: number[] = [];
    await eventually(async () => {
      after = await Promise.all(Array.from({ length: 100 }, () => request(p, { agent }).then((r) => r.status)));
      return after.every((s) => s === 200);
    }, 15_000, 'both workers to take b0 out');
    assert.deepEqual([...new Set(after)], [200]);
    // A worker that dies is replaced, and the other one serves meanwhile.
    const workers = () => readFileSync(`/proc/${sp.child.pid}/task/${sp.child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    assert.equal(workers().length, 2);
    process.kill(workers()[0], 'SIGKILL');
    agent.destroy();
    const during = await Promise.all(Array.from({ length: 20 }, () => request(p).then((r) => r.status)));
    assert.deepEqual([...new Set(during)], [200]);
    await eventually(() => workers().length === 2, 10_000, 'the dead worker to be replaced');
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
    await eventually(async () => request(p).then(() => false, () => true), 3000, 'the workers to stop');
  });
});
