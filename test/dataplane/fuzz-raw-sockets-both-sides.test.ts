/**
 * Raw-socket fuzzing of the proxy, the way Envoy's and HAProxy's are fuzzed: fast-check builds
 * valid request streams (pipelined, with Content-Length and chunked bodies), mutates them
 * (bytes inserted, deleted and repeated; the classic CL/TE desync headers injected) and sends
 * them split at random byte boundaries to a real `evenkeel serve` with one and with two
 * workers. The backend is a raw socket that judges every byte it receives with a strict reader.
 * On the response side the backend answers with mutated responses the same way.
 *
 * The property, for every input: the process (and every worker) lives; a new connection right
 * after is served; nothing the strict reader calls ambiguous reaches the backend; the client
 * gets clean HTTP/1.1 or a closed connection, never an ambiguous response. Seeded and bounded;
 * a failing input is printed by fast-check with its seed and path — add it to CASES below.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { cleanup, freePort, spawnServe, startRawBackend, tempDir, writeConfig, type ServeProcess } from './helpers/harness.js';
import { readStrict } from './helpers/strict-http.js';

after(cleanup);

/** Regression inputs: every stream that once broke the proxy (the issue's findings first). */
const CASES = [
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloX',
  'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /public/ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /internal HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  'CONNECT a:22 HTTP/1.1\r\nHost: a:22\r\n\r\n',
  // Found by this test: junk after a finished response (the in-flight response is null then).
  'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
  // Found by this test: a pipelined Expect: 100-continue got its 100 in the middle of its response.
  'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi',
];

/** The response the backend sends next, and where to cut it (the response-side property sets both per input). */
let nextResponse: string | undefined;
let nextCuts: readonly number[] = [];
const violations: string[] = [];

async function rawStrictBackend() {
  const answered = new WeakMap<net.Socket, number>();
  return startRawBackend((all, socket) => {
    const r = readStrict(all, 'request');
    if (r.error !== undefined) {
      violations.push(`${r.error}: ${JSON.stringify(all.slice(0, 300))}`);
      return void socket.destroy();
    }
    let done = answered.get(socket) ?? 0;
    for (; done < r.messages.length; done++) {
      const m = r.messages[done];
      if (nextResponse !== undefined && m.start.startsWith('GET /fuzz-response ')) {
        void writeInPieces(socket, nextResponse, nextCuts);
        continue;
      }
      socket.write(m.start.startsWith('HEAD ') ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
    answered.set(socket, done);
  });
}

/** Writes `text` cut at the fractions `cuts`, one piece per turn of the event loop. */
async function writeInPieces(s: net.Socket, text: string, cuts: readonly number[]): Promise<void> {
  const bytes = Buffer.from(text, 'latin1');
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from && !s.destroyed) s.write(bytes.subarray(from, p));
    from = p;
    await new Promise((r) => setImmediate(r));
  }
}

// ---- generators ------------------------------------------------------------------------

const method = fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH');
const path = fc.constantFrom('/', '/a', '/a/b?c=d', '/%2e%2e/x', '//x', '/a;b', '/?q=%00');
const extra = fc.constantFrom('Accept: */*', 'User-Agent: fuzz', 'X-Forwarded-For: 1.2.3.4', 'Connection: keep-alive', 'Connection: close', 'Cookie: a=b',
  'Expect: 100-continue', 'Upgrade: websocket\r\nConnection: Upgrade', 'Connection: x-secret\r\nX-Secret: 1', 'TE: trailers', 'Keep-Alive: timeout=5');
const body = fc.oneof(
  fc.constant({ head: '', body: '' }),
  fc.string({ maxLength: 20 }).map((b) => ({ head: `Content-Length: ${Buffer.byteLength(b, 'latin1')}\r\n`, body: b })),
  fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 3 }).map((cs) => ({
    head: 'Transfer-Encoding: chunked\r\n',
    body: `${cs.map((c) => `${Buffer.byteLength(c, 'latin1').toString(16)}\r\n${c}\r\n`).join('')}0\r\n\r\n`,
  })),
);
const message = fc.tuple(method, path, fc.array(extra, { maxLength: 3 }), body).map(
  ([m, p, hs, b]) => `${m} ${p} HTTP/1.1\r\nHost: a\r\n${hs.map((h) => `${h}\r\n`).join('')}${b.head}\r\n${b.body}`,
);
/** The classic desync family (CL.TE, TE.CL, TE.TE, obs-fold, odd CL), injected after a request line. */
const desync = fc.constantFrom('Content-Length: 0', 'Content-Length: 4', 'Transfer-Encoding: chunked', 'Transfer-Encoding : chunked', 'Transfer-Encoding: xchunked',
  'Transfer-Encoding:\tchunked', ' Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', 'Content-Length: +5',
  'Content-Length: 5, 5', 'Content-Length: 05', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: identity, chunked', 'X: y\nTransfer-Encoding: chunked', 'Host: b');
const nasty = fc.constantFrom('\r', '\n', '\0', ' ', '\t', ':', 'a', '\x80', '0', '\r\n', ';');
const mutation = fc.oneof(
  fc.tuple(fc.constant('insert' as const), fc.double({ min: 0, max: 1, noNaN: true }), nasty),
  fc.tuple(fc.constant('delete' as const), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 4 })),
  fc.tuple(fc.constant('repeat' as const), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 40 })),
  fc.tuple(fc.constant('header' as const), fc.double({ min: 0, max: 1, noNaN: true }), desync),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  const at = Math.floor(m[1] * text.length);
  switch (m[0]) {
    case 'insert': return text.slice(0, at) + m[2] + text.slice(at);
    case 'delete': return text.slice(0, at) + text.slice(at + m[2]);
    case 'repeat': return text.slice(0, at) + text.slice(at, at + m[2]) + text.slice(at);
    case 'header': {
      // After the request line nearest to `at`.
      const line = text.indexOf('\r\n', Math.max(0, text.lastIndexOf(' HTTP/1.1', at)));
      return line < 0 ? text : `${text.slice(0, line + 2)}${m[2]}\r\n${text.slice(line + 2)}`;
    }
  }
}

