/**
 * The webhook notifier against a real HTTP server on 127.0.0.1 that fails the first attempts:
 * notify() returns at once, retries with backoff deliver each format, resolutions follow their
 * firing in order, a full queue drops the oldest, and a 4xx is not retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookNotifier, noticeFrom, type AlertNotice, type WebhookFormat } from '../../src/control/alerts/index.ts';
import { seededRandom } from '../../src/core/random.ts';
import type { AlertTransition } from '../../src/telemetry/monitors/index.ts';

interface Received {
  path: string;
  body: unknown;
}

/** A webhook receiver answering `plan(n)` (status code) to the nth request. */
async function receiver(plan: (n: number, req: IncomingMessage) => number | 'hang') {
  const got: Received[] = [];
  const hung: ServerResponse[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = plan(++n, req);
      if (status === 'hang') return void hung.push(res);
      if (status < 300) got.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, got, attempts: () => n,
    release: () => hung.splice(0).forEach((r) => r.writeHead(200).end()),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const FIRED_AT = Date.UTC(2024, 5, 10, 14, 0, 5);
const fire: AlertTransition = {
  kind: 'fire', id: `overload:web:web-1:${FIRED_AT}`, monitor: 'overload', pool: 'web', backend: 'web-1', time: FIRED_AT, firedAt: FIRED_AT, value: 1000, threshold: 400,
  figures: { rps: 1000, capacity: 400, utilization: 2.5 }, shares: { 'web-1': 1 }, summary: 'backend web-1 of pool web receives 1000 req/s, 250.0% of its capacity 400 req/s',
};
const ctx = { version: 4, hash: 'abc123', diff: 'pools.web.backends[1].weight: 1 → 0; pools.web.backends[2].weight: 1 → 0', action: 'rolled back to v3', instance: '127.0.0.1:9901' };

function notices(): [AlertNotice, AlertNotice] {
  return [noticeFrom(fire, ctx), noticeFrom({ ...fire, kind: 'resolve', time: FIRED_AT + 40_000, summary: `resolved: ${fire.summary}` }, ctx)];
}

/** Polls `done` every 5 ms; fails instead of hanging when it does not hold within 20 s. */
async function waitFor(done: () => boolean): Promise<void> {
  const until = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out waiting for deliveries');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fast = { baseDelayMs: 5, maxDelayMs: 50, random: seededRandom(1) };

for (const format of ['json', 'slack', 'alertmanager'] as WebhookFormat[]) {
  test(`${format}: notify returns at once; two failed attempts are retried; firing then resolved arrive in order`, { timeout: 30_000 }, async () => {
    const server = await receiver((n) => (n <= 2 ? 503 : 200));
    const results: string[] = [];
    const notifier = new WebhookNotifier([{ url: `${server.url}/hook`, format }], { ...fast, onResult: (r) => results.push(`${r.status}:${r.delivered}:${r.attempts}`) });
    try {
      const [firing, resolved] = notices();
      notifier.notify(firing);
      notifier.notify(resolved);
      assert.equal(server.attempts(), 0, 'nothing was sent before notify returned');
      await notifier.idle();
      assert.deepEqual(results, ['firing:true:3', 'resolved:true:1']);
      assert.equal(server.attempts(), 4);
      assert.deepEqual(notifier.stats(), { queued: 0, delivered: 2, failed: 0, dropped: 0 });
      const [a, b] = server.got.map((g) => g.body);
      const text = JSON.stringify(a);
      for (const must of ['overload', 'web-1', 'rolled back to v3', 'weight: 1 → 0', '1000', '400']) assert.ok(text.includes(must), `${format} payload names ${must}: ${text}`);
      if (format === 'json') {
        assert.deepEqual([(a as AlertNotice).status, (b as AlertNotice).status], ['firing', 'resolved']);
        assert.equal((a as { config: { version: number } }).config.version, 4);
        assert.equal((b as { endsAt: string }).endsAt, '2024-06-10T14:00:45.000Z');
      }
      if (format === 'slack') {
        assert.match((a as { text: string }).text, /FIRING\* overload on pool web, backend web-1/);
        assert.match((b as { text: string }).text, /RESOLVED/);
      }
      if (format === 'alertmanager') {
        const [x] = a as { labels: Record<string, string>; annotations: Record<string, string>; endsAt?: string }[];
        const [y] = b as typeof a extends unknown ? { endsAt?: string }[] : never;
        assert.deepEqual(x.labels, { alertname: 'EvenkeelOverload', monitor: 'overload', pool: 'web', severity: 'critical', source: 'evenkeel', backend: 'web-1', instance: '127.0.0.1:9901' });
        assert.equal(x.annotations.config_version, '4');
        assert.equal(x.endsAt, undefined);
        assert.equal(y.endsAt, '2024-06-10T14:00:45.000Z');
      }
    } finally {
      notifier.close();
      await server.close();
    }
  });
}

test('a receiver that stays down is given up on after maxAttempts; a 4xx is not retried', { timeout: 30_000 }, async () => {
  const down = await receiver(() => 500);
  const bad = await receiver(() => 400);
  const results: string[] = [];
  const notifier = new WebhookNotifier([{ url: down.url, format: 'json' }, { url: bad.url, format: 'json' }], { ...fast, maxAttempts: 4, onResult: (r) => results.push(`${r.url === down.url ? 'down' : 'bad'}:${r.attempts}:${r.error}`) });
  try {
    notifier.notify(notices()[0]);
    await notifier.idle();
    assert.deepEqual(results.sort(), ['bad:1:HTTP 400', 'down:4:HTTP 500']);
    assert.equal(notifier.stats().failed, 2);
  } finally {
    notifier.close();
    await Promise.all([down.close(), bad.close()]);
  }
});

test('a stuck receiver: the queue stays bounded, the oldest notices are dropped, the other webhook keeps flowing', { timeout: 30_000 }, async () => {
  const stuck = await receiver((n) => (n === 1 ? 'hang' : 200));
  const fine = await receiver(() => 200);
  const notifier = new WebhookNotifier([{ url: stuck.url, format: 'json' }, { url: fine.url, format: 'json' }], { ...fast, maxQueue: 3, timeoutMs: 60_000 });
  const ids = (r: { got: Received[] }) => r.got.map((g) => (g.body as AlertNotice).id);
  try {
    const [firing] = notices();
    // A burst of ten: each webhook has a0 in flight and keeps the newest three waiting.
    for (let i = 0; i < 10; i++) notifier.notify({ ...firing, id: `a${i}` });
    assert.equal(notifier.stats().dropped, 12);
    await waitFor(() => fine.got.length >= 4 && stuck.attempts() >= 1);
    assert.deepEqual(ids(fine), ['a0', 'a7', 'a8', 'a9']);
    // The stuck webhook still holds a0; new notices reach the healthy one regardless.
    notifier.notify({ ...firing, id: 'b0' });
    notifier.notify({ ...firing, id: 'b1' });
    await waitFor(() => fine.got.length >= 6);
    assert.deepEqual(ids(fine).slice(4), ['b0', 'b1']);
    assert.equal(notifier.stats().dropped, 14, 'the stuck queue dropped a7 and a8 for b0 and b1');
    stuck.release();
    await notifier.idle();
    assert.deepEqual(ids(stuck), ['a9', 'b0', 'b1'], 'a0 was answered by release(), the rest in order');
    assert.deepEqual(notifier.stats(), { queued: 0, delivered: 10, failed: 0, dropped: 14 });
  } finally {
    notifier.close();
    await Promise.all([stuck.close(), fine.close()]);
  }
});
