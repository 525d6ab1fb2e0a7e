/** A WebSocket upgrade is tunnelled (101, then bytes both ways); a TCP listener pipes bytes to its pool. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { cleanup, freePort, onCleanup, portOf, rawExchange, serveInProcess, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

/** A WebSocket echo backend without a library: the RFC 6455 §4.2.2 handshake, then every byte echoed back. */
async function wsEchoBackend(): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => res.end('not a websocket request'));
  server.on('upgrade', (req, socket) => {
    seen.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pipe(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, seen };
}

async function tcpEchoBackend(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function readUntil(s: net.Socket, predicate: (text: string) => boolean, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text)}`)), ms);
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (predicate(text)) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
  });
}

/** The echo backend behind an http listener `web` whose one route `ws` has `match`. */
async function serveWs(match: string): Promise<{ ws: Awaited<ReturnType<typeof wsEchoBackend>>; port: number }> {
  const ws = await wsEchoBackend();
  const p = await freePort();
  const file = await writeConfig(tempDir(), `
listeners:
  - name: web
    address: 127.0.0.1:${p}
    routes: [{ name: ws, match: ${match}, pool: ws }]
pools:
  ws: { backends: [{ address: 127.0.0.1:${ws.port} }] }
`);
  return { ws, port: portOf(await serveInProcess(file), 'web') };
}

describe('pass-through', () => {
  it('tunnels a WebSocket upgrade and echoes frames both ways', async () => {
    const { ws, port } = await serveWs('{}');
    const s = net.connect(port, '127.0.0.1');
    onCleanup(() => void s.destroy());
    await new Promise((r) => s.once('connect', r));
    const key = Buffer.from('0123456789abcdef').toString('base64');
    s.write(`GET /chat HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`);
    const head = await readUntil(s, (t) => t.includes('\r\n\r\n'));
    assert.match(head, /^HTTP\/1\.1 101/);
    const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.ok(head.includes(`Sec-WebSocket-Accept: ${expected}`));
    assert.equal(ws.seen[0]['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
    assert.equal(ws.seen[0].host, 'chat.example');
    // A masked text frame "hello" (RFC 6455 §5.2); the echo backend returns the bytes unchanged.
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('hello').map((b, i) => b ^ mask[i % 4]);
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | 5]), mask, payload]);
    s.write(frame);
    const echoed = await readUntil(s, (t) => t.length >= frame.length);
    assert.deepEqual(Buffer.from(echoed, 'latin1'), frame);
    s.destroy();
  });

  it('a TCP listener pipes bytes to its pool and keeps half-closes', async () => {
    const echo = await tcpEchoBackend();
    const p = await freePort();
    const file = await writeConfig(tempDir(), `
listeners:
  - name: db
    address: 127.0.0.1:${p}
    protocol: tcp
    pool: db
pools:
  db: { backends: [{ address: 127.0.0.1:${echo} }] }
`);
    const port = portOf(await serveInProcess(file), 'db');
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    onCleanup(() => void s.destroy());
    await new Promise((r) => s.once('connect', r));
    const big = Buffer.alloc(256 * 1024, 'x');
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    const ended = new Promise((r) => s.once('end', r));
    s.write('ping\n');
    s.end(big);
    await ended;
    assert.equal(Buffer.concat(got).length, 5 + big.length);
    assert.equal(Buffer.concat(got).subarray(0, 5).toString(), 'ping\n');
  });

  it('an upgrade no route matches gets 404, as a plain request does (one status table)', async () => {
    const { ws, port } = await serveWs('{ host: chat.example }');
    const plain = await rawExchange(port, 'GET /chat HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    const upgrade = await rawExchange(port, 'GET /chat HTTP/1.1\r\nHost: other.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: MDEyMzQ1Njc4OWFiY2RlZg==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    assert.match(plain.text, /^HTTP\/1\.1 404 /);
    assert.match(upgrade.text, /^HTTP\/1\.1 404 /);
    assert.equal(ws.seen.length, 0, 'nothing reached the backend');
  });

  it('a TCP listener whose backend is down closes the client at once, sends nothing, and counts the failure', async () => {
    const dead = await freePort();
    const p = await freePort();
    const file = await writeConfig(tempDir(), `
listeners:
  - { name: db, address: 127.0.0.1:${p}, protocol: tcp, pool: db }
pools:
  db:
    backends: [{ address: 127.0.0.1:${dead} }]
    outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 30s, maxEjectionPercent: 100 }
`);
    const inst = await serveInProcess(file);
    const port = portOf(inst, 'db');
    const attempt = async () => {
      const s = net.connect(port, '127.0.0.1');
      onCleanup(() => void s.destroy());
      let bytes = 0;
      s.on('data', (d: Buffer) => (bytes += d.length));
      s.on('error', () => undefined);
      const closed = new Promise<'closed'>((r) => s.once('close', () => r('closed')));
      const timer = new Promise<'open'>((r) => setTimeout(() => r('open'), 2000).unref());
      // The connect to the dead backend is refused at once: the client must not wait for a timeout.
      assert.equal(await Promise.race([closed, timer]), 'closed', 'the client connection is closed within 2 s');
      assert.equal(bytes, 0, 'nothing is sent to a client whose backend never answered');
    };
    const up = async () => ((await inst.status()) as { backends: { pool: string; up: boolean }[] }).backends.find((b) => b.pool === 'db')?.up;
    assert.equal(await up(), true);
    await attempt();
    await attempt();
    // Two refused connects are two consecutive failures: the backend is ejected, the listener keeps serving.
    assert.equal(await up(), false, 'the refused connects were counted as failures of the backend');
    await attempt();
  });
});
