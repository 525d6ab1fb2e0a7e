// A backend marked `backup: true` (HAProxy's and NGINX's `backup`) is a standby: the traffic
// model gives it share 0 while any primary of its pool is usable, the data plane never picks it
// then, and both turn to the backups once no primary can serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../src/analysis/index.ts';
import { configSchema } from '../src/config/schema.ts';
import { PoolRuntime } from '../src/upstream/pool.ts';
import { EndpointRegistry } from '../src/upstream/registry.ts';
import { cleanup, request, serveOnePool, startBackend } from './dataplane/helpers/harness.ts';

function config(backends: string): string {
  return `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes: [{ name: site, pool: web }]
pools:
  web:
    healthCheck: { path: /healthz }
    backends:
${backends}`;
}

const cases = [
  { desc: 'two primaries and a backup: the backup gets 0', backends: [['p1', 1, false], ['p2', 1, false], ['b1', 1, true]], shares: [0.5, 0.5, 0], codes: [] as string[] },
  { desc: 'one primary and a backup: active/standby, a warning only', backends: [['p1', 1, false], ['b1', 1, true]], shares: [1, 0], codes: ['EK550'] },
  { desc: 'every primary drained: the backups serve, by weight', backends: [['p1', 0, false], ['b1', 1, true], ['b2', 1, true]], shares: [0, 0.5, 0.5], codes: [] },
  { desc: 'every primary drained, one backup: refused, naming it', backends: [['p1', 0, false], ['p2', 0, false], ['b1', 1, true]], shares: [0, 0, 1], codes: ['EK209'] },
] as const;

for (const c of cases) {
  test(`traffic model: ${c.desc}`, () => {
    const yaml = config(c.backends.map(([n, w, b], i) => `      - { name: ${n}, address: 10.0.0.${i + 1}:80, weight: ${w}, backup: ${b} }`).join('\n'));
    const r = validateText(yaml);
    assert.ok(r.prediction);
    c.backends.forEach(([n], i) => assert.equal(r.prediction!.pools.web.backends[n].share, c.shares[i], `${n}`));
    const codes = r.findings.filter((f) => f.severity !== 'info').map((f) => f.code);
    assert.deepEqual(codes, c.codes);
    const refusal = r.findings.find((f) => f.code === 'EK209');
    if (refusal) assert.equal(refusal.subject.backend, 'b1');
  });
}

test('data plane: backups are picked only when no primary is usable', async () => {
  const registry = new EndpointRegistry();
  const pool = configSchema.parse({ listeners: [{ name: 'l', address: '127.0.0.1:1', routes: [{ name: 'r', pool: 'web' }] }], pools: { web: { backends: [
    { name: 'p1', address: '127.0.0.1:10001' }, { name: 'p2', address: '127.0.0.1:10002' }, { name: 'b1', address: '127.0.0.1:10003', backup: true },
  ] } } }).pools.web;
  const rt = new PoolRuntime('web', pool, registry);
  const picks = (n: number) => { const s = new Set<string>(); for (let i = 0; i < n; i++) s.add(rt.names[rt.pick({ method: 'GET', host: '', path: '/', headers: {} })]); return [...s].sort(); };
  try {
    assert.deepEqual(picks(20), ['p1', 'p2']);
    rt.endpoints[0].activeUp = false;
    rt.refresh(registry);
    assert.deepEqual(picks(20), ['p2'], 'one primary left: still no backup');
    rt.endpoints[1].activeUp = false;
    rt.refresh(registry);
    assert.deepEqual(picks(20), ['b1'], 'no primary usable: the backup serves');
    rt.endpoints[0].activeUp = true;
    rt.refresh(registry);
    assert.deepEqual(picks(20), ['p1'], 'a primary is back: the backup stops');
  } finally {
    rt.dispose();
    await registry.close(true);
  }
});

test('through the proxy: a backup behind two healthy primaries gets no request', async (t) => {
  t.after(cleanup);
  const [p1, p2, b1] = await Promise.all([startBackend(), startBackend(), startBackend()]);
  const { port } = await serveOnePool(`
    backends:
      - { name: p1, address: ${p1.address} }
      - { name: p2, address: ${p2.address} }
      - { name: b1, address: ${b1.address}, backup: true }`);
  const seen = new Map<number, number>();
  for (let i = 0; i < 40; i++) {
    const r = await request(port);
    assert.equal(r.status, 200);
    const from = (JSON.parse(r.body) as { port: number }).port;
    seen.set(from, (seen.get(from) ?? 0) + 1);
  }
  assert.equal(seen.get(p1.port), 20);
  assert.equal(seen.get(p2.port), 20);
  assert.equal(seen.get(b1.port), undefined);
});
