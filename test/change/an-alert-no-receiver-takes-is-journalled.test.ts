/**
 * A webhook receiver that never takes a notice (503 on every attempt) against a real serve: the
 * alert is journalled as it fires, the notice is tried a bounded number of times (6 attempts,
 * after the receiver's Retry-After), then given up on and journalled as `alert.undelivered`
 * naming the receiver by origin only; the serve keeps serving and answering the admin API.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, onCleanup } from '../dataplane/helpers/harness.js';
import { evenkeel, journal, serve, site, steadyTraffic, type Site } from './helpers.js';

after(cleanup);

/** Answers 503 (Retry-After: 0, so the retries come quickly) to every post; counts the posts per alert id. */
async function refusingReceiver(): Promise<{ url: string; posts: Map<string, number> }> {
  const posts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const id = String((JSON.parse(text) as { id?: unknown }).id);
      posts.set(id, (posts.get(id) ?? 0) + 1);
      res.writeHead(503, { 'retry-after': '0' }).end('busy');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/secret/path`, posts };
}

function concentrating(s: Site, hook: string): string {
  return `${s.text([9, 1]).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1000 }\n  rollback: { window: 5s }\n  rollout: { bakeTime: 1ms }\n')}alerts: { webhooks: [{ url: '${hook}' }] }\n`;
}

describe('an alert no receiver takes', () => {
  it('is journalled, tried 6 times, then journalled as undelivered; nothing crashes', { timeout: 180_000 }, async () => {
    const s = await site();
    const hook = await refusingReceiver();
    s.write(s.text([1, 1]).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', '  traffic: { peakRps: 1000 }\n'));
    const sp = await serve(s);
    const load = steadyTraffic(s.port);
    try {
      const forced = await evenkeel(['apply', s.write(concentrating(s, hook.url), 'bad.yaml'), '--force', '--no-canary', '--reason', 'send b1 the traffic', '-c', s.file]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
      await eventually(async () => (await journal(s)).some((e) => e.type === 'alert.undelivered'), 60_000, 'the notice to be given up on');
      const events = await journal(s);
      const fired = events.find((e) => e.type === 'alert.fired');
      const undelivered = events.find((e) => e.type === 'alert.undelivered');
      assert.ok(fired && undelivered, JSON.stringify(events.map((e) => e.type)));
      assert.equal(undelivered.data.id, fired.data.id, 'the notice given up on is the fired alert\'s');
      assert.equal(undelivered.data.status, 'firing');
      assert.equal(undelivered.data.attempts, 6);
      assert.equal(undelivered.data.error, 'HTTP 503');
      assert.equal(undelivered.data.receiver, `${new URL(hook.url).origin}/…`, 'the journal does not keep the webhook URL\'s path');
      assert.ok(!JSON.stringify(undelivered).includes('/secret/path'));
      assert.equal(hook.posts.get(String(fired.data.id)), 6, 'bounded: six attempts, no more');
      // Still serving, still answering.
      assert.equal(sp.child.exitCode, null);
      const status = await evenkeel(['status', '-c', s.file]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^alerts firing: [1-9]/m);
      const events2 = await evenkeel(['events', '-c', s.file]);
      assert.match(events2.stdout, /not delivered to http:\/\/127\.0\.0\.1:\d+\/… after 6 attempts: HTTP 503/);
    } finally {
      const { failed } = await load.stop();
      assert.equal(failed, 0, 'no request failed while the receiver refused');
    }
  });
});
