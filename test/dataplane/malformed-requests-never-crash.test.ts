/**
 * Property test (fast-check): malformed raw requests — random bytes, broken request lines,
 * bad header bytes, conflicting framing — never crash the proxy, never get a 2xx for a
 * message a strict parser must reject (an oracle below says which, after RFC 9112), and the
 * proxy keeps serving afterwards.
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
const structured = fc.tuple(method, target, version, fc.constantFrom(0, 1, 1, 1, 2), fc.array(header, { maxLength: 4 }), framing, body).map(
  ([m, t, v, hosts, hs, f, b]) => `${m} ${t} ${v}\r\n${'Host: a\r\n'.repeat(hosts)}${hs.join('')}${f}\r\n${b}`,
);
// Near misses: a valid request line and headers, with the framing, Host count and body varied,
// so that some messages are well formed (2xx) and their neighbours differ by one defect.
const nearMiss = fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/', '/a?b', 'http://a/x'), fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'), fc.constantFrom(0, 1, 1, 1, 2),
  fc.array(fc.constantFrom('X-A: 1\r\n', 'Accept: */*\r\n', 'X-B: \t v \r\n', 'X-A: 1\r\n', 'Accept: */*\r\n', 'X-C: a\x00b\r\n', 'Bad Name: x\r\n', ' folded\r\n'), { maxLength: 2 }), framing, body).map(
  ([m, t, v, hosts, hs, f, b]) => `${m} ${t} ${v}\r\n${'Host: a\r\n'.repeat(hosts)}${hs.join('')}${f}\r\n${f === '' ? '' : b}`,
);
const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a).toString('latin1'));

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
// RFC 9110 §5.5: field-value = *( VCHAR / obs-text / SP / HTAB ), no leading or trailing whitespace counted.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A chunked body (RFC 9112 §7.1) that is complete: hex sizes, optional extensions, the last chunk. */
function completeChunked(body: string): boolean {
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) return false;
    const m = /^([0-9A-Fa-f]+)(;[^\r\n]*)?$/.exec(body.slice(at, eol));
    if (!m) return false;
    const size = parseInt(m[1], 16);
    if (size === 0) return body.startsWith('\r\n', eol + 2);
    if (body.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') return false;
    at = eol + 4 + size;
  }
}

/**
 * The oracle: why a strict HTTP/1.1 server must not answer this message with a 2xx (RFC 9112),
 * or undefined where the message is well formed or where the RFC lets a server choose. A 2xx
 * needs a complete, well-formed request: a request line, headers, exactly one Host (1.1),
 * unambiguous framing, and all of the body.
 */
function mustNotSucceed(raw: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return 'the head never ends';
  const [line, ...fields] = raw.slice(0, end).split('\r\n');
  const rl = /^([^ ]*) ([^ ]*) (HTTP\/1\.[01])$/.exec(line);
  if (!rl) return 'not a request line for HTTP/1.0 or 1.1';
  const [, m, t, v] = rl;
  if (!TOKEN.test(m)) return 'the method is not a token';
  if (!/^(\/|http:\/\/)[\x21-\x7e]*$/.test(t)) return 'the target is not origin-form or absolute-form';
  const headers: [string, string][] = [];
  for (const f of fields) {
    if (f.startsWith(' ') || f.startsWith('\t')) continue; // obs-fold: a server may reject or unfold it (§5.2)
    const colon = f.indexOf(':');
    if (colon <= 0 || !TOKEN.test(f.slice(0, colon))) return 'a header line without a token name';
    const value = f.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) return 'a header value with a control character';
    headers.push([f.slice(0, colon).toLowerCase(), value]);
  }
  const all = (name: string) => headers.filter(([n]) => n === name).map(([, x]) => x);
  const hosts = all('host').length;
  if (hosts > 1 || (v === 'HTTP/1.1' && hosts === 0)) return `${hosts} Host headers`;
  const te = all('transfer-encoding');
  const cl = all('content-length');
  const body = raw.slice(end + 4);
  if (te.length > 0) {
    if (cl.length > 0) return 'both Content-Length and Transfer-Encoding';
    if (v === 'HTTP/1.0') return 'Transfer-Encoding in HTTP/1.0';
    const codings = te.join(',').split(',').map((c) => c.trim().toLowerCase());
    if (codings.at(-1) !== 'chunked') return 'chunked is not the final transfer coding';
    if (codings.length > 1) return undefined; // an unknown coding before chunked: 501 or 400, the server's choice
    if (!completeChunked(body)) return 'the chunked body is malformed or incomplete';
    return undefined;
  }
  if (cl.length > 0) {
    if (!cl.every((x) => /^\d+$/.test(x)) || new Set(cl).size > 1) return 'an invalid or ambiguous Content-Length';
    if (Number(cl[0]) > 4096) return 'a body past maxBodyBytes';
    if (body.length < Number(cl[0])) return 'the body is shorter than its Content-Length';
  }
  return undefined;
}

describe('malformed requests', () => {
  it('never crash the proxy, and it keeps serving', async () => {
    let refused = 0;
    let succeeded = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(structured, { arbitrary: nearMiss, weight: 2 }, bytes), async (raw) => {
        const { text } = await rawExchange(port, Buffer.from(raw, 'latin1'), 150);
        // Whatever came back must be HTTP/1.1 framing from us (or nothing, or a closed socket).
        if (text.length > 0) assert.match(text, /^HTTP\/1\.[01] \d{3} /);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
        const why = mustNotSucceed(raw);
        if (why !== undefined) {
          refused++;
          assert.ok(status < 200 || status > 299, `${status} for a message a strict parser rejects (${why}): ${JSON.stringify(raw)}`);
        } else if (status >= 200 && status <= 299) succeeded++;
      }),
      { numRuns: 400, seed: 20261124 },
    );
    // Both sides of the oracle are exercised: many messages it rejects, and some the proxy forwards.
    assert.ok(refused >= 150, `only ${refused} of the runs were messages to reject`);
    assert.ok(succeeded >= 10, `only ${succeeded} of the runs got a 2xx`);
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