const stream = fc.tuple(fc.array(message, { minLength: 1, maxLength: 3 }), fc.array(mutation, { maxLength: 3 })).map(([ms, muts]) => muts.reduce(mutate, ms.join('')));
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 });

const status = fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 503 Busy', 'HTTP/1.0 200 OK', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK');
const response = fc.tuple(status, fc.array(fc.constantFrom('Server: fuzz', 'Connection: close', 'Connection: keep-alive', 'Set-Cookie: a=b', 'Keep-Alive: timeout=1', 'Upgrade: h2c'), { maxLength: 2 }), body)
  .map(([s, hs, b]) => `${s}\r\n${hs.map((h) => `${h}\r\n`).join('')}${b.head}\r\n${b.body}`);
// A 'header' mutation lands after the status line (there is no request line to look for).
const responseStream = fc.tuple(response, fc.array(mutation, { maxLength: 3 })).map(([r, muts]) => muts.reduce(mutate, r));

// ---- the property ----------------------------------------------------------------------

/** Writes `text` in pieces cut at `cuts`, then collects what comes back until close or `ms`. */
function exchange(port: number, text: string, cutsAt: readonly number[], ms = 250): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(finish, ms);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      finish();
    });
    const bytes = Buffer.from(text, 'latin1');
    const points = [...new Set(cutsAt.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
    s.on('connect', async () => {
      let from = 0;
      for (const p of [...points, bytes.length]) {
        if (p > from && !s.destroyed) s.write(bytes.subarray(from, p));
        from = p;
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

/** The methods of the requests in a stream, in order (as near as a regex can tell after mutation). */
function requestMethods(text: string): string[] {
  return [...text.matchAll(/([A-Z]+) [^ \r\n]+ HTTP\/1\.[01]\r?\n/g)].map((m) => m[1]);
}

/** A plain GET on a new connection: the status (0 when it failed). */
function fresh(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

for (const workers of [1, 2]) {
  describe(`fuzzing a real serve with ${workers} worker(s)`, () => {
    let port = 0;
    let sp: ServeProcess;
    before(async () => {
      const b = await rawStrictBackend();
      port = await freePort();
      const file = await writeConfig(tempDir(), `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app }]
    limits: { maxBodyBytes: 4096, headersTimeout: 1s, requestTimeout: 2s }
pools:
  app: { backends: [{ address: ${b.address} }], timeouts: { request: 2s } }
workers: ${workers}
`);
      sp = await spawnServe(file);
      const until = Date.now() + 15_000;
      while ((await fresh(port)) !== 200) {
        if (Date.now() > until) throw new Error(`serve does not answer: ${sp.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    const alive = async (input: string) => {
      assert.equal(sp.child.exitCode, null, `serve exited after ${JSON.stringify(input)}: ${sp.stderr.slice(-2000)}`);
      assert.doesNotMatch(sp.stderr, /Uncaught|TypeError|RangeError|ReferenceError|unhandled/i, `a worker failed after ${JSON.stringify(input)}`);
      assert.equal(await fresh(port), 200, `a new connection after ${JSON.stringify(input)} was not served`);
      assert.deepEqual(violations, [], `ambiguous bytes reached the backend after ${JSON.stringify(input)}`);
    };

    it('regression inputs: the process lives and the next connection is served', async () => {
      for (const c of CASES) {
        for (const cutsAt of [[], [0.3, 0.7]]) {
          const r = await exchange(port, c, cutsAt);
          if (r.text.length > 0) {
            assert.match(r.text, /^HTTP\/1\.1 \d{3} /);
            const read = readStrict(r.text, 'response', { methods: requestMethods(c) });
            assert.equal(read.error, undefined, `the client got ambiguous bytes for ${JSON.stringify(c)}: ${JSON.stringify(r.text.slice(0, 400))}`);
          }
          await alive(c);
        }
      }
    });

    it('mutated request streams, split at random boundaries', async () => {
      await fc.assert(
        fc.asyncProperty(stream, cuts, async (text, cutsAt) => {
          const r = await exchange(port, text, cutsAt);
          // What comes back is HTTP/1.1 from us and reads cleanly (a cut-off tail only when we closed).
          if (r.text.length > 0) {
            const read = readStrict(r.text, 'response', { methods: requestMethods(text) });
            assert.equal(read.error, undefined, `the client got ambiguous bytes: ${JSON.stringify(r.text.slice(0, 300))}`);
          }
          await alive(text);
        }),
        { numRuns: 150, seed: 20261201 + workers },
      );
    });

    it('mutated responses from the backend never reach the client ambiguous', async () => {
      await fc.assert(
        fc.asyncProperty(responseStream, cuts, async (answer, cutsAt) => {
          nextResponse = answer;
          nextCuts = cutsAt;
          try {
            const r = await exchange(port, 'GET /fuzz-response HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', [], 600);
            if (r.text.length > 0) {
              const read = readStrict(r.text, 'response');
              assert.equal(read.error, undefined, `relayed ambiguous bytes for ${JSON.stringify(answer)}: ${JSON.stringify(r.text.slice(0, 300))}`);
              assert.ok(read.messages.length > 0 || r.closed, `nothing usable for ${JSON.stringify(answer)}`);
            }
          } finally {
            nextResponse = undefined;
          }
          await alive(answer);
        }),
        { numRuns: 80, seed: 20261202 + workers },
      );
    });
  });
}
