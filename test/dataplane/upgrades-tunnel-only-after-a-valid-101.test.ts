/**
 * An upgrade opens a tunnel only after the backend answered a valid 101. Regressions:
 * - the tunnel opened before the backend answered, so after a refused upgrade (426) the next
 *   request went raw to the backend: no routing, no X-Forwarded-For, no limits — a route bypass;
 * - `Upgrade: h2c` was tunnelled and its 101 reached the client;
 * - a malformed answer to an upgrade was piped raw to the client (HAProxy: 502).
 * Also: tunnels are limited per listener and closed when idle; CONNECT gets 405.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, onCleanup, parseResponses, portOf, rawExchange, serveInProcess, startRawBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A listener whose only route sends /public to pool app; anything else is 404. */
async function serveRoutes(backend: string, limits = ''): Promise<number> {
  const port = await freePort();
  const file = await writeConfig(tempDir(), `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: public, match: { pathPrefix: /public }, pool: app }]
${limits ? `    limits: ${limits}\n` : ''}pools:
  app: { backends: [{ address: ${backend} }] }
`);
  const inst = await serveInProcess(file);
  return portOf(inst, 'web');
}

/** A stock node:http backend (no 'upgrade' handler): it answers an upgrade request as plain HTTP. */
async function stockBackend(): Promise<{ address: string; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    if (req.headers.upgrade) {
      res.writeHead(426, { 'content-type': 'text/plain' });
      return void res.end('upgrade required elsewhere');
    }
    res.end(`secret at ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  onCleanup(() => {
    server.close();
    for (const s of sockets) s.destroy();
  });
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, paths };
}

/** A WebSocket echo backend: a valid 101, then every byte echoed. */
async function echoBackend(): Promise<string> {
  const b = await startRawBackend((all, socket) => {
    if ((socket as net.Socket & { upgraded?: boolean }).upgraded) return void socket.write(all.slice(all.indexOf('\r\n\r\n') + 4));
    if (!all.includes('\r\n\r\n')) return;
    const key = /sec-websocket-key: *(\S+)/i.exec(all)?.[1] ?? '';
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    (socket as net.Socket & { upgraded?: boolean }).upgraded = true;
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  });
  return b.address;
}

const upgrade = (path: string, proto = 'websocket', extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: a\r\nUpgrade: ${proto}\r\nConnection: Upgrade${proto === 'h2c' ? ', HTTP2-Settings' : ''}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('upgrades', () => {
  it('a refused upgrade is relayed and the connection closes: the next request never reaches the backend raw', async () => {
    const b = await stockBackend();
    const port = await serveRoutes(b.address);
    const r = await rawExchange(port, `${upgrade('/public/ws')}GET /internal/secret HTTP/1.1\r\nHost: a\r\n\r\n`, 2000);
    const got = parseResponses(r.text);
    assert.equal(got[0].status, 426);
    assert.ok(!r.text.includes('secret at'), `the follow-up request must not be served: ${r.text}`);
    assert.deepEqual(b.paths, ['/public/ws']);
    assert.equal(r.closed, true);
  });

  it('an upgrade with no route is a 404, as a plain request is', async () => {
    const b = await stockBackend();
    const port = await serveRoutes(b.address);
    const r = await rawExchange(port, upgrade('/internal/ws'), 2000);
    assert.equal(parseResponses(r.text)[0].status, 404);
    assert.deepEqual(b.paths, []);
  });

  it('h2c is never tunnelled: the backend gets a plain request without Upgrade or HTTP2-Settings', async () => {
    // A backend that would happily switch to anything.
    const b = await startRawBackend((all, socket) => {
      if (all.includes('\r\n\r\n')) socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
    });
    const port = await serveRoutes(b.address);
    const r = await rawExchange(port, upgrade('/public/x', 'h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'), 1500);
    assert.doesNotMatch(r.text, /^HTTP\/1\.1 101/);
    assert.equal(parseResponses(r.text)[0]?.status, 502, r.text);
    assert.doesNotMatch(b.received[0], /^upgrade:/im);
    assert.doesNotMatch(b.received[0], /^http2-settings:/im);
  });

  for (const [name, answer] of [
    ['a 200 with two Content-Lengths and Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\nhello'],
    ['a 101 without Upgrade: websocket', 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'],
    ['garbage', 'SSH-2.0-OpenSSH_9.2\r\n\r\n'],
  ] as const) {
    it(`${name} from the backend is a 502, nothing of it relayed`, async () => {
      const b = await startRawBackend((all, socket) => {
        if (all.includes('\r\n\r\n')) socket.write(answer);
      });
      const port = await serveRoutes(b.address);
      const r = await rawExchange(port, upgrade('/public/ws'), 1500);
      const got = parseResponses(r.text);
      assert.equal(got.length, 1, r.text);
      assert.equal(got[0].status, 502);
    });
  }

  it('a valid 101 opens the tunnel and bytes flow both ways', async () => {
    const port = await serveRoutes(await echoBackend());
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.write(upgrade('/public/ws'));
    await eventually(() => text.includes('\r\n\r\n'), 2000, 'the 101');
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.match(text, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    s.write('ping-bytes');
    await eventually(() => text.endsWith('ping-bytes'), 2000, 'the echo');
    s.destroy();
  });

  it('tunnels past limits.maxTunnels get 503; an idle tunnel is closed after tunnelIdleTimeout', async () => {
    const port = await serveRoutes(await echoBackend(), '{ maxTunnels: 1, tunnelIdleTimeout: 300ms }');
    const first = net.connect(port, '127.0.0.1');
    let text = '';
    let closedAt = 0;
    first.on('data', (d) => (text += d.toString('latin1')));
    first.on('close', () => (closedAt = Date.now()));
    first.write(upgrade('/public/ws'));
    await eventually(() => text.includes('101'), 2000, 'the first tunnel');
    const opened = Date.now();
    const second = await rawExchange(port, upgrade('/public/ws'), 1000);
    assert.equal(parseResponses(second.text)[0]?.status, 503);
    await eventually(() => closedAt > 0, 3000, 'the idle tunnel to close');
    assert.ok(closedAt - opened >= 250, `closed after ${closedAt - opened} ms idle`);
    // The slot is free again.
    const third = net.connect(port, '127.0.0.1');
    let t3 = '';
    third.on('data', (d) => (t3 += d.toString('latin1')));
    third.write(upgrade('/public/ws'));
    await eventually(() => t3.includes('101'), 2000, 'a tunnel after the idle one closed');
    third.destroy();
  });

  it('CONNECT is answered 405, not a dropped socket', async () => {
    const b = await stockBackend();
    const port = await serveRoutes(b.address);
    const r = await rawExchange(port, 'CONNECT internal.example:22 HTTP/1.1\r\nHost: internal.example:22\r\n\r\n', 1500);
    assert.equal(parseResponses(r.text)[0]?.status, 405, r.text);
    assert.deepEqual(b.paths, []);
  });
});
