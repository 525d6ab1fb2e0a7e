/**
 * The dashboard's way in, against a real `evenkeel serve`: the page and its assets are served
 * with a strict Content-Security-Policy and no inline script; the admin token is traded once for
 * an HttpOnly, SameSite=Strict session cookie (no token 401, a wrong one 403, never echoed or
 * logged); the cookie authorizes reads, and a write only with the CSRF header from the same
 * origin; the bearer token works as before; logging out ends the session. Also the versions'
 * diff endpoint the page shows.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cleanup, type ServeProcess } from '../dataplane/helpers/harness.js';
import { adminToken, serve, site, type Site } from '../change/helpers.js';

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

const WRONG = 'not-the-admin-token-at-all-0123456789';

async function login(t = token): Promise<Response> {
  return fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t }) });
}

/** A fresh session's `Cookie` header value. */
async function session(): Promise<string> {
  const res = await login();
  assert.equal(res.status, 200);
  return res.headers.get('set-cookie')!.split(';')[0];
}

describe('the dashboard page', () => {
  it('GET / and every asset it names answer with their content type and a strict CSP; nothing inline', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline <script>');
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /<style|style="/, 'no inline styles');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'every asset is local');
    const refs = [...html.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(refs)].sort(), ['/ui/app.js', '/ui/icon.svg', '/ui/style.css']);
    const types: Record<string, string> = { '/ui/app.js': 'text/javascript; charset=utf-8', '/ui/style.css': 'text/css; charset=utf-8', '/ui/icon.svg': 'image/svg+xml' };
    for (const ref of refs) {
      const res = await fetch(base + ref);
      assert.equal(res.status, 200, ref);
      assert.equal(res.headers.get('content-type'), types[ref], ref);
      assert.equal(res.headers.get('content-security-policy'), csp, ref);
      assert.ok((await res.arrayBuffer()).byteLength > 0, ref);
    }
    const js = await (await fetch(`${base}/ui/app.js`)).text();
    assert.doesNotMatch(js, /\beval\(|new Function\(|innerHTML|https?:\/\/(?!www\.w3\.org)/, 'the script builds the page as text only and loads nothing remote');
    for (const probe of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/', '/ui/missing.js']) assert.equal((await fetch(base + probe)).status, 404, probe);
  });

  it('the compiled build finds the same assets, and the package ships them', async () => {
    const dist = join(process.cwd(), 'dist', 'control', 'dashboard.js');
    assert.ok(existsSync(dist), 'dist/ is built (npm test runs npm run build first)');
    const { UI_DIR } = (await import(pathToFileURL(dist).href)) as { UI_DIR: string };
    for (const f of ['index.html', 'app.js', 'style.css', 'icon.svg']) assert.ok(existsSync(join(UI_DIR, f)), `${UI_DIR}${f}`);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[] };
    assert.ok(pkg.files.includes('src/ui'), 'package.json "files" lists src/ui');
  });
});

