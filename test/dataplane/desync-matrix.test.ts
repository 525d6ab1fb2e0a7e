/**
 * The request-smuggling matrix, table-driven: each case is the exact bytes a client sends and
 * what must happen — the status the client gets, and the requests the backend receives
 * (recorded raw, judged by the strict reader). The rule behind every row: a message whose
 * framing two parsers could read differently is refused with 400 and the connection closed,
 * and nothing of it reaches the backend; a clean message reaches it re-framed by us, once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, parseResponses, rawExchange, serveOnePool, startRawBackend, type RawBackend } from './helpers/harness.js';
import { readStrict } from './helpers/strict-http.js';

let port = 0;
/** Every request the backend received, in order, as `request-line body`; ambiguous bytes as `AMBIGUOUS …`. */
const log: string[] = [];

before(async () => {
  const backend: RawBackend = await startRawBackend((all, socket) => {
    const r = readStrict(all, 'request');
    if (r.error !== undefined) {
      log.push(`AMBIGUOUS ${r.error}: ${JSON.stringify(all)}`);
      return void socket.destroy();
    }
    const answered = (socket as { answered?: number }).answered ?? 0;
    for (let i = answered; i < r.messages.length; i++) {
      log.push(`${r.messages[i].start} ${r.messages[i].body}`);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
    (socket as { answered?: number }).answered = r.messages.length;
  });
  ({ port } = await serveOnePool(`{ backends: [{ address: ${backend.address} }] }`, { limits: '{ maxBodyBytes: 1024, headersTimeout: 1s, requestTimeout: 1s }' }));
});
after(cleanup);

interface Case {
  name: string;
  send: string;
  /** Statuses the client gets, in order. */
  statuses: number[];
  /** Request lines (and bodies) the backend gets, in order. */
  backend: string[];
}

const H = 'Host: a\r\n';
const CASES: Case[] = [
  // CL.TE / TE.CL: both framings in one message (RFC 9112 §6.3: a server MAY reject; we must, as a proxy).
  { name: 'CL.TE', send: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, statuses: [400], backend: [] },
  { name: 'TE.CL', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  // TE.TE: obfuscated Transfer-Encoding.
  { name: 'TE with a space before the colon', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'TE: xchunked', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'TE: chunked, identity', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'TE twice (chunked, then identity)', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'TE by obs-fold', send: `POST / HTTP/1.1\r\n${H}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'TE after a bare LF', send: `POST / HTTP/1.1\r\n${H}X: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'chunked in HTTP/1.0', send: `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  // Content-Length variants.
  { name: 'two different Content-Lengths', send: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, statuses: [400], backend: [] },
  { name: 'Content-Length: 3, 3', send: `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, statuses: [400], backend: [] },
  { name: 'Content-Length: +3', send: `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, statuses: [400], backend: [] },
  { name: 'Content-Length: -1', send: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'Content-Length in hex', send: `POST / HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, statuses: [400], backend: [] },
  { name: 'Content-Length past the body limit', send: `POST / HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n`, statuses: [413], backend: [] },
  // Chunk framing.
  { name: 'chunk size with junk', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'chunk size that overflows', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'chunk data longer than its size', send: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'a body shorter than its Content-Length times out: 408, nothing forwarded whole', send: `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, statuses: [408], backend: [] },
  // Request line and Host.
  { name: 'two Host headers', send: `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`, statuses: [400], backend: [] },
  { name: 'no Host', send: 'GET / HTTP/1.1\r\n\r\n', statuses: [400], backend: [] },
  { name: 'space in the target', send: `GET /a b HTTP/1.1\r\n${H}\r\n`, statuses: [400], backend: [] },
  { name: 'NUL in a header value', send: `GET / HTTP/1.1\r\n${H}X: a\0b\r\n\r\n`, statuses: [400], backend: [] },
  // Found by the malformed-request property test: a request line saying HTTP/2.0 reached the HTTP/2 path and killed the process.
  { name: 'HTTP/2.0 in an HTTP/1 request line', send: `GET / HTTP/2.0\r\n${H}\r\n`, statuses: [505], backend: [] },
  { name: 'asterisk-form target on GET', send: `GET * HTTP/1.1\r\n${H}\r\n`, statuses: [400], backend: [] },
  // Clean messages: re-framed, forwarded once, pipelining kept in order.
  { name: 'clean CL POST, then a pipelined GET', send: `POST /p HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGET /g HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, statuses: [200, 200], backend: ['POST /p HTTP/1.1 abc', 'GET /g HTTP/1.1 '] },
  { name: 'clean chunked POST', send: `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, statuses: [200], backend: ['POST /c HTTP/1.1 abc'] },
  { name: 'a request smuggled in a CL body stays body', send: `POST /s HTTP/1.1\r\n${H}Content-Length: 32\r\nConnection: close\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n`, statuses: [200], backend: ['POST /s HTTP/1.1 GET /admin HTTP/1.1\r\nHost: a\r\n\r\n'] },
];

describe('the desync matrix', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const from = log.length;
      const r = await rawExchange(port, c.send, 1500);
      assert.deepEqual(parseResponses(r.text).map((x) => x.status), c.statuses, r.text);
      if (c.statuses.some((s) => s >= 400)) assert.equal(r.closed, true, 'a refused message closes the connection');
      assert.deepEqual(log.slice(from), c.backend);
    });
  }
});
