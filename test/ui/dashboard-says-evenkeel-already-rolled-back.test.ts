/**
 * After an automatic rollback the dashboard (real Chromium, real serve under steady traffic)
 * says that evenkeel already rolled back and what is left to do, and the journal shows a
 * backend going down; its "N s ago" times keep counting without a reload. It marks backends by
 * the configured guardrails (from status), not by defaults of its own.
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

describe('the dashboard reads the configured guardrails', () => {
  it('marks a backend near capacity at 1 - the configured headroom, not at the default 80%', async () => {
    const s = await site();
    // 20 req/s (paced, so at most 10 per backend) against a capacity of 15: at most 67% used,
    // under the default mark (80%) and over the configured one (headroom 0.9: 10%). The
    // declared peak is tiny so validate accepts the headroom.
    s.write(s.text([1, 1]).replace('capacity: 500', 'capacity: 15').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1 }\n  headroom: 0.9\n'));
    await serve(s);
    const token = adminToken(s);
    const base = `http://127.0.0.1:${s.admin}`;
    const load = steadyTraffic(s.port, { rps: 20 });
    onCleanup(async () => void (await load.stop()));
    const status = (await (await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { guardrails: Record<string, number> };
    assert.deepEqual(status.guardrails, { headroom: 0.9, nearCapacity: 1 - 0.9, skew: 0.15, maxBackendShare: 0.5, errorRate: 0.05 });
    const browser = await openBrowser();
    onCleanup(() => browser.close());
    const page = await openDashboard(browser, base, token);
    const problems: string[] = [];
    page.on('pageerror', (e) => void problems.push(e.message));
    for (const b of ['b1', 'b2']) {
      await page.waitForFunction((name) => document.querySelector(`#pools [data-backend="${name}"]`)?.getAttribute('data-level') === 'warn', b, { timeout: 30_000 });
      const text = (await page.locator(`#pools [data-backend="${b}"]`).textContent())!;
      assert.match(text, /NEAR CAPACITY: [\d.]+ req\/s, \d+% of capacity 15/);
      const used = Number(/(\d+)% of capacity 15/.exec(text)![1]);
      assert.ok(used >= 10 && used < 80, `between the configured mark and the default one: ${used}%`);
    }
    assert.deepEqual(problems, []);
  });
});