describe('dashboard session', () => {
  it('GET /api/v1/session says only whether the caller is logged in: nothing about the machine', async () => {
    const res = await fetch(`${base}/api/v1/session`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body, { authenticated: false });
  });

  it('login: no token 401, a wrong one 403 (no cookie), the right one an HttpOnly SameSite=Strict cookie; the token never comes back', async () => {
    const none = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(none.status, 401);
    const wrong = await login(WRONG);
    assert.equal(wrong.status, 403);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.ok(!(await wrong.text()).includes(WRONG), 'the wrong token is not echoed');
    const ok = await login();
    assert.equal(ok.status, 200);
    const cookie = ok.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^evenkeel_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    assert.ok(!cookie.includes(token));
    assert.ok(!(await ok.text()).includes(token), 'the token is not echoed');
    const again = await login();
    assert.notEqual(again.headers.get('set-cookie')!.split(';')[0], cookie.split(';')[0], 'every login gets a new random id');
  });

  it('a session cookie authorizes reads; an unknown or forged one is 401', async () => {
    const cookie = await session();
    for (const path of ['/api/v1/status', '/api/v1/versions', '/api/v1/events']) {
      assert.equal((await fetch(base + path, { headers: { cookie } })).status, 200, path);
    }
    const state = (await (await fetch(`${base}/api/v1/session`, { headers: { cookie } })).json()) as { authenticated: boolean };
    assert.equal(state.authenticated, true);
    const forged = await fetch(`${base}/api/v1/status`, { headers: { cookie: 'evenkeel_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await fetch(`${base}/api/v1/status`)).status, 401);
  });

  it('a write with the cookie needs the CSRF header and the same origin; the bearer token needs neither', async () => {
    const cookie = await session();
    const rollback = (headers: Record<string, string>) => fetch(`${base}/api/v1/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ reason: 'test', author: 'test' }) });
    const noHeader = await rollback({ cookie });
    assert.equal(noHeader.status, 403);
    assert.match(((await noHeader.json()) as { error: string }).error, /x-evenkeel-csrf/);
    // What a cross-site form would send: the cookie (were it not SameSite), a simple content type, no custom header.
    const form = await fetch(`${base}/api/v1/rollback`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: 'to=1' });
    assert.equal(form.status, 403);
    assert.equal((await rollback({ cookie, 'x-evenkeel-csrf': '1', origin: 'http://evil.example' })).status, 403, 'another origin');
    assert.equal((await rollback({ cookie, 'x-evenkeel-csrf': '0' })).status, 403);
    // Past auth: the only version is active and known good, so the rollback itself is refused (409).
    assert.equal((await rollback({ cookie, 'x-evenkeel-csrf': '1', origin: base })).status, 409);
    assert.equal((await rollback({ cookie, 'x-evenkeel-csrf': '1' })).status, 409);
    assert.equal((await rollback({ authorization: `Bearer ${token}` })).status, 409, 'the bearer token works as before');
    assert.equal((await rollback({ authorization: `Bearer ${WRONG}`, cookie, 'x-evenkeel-csrf': '1' })).status, 403, 'a wrong bearer token is not rescued by a cookie');
    assert.equal((await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  });

  it('logout ends the session', async () => {
    const cookie = await session();
    assert.equal((await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } })).status, 403, 'logout with the cookie needs the CSRF header too');
    const out = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-evenkeel-csrf': '1' } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /^evenkeel_session=; .*Max-Age=0$/);
    assert.equal((await fetch(`${base}/api/v1/status`, { headers: { cookie } })).status, 401);
  });

  it('the token and session ids never reach serve\'s output', () => {
    for (const out of [sp.stdout, sp.stderr]) {
      assert.ok(!out.includes(token), 'the token was printed');
      assert.ok(!out.includes(WRONG), 'a login attempt was printed');
      assert.ok(!out.includes('evenkeel_session='), 'a session id was printed');
    }
  });
});

describe('GET /api/v1/versions/:id/diff', () => {
  it('diffs a version against the one it replaced, or a named one', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const applied = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ text: s.text([1, 1]).replace('capacity: 500', 'capacity: 550'), file: s.file, reason: 'bigger boxes', force: true, canary: false }) });
    assert.equal(applied.status, 200, await applied.clone().text());
    const v = ((await applied.json()) as { version: number }).version;
    const d = (await (await fetch(`${base}/api/v1/versions/${v}/diff`, { headers: auth })).json()) as { id: number; against: number; diff: string; changes: string[] };
    assert.equal(d.id, v);
    assert.equal(d.against, 1);
    assert.match(d.diff, /^--- v1\n\+\+\+ v\d+\n@@ /);
    assert.match(d.diff, /^-    capacity: 500$/m);
    assert.match(d.diff, /^\+    capacity: 550$/m);
    assert.deepEqual(d.changes, ['pools.app.capacity: 500 → 550']);
    const first = (await (await fetch(`${base}/api/v1/versions/1/diff`, { headers: auth })).json()) as { against: number | null; diff: string };
    assert.deepEqual([first.against, first.diff], [null, '']);
    const named = (await (await fetch(`${base}/api/v1/versions/1/diff?against=${v}`, { headers: auth })).json()) as { against: number; changes: string[] };
    assert.deepEqual([named.against, named.changes], [v, ['pools.app.capacity: 550 → 500']]);
    assert.equal((await fetch(`${base}/api/v1/versions/999/diff`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${base}/api/v1/versions/${v}/diff`)).status, 401);
  });
});
