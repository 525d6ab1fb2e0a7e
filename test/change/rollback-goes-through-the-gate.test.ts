/**
 * Rollback goes through the gate (issue 10, hole 3), on a real serve: `rollback --to V` judges
 * V against the live version like an apply; a version that was refused, aborted or rolled back
 * needs `--force --reason`, and so does one with error findings; a version that does not
 * exist, or a `--to` while a canary runs, is refused with nothing changed; going to a newer
 * version is said as moving forward (the active one is superseded, not rolled back); and a
 * concurrent apply and rollback do not queue: one wins, the other gets 409 with what runs.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup } from '../dataplane/helpers/harness.js';
import { adminGet, adminToken, evenkeel, serve, site, type Site } from './helpers.js';

after(cleanup);

const fast = '  rollout: { canaryPercent: 10, canaryDuration: 1s, canaryMaxDuration: 1s }\n';

function config(s: Site, w: [number, number]): string {
  return s.text(w).replace('  traffic: { peakRps: 600 }\n', `  traffic: { peakRps: 600 }\n${fast}`);
}

const statuses = async (s: Site) => (await adminGet<{ versions: { id: number; status: string }[] }>(s, '/api/v1/versions')).versions.map((v) => [v.id, v.status]);
const serving = async (s: Site) => (await adminGet<{ version: number }>(s, '/api/v1/status')).version;

function post(s: Site, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return fetch(`http://127.0.0.1:${s.admin}${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminToken(s)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
}

describe('rollback through the gate', () => {
  it('a known-bad version is refused without --force --reason; a missing one too; forward is not a rollback', async () => {
    const s = await site();
    s.write(config(s, [1, 1]));
    await serve(s);
    // v2: refused (one backend would carry 600 req/s, over its 500).
    const refused = await evenkeel(['apply', s.write(config(s, [1, 0]), 'one.yaml'), '--reason', 'drain b2', '-c', s.file]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /stored as refused version 2/);

    const r2 = await evenkeel(['rollback', '--to', '2', '-c', s.file]);
    assert.equal(r2.code, 1, r2.stdout + r2.stderr);
    assert.match(r2.stderr, /rollback refused: version 2 was refused \(\d+ error findings?\); it has \d+ error findings? against the live version \(EK2\d\d .*\); nothing changed\. Serving it again needs --force --reason TEXT/);
    const missing = await evenkeel(['rollback', '--to', '99', '-c', s.file]);
    assert.equal(missing.code, 1, missing.stdout + missing.stderr);
    assert.match(missing.stderr, /version 99 does not exist/);
    const noReason = await evenkeel(['rollback', '--to', '2', '--force', '-c', s.file]);
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /--force needs a non-empty --reason/);
    assert.equal(await serving(s), 1);

    // v3: a harmless change, promoted.
    const good = await evenkeel(['apply', s.write(config(s, [2, 2]), 'good.yaml'), '--reason', 'bigger numbers', '-c', s.file]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    const back = await evenkeel(['rollback', '--to', '1', '--reason', 'prefer v1', '--author', 'alice', '-c', s.file]);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.match(back.stdout, /rolled back: version 3 → version 1; now serving version 1/);

    // v3 was rolled back by alice: serving it again is an override.
    const again = await evenkeel(['rollback', '--to', '3', '-c', s.file]);
    assert.equal(again.code, 1, again.stdout + again.stderr);
    assert.match(again.stderr, /version 3 was rolled back by alice \(prefer v1\); nothing changed/);
    const forced = await evenkeel(['rollback', '--to', '3', '--force', '--reason', 'v3 was fine after all', '-c', s.file]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stdout, /moved forward: version 1 → version 3 \(version 1 is superseded\); now serving version 3/);
    assert.deepEqual(await statuses(s), [[3, 'active'], [2, 'refused'], [1, 'superseded']]);
    const events = (await adminGet<{ events: { type: string; data: Record<string, unknown> }[] }>(s, '/api/v1/events')).events;
    const last = events.filter((e) => e.type === 'rollback.manual').at(-1)!;
    assert.equal(last.data.forced, true);
    assert.equal(last.data.direction, 'forward');
    assert.deepEqual(last.data.past, ['was rolled back by alice (prefer v1)']);
    const listed = await evenkeel(['events', '-c', s.file]);
    assert.match(listed.stdout, /rollback\.manual\s+v3 served again, forward from v1 \(superseded, not rolled back\) by \S+ with --force \("v3 was fine after all"\)/);
  });

  it('a --to while a canary runs is refused; concurrent apply and rollback: one wins, the other gets 409 with what runs', async () => {
    const s = await site();
    s.write(config(s, [1, 1]).replace('canaryDuration: 1s, canaryMaxDuration: 1s', 'canaryDuration: 10m'));
    await serve(s);
    const v2 = s.write(config(s, [2, 2]).replace('canaryDuration: 1s, canaryMaxDuration: 1s', 'canaryDuration: 10m'), 'v2.yaml');
    const up = await evenkeel(['apply', v2, '--force', '--no-canary', '--reason', 'v2 at once', '-c', s.file]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const started = await evenkeel(['apply', s.write(config(s, [3, 3]), 'v3.yaml'), '--no-wait', '--reason', 'slow canary', '-c', s.file]);
    assert.equal(started.code, 0, started.stdout + started.stderr);
    const during = await evenkeel(['rollback', '--to', '1', '-c', s.file]);
    assert.equal(during.code, 1, during.stdout + during.stderr);
    assert.match(during.stderr, /version 3 is in canary; nothing changed\. Abort it first with `evenkeel rollback` \(no --to\)/);
    assert.equal(await serving(s), 2);
    const abort = await evenkeel(['rollback', '-c', s.file]);
    assert.equal(abort.code, 0, abort.stdout + abort.stderr);

    const text = config(s, [4, 4]);
    const [a, b] = await Promise.all([
      post(s, '/api/v1/apply', { text, file: 'v4.yaml', reason: 'race', author: 'bob' }),
      post(s, '/api/v1/rollback', { to: 1, reason: 'race', author: 'carol' }),
    ]);
    const codes = [a.status, b.status].sort();
    assert.deepEqual(codes, [200, 409], JSON.stringify([a, b]));
    const loser = a.status === 409 ? a : b;
    assert.match(String(loser.body.error), /(an apply of v4\.yaml by bob|a rollback to version 1 by carol) is in progress; nothing changed|is in canary; nothing changed/);
  });
});
