/**
 * `evenkeel apply` of a config that would send all traffic to one backend is refused: exit 1,
 * the findings name the backend, a `config.refused` event is journalled, the old version keeps
 * serving, and no request fails meanwhile. `plan --against live` predicts the same refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, request } from '../dataplane/helpers/harness.js';
import { evenkeel, serve, site, steadyTraffic, type Site } from './helpers.js';

let s: Site;

before(async () => {
  s = await site();
  await serve(s);
});
after(cleanup);

describe('a refused apply', () => {
  it('exits 1 with the findings, journals config.refused and keeps serving version 1 with 0 failed requests', async () => {
    const bad = s.write(s.text([1, 0]), 'bad.yaml');
    const traffic = steadyTraffic(s.port);
    const r = await evenkeel(['apply', bad, '--reason', 'drain b2', '-c', s.file]);
    const { ok, failed } = await traffic.stop();
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /bad\.yaml:\d+:\d+: error EK20\d: .*b1/);
    assert.match(r.stdout, /REFUSED/);
    assert.match(r.stdout, /stored as refused version 2; nothing changed, still serving version 1/);
    assert.equal(failed, 0, `failed requests during the refused apply: ${failed} (of ${ok + failed})`);
    assert.ok(ok > 0);

    const events = await evenkeel(['events', '--json', '-c', s.file]);
    assert.equal(events.code, 0, events.stderr);
    const list = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; version: number; data: { findings: { code: string }[]; author: string } });
    const refused = list.find((e) => e.type === 'config.refused');
    assert.ok(refused, events.stdout);
    assert.equal(refused.version, 2);
    assert.ok(refused.data.findings.some((f) => f.code === 'EK209'));

    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(JSON.parse((await request(s.port)).body).port);
    assert.equal(seen.size, 2, 'both backends still get traffic');
  });

  it('plan --against live compares with the active version and predicts the refusal', async () => {
    const bad = s.write(s.text([1, 0]), 'bad.yaml');
    const r = await evenkeel(['plan', bad, '--against', 'live', '-c', s.file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /plan: live version 1 \(http:\/\/127\.0\.0\.1:\d+\) → /);
    assert.match(r.stdout, /b1\s+50\.0%\s+100\.0%/);
    assert.match(r.stdout, /an apply would be REFUSED/);
    const fine = s.write(s.text([1, 1]).replace('capacity: 500', 'capacity: 600'), 'fine.yaml');
    const ok = await evenkeel(['plan', fine, '--against', 'live', '-c', s.file]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /an apply would be accepted/);
  });

  it('says clearly when no instance is running (exit 2)', async () => {
    const r = await evenkeel(['status', '--admin', 'http://127.0.0.1:1', '--token-file', s.file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no running evenkeel answers at http:\/\/127\.0\.0\.1:1/);
  });
});
