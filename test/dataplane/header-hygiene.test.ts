/** Hop-by-hop headers (RFC 9110 §7.6.1), Connection-named headers, X-Forwarded-*, Host. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, rawExchange, request, serveOnePool, startBackend, type Backend } from './helpers/harness.js';

let port = 0;
let backend: Backend;

before(async () => {
  backend = await startBackend((req, res) => {
    if (req.url === '/hop') {
      res.setHeader('connection', 'keep-alive, x-internal');
      res.setHeader('x-internal', 'secret');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-kept', 'yes');
      return void res.end('hop');
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders }));
  });
  ({ port } = await serveOnePool(`{ backends: [{ address: ${backend.address} }] }`));
});
after(cleanup);

describe('header hygiene', () => {
  it('removes a header named in Connection and every hop-by-hop header', async () => {
    const r = await request(port, { headers: { connection: 'x-secret, keep-alive', 'x-secret': 'token', 'keep-alive': 'timeout=100', te: 'trailers', 'proxy-authorization': 'Basic Zm9v', 'x-normal': '1' } });
    const h = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    assert.equal(h['x-secret'], undefined);
    assert.equal(h['keep-alive'], undefined);
    assert.equal(h.te, undefined);
    assert.equal(h['proxy-authorization'], undefined);
    assert.equal(h['x-normal'], '1');
  });

  it('appends exactly one X-Forwarded-For hop to a spoofed chain and overwrites X-Forwarded-Proto/Host', async () => {
    const r = await request(port, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: 'shop.example.com' } });
    const h = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    assert.equal(h['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'shop.example.com');
    assert.equal(h.host, 'shop.example.com');
  });

  it('joins several X-Forwarded-For lines in order before appending', async () => {
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nConnection: close\r\n\r\n');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.equal((JSON.parse(body) as { headers: Record<string, string> }).headers['x-forwarded-for'], '1.1.1.1, 2.2.2.2, 127.0.0.1');
  });

  it('adds X-Forwarded-For when the client sent none', async () => {
    const r = await request(port);
    assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-forwarded-for'], '127.0.0.1');
  });

  it('strips hop-by-hop and Connection-named headers from the response', async () => {
    const r = await request(port, { path: '/hop' });
    assert.equal(r.headers['x-internal'], undefined);
    assert.equal(r.headers['x-kept'], 'yes');
    assert.notEqual(r.headers['keep-alive'], 'timeout=5');
    assert.equal(r.body, 'hop');
  });

  it('accepts an absolute-form target: its authority replaces Host (RFC 9112 §3.2.2)', async () => {
    const { text } = await rawExchange(port, 'GET http://api.example.com/v1/x?y=1 HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n');
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string>; raw: string[] };
    assert.equal(body.headers.host, 'api.example.com');
    assert.equal(body.headers['x-forwarded-host'], 'api.example.com');
  });

  it('refuses a request target that is neither origin- nor absolute-form', async () => {
    const { text } = await rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400/);
  });

  it('refuses a request with two Host headers (RFC 9112 §3.2)', async () => {
    const { text } = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400/);
  });
});
