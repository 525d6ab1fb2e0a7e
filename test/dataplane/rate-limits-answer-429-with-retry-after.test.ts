/** Rate limits per route on real sockets: the burst passes, the rest gets 429 + Retry-After, keys are separate, refill lets traffic back in. */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, freePort, portOf, request, serveInProcess, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

async function serveLimited(rateLimit: string): Promise<{ port: number; file: string; inst: Awaited<ReturnType<typeof serveInProcess>> }> {
  const b = await startBackend();
  const file = await writeConfig(tempDir(), `listeners:
  - name: web
    address: 127.0.0.1:${await freePort()}
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: app, rateLimit: ${rateLimit} }
      - { name: rest, pool: app }
pools:
  app: { backends: [{ address: ${b.address} }] }
`);
  const inst = await serveInProcess(file);
  return { port: portOf(inst, 'web'), file, inst };
}

describe('rateLimit on a route', () => {
  it('admits the burst, answers 429 with Retry-After past it, and leaves other routes alone', async () => {
    const { port, inst } = await serveLimited('{ rps: 1, burst: 3 }');
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await request(port, { path: '/api/x' });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers['retry-after'];
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(retryAfter, '1');
    assert.equal((await request(port, { path: '/other' })).status, 200, 'a route without a limit is not limited');
    const text = await (await fetch(`http://127.0.0.1:${inst.admin.port}/metrics`)).text();
    assert.match(text, /evenkeel_rate_limited_total\{listener="web",route="api"\} 2/);
    assert.match(text, /evenkeel_requests_total\{listener="web",route="api",pool="",backend="",code="429"\} 2/);
  });

  it('keys by a header when asked (a client without it is keyed by its address), and refills at rps', async () => {
    const { port } = await serveLimited('{ rps: 5, burst: 1, key: "header:x-api-key" }');
    const a = (await request(port, { path: '/api/', headers: { 'x-api-key': 'a' } })).status;
    const a2 = (await request(port, { path: '/api/', headers: { 'x-api-key': 'a' } })).status;
    const b = (await request(port, { path: '/api/', headers: { 'x-api-key': 'b' } })).status;
    const none = (await request(port, { path: '/api/' })).status;
    const none2 = (await request(port, { path: '/api/' })).status;
    assert.deepEqual([a, a2, b, none, none2], [200, 429, 200, 200, 429]);
    await sleep(250); // 5 rps: a token every 200 ms
    assert.equal((await request(port, { path: '/api/', headers: { 'x-api-key': 'a' } })).status, 200);
  });

  it('keeps its buckets across a reload of the same limit', async () => {
    const { port, file, inst } = await serveLimited('{ rps: 0.1, burst: 1 }');
    assert.equal((await request(port, { path: '/api/' })).status, 200);
    assert.equal((await request(port, { path: '/api/' })).status, 429);
    appendFileSync(file, '# a comment: a new version with the same limit\n');
    const r = await inst.reload('admin');
    assert.equal(r.applied, true, r.error);
    assert.equal((await request(port, { path: '/api/' })).status, 429, 'a reload does not refill the bucket');
  });
});
