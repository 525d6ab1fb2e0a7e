/**
 * GET /api/v1/stream, the dashboard's live feed: against a real `evenkeel serve` under steady
 * traffic it needs a session (or the bearer token), opens with the last 5 minutes of request and
 * error rates, the status and the recent journal, then sends status and a rate sample every
 * second and each new journal entry as it is written (resuming after Last-Event-ID). Streams
 * are bounded and a closed one is freed. In-process, with a controlled clock: the rate ring's
 * arithmetic and bound, heartbeats, and shutdown.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LiveStream, type RatePoint } from '../../src/control/stream.js';
import { MemoryStore } from '../../src/control/store/index.js';
import { adminToken, serve, site, steadyTraffic, type Site } from '../change/helpers.js';
import { cleanup, eventually, onCleanup } from '../dataplane/helpers/harness.js';
import { openStream, type SseStream } from './sse.js';

after(cleanup);

describe('the live stream of a running instance', () => {
  let s: Site;
  let token: string;
  let cookie: string;
  let load: ReturnType<typeof steadyTraffic>;

  before(async () => {
    s = await site();
    await serve(s);
    token = adminToken(s);
    const res = await fetch(`http://127.0.0.1:${s.admin}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    cookie = res.headers.get('set-cookie')!.split(';')[0];
    load = steadyTraffic(s.port);
    onCleanup(async () => void (await load.stop()));
  });

  const stream = (headers: http.OutgoingHttpHeaders = { cookie }) => openStream(s.admin, '/api/v1/stream', headers).then((x) => (onCleanup(() => x.close()), x));

  it('needs a session or the bearer token', async () => {
    assert.equal((await stream({})).status, 401);
    assert.equal((await stream({ cookie: 'evenkeel_session=nope' })).status, 401);
    assert.equal((await stream({ authorization: 'Bearer not-the-token-not-the-token' })).status, 403);
    const viaBearer = await stream({ authorization: `Bearer ${token}` });
    assert.equal(viaBearer.status, 200);
    await viaBearer.next('history');
    viaBearer.close();
  });

  it('opens with history, status and the journal; then status and a sample every second; new journal entries as they come', async () => {
    const sse = await stream();
    assert.equal(sse.status, 200);
    assert.equal(sse.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(sse.headers['cache-control'], 'no-store');
    const history = JSON.parse((await sse.next('history')).data) as { seconds: number; points: RatePoint[] };
    assert.equal(history.seconds, 300);
    assert.ok(Array.isArray(history.points));
    assert.deepEqual(sse.messages.slice(0, 2).map((m) => m.event), ['retry', 'history'], 'history comes first');
    const status = JSON.parse((await sse.next('status')).data) as { version: number; pools: Record<string, { backends: { backend: string }[] }> };
    assert.equal(status.version, 1);
    assert.deepEqual(status.pools.app.backends.map((b) => b.backend), ['b1', 'b2']);
    const v1 = await sse.next('event');
    assert.equal(JSON.parse(v1.data).type, 'config.applied');
    assert.equal(v1.id, String(JSON.parse(v1.data).id), 'journal entries carry their id (Last-Event-ID on reconnect)');

    // Each second: a status and a sample; with traffic flowing the sample counts it.
    const mark = sse.messages.length;
    const started = Date.now();
    await sse.next('sample', 2500, mark);
    await eventually(() => sse.messages.slice(mark).filter((m) => m.event === 'status').length >= 2, 3500, 'two status messages');
    assert.ok(Date.now() - started < 3500);
    await eventually(() => sse.messages.some((m) => m.event === 'sample' && (JSON.parse(m.data) as RatePoint).rps > 0), 5000, 'a sample with traffic');
    const busy = sse.messages.filter((m) => m.event === 'sample').map((m) => JSON.parse(m.data) as RatePoint).find((p) => p.rps > 0)!;
    assert.equal(busy.errorRate, 0);
    assert.ok(busy.t > started - 5000 && busy.t <= Date.now());

    // A change goes in: its journal entry arrives on the stream.
    const before = sse.messages.length;
    const applied = await fetch(`http://127.0.0.1:${s.admin}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: s.text([1, 1]).replace('capacity: 500', 'capacity: 520'), file: s.file, reason: 'stream test', force: true, canary: false }) });
    assert.equal(applied.status, 200);
    const news = await sse.next('event', 5000, before);
    const e = JSON.parse(news.data) as { id: number; type: string; version: number };
    assert.equal(e.type, 'config.applied');
    assert.equal(e.version, 2);

    // A reconnect after that entry gets nothing older again, and the page's history now has points.
    const again = await stream({ cookie, 'last-event-id': String(e.id) });
    const h2 = JSON.parse((await again.next('history')).data) as { points: RatePoint[] };
    assert.ok(h2.points.length >= 3, `history has ${h2.points.length} points`);
    assert.ok(h2.points.some((p) => p.rps > 0));
    await again.next('sample', 2500);
    assert.ok(!again.messages.some((m) => m.event === 'event' && Number(m.id) <= e.id), 'nothing at or before Last-Event-ID is replayed');
    again.close();
    sse.close();
  });

  it('allows a bounded number of streams and frees a closed one', async () => {
    const open: SseStream[] = [];
    await eventually(async () => {
      const x = await stream();
      if (x.status === 503) return (x.close(), true);
      assert.equal(x.status, 200);
      open.push(x);
      assert.ok(open.length <= 32, 'at most 32 streams at once');
      return false;
    }, 20_000, 'a 503 once the streams are used up');
    const refused = await fetch(`http://127.0.0.1:${s.admin}/api/v1/stream`, { headers: { cookie } });
    assert.equal(refused.status, 503);
    assert.match(((await refused.json()) as { error: string }).error, /too many open streams \(32\)/);
    for (const x of open) x.close();
    await eventually(async () => {
      const x = await stream();
      x.close();
      return x.status === 200;
    }, 5000, 'a stream to be accepted again');
  });
});

describe('the stream in-process', () => {
  /** A LiveStream on a real HTTP server, with counters and a clock the test moves. */
  async function rig(opts: { historySeconds?: number; heartbeatMs?: number } = {}) {
    let t = 1_000_000;
    const counters = { requests: 0, failed: 0 };
    const store = new MemoryStore({ now: () => t });
    const live = new LiveStream({ status: async () => ({ ok: true }), counters: () => counters, store, now: () => t }, { intervalMs: 3_600_000, heartbeatMs: opts.heartbeatMs ?? 3_600_000, historySeconds: opts.historySeconds });
    const server = http.createServer((req, res) => void live.open(req, res).then((ok) => ok || (res.writeHead(503), res.end())));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onCleanup(async () => {
      await live.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    });
    return { live, store, counters, port: (server.address() as AddressInfo).port, advance: (ms: number) => (t += ms) };
  }

  it('turns the cumulative counters into per-second rates and keeps only the newest seconds', async () => {
    const r = await rig({ historySeconds: 3 });
    const steps: [number, number, number][] = [[1000, 100, 0], [1000, 250, 5], [2000, 300, 30], [1000, 0, 0], [1000, 40, 40]];
    for (const [ms, requests, failed] of steps) {
      r.advance(ms);
      r.counters.requests += requests;
      r.counters.failed += failed;
      await r.live.tick();
    }
    assert.deepEqual(r.live.history().map((p) => [p.rps, p.eps, p.errorRate]), [[150, 15, 0.1], [0, 0, 0], [40, 40, 1]]);
  });

  it('sends a heartbeat comment, frees a stream its client closed, and ends every stream on close', async () => {
    const r = await rig({ heartbeatMs: 50 });
    const a = await openStream(r.port, '/');
    await a.next(':', 2000);
    assert.equal(r.live.size, 1);
    a.close();
    await eventually(() => r.live.size === 0, 2000, 'the closed stream to be freed');
    const b = await openStream(r.port, '/');
    await b.next('status');
    await r.store.appendEvent({ type: 'alert.fired', data: { summary: 'x' } });
    await r.live.tick();
    assert.equal(JSON.parse((await b.next('event')).data).type, 'alert.fired');
    await r.live.close();
    await b.ended;
    assert.equal(r.live.size, 0);
  });
});
