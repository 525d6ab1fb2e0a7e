/** 20 reloads under ~2,000 req/s: zero non-2xx; an invalid config is refused and the old one keeps serving. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import autocannon from 'autocannon';
import { cleanup, eventually, freePort, onePoolConfig, portOf, request, serveInProcess, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

describe('reload', () => {
  it('20 reloads under ~2,000 req/s drop nothing', async () => {
    const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
    const [p, admin] = [await freePort(), await freePort()];
    const dir = tempDir();
    const config = (i: number) => `
listeners:
  - name: web
    address: 127.0.0.1:${p}
    routes: [{ name: all, match: { pathPrefix: / }, pool: app }]
pools:
  app:
    algorithm: ${['round-robin', 'least-request', 'random'][i % 3]}
    backends:
${backends.slice(0, 2 + (i % 2)).map((b, k) => `      - { name: b${k}, address: ${b.address}, weight: ${1 + ((i + k) % 3)} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 1s, timeout: 800ms }
# Reloads go through the apply gate; this test is about the data plane, so allow any shift
# and swap at once (no canary).
guardrails: { maxBackendShare: 1, maxShift: 1, rollout: { canaryPercent: 0 } }
admin: { address: 127.0.0.1:${admin} }
`;
    const file = await writeConfig(dir, config(0));
    const inst = await serveInProcess(file);
    const port = portOf(inst, 'web');
    // The load runs until the reloads are done (stopped below), and each reload waits until 100
    // more requests reached the backends since the last: every reload happens under traffic, on
    // a fast machine or a loaded one, with no throughput figure to meet.
    const run = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, overallRate: 2000, duration: 120 });
    const hits = () => backends.reduce((n, b) => n + b.hits, 0);
    const versions: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const before = hits();
      await eventually(() => hits() >= before + 100, 20_000, `traffic before reload ${i}`);
      await writeConfig(dir, config(i));
      const r = await inst.reload();
      assert.equal(r.applied, true, JSON.stringify(r.findings));
      versions.push(r.version);
    }
    await eventually(() => hits() >= 2100, 20_000, 'traffic after the last reload');
    run.stop();
    const result = await run;
    assert.equal(versions.at(-1), 21);
    assert.equal(result.non2xx, 0, `non-2xx: ${result.non2xx}`);
    assert.equal(result.errors, 0, `errors: ${result.errors}`);
    assert.equal(result.timeouts, 0);
    assert.ok(result.requests.total >= 2100, `only ${result.requests.total} requests were sent`);
  });

  it('an invalid config is refused with its findings and the old one keeps serving', async () => {
    const b = await startBackend();
    const p = await freePort();
    const dir = tempDir();
    const file = await writeConfig(dir, onePoolConfig(p, `{ backends: [{ address: ${b.address} }] }`));
    const inst = await serveInProcess(file);
    writeFileSync(file, `listeners:\n  - name: web\n    address: 127.0.0.1:${p}\n    routes: [{ name: all, pool: nope }]\npools: {}\n`);
    const r = await inst.reload();
    assert.equal(r.applied, false);
    assert.equal(r.version, 1);
    assert.ok(r.findings.some((f) => f.severity === 'error'), 'the refusal carries its error findings');
    assert.equal((await request(portOf(inst, 'web'))).status, 200);
  });
});
