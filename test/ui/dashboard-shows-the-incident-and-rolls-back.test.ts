/**
 * The dashboard in real Chromium against a real `evenkeel serve` under steady traffic: the page
 * asks for the token and opens with it; the traffic chart moves within 3 s; a forced bad change
 * (automatic rollback off, so the alert stays up) shows as an alert naming the backend, and the
 * backend's row says what is wrong in words; the page fits a phone-sized screen with no
 * horizontal scrolling; the rollback button rolls back (checked through the API).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { adminToken, serve, site, steadyTraffic, type Site } from '../change/helpers.js';
import { cleanup, eventually, onCleanup } from '../dataplane/helpers/harness.js';
import { openBrowser, type Browser } from './browser.js';

after(cleanup);

/**
 * The test site's config with a short monitor window, capacities far above the test's load (so
 * only the concentration of the bad change fires) and automatic rollback off.
 */
function config(s: Site, weights: [number, number]): string {
  return s.text(weights).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1000 }\n  rollback: { auto: false, window: 5s }\n');
}

interface Status {
  active: { id: number };
  alerts: { monitor: string; backend: string | null }[];
}

describe('the dashboard in Chromium', () => {
  let s: Site;
  let token: string;
  let base: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
    assert.ok(res.ok, `${path}: HTTP ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };

  before(async () => {
    s = await site();
    s.write(config(s, [1, 1]));
    await serve(s);
    token = adminToken(s);
    base = `http://127.0.0.1:${s.admin}`;
    const load = steadyTraffic(s.port);
    onCleanup(async () => void (await load.stop()));
    browser = await openBrowser();
    onCleanup(() => browser.close());
  });

  it('asks for the token, refuses a wrong one, and opens with the right one', async () => {
    page = await browser.context.newPage();
    // The browser logs the refused login's 403, and the gate's 409 before an override, as failed
    // loads: expected; anything else is not.
    page.on('console', (m) => void (m.type() === 'error' && !/Failed to load resource: .* (403|409)/.test(m.text()) && problems.push(m.text())));
    page.on('pageerror', (e) => void problems.push(e.message));
    await page.goto(`${base}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#dash').isVisible(), false);
    // Where the token file is, is not told to a page that has not logged in (the hint names admin.tokenFile and <store.path>).
    assert.equal(await page.textContent('#token-file'), 'the admin token file', 'the form names the token file without revealing its path');
    await page.fill('#token', 'not-the-admin-token-0123456789');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error', { hasText: 'not this instance' }).waitFor();
    assert.equal(await page.locator('#dash').isVisible(), false);
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.locator('#dash').waitFor({ state: 'visible' });
    await page.locator('#pools [data-backend="b1"]').waitFor();
    await page.locator('#pools [data-backend="b2"]').waitFor();
    assert.match((await page.textContent('#serving'))!, /v1/);
    assert.match((await page.textContent('#conn'))!, /live/);
    const cookies = await browser.context.cookies(base);
    const sessionCookie = cookies.find((c) => c.name === 'evenkeel_session');
    assert.ok(sessionCookie?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(sessionCookie.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page script cannot read the session');
  });

  it('the traffic chart updates within 3 s', async () => {
    const chart = page.locator('#chart-rps');
    await page.waitForFunction(() => Number(document.getElementById('chart-rps')!.dataset.last) > 0, undefined, { timeout: 5000 });
    const first = await chart.getAttribute('data-last');
    const path = await chart.locator('path.line').getAttribute('d');
    const started = Date.now();
    await page.waitForFunction((was) => document.getElementById('chart-rps')!.dataset.last !== was, first, { timeout: 3000 });
    assert.ok(Date.now() - started <= 3000);
    assert.notEqual(await chart.locator('path.line').getAttribute('d'), path, 'the line was redrawn');
    await page.waitForFunction(() => /[1-9]/.test(document.getElementById('rps-now')!.textContent ?? ''), undefined, { timeout: 5000 });
  });

  it('a forced bad change shows as an alert naming the backend, and the backend says why in words', async () => {
    const r = await api<{ applied: boolean; version: number }>('/api/v1/apply', { method: 'POST', body: JSON.stringify({ text: config(s, [9, 1]), file: s.file, force: true, canary: false, author: 'mallory', reason: 'send b1 the traffic' }) });
    assert.equal(r.applied, true);
    assert.equal(r.version, 2);
    const alert = page.locator('#alerts .alert[data-backend="b1"]');
    await alert.waitFor({ timeout: 60_000 });
    const text = (await alert.textContent())!;
    assert.match(text, /CONCENTRATION/);
    assert.match(text, /backend b1/);
    assert.match(text, /Roll back to v1/);
    const row = page.locator('#pools [data-backend="b1"]');
    await page.waitForFunction(() => document.querySelector('#pools [data-backend="b1"]')?.getAttribute('data-level') === 'bad', undefined, { timeout: 5000 });
    assert.match((await row.textContent())!, /CONCENTRATED: takes \d+% of pool app's requests/);
    const colour = await row.evaluate((e) => getComputedStyle(e).borderLeftColor);
    const plain = await page.locator('#pools .pool[data-pool="app"]').evaluate((e) => getComputedStyle(e).borderLeftColor);
    assert.notEqual(colour, plain, 'the bad backend stands out in colour');
    assert.notEqual(await page.locator('#pools [data-backend="b2"]').getAttribute('data-level'), 'bad', 'only the concentrated backend is marked bad');
    assert.match((await page.textContent('#glance'))!, /1 alert firing/);
    await page.locator('#event-list li[data-type="alert.fired"]').waitFor();
    await page.locator('#version-list li[data-version="2"]').waitFor();
    assert.doesNotMatch((await page.textContent('#dash'))!, /\bnull\b|\bundefined\b|NaN|\[object /, 'no placeholder leaks into the page');
  });

  it('keeps the rollback button the same element while the page renders every second', async () => {
    // Regression: the alerts were rebuilt on every status frame, so a click (or a measurement)
    // could land on a button that had just been replaced.
    const button = await page.locator('#alerts button[data-rollback-to="1"]').elementHandle();
    assert.ok(button);
    await page.evaluate(() => new Promise<void>((done) => {
      let renders = 0;
      new MutationObserver((_, o) => {
        if (++renders < 3) return;
        o.disconnect();
        done();
      }).observe(document.getElementById('glance')!, { childList: true });
    }));
    assert.equal(await button.evaluate((b) => b.isConnected), true, 'the button survived three renders');
  });

  it('fits a phone-sized screen without horizontal scrolling', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 375, height: 740 });
    await phone.goto(`${base}/`);
    await phone.locator('#alerts .alert').first().waitFor();
    await phone.locator('#version-list li[data-version="2"] button', { hasText: 'Diff' }).click();
    await phone.locator('#version-list li[data-version="2"] .diff pre').waitFor();
    const widths = await phone.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth }));
    assert.ok(widths.doc <= widths.view && widths.body <= widths.view, `page is ${widths.doc}px wide on a ${widths.view}px screen`);
    const wide = await phone.evaluate(() => [...document.querySelectorAll('#dash *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('pre')).map((e) => e.tagName + (e.id ? `#${e.id}` : '')).slice(0, 5));
    assert.deepEqual(wide, [], 'nothing sticks out to the right');
    const button = await phone.locator('#alerts button[data-rollback-to]').boundingBox();
    assert.ok(button && button.width >= 60 && button.height >= 28, 'the rollback button is big enough to tap');
    await phone.close();
  });

  it('the rollback button rolls back', async () => {
    assert.equal((await api<Status>('/api/v1/status')).active.id, 2);
    page.once('dialog', (d) => void d.accept());
    await page.click('#alerts button[data-rollback-to="1"]');
    await eventually(async () => (await api<Status>('/api/v1/status')).active.id === 1, 10_000, 'version 1 to be active again');
    await page.locator('#toast', { hasText: 'now serving version 1' }).waitFor();
    const { events } = await api<{ events: { type: string; data: { author?: string; to?: number } }[] }>('/api/v1/events');
    const manual = events.filter((e) => e.type === 'rollback.manual').at(-1);
    assert.equal(manual?.data.author, 'dashboard');
    assert.equal(manual?.data.to, 1);
    await page.waitForFunction(() => /v1/.test(document.querySelector('#serving .big')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.locator('#version-list li[data-version="2"] .tag', { hasText: 'rolled-back' }).waitFor({ timeout: 5000 });
  });

  it('a rolled-back version is offered only as a secondary action, whose prompt states its past', async () => {
    const button = page.locator('#version-list li[data-version="2"] button[data-rollback-to="2"]');
    await button.waitFor({ timeout: 5000 });
    assert.equal(await button.textContent(), 'Serve v2 again anyway\u2026');
    assert.match(String(await button.getAttribute('class')), /quiet/);
    const dialogs: { type: string; message: string }[] = [];
    page.on('dialog', (d) => {
      dialogs.push({ type: d.type(), message: d.message() });
      void (d.type() === 'prompt' ? d.accept('checking the dashboard override') : d.accept());
    });
    await button.click();
    await eventually(async () => (await api<Status>('/api/v1/status')).active.id === 2, 10_000, 'version 2 served again, forced');
    assert.deepEqual(dialogs.map((d) => d.type), ['confirm', 'prompt']);
    assert.match(dialogs[0].message, /^Serve version 2 again \(a newer version; version 1 becomes superseded\)\?/);
    assert.match(dialogs[1].message, /Version 2 is not known good:\n\nversion 2 was rolled back by dashboard/);
    await page.locator('#toast', { hasText: 'Now serving version 2 again (version 1 is superseded)' }).waitFor();
    const { events } = await api<{ events: { type: string; data: { forced?: boolean; reason?: string } }[] }>('/api/v1/events');
    const last = events.filter((e) => e.type === 'rollback.manual').at(-1);
    assert.equal(last?.data.forced, true);
    assert.equal(last?.data.reason, 'checking the dashboard override');
  });

  it('ran without script errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});
