/** A backend that answers garbage, closes mid-response or hangs: the client gets 502/504 and the proxy keeps serving. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cleanup, onCleanup, freePort, portOf, rawExchange, request, serveInProcess, startBackend, tempDir, writeConfig } from './helpers/harness.js';

let port = 0;

function rawBackend(onData: (s: net.Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => onData(s));
    });
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    onCleanup(() => {
      server.close();
    });
  });
}

before(async () => {
  const garbage = await rawBackend((s) => s.end('THIS IS NOT HTTP\r\n\r\n'));
  const cut = await rawBackend((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
    setTimeout(() => s.destroy(), 20);
  });
  const badLength = await rawBackend((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'));
  const hang = await rawBackend(() => undefined);
  const good = await startBackend();
  const p = await freePort();
  const route = (name: string) => `      - { name: ${name}, match: { pathPrefix: /${name} }, pool: ${name} }`;
  const pool = (name: string, bport: number, extra = '') => `  ${name}: { backends: [{ address: 127.0.0.1:${bport} }], retries: { attempts: 0 }${extra} }`;
  const file = await writeConfig(tempDir(), `
listeners:
  - name: web
    address: 127.0.0.1:${p}
    routes:
${['garbage', 'cut', 'badlength', 'hang', 'good'].map(route).join('\n')}
pools:
${pool('garbage', garbage)}
${pool('cut', cut)}
${pool('badlength', badLength)}
${pool('hang', hang, ', timeouts: { request: 300ms }')}
${pool('good', good.port)}
`);
  port = portOf(await serveInProcess(file), 'web');
});
after(cleanup);

describe('a misbehaving backend', () => {
  it('garbage instead of HTTP → 502, and the proxy keeps serving', async () => {
    assert.equal((await request(port, { path: '/garbage' })).status, 502);
    assert.equal((await request(port, { path: '/good' })).status, 200);
  });

  it('two different Content-Length values → 502', async () => {
    assert.equal((await request(port, { path: '/badlength' })).status, 502);
  });

  it('a response cut short after the headers → the client connection is closed, not left hanging', async () => {
    const { text, closed } = await rawExchange(port, 'GET /cut HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.ok(closed, text);
    assert.match(text, /^HTTP\/1\.1 200[^]*only part$/);
    assert.equal((await request(port, { path: '/good' })).status, 200);
  });

  it('no answer within timeouts.request → 504', async () => {
    const r = await request(port, { path: '/hang' });
    assert.equal(r.status, 504, r.body);
  });
});
