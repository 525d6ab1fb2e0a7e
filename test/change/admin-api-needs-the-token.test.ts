/**
 * Every `/api/v1` endpoint, reads of config and events included, answers 401 without a bearer
 * token and 403 with a wrong one; the token is never printed; the CLI takes it from
 * EVENKEEL_TOKEN too and says clearly when it is wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, type ServeProcess } from '../dataplane/helpers/harness.js';
import { adminToken, evenkeel, serve, site, type Site } from './helpers.js';

let s: Site;
let sp: ServeProcess;
let token: string;
let base: string;

before(async () => {
  s = await site();
  sp = await serve(s);
  token = adminToken(s);
  base = `http://127.0.0.1:${s.admin}`;
});
after(cleanup);

const ENDPOINTS: [string, string][] = [
  ['GET', '/api/v1/status'],
  ['GET', '/api/v1/versions'],
  ['GET', '/api/v1/versions/1'],
  ['GET', '/api/v1/events'],
  ['POST', '/api/v1/apply'],
  ['POST', '/api/v1/rollback'],
  ['POST', '/api/v1/reload'],
];

describe('admin API auth', () => {
  for (const [method, path] of ENDPOINTS) {
    it(`${method} ${path}: 401 without a token, 403 with a wrong one`, async () => {
      const none = await fetch(base + path, { method });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await fetch(base + path, { method, headers: { authorization: 'Bearer not-the-token-not-the-token' } });
      assert.equal(wrong.status, 403);
    });
  }

  it('serves versions, one version and events with the token; apply over HTTP is gated', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const v1 = (await (await fetch(`${base}/api/v1/versions/1`, { headers: auth })).json()) as { text: string; status: string; author: string };
    assert.equal(v1.status, 'active');
    assert.equal(v1.author, 'initial');
    assert.equal(v1.text, s.text([1, 1]));
    const post = (body: unknown) => fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await post({ text: s.text([0, 1]), file: s.file, reason: 'try', author: 'bob' });
    assert.equal(refused.status, 409);
    assert.ok(((await refused.json()) as { findings: { code: string }[] }).findings.some((f) => f.code === 'EK209'));
    assert.equal((await post({ text: s.text([0, 1]), file: s.file, reason: ' ', force: true })).status, 400, 'force needs a reason');
    const ok = await post({ text: s.text([1, 1]).replace('capacity: 500', 'capacity: 550'), file: s.file, reason: 'bigger boxes', author: 'bob' });
    assert.equal(ok.status, 200);
    const accepted = (await ok.json()) as { version: number; active: number; canary: { version: number } };
    assert.deepEqual([accepted.version, accepted.active, accepted.canary.version], [3, 1, 3], 'an accepted change starts as a canary');
    const { events } = (await (await fetch(`${base}/api/v1/events?since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`, { headers: auth })).json()) as { events: { type: string; data: { prediction?: unknown } }[] };
    assert.deepEqual(events.map((e) => e.type), ['config.applied', 'config.refused', 'canary.started']);
    assert.ok(events[2].data.prediction, 'an accepted apply journals its prediction');
    assert.equal((await fetch(`${base}/api/v1/events?since=yesterday`, { headers: auth })).status, 400);
  });

  it('the CLI takes EVENKEEL_TOKEN, says when the token is wrong (exit 2), and the token is never printed', async () => {
    const viaEnv = await evenkeel(['history', '--admin', base], { env: { EVENKEEL_TOKEN: token } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.match(viaEnv.stdout, /^3\s+canary/m);
    assert.match(viaEnv.stdout, /^1\*\s+active/m);
    const wrong = await evenkeel(['history', '--admin', base], { env: { EVENKEEL_TOKEN: 'not-the-token-not-the-token' } });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /refused the admin token/);
    for (const out of [sp.stdout, sp.stderr, viaEnv.stdout, viaEnv.stderr, wrong.stderr]) assert.ok(!out.includes(token), 'the token was printed');
  });
});
