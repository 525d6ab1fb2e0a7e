/**
 * Property test (fast-check): malformed raw requests — random bytes, broken request lines,
 * bad header bytes, conflicting framing — never crash the proxy, never get a 2xx for a
 * message a strict parser must reject, and the proxy keeps serving afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { cleanup, rawExchange, request, serveOnePool, startBackend } from './helpers/harness.js';

let port = 0;
let uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

before(async () => {
  process.on('uncaughtException', onUncaught);
  const b = await startBackend();
  ({ port } = await serveOnePool(`{ backends: [{ address: ${b.address} }] }`, {
    limits: '{ maxHeaderCount: 50, maxHeaderBytes: 8192, maxBodyBytes: 4096, headersTimeout: 1s, requestTimeout: 2s }',
  }));
});
after(async () => {
  process.off('uncaughtException', onUncaught);
  await cleanup();
});

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/);
const nasty = fc.constantFrom('\r', '\n', '\0', ' ', '\t', '\x7f', '\xff', ':', '\r\n ', '%00', '..', '"', '\u00e9');
const messy = fc.array(fc.oneof(token, nasty), { maxLength: 6 }).map((parts) => parts.join(''));
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'CONNECT', 'PRI', 'get', ''), messy);
const target = fc.oneof(fc.constantFrom('/', '*', 'http://x/', '/a?b', '//', '/%', 'x'), messy.map((s) => `/${s}`));
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 ', 'http/1.1', '', 'HTTP/1.10');
const framing = fc.constantFrom(
  '',
  'Content-Length: 5\r\n',
  'Content-Length: -1\r\n',
  'Content-Length: 5\r\nContent-Length: 6\r\n',
  'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: gzip, chunked\r\n',
  'Transfer-Encoding: chunked, gzip\r\n',
  'Transfer-Encoding:\tchunked\r\n',
  'Content-Length: 99999999999999999999\r\n',
);
const header = fc.tuple(messy, messy).map(([n, v]) => `${n}: ${v}\r\n`);
const body = fc.constantFrom('', 'hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n', 'GET / HTTP/1.1\r\nHost: smuggled\r\n\r\n');
const structured = fc.tuple(method, target, version, fc.boolean(), fc.array(header, { maxLength: 4 }), framing, body).map(
  ([m, t, v, host, hs, f, b]) => `${m} ${t} ${v}\r\n${host ? 'Host: a\r\n' : ''}${hs.join('')}${f}\r\n${b}`,
);
const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a).toString('latin1'));

describe('malformed requests', () => {
  it('never crash the proxy, and it keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(structured, bytes), async (raw) => {
        const { text } = await rawExchange(port, Buffer.from(raw, 'latin1'), 150);
        // Whatever came back must be HTTP/1.1 framing from us (or nothing, or a closed socket).
        if (text.length > 0) assert.match(text, /^HTTP\/1\.[01] \d{3} /);
      }),
      { numRuns: 250, seed: 20261124 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(structured, bytes), async (raw) => {
        await rawExchange(port, Buffer.from(raw, 'latin1'), 80);
      }),
      { numRuns: 100 },
    );
    assert.deepEqual(uncaught, []);
    assert.equal((await request(port)).status, 200);
  });

  it('conflicting framing is never forwarded as a 2xx', async () => {
    for (const framing of ['Content-Length: 5\r\nContent-Length: 6\r\n', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', 'Transfer-Encoding: chunked, gzip\r\n']) {
      const { text } = await rawExchange(port, `POST / HTTP/1.1\r\nHost: a\r\n${framing}\r\nhello`, 500);
      assert.match(text, /^HTTP\/1\.1 4\d\d/, framing);
    }
  });
});
