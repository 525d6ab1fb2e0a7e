/**
 * The canary judges what a change does to the distribution of the pools it touches, not only
 * what its few requests look like at today's load (issue 10, hole 1 and 5), on a real serve:
 *
 * - the seed change (2 of 3 backends to weight 0), forced, with its canary at a low load far
 *   below capacity, is aborted: 0 failed requests, the active version unchanged;
 * - a touched pool that saw too few canary requests is not promoted silently: the canary runs
 *   on to its bounded extension, then the documented policy decides, and says so;
 * - an intended drain to one backend stays possible when acknowledged, and is journalled.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, freePort, startBackend, tempDir, type Backend } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, journal, serve, steadyTraffic, writerIn, type Site } from './helpers.js';

after(cleanup);

/** Three web servers of capacity 5000 and a declared peak of 6000 req/s: 40% each, one alone would be 120%. */
async function threeServers(rollout: string): Promise<Site & { three(weights: [number, number, number]): string }> {
  const backends: Backend[] = [await startBackend(), await startBackend(), await startBackend()];
  const [port, admin] = [await freePort(), await freePort()];
  const dir = tempDir();
  const three = (w: [number, number, number]) => `listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes: [{ name: site, pool: web }]
pools:
  web:
    capacity: 5000
    backends:
${backends.map((b, i) => `      - { name: web-${i + 1}, address: ${b.address}, weight: ${w[i]} }`).join('\n')}
guardrails:
  traffic: { peakRps: 6000 }
  rollout: ${rollout}
  rollback: { window: 5s }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`;
  const write = writerIn(dir);
  const file = write(three([1, 1, 1]));
  return { dir, file, port, admin, backends, text: () => three([1, 1, 1]), write, three };
}

describe('the canary judges what the change does', () => {
  it('the seed change, forced, with its canary at a low load, is aborted: nothing fails, v1 serves on', async () => {
    const s = await threeServers('{ canaryPercent: 50, canaryDuration: 10s }');
    await serve(s);
    const load = steadyTraffic(s.port, { rps: 40 });
    let out = '';
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const seed = s.write(s.three([1, 0, 0]), 'seed.yaml');
      const r = await evenkeel(['apply', seed, '--force', '--reason', 'routine update', '--author', 'alice', '-c', s.file]);
      out = r.stdout + r.stderr;
      assert.equal(r.code, 1, out);
      assert.match(r.stdout, /version 2 is in canary: 50% of requests for 10s beside version 1/);
      assert.match(r.stdout, /canary ABORTED/);
      assert.match(r.stdout, /100\.0% of pool web to web-1 \(limit 50\.0%; the active version spreads it over 3 backends\)/);
      assert.match(r.stdout, /nothing else changed: still serving version 1/);
    } finally {
      const { ok, failed } = await load.stop();
      assert.equal(failed, 0, `failed requests during the aborted canary: ${failed} of ${ok + failed}`);
    }
    const events = await journal(s);
    const aborted = events.find((e) => e.type === 'canary.aborted');
    assert.ok(aborted, out);
    const monitors = (aborted.data.reasons as { monitor: string }[]).map((x) => x.monitor);
    assert.ok(monitors.includes('concentration'), monitors.join());
    assert.ok(monitors.includes('overload'), `a full rollout at the declared peak overloads web-1: ${monitors.join()}`);
    assert.equal(typeof (aborted.data.pools as Record<string, number>).web, 'number', 'the verdict says how many requests of pool web judged it');
    assert.ok(!events.some((e) => e.type === 'canary.promoted' || e.type.startsWith('rollback.')));
    const status = await adminGet<{ version: number; canary: unknown }>(s, '/api/v1/status');
    assert.equal(status.version, 1);
    assert.equal(status.canary, null);
    const versions = await adminGet<{ versions: { id: number; status: string }[] }>(s, '/api/v1/versions');
    assert.deepEqual(versions.versions.map((v) => [v.id, v.status]), [[2, 'aborted'], [1, 'active']]);
  });

  it('with no traffic, a change to a pool runs its canary longer, then is promoted saying it was not judged on traffic', async () => {
    const s = await threeServers('{ canaryPercent: 10, canaryDuration: 1s, canaryMaxDuration: 3s }');
    await serve(s);
    const next = s.write(s.three([2, 2, 2]), 'next.yaml');
    const started = Date.now();
    const r = await evenkeel(['apply', next, '--reason', 'bigger numbers', '-c', s.file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(Date.now() - started >= 3000, 'the canary ran on to canaryMaxDuration');
    assert.match(r.stdout, /canary promoted: 0 canary requests \(pool web 0\) without a monitor objecting; NOT JUDGED on traffic: pool web saw 0 canary requests/);
    assert.doesNotMatch(r.stdout, /promote: promote:|promoted: promote:/);
    const promoted = (await journal(s)).find((e) => e.type === 'canary.promoted');
    assert.ok(promoted);
    assert.deepEqual(promoted.data.thin, ['web']);
    assert.deepEqual(promoted.data.pools, { web: 0 });
  });

  it('with tooFewRequests: abort, the same unjudged canary is aborted instead', async () => {
    const s = await threeServers('{ canaryPercent: 10, canaryDuration: 1s, canaryMaxDuration: 2s, tooFewRequests: abort }');
    await serve(s);
    const r = await evenkeel(['apply', s.write(s.three([2, 2, 2]), 'next.yaml'), '--reason', 'bigger numbers', '-c', s.file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /canary ABORTED: abort: too few requests to judge after [\d.]+s \(pool web saw 0; 50 needed\)/);
    assert.equal((await adminGet<{ version: number }>(s, '/api/v1/status')).version, 1);
  });

  it('a drain to one backend is aborted unless acknowledged; acknowledged, it goes in and the journal says so', async () => {
    const s = await threeServers('{ canaryPercent: 10, canaryDuration: 1s, canaryMaxDuration: 1s }');
    // The peak fits on one server here, so only the concentration is at stake.
    s.write(s.three([1, 1, 1]).replace('peakRps: 6000', 'peakRps: 3000'));
    await serve(s);
    const drain = s.write(s.three([1, 0, 0]).replace('peakRps: 6000', 'peakRps: 3000'), 'drain.yaml');
    const refused = await evenkeel(['apply', drain, '--force', '--reason', 'maintenance on web-2 and web-3', '-c', s.file]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /canary ABORTED/);
    const ok = await evenkeel(['apply', drain, '--force', '--reason', 'maintenance on web-2 and web-3', '--drain-to-one', 'web', '-c', s.file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /now serving version 3/);
    const started = (await journal(s)).filter((e) => e.type === 'canary.started').at(-1)!;
    assert.deepEqual(started.data.drainToOne, ['web']);
    const bad = await evenkeel(['apply', drain, '--force', '--reason', 'x', '--drain-to-one', 'nope', '-c', s.file]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /--drain-to-one nope: no such pool/);
  });
});
