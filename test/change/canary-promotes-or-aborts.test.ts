/**
 * The second line of defence against a real serve: an accepted change first serves a slice of
 * requests as a canary beside the active version. A forced change that concentrates the pool
 * is aborted by the monitors with nothing else touched (no rollback, the active version keeps
 * serving, no failed request); a harmless change is promoted after canaryDuration and starts
 * its bake window; a rollback during a canary aborts it; `--no-canary` needs `--force`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { cleanup, eventually } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, journal, serve, site, steadyTraffic, type Site } from './helpers.js';

after(cleanup);

/** The site with room to spare (only distribution can be wrong) and a canary of `percent` for `duration`. */
function config(s: Site, weights: [number, number], rollout: string, extra = ''): string {
  return `${s.text(weights).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', `  traffic: { peakRps: 1000 }\n  rollout: ${rollout}\n`)}${extra}`;
}

async function canaryAborts(s: Site): Promise<void> {
  const load = steadyTraffic(s.port);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const bad = s.write(config(s, [9, 1], '{ canaryPercent: 50, canaryDuration: 20s }', /workers: 2/.test(readFileSync(s.file, 'utf8')) ? 'workers: 2\n' : ''), 'bad.yaml');
    const r = await evenkeel(['apply', bad, '--force', '--reason', 'send b1 the traffic', '--author', 'alice', '-c', s.file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /version 2 is in canary: 50% of requests for 20s beside version 1/);
    assert.match(r.stdout, /canary ABORTED/);
    assert.match(r.stdout, /canary's weights send 90\.0% of pool app to b1 \(limit 50\.0%/);
    assert.match(r.stdout, /nothing else changed: still serving version 1/);
  } finally {
    const { ok, failed } = await load.stop();
    assert.equal(failed, 0, `failed requests during the aborted canary: ${failed} of ${ok + failed}`);
  }
  const events = await journal(s);
  const types = events.map((e) => e.type);
  assert.ok(types.includes('canary.started'), types.join());
  const aborted = events.find((e) => e.type === 'canary.aborted');
  assert.ok(aborted, types.join());
  assert.equal(aborted.version, 2);
  assert.equal(aborted.data.by, 'evenkeel');
  assert.equal((aborted.data.reasons as { monitor: string }[])[0].monitor, 'concentration');
  assert.ok(!types.some((t) => t.startsWith('rollback.') || t === 'alert.fired'), `an aborted canary touches nothing else: ${JSON.stringify(events.map((e) => [e.type, e.data.summary]))}`);
  const versions = await adminGet<{ versions: { id: number; status: string }[] }>(s, '/api/v1/versions');
  assert.deepEqual(versions.versions.map((v) => [v.id, v.status]), [[2, 'aborted'], [1, 'active']]);
}

describe('config canary', () => {
  it('a forced concentrating change is aborted by the canary: the active version serves on, nothing fails', async () => {
    const s = await site();
    s.write(config(s, [1, 1], '{ canaryPercent: 50, canaryDuration: 20s }'));
    await serve(s);
    await canaryAborts(s);
  });

  it('a harmless change is promoted after canaryDuration; its canary requests are counted apart', async () => {
    const s = await site();
    s.write(config(s, [1, 1], '{ canaryPercent: 30, canaryDuration: 3s }'));
    await serve(s);
    const load = steadyTraffic(s.port);
    try {
      const good = s.write(config(s, [2, 2], '{ canaryPercent: 30, canaryDuration: 3s }'), 'good.yaml');
      const r = await evenkeel(['apply', good, '--reason', 'same split, bigger numbers', '-c', s.file]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /version 2 is in canary: 30% of requests for 3s beside version 1/);
      assert.match(r.stdout, /canary promoted: \d+ canary requests \(pool app \d+\) without a monitor objecting\n/);
      assert.match(r.stdout, /now serving version 2/);
    } finally {
      const { failed } = await load.stop();
      assert.equal(failed, 0);
    }
    const events = await journal(s);
    const promoted = events.find((e) => e.type === 'canary.promoted');
    assert.ok(promoted);
    assert.ok((promoted.data.requests as number) > 0);
    const applied = events.filter((e) => e.type === 'config.applied').at(-1)!;
    assert.equal(applied.version, 2, 'the promotion is the apply: the bake window starts there');
    assert.equal(applied.data.previous, 1);
    const status = await adminGet<{ version: number; canary: unknown; lastKnownGood: number }>(s, '/api/v1/status');
    assert.equal(status.version, 2);
    assert.equal(status.canary, null);
    assert.equal(status.lastKnownGood, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${s.admin}/metrics`)).text();
    const canary = [...metrics.matchAll(/^evenkeel_canary_requests_total\{.*backend="b[12]".*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const all = [...metrics.matchAll(/^evenkeel_requests_total\{.*backend="b[12]".*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(canary > 0 && canary < all, `canary requests ${canary} of ${all}`);
  });

  it('a rollback during a canary aborts it; --no-canary needs --force', async () => {
    const s = await site();
    s.write(config(s, [1, 1], '{ canaryPercent: 10, canaryDuration: 10m }'));
    await serve(s);
    const next = s.write(config(s, [2, 2], '{ canaryPercent: 10, canaryDuration: 10m }'), 'next.yaml');
    const usage = await evenkeel(['apply', next, '--no-canary', '--reason', 'skip it', '-c', s.file]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--no-canary only with --force/);

    const r = await evenkeel(['apply', next, '--no-wait', '--reason', 'slow canary', '-c', s.file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /not waiting/);
    const status = await adminGet<{ version: number; canary: { version: number; percent: number } }>(s, '/api/v1/status');
    assert.equal(status.version, 1);
    assert.deepEqual([status.canary.version, status.canary.percent], [2, 10]);
    const shown = await evenkeel(['status', '-c', s.file]);
    assert.match(shown.stdout, /^canary: version 2, 10% of requests since \S+ for 600s: .*\(abort it with evenkeel rollback\)$/m);
    const second = await evenkeel(['apply', next, '--reason', 'another', '-c', s.file]);
    assert.equal(second.code, 1, second.stdout + second.stderr);
    assert.match(second.stderr, /version 2 is in canary until .*; wait for its verdict, or abort it with `evenkeel rollback`/);

    const rb = await evenkeel(['rollback', '--reason', 'not today', '-c', s.file]);
    assert.equal(rb.code, 0, rb.stdout + rb.stderr);
    assert.match(rb.stdout, /^canary aborted: version 2 no longer serves any request\nstill serving version 1$/m);
    const events = await journal(s);
    const aborted = events.find((e) => e.type === 'canary.aborted');
    assert.ok(aborted);
    assert.match(String(aborted.data.summary), /not today/);
    assert.ok(!events.some((e) => e.type.startsWith('rollback.')), 'aborting a canary is not a rollback of the active version');
    assert.equal((await adminGet<{ version: number; canary: unknown }>(s, '/api/v1/status')).canary, null);
  });

  it('with workers, the canary slice is read from the workers and aborted the same way', async () => {
    const s = await site();
    s.write(`${config(s, [1, 1], '{ canaryPercent: 50, canaryDuration: 20s }')}workers: 2\n`);
    await serve(s);
    await eventually(async () => (await adminGet<{ version: number }>(s, '/api/v1/status')).version === 1, 10_000, 'serve');
    await canaryAborts(s);
  });
});
