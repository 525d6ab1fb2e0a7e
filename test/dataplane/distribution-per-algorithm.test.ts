/** Each algorithm's distribution, measured through the proxy with real backends. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, portOf, request, serveInProcess, serveOnePool, startBackend, tempDir, writeConfig, freePort } from './helpers/harness.js';

after(cleanup);

async function setup(algorithm: string, weights: number[], extra = '') {
  const backends = await Promise.all(weights.map(() => startBackend()));
  const { port } = await serveOnePool(`
    algorithm: ${algorithm}
${extra}
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address}, weight: ${weights[i]} }`).join('\n')}`, { rest: 'guardrails: { maxBackendShare: 1 }\n' });
  return { backends, port };
}

async function send(port: number, n: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = await request(port, { headers: headers(i) });
    assert.equal(r.status, 200);
    const p = (JSON.parse(r.body) as { port: number }).port;
    seen.set(p, (seen.get(p) ?? 0) + 1);
  }
  return seen;
}

describe('distribution per algorithm, through the proxy', () => {
  it('round-robin with weights 3:1 gives exactly 30 and 10 of 40, and weight 0 nothing', async () => {
    const { backends, port } = await setup('round-robin', [3, 1, 0]);
    const seen = await send(port, 40);
    assert.equal(seen.get(backends[0].port), 30);
    assert.equal(seen.get(backends[1].port), 10);
    assert.equal(seen.get(backends[2].port), undefined);
  });

  it('random follows the weights (3:1) roughly and never picks weight 0', async () => {
    const { backends, port } = await setup('random', [3, 1, 0]);
    const seen = await send(port, 400);
    const a = seen.get(backends[0].port) ?? 0;
    assert.ok(a > 240 && a < 360, `backend 0 got ${a} of 400`);
    assert.equal(seen.get(backends[2].port), undefined);
  });

  it('least-request spreads sequential requests over every backend with weight > 0', async () => {
    const { backends, port } = await setup('least-request', [1, 1, 1, 0]);
    const seen = await send(port, 300);
    for (const b of backends.slice(0, 3)) assert.ok((seen.get(b.port) ?? 0) > 50, `backend ${b.port} got ${seen.get(b.port)}`);
    assert.equal(seen.get(backends[3].port), undefined);
  });

  it('consistent-hash sends a key to the same backend every time and spreads keys', async () => {
    const { port } = await setup('consistent-hash', [1, 1, 1], '    hashOn: header:x-user');
    const owners = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 60; u++) {
        const r = await request(port, { headers: { 'x-user': `user-${u}` } });
        const p = (JSON.parse(r.body) as { port: number }).port;
        if (round === 0) owners.set(`user-${u}`, p);
        else assert.equal(p, owners.get(`user-${u}`), `user-${u} moved`);
      }
    }
    assert.equal(new Set(owners.values()).size, 3);
  });

  it('a weighted split across pools follows the split weights exactly', async () => {
    const [a, b] = await Promise.all([startBackend(), startBackend()]);
    const port = await freePort();
    const file = await writeConfig(tempDir(), `
listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes:
      - name: site
        split: [{ pool: stable, weight: 4 }, { pool: next, weight: 1 }]
pools:
  stable: { backends: [{ address: ${a.address} }] }
  next: { backends: [{ address: ${b.address} }] }
`);
    const inst = await serveInProcess(file);
    const seen = await send(portOf(inst, 'web'), 50);
    assert.equal(seen.get(a.port), 40);
    assert.equal(seen.get(b.port), 10);
  });
});
