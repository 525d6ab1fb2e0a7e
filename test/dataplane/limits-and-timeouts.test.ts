/** Header count/size → 431, body → 413, HTTP/1.0 + chunked → 400, slow headers cut within the timeout + 1 s. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cleanup, rawExchange, request, serveOnePool, startBackend, type Backend } from './helpers/harness.js';

let port = 0;
let backend: Backend;

before(async () => {
  backend = await startBackend();
  ({ port } = await serveOnePool(`{ backends: [{ address: ${backend.address} }] }`, {
    limits: '{ maxHeaderCount: 20, maxHeaderBytes: 4096, maxBodyBytes: 1000, headersTimeout: 1s, requestTimeout: 2s }',
  }));
});
after(cleanup);

describe('limits and timeouts', () => {
  it('answers 431 to more headers than maxHeaderCount, instead of silently dropping the rest', async () => {
    const headers: string[] = ['host', 'a'];
    for (let i = 0; i < 30; i++) headers.push(`x-h${i}`, 'v');
    const before = backend.hits;
    const r = await request(port, { headers });
    assert.equal(r.status, 431);
    assert.equal(backend.hits, before);
  });

  it('accepts exactly maxHeaderCount headers', async () => {
    const headers: string[] = ['host', 'a'];
    for (let i = 0; i < 18; i++) headers.push(`x-h${i}`, 'v'); // + Host + Connection = 20
    const r = await request(port, { headers });
    assert.equal(r.status, 200);
  });

  it('answers 431 to headers larger than maxHeaderBytes', async () => {
    const { text } = await rawExchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 431/);
  });

  it('answers 413 to a Content-Length over maxBodyBytes without contacting the backend', async () => {
    const before = backend.hits;
    const r = await request(port, { method: 'POST', body: 'x'.repeat(2000) });
    assert.equal(r.status, 413);
    assert.equal(backend.hits, before);
  });

  it('answers 413 to a chunked body that grows past maxBodyBytes', async () => {
    const chunk = 'x'.repeat(600);
    const { text } = await rawExchange(port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 413/);
  });

  it('passes a chunked body within the limit', async () => {
    const { text } = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200/);
  });

  it('rejects HTTP/1.0 with chunked framing', async () => {
    const { text } = await rawExchange(port, 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.match(text, /^HTTP\/1\.[01] 400/);
  });

  it('closes a connection whose headers trickle in slower than headersTimeout, within the timeout + 1 s', async () => {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const started = Date.now();
    s.write('GET / HTTP/1.1\r\nHost: a\r\n');
    const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
    let received = '';
    s.on('data', (d) => (received += d));
    s.on('error', () => undefined);
    await new Promise((r) => s.once('close', r));
    clearInterval(drip);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000 + 1000 + 500, `closed after ${elapsed} ms`);
    assert.ok(elapsed >= 900, `closed too early, after ${elapsed} ms`);
    assert.match(received, /^HTTP\/1\.1 408/);
  });

  it('closes a connection whose body stalls, within requestTimeout + 1 s', async () => {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const started = Date.now();
    s.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly ten b');
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    await new Promise((r) => s.once('close', r));
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 2000 + 1000 + 500, `closed after ${elapsed} ms`);
    assert.ok(elapsed >= 1500, `closed too early, after ${elapsed} ms`);
  });
});
