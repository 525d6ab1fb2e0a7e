/** Sticky sessions by cookie insertion on real sockets: the cookie brings a client back, cannot be forged, and falls back when its backend is gone. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadStickyKey, stickyValue } from '../../src/upstream/index.js';
import { makeCert } from './helpers/certs.js';
import { cleanup, freePort, portOf, request, serveInProcess, startBackend, tempDir, writeConfig, type Backend } from './helpers/harness.js';

after(cleanup);

async function serveSticky(stickiness: string): Promise<{ port: number; dir: string; backends: Backend[] }> {
  const backends = [await startBackend(), await startBackend(), await startBackend()];
  const dir = tempDir();
  const inst = await serveInProcess(await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${await freePort()}
    routes: [{ name: all, pool: app }]
pools:
  app:
    stickiness: ${stickiness}
    retries: { attempts: 2 }
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address} }`).join('\n')}
`));
  return { port: portOf(inst, 'web'), dir, backends };
}

/** Which backend answered (the default backend echoes its port). */
function servedBy(body: string): number {
  return (JSON.parse(body) as { port: number }).port;
}

describe('stickiness: { cookie }', () => {
  it('sets a signed cookie on a new session and keeps a client that sends it on its backend', async () => {
    const { port, dir } = await serveSticky('{ cookie: SRV, ttl: 1h }');
    const first = await request(port);
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /^SRV=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const cookie = setCookie.split(';')[0];
    const home = servedBy(first.body);
    for (let i = 0; i < 9; i++) {
      const r = await request(port, { headers: { cookie: `other=1; ${cookie}` } });
      assert.equal(servedBy(r.body), home, 'round-robin would have moved it');
      assert.equal(r.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }
    // The value is the HMAC under the key in the store folder: the same after a restart and in every worker.
    const key = loadStickyKey(join(dir, 'store'));
    assert.equal(readFileSync(join(dir, 'store', 'sticky.key'), 'utf8').length, 64);
    const names = ['b0', 'b1', 'b2'];
    assert.ok(names.some((b) => `SRV=${stickyValue(key, 'app', b)}` === cookie));
  });

  it('ignores a cookie a client made up (a backend name, or garbage) and balances it like a new session', async () => {
    const { port } = await serveSticky('{ cookie: SRV }');
    const seen = new Set<number>();
    for (const forged of ['b0', 'b1', 'b0.AAAA', 'x'.repeat(22), 'b0', 'b0']) {
      const r = await request(port, { headers: { cookie: `SRV=${forged}` } });
      assert.match(r.headers['set-cookie']?.[0] ?? '', /^SRV=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
      seen.add(servedBy(r.body));
    }
    assert.equal(seen.size, 3, 'forged cookies pick nothing: round-robin goes on over all three');
  });

  it('falls back to another backend when the cookie\'s one is down, and the new cookie names the one that answered', async () => {
    const { port, backends } = await serveSticky('{ cookie: SRV }');
    const first = await request(port);
    const cookie = first.headers['set-cookie']![0].split(';')[0];
    const home = backends.find((b) => b.port === servedBy(first.body))!;
    await home.kill();
    const moved = await request(port, { headers: { cookie } });
    assert.equal(moved.status, 200);
    assert.notEqual(servedBy(moved.body), home.port);
    const next = moved.headers['set-cookie']![0].split(';')[0];
    assert.notEqual(next, cookie);
    for (let i = 0; i < 4; i++) assert.equal(servedBy((await request(port, { headers: { cookie: next } })).body), servedBy(moved.body));
  });
});

describe('stickiness on a TLS listener', () => {
  it('marks the cookie Secure over TLS (a browser then never sends it over plain HTTP), and not on a plain listener of the same pool', async () => {
    const backends = [await startBackend(), await startBackend()];
    const dir = tempDir();
    const cert = makeCert(dir, 'site', ['localhost']);
    const inst = await serveInProcess(await writeConfig(dir, `listeners:
  - name: secure
    address: 127.0.0.1:${await freePort()}
    tls: { certificates: [{ cert: site.crt, key: site.key }] }
    routes: [{ name: s, pool: app }]
  - name: plain
    address: 127.0.0.1:${await freePort()}
    routes: [{ name: p, pool: app }]
pools:
  app:
    stickiness: { cookie: SRV, ttl: 10m }
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: ${b.address} }`).join('\n')}
`));
    const overTls = await new Promise<{ setCookie: string[]; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', servername: 'localhost', port: portOf(inst, 'secure'), path: '/', ca: readFileSync(cert.cert), agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ setCookie: res.headers['set-cookie'] ?? [], body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(overTls.setCookie[0] ?? '', /^SRV=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/);
    const plain = await request(portOf(inst, 'plain'));
    assert.match(plain.headers['set-cookie']?.[0] ?? '', /^SRV=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);
    // The same value on both: Secure is an attribute, the session is the pool's.
    const home = servedBy(overTls.body);
    const cookie = overTls.setCookie[0].split(';')[0];
    assert.equal(servedBy((await request(portOf(inst, 'plain'), { headers: { cookie } })).body), home);
  });
});
