/**
 * The HTTP/2 attacks of the last years, each sent from a raw client (frames built by hand over
 * TLS): rapid reset (CVE-2023-44487), CONTINUATION flood (CVE-2024-27983 family), SETTINGS
 * flood and PING flood. For each: the attacking connection is cut, the process lives, and a
 * normal client on a new connection is served at once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { cleanup, freePort, serveInProcess, startBackend, tempDir, writeConfig, type Backend } from './helpers/harness.js';
import { makeCert, type CertFiles } from './helpers/certs.js';

after(cleanup);

let port = 0;
let cert: CertFiles;
let backend: Backend;

before(async () => {
  const dir = tempDir();
  cert = makeCert(dir, 'site', ['www.example.com']);
  backend = await startBackend();
  port = await freePort();
  await serveInProcess(await writeConfig(dir, `listeners:
  - name: secure
    address: 127.0.0.1:${port}
    tls: { certificates: [{ cert: site.crt, key: site.key }] }
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ address: ${backend.address} }] }
`));
});

/** One HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}
const HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, PING = 0x6, CONTINUATION = 0x9;
const END_STREAM = 0x1, END_HEADERS = 0x4;
const PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(SETTINGS, 0, 0)]);
/** HPACK: GET https://www.example.com/ from the static table (RFC 7541 App. A) and one literal. */
const authority = Buffer.from('www.example.com');
const GET = Buffer.concat([Buffer.from([0x82, 0x87, 0x84, 0x41, authority.length]), authority]);
/** A literal header without indexing, new name each time (RFC 7541 §6.2.2). */
function literal(i: number): Buffer {
  const name = Buffer.from(`x-flood-${i}`);
  const value = Buffer.from('a'.repeat(100));
  return Buffer.concat([Buffer.from([0x00, name.length]), name, Buffer.from([value.length]), value]);
}

/** Opens a raw h2 connection, writes `attack` in rounds, and resolves when the server closes it (or `ms` passes). */
function attack(write: (s: tls.TLSSocket, round: number) => boolean, ms = 10_000): Promise<{ closedByServer: boolean; rounds: number; afterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'www.example.com', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    let rounds = 0;
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ closedByServer, rounds, afterMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('end', () => finish(true));
    s.once('secureConnect', () => {
      assert.equal(s.alpnProtocol, 'h2');
      s.write(PREFACE);
      const pump = () => {
        while (!done && !s.destroyed) {
          rounds++;
          if (!write(s, rounds)) return void s.once('drain', pump);
          if (rounds % 200 === 0) return void setImmediate(pump);
        }
      };
      pump();
    });
  });
}

/** A normal HTTP/2 request on a new connection: its status. */
async function normal(): Promise<number> {
  const client = http2.connect(`https://127.0.0.1:${port}`, { ca: [readFileSync(cert.cert)], servername: 'www.example.com' });
  client.on('error', () => undefined);
  try {
    return await new Promise<number>((resolve) => {
      const req = client.request({ ':path': '/', ':authority': 'www.example.com' });
      req.setTimeout(3000, () => resolve(0));
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', () => resolve(0));
      req.resume();
      req.end();
    });
  } finally {
    client.close();
  }
}

describe('HTTP/2 floods', () => {
  it('rapid reset: HEADERS then RST_STREAM, over and over — the connection is cut, the backend is spared, others are served', async () => {
    const hitsBefore = backend.hits;
    const r = await attack((s, i) => {
      const id = 2 * i - 1;
      return s.write(Buffer.concat([frame(HEADERS, END_STREAM | END_HEADERS, id, GET), frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8]))]));
    });
    assert.ok(r.closedByServer, `the server cut the connection (after ${r.rounds} streams)`);
    assert.ok(backend.hits - hitsBefore < r.rounds, `the backend got ${backend.hits - hitsBefore} of ${r.rounds} reset streams`);
    assert.equal(await normal(), 200);
  });

  it('CONTINUATION flood: a header block that never ends is cut', async () => {
    const r = await attack((s, i) => s.write(i === 1 ? frame(HEADERS, END_STREAM, 1, GET) : frame(CONTINUATION, 0, 1, literal(i))));
    assert.ok(r.closedByServer, `the server cut the connection (after ${r.rounds} frames)`);
    assert.equal(await normal(), 200);
  });

  it('SETTINGS flood from a client that never reads its ACKs is cut', async () => {
    const r = await attack((s) => s.write(frame(SETTINGS, 0, 0, Buffer.from([0, 3, 0, 0, 0, 100]))));
    assert.ok(r.closedByServer, `the server cut the connection (after ${r.rounds} frames)`);
    assert.equal(await normal(), 200);
  });

  it('PING flood from a client that never reads its answers is cut', async () => {
    const r = await attack((s) => s.write(frame(PING, 0, 0, Buffer.alloc(8))));
    assert.ok(r.closedByServer, `the server cut the connection (after ${r.rounds} frames)`);
    assert.equal(await normal(), 200);
  });
});
