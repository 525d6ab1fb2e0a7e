/**
 * Keep-alive and pipelining hold for requests with a body (Content-Length and chunked) and
 * for `Expect: 100-continue`. Regression: the body was handed to undici as the request object
 * itself, undici destroyed it at the end, and with it the client's socket — a response that
 * said `Connection: keep-alive`, then a closed socket; pipelined requests after a POST lost.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cleanup, parseResponses, rawExchange, serveOnePool, startBackend } from './helpers/harness.js';

let port = 0;
const seen: string[] = [];

before(async () => {
  const b = await startBackend((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  ({ port } = await serveOnePool(`{ backends: [{ address: ${b.address} }] }`));
});
after(cleanup);

/** Reads from a socket until `n` complete responses arrived (or 3 s passed). */
function collect(s: net.Socket, n: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(text), 3000);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (parseResponses(text).filter((r) => r.status >= 200).length >= n) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

describe('keep-alive with request bodies', () => {
  it('answers three pipelined requests after a POST with a Content-Length body, in order', async () => {
    const r = await rawExchange(port, 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 3000);
    const got = parseResponses(r.text);
    assert.deepEqual(got.map((x) => [x.status, x.body]), [[200, 'POST /a hello'], [200, 'GET /b '], [200, 'GET /c ']]);
  });

  it('keeps the connection open after a Content-Length POST and serves the next request on it', async () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    const first = collect(s, 1);
    s.write('POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    assert.equal(parseResponses(await first)[0].status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.destroyed || s.readyState !== 'open', false, 'the socket is still open after the POST');
    const second = collect(s, 1);
    s.write('POST /two HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n');
    assert.deepEqual(parseResponses(await second).map((x) => [x.status, x.body]), [[200, 'POST /two xyz']]);
    s.destroy();
  });

  it('answers 100 Continue, takes the body, and keeps the connection for the next request', async () => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.write('PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const until = Date.now() + 3000;
    while (!text.includes('100 Continue') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n/);
    s.write('data');
    const done = collect(s, 2);
    s.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = text + (await done);
    assert.deepEqual(parseResponses(all).filter((x) => x.status >= 200).map((x) => [x.status, x.body]), [[200, 'PUT /up data'], [200, 'GET /next ']]);
    s.destroy();
  });
});
