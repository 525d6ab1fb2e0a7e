/**
 * Retries in an exported haproxy.cfg follow the built-in engine's rule: an idempotent request
 * (GET, PUT, DELETE…) that got a 503 is tried again on another server, a POST is not — a
 * backend may have acted on it. Regression: the export said `retry-on … 503` for every method,
 * so HAProxy sent a POST that had failed with a 503 to a second server.
 * Checked on Debian's haproxy: two backends that count what they get and answer 503.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { validateText } from '../../src/analysis/index.js';
import { renderHaproxy } from '../../src/formats/haproxy/index.js';
import { cleanup, freePort, onCleanup } from '../dataplane/helpers/harness.js';
import { startHaproxy } from './haproxy-harness.ts';

after(cleanup);

const hits: Record<string, number> = {};
let port = 0;

/** A backend that answers 503 to everything and counts the methods it was sent. */
async function failing(): Promise<string> {
  const server = http.createServer((req, res) => {
    hits[req.method!] = (hits[req.method!] ?? 0) + 1;
    req.resume();
    req.on('end', () => res.writeHead(503, { 'content-length': '0' }).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function send(method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false, headers: { 'content-length': '2' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('exported retries on haproxy', () => {
  before(async () => {
    port = await freePort();
    const [a, b] = [await failing(), await failing()];
    const report = validateText(`listeners:
  - { name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }
pools:
  app:
    retries: { attempts: 1, on: [connect-failure, "503"] }
    backends: [{ name: a, address: ${a} }, { name: b, address: ${b} }]
`, 'retries.yaml');
    assert.ok(report.config, JSON.stringify(report.findings));
    const haproxy = await startHaproxy(renderHaproxy(report.config).text, port);
    onCleanup(haproxy.stop);
  });

  it('sends a GET that got a 503 to the other server, and a POST to one server only', async () => {
    for (const k of Object.keys(hits)) delete hits[k];
    for (let i = 0; i < 10; i++) assert.equal(await send('GET'), 503);
    for (let i = 0; i < 10; i++) assert.equal(await send('POST'), 503);
    for (let i = 0; i < 10; i++) assert.equal(await send('PUT'), 503);
    assert.deepEqual(hits, { GET: 20, POST: 10, PUT: 20 });
  });
});
