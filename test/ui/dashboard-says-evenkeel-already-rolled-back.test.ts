/**
 * After an automatic rollback the dashboard (real Chromium, real serve under steady traffic)
 * says that evenkeel already rolled back and what is left to do, and the journal shows a
 * backend going down; its "N s ago" times keep counting without a reload.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { adminToken, serve, site, steadyTraffic } from '../change/helpers.js';
import { cleanup, eventually, onCleanup } from '../dataplane/helpers/harness.js';
import { openBrowser, openDashboard } from './browser.js';

after(cleanup);

describe('the dashboard after an automatic rollback', () => {
  it('says evenkeel already rolled back, and what is left to do', async () => {
    const s = await site();
    const cfg = (w: [number, number]) => s.text(w).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1000 }\n  rollback: { window: 5s }\n');
    s.write(cfg([1, 1]));
    await serve(s);
    const token = adminToken(s);
    const base = `http://127.0.0.1:${s.admin}`;
    const load = steadyTraffic(s.port);
    onCleanup(async () => void (await load.stop()));
    const browser = await openBrowser();
    onCleanup(() => browser.close());
    const page = await openDashboard(browser, base, token);
    const problems: string[] = [];
    page.on('pageerror', (e) => void problems.push(e.message));

    const res = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: cfg([9, 1]), file: s.file, force: true, canary: false, author: 'mallory', reason: 'send b1 the traffic' }) });
    assert.equal(res.status, 200, await res.text());
    const banner = page.locator('#alerts .rolled-back');
    await banner.waitFor({ timeout: 60_000 });
    const text = (await banner.textContent())!;
    assert.match(text, /evenkeel already rolled back: v2 → v1/);
    assert.match(text, /concentration fired inside the bake window of v2; nothing to roll back by hand/);
    assert.match(text, /Left to do: check that the alert resolves; fix v2 and apply the fix as a new version/);

    // The serving panel's "applied … (N s ago)" moves on by itself.
    const applied = page.locator('#serving [data-when]');
    const before = await applied.textContent();
    await eventually(async () => (await applied.textContent()) !== before, 5000, 'the applied time to tick');
    assert.deepEqual(problems, []);
  });
});
