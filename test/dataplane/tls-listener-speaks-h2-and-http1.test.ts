/**
 * A listener with `tls:` terminates TLS and speaks HTTP/2 and HTTP/1.1 by ALPN, to HTTP/1.1
 * backends, with the same routing, header rules and limits: checked with curl and h2load
 * (Debian's curl and nghttp2-client), as a user would. The certificate is chosen by SNI, and a
 * renewed certificate file is served after a reload without dropping open connections.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Instance } from '../../src/control/instance.js';
import { cleanup, freePort, portOf, serveInProcess, startBackend, tempDir, writeConfig, type Backend } from './helpers/harness.js';
import { makeCert, type CertFiles } from './helpers/certs.js';

const run = promisify(execFile);
after(cleanup);

let dir: string;
let port = 0;
let inst: Instance;
let api: Backend;
let web: Backend;
let site: CertFiles;
let file: string;

function config(maxHeaderCount = 50): string {
  return `listeners:
  - name: secure
    address: 127.0.0.1:${port}
    tls:
      certificates:
        - { cert: site.crt, key: site.key }
        - { cert: other.crt, key: other.key }
    limits: { maxHeaderCount: ${maxHeaderCount}, maxBodyBytes: 1000 }
    routes:
      - { name: api, match: { host: api.example.com }, pool: api }
      - { name: web, match: { pathPrefix: / }, pool: web }
pools:
  api: { backends: [{ address: ${api.address} }] }
  web: { backends: [{ address: ${web.address} }] }
`;
}

before(async () => {
  dir = tempDir();
  site = makeCert(dir, 'site', ['www.example.com', 'api.example.com', 'localhost']);
  makeCert(dir, 'other', ['*.other.test']);
  api = await startBackend();
  web = await startBackend();
  port = await freePort();
  file = await writeConfig(dir, config());
  inst = await serveInProcess(file);
  assert.equal(portOf(inst, 'secure'), port);
});

const resolve = (host: string) => ['--resolve', `${host}:${port}:127.0.0.1`, '--cacert', site.cert];

describe('a TLS listener', () => {
  it('serves HTTP/2 to curl, routed by :authority, with X-Forwarded-Proto https', async () => {
    const r = await run('curl', ['-sS', '--http2', ...resolve('api.example.com'), '-w', '\\n%{http_version} %{http_code}', `https://api.example.com:${port}/v1/x?y=1`]);
    const [body, status] = r.stdout.split('\n');
    assert.equal(status, '2 200');
    const echoed = JSON.parse(body) as { port: number; url: string; headers: Record<string, string> };
    assert.equal(echoed.port, api.port);
    assert.equal(echoed.url, '/v1/x?y=1');
    assert.equal(echoed.headers.host, `api.example.com:${port}`);
    assert.equal(echoed.headers['x-forwarded-proto'], 'https');
    assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('serves HTTP/1.1 to curl on the same port', async () => {
    const r = await run('curl', ['-sS', '--http1.1', ...resolve('www.example.com'), '-w', '\\n%{http_version} %{http_code}', `https://www.example.com:${port}/page`]);
    const [body, status] = r.stdout.split('\n');
    assert.equal(status, '1.1 200');
    assert.equal((JSON.parse(body) as { port: number }).port, web.port);
  });

  it('streams an HTTP/2 request body to the backend, and applies the body limit (413)', async () => {
    const ok = await run('curl', ['-sS', '--http2', ...resolve('www.example.com'), '--data-binary', 'hello', '-w', '\\n%{http_code}', `https://www.example.com:${port}/up`]);
    assert.match(ok.stdout, /\n200$/);
    const big = await run('curl', ['-sS', '--http2', ...resolve('www.example.com'), '--data-binary', 'x'.repeat(5000), '-o', '/dev/null', '-w', '%{http_code}', `https://www.example.com:${port}/up`]);
    assert.equal(big.stdout, '413');
  });

  it('chooses the certificate by SNI', async () => {
    const names = async (servername: string) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
      await new Promise((r) => s.once('secureConnect', r));
      const subject = s.getPeerCertificate().subjectaltname;
      const alpn = s.alpnProtocol;
      s.destroy();
      return { subject, alpn };
    };
    assert.deepEqual(await names('a.other.test'), { subject: 'DNS:*.other.test', alpn: 'h2' });
    assert.match((await names('www.example.com')).subject ?? '', /DNS:www\.example\.com/);
    assert.match((await names('unknown.example')).subject ?? '', /DNS:www\.example\.com/, 'an unknown name gets the first certificate');
  });

  it('h2load: many streams over a few connections, all 2xx', async () => {
    const r = await run('h2load', ['-n', '400', '-c', '4', '-m', '20', '--connect-to', `127.0.0.1:${port}`, `https://www.example.com:${port}/`]);
    const done = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(r.stdout);
    assert.ok(done, r.stdout);
    assert.deepEqual(done.slice(1, 7).map(Number), [400, 400, 400, 400, 0, 0]);
    assert.match(r.stdout, /status codes: 400 2xx/);
  });

  it('HTTP/2 header limits: 48 headers pass, 52 get 431, 60 are refused by the protocol (stream reset)', async () => {
    const client = http2.connect(`https://127.0.0.1:${port}`, { ca: [readFileSync(site.cert)], servername: 'www.example.com' });
    client.on('error', () => undefined);
    const send = (n: number) => new Promise<number>((res) => {
      const headers: Record<string, string> = { ':path': '/', ':authority': 'www.example.com' };
      for (let i = 0; i < n; i++) headers[`x-h${i}`] = String(i);
      const req = client.request(headers);
      req.on('response', (h) => res(Number(h[':status'])));
      req.on('error', () => res(0));
      req.on('close', () => res(0));
      req.resume();
      req.end();
    });
    assert.deepEqual([await send(48), await send(52), await send(60)], [200, 431, 0]);
    client.close();
  });

  it('serves a renewed certificate after a reload; an open HTTP/2 connection keeps working', async () => {
    const client = http2.connect(`https://127.0.0.1:${port}`, { ca: [readFileSync(site.cert)], servername: 'www.example.com' });
    client.on('error', () => undefined);
    const get = () => new Promise<number>((res) => {
      const req = client.request({ ':path': '/', ':authority': 'www.example.com' });
      req.on('response', (h) => res(Number(h[':status'])));
      req.on('error', () => res(0));
      req.resume();
      req.end();
    });
    assert.equal(await get(), 200);
    const renewed = makeCert(dir, 'renewed', ['www.example.com', 'api.example.com', 'localhost']);
    copyFileSync(renewed.cert, join(dir, 'site.crt'));
    copyFileSync(renewed.key, join(dir, 'site.key'));
    // The config file did not change: no new version, only the certificates are read again.
    const r = await inst.reload();
    assert.ok(r.unchanged && !r.applied, JSON.stringify(r));
    assert.equal(await get(), 200, 'the open connection still serves');
    client.close();
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'www.example.com', rejectUnauthorized: false });
    await new Promise((res) => s.once('secureConnect', res));
    const fingerprint = s.getPeerCertificate().fingerprint256;
    s.destroy();
    const { X509Certificate } = await import('node:crypto');
    assert.equal(fingerprint, new X509Certificate(readFileSync(renewed.cert)).fingerprint256);
  });
});
