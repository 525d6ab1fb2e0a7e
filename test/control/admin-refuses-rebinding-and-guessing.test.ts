/**
 * The admin port answers only under names that cannot be rebound, tells an anonymous caller
 * nothing about the machine, limits wrong tokens, and answers CONNECT with 405. Regressions:
 * `Host: evil.example` got /metrics, / and /api/v1/session (DNS rebinding), the session
 * endpoint gave anyone the token file's absolute path, logins had no limit, and CONNECT got a
 * dropped socket.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startAdmin, type AdminServer } from '../../src/control/admin.js';
import { MemoryStore } from '../../src/control/store/index.js';
import { freePort, parseResponses, rawExchange } from '../dataplane/helpers/harness.js';

const TOKEN = 'a-long-enough-admin-token-for-the-tests';
let admin: AdminServer;

before(async () => {
  admin = await startAdmin(`127.0.0.1:${await freePort()}`, TOKEN, {
    metrics: async () => 'evenkeel_up 1\n',
    status: async () => ({ version: 1 }),
    reload: async () => ({ applied: false, version: 1, findings: [] }),
    apply: async () => { throw new Error('not in this test'); },
    rollback: async () => { throw new Error('not in this test'); },
    store: new MemoryStore(),
    allowedHosts: ['lb1.internal'],
  } as unknown as Parameters<typeof startAdmin>[2]);
});
after(() => admin.close());

/** A GET with an explicit Host header (fetch does not let a caller set Host). */
function get(path: string, host: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: admin.port, path, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin port', () => {
  for (const path of ['/metrics', '/', '/api/v1/session', '/api/v1/status', '/healthz']) {
    it(`refuses ${path} under a name that could be rebound (403)`, async () => {
      const r = await get(path, 'evil.example');
      assert.equal(r.status, 403);
      assert.match(r.body, /admin\.allowedHosts/);
      assert.doesNotMatch(r.body, /evenkeel_up/);
    });
  }

  for (const host of ['127.0.0.1:PORT', 'localhost:9901', '[::1]:9901', 'lb1.internal', 'LB1.internal:80', '10.1.2.3']) {
    it(`answers under ${host}`, async () => {
      assert.equal((await get('/metrics', host.replace('PORT', String(admin.port)))).status, 200);
    });
  }

  it('the session endpoint says only whether the caller is logged in', async () => {
    const r = await get('/api/v1/session', 'localhost');
    assert.deepEqual(JSON.parse(r.body), { authenticated: false });
  });

  it('limits wrong tokens: the 11th wrong login in a minute is 429 with Retry-After, and so is the right one then', async () => {
    const login = (token: string) => fetch(`http://127.0.0.1:${admin.port}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    for (let i = 0; i < 10; i++) assert.equal((await login(`wrong-${i}`)).status, 403);
    const limited = await login('wrong-again');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await login(TOKEN)).status, 429, 'no guess is checked while limited');
    const bearer = await get('/api/v1/status', 'localhost', { authorization: 'Bearer wrong' });
    assert.equal(bearer.status, 429, 'bearer guesses count against the same limit');
  });

  it('answers CONNECT with 405', async () => {
    const r = await rawExchange(admin.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 1500);
    assert.equal(parseResponses(r.text)[0]?.status, 405);
  });
});
