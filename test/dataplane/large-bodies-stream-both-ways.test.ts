/** Large request and response bodies stream through with backpressure, byte for byte; a client that leaves mid-download frees its backend slot. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Instance } from '../../src/control/instance.js';
import { cleanup, eventually, serveOnePool, startBackend } from './helpers/harness.js';

const BIG = 8 * 1024 * 1024;
let port = 0;
let inst: Instance;

before(async () => {
  const b = await startBackend((req, res) => {
    if (req.url === '/download') {
      res.setHeader('content-length', BIG);
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (sent < BIG) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      n += d.length;
    });
    req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
  });
  ({ port, inst } = await serveOnePool(`{ backends: [{ address: ${b.address} }] }`, { limits: `{ maxBodyBytes: ${BIG * 2} }` }));
});
after(cleanup);

describe('large bodies', () => {
  it('uploads 8 MiB with Content-Length and chunked, intact', async () => {
    const body = Buffer.alloc(BIG);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const sha = createHash('sha256').update(body).digest('hex');
    for (const chunked of [false, true]) {
      const reply = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false, headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length } }, (res) => {
          let t = '';
          res.on('data', (d) => (t += d));
          res.on('end', () => resolve(t));
        });
        req.on('error', reject);
        for (let off = 0; off < body.length; off += 1 << 20) req.write(body.subarray(off, off + (1 << 20)));
        req.end();
      });
      assert.deepEqual(JSON.parse(reply), { n: BIG, sha });
    }
  });

  it('downloads 8 MiB to a slow reader without buffering it all, and frees the backend when the client leaves', async () => {
    const got = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/download', agent: false }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          // A slow reader: pause now and then so backpressure reaches the backend.
          if (n % (1 << 20) < d.length) {
            res.pause();
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve(n));
      }).on('error', reject);
    });
    assert.equal(got, BIG);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/download', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
    });
    await eventually(() => inflight(inst) === 0, 3000, 'the backend slot to be released');
  });

  it('clients that vanish mid-upload leave nothing in flight and the proxy serving', async () => {
    const net = await import('node:net');
    for (const head of ['POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n', 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n']) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      s.write(head);
      s.write(Buffer.alloc(30000, 1));
      await new Promise((r) => setTimeout(r, 50));
      s.destroy();
    }
    await eventually(() => inflight(inst) === 0, 3000, 'the aborted uploads to be released');
    const r = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: 'ok' });
    assert.equal(r.status, 200);
  });
});

function inflight(i: Instance): number {
  const plane = (i as unknown as { plane: { dataplane?: { registry: { all(): Iterable<{ inflight: number }> } } } }).plane;
  let n = 0;
  for (const ep of plane.dataplane!.registry.all()) n += ep.inflight;
  return n;
}
