/**
 * SIGHUP while a config canary runs is refused with a log line and a journal event, and the
 * process keeps serving. Regression: the HUP handler did not catch the "a canary is running"
 * error; the unhandled rejection ended the process, so two reloads within the default 30 s
 * canary were an outage.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually } from '../dataplane/helpers/harness.js';
import { adminGet, serve, site, steadyTraffic } from './helpers.js';

after(cleanup);

describe('SIGHUP during a canary', () => {
  it('is refused and journalled 100 times in a row while traffic flows; nothing fails, the canary carries on', async () => {
    const s = await site();
    const sp = await serve(s);
    const load = steadyTraffic(s.port);
    // An accepted change (same shares), applied by SIGHUP: it starts the default canary (10%, 30 s).
    s.write(s.text([2, 2]));
    sp.child.kill('SIGHUP');
    await eventually(() => /as canary version 2/.test(sp.stderr), 15_000, 'the canary to start');
    // One at a time: signals that arrive while one is pending merge into one (POSIX does not queue them).
    const refusals = () => (sp.stderr.match(/reload refused/g) ?? []).length;
    for (let i = 1; i <= 100; i++) {
      sp.child.kill('SIGHUP');
      await eventually(() => refusals() >= i, 10_000, `refusal ${i}`);
    }
    assert.equal(sp.child.exitCode, null, `serve is still running: ${sp.stderr.slice(-500)}`);
    assert.match(sp.stderr, /reload refused \(version 2 is in canary until /);
    const { events } = await adminGet<{ events: { type: string; data: { reason: string } }[] }>(s, '/api/v1/events');
    assert.equal(events.filter((e) => e.type === 'reload.refused').length, 100);
    const status = await adminGet<{ version: number; canary: { version: number } | null }>(s, '/api/v1/status');
    assert.deepEqual([status.version, status.canary?.version], [1, 2]);
    const { ok, failed } = await load.stop();
    assert.ok(ok > 100, `${ok} requests served`);
    assert.equal(failed, 0);
  });
});
