/** Access logs on real sockets: one JSON line per request with every field, the combined format, sampling, and reopening on SIGUSR1. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, eventually, freePort, portOf, request, serveInProcess, spawnServe, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

async function serveLogged(accessLog: (dir: string) => string): Promise<{ port: number; dir: string }> {
  const b = await startBackend((req, res) => {
    req.resume();
    res.end('hello');
  });
  const dir = tempDir();
  const inst = await serveInProcess(await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${await freePort()}
    accessLog: ${accessLog(dir)}
    routes:
      - { name: api, match: { pathPrefix: /api/ }, pool: app }
pools:
  app: { backends: [{ name: b1, address: ${b.address} }] }
`));
  return { port: portOf(inst, 'web'), dir };
}

/** The file's lines once `n` are there (the log is written asynchronously, flushed every second). */
async function lines(file: string, n: number): Promise<string[]> {
  for (let i = 0; i < 250; i++) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const got = text.split('\n').filter(Boolean);
    if (got.length >= n) return got;
    await sleep(20);
  }
  assert.fail(`${file} did not get ${n} lines`);
}

describe('accessLog on a listener', () => {
  it('writes one JSON line per request with the fields operators need', async () => {
    const { port, dir } = await serveLogged((d) => `{ path: ${join(d, 'logs', 'access.log')} }`);
    assert.equal((await request(port, { path: '/api/x?q=1', headers: { host: 'api.example.com' } })).status, 200);
    assert.equal((await request(port, { path: '/nowhere' })).status, 404);
    const [ok, missed] = (await lines(join(dir, 'logs', 'access.log'), 2)).map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(ok), ['time', 'client', 'method', 'host', 'path', 'status', 'bytes', 'duration_ms', 'upstream_ms', 'listener', 'route', 'pool', 'backend', 'version', 'canary', 'retries']);
    assert.equal(ok.client, '127.0.0.1');
    assert.equal(ok.method, 'GET');
    assert.equal(ok.host, 'api.example.com');
    assert.equal(ok.path, '/api/x?q=1');
    assert.equal(ok.status, 200);
    assert.equal(ok.bytes, 5);
    assert.equal(ok.route, 'api');
    assert.equal(ok.pool, 'app');
    assert.equal(ok.backend, 'b1');
    assert.equal(ok.version, 1);
    assert.equal(ok.canary, false);
    assert.equal(ok.retries, 0);
    assert.ok(ok.duration_ms >= ok.upstream_ms && ok.upstream_ms >= 0);
    assert.ok(Math.abs(Date.parse(ok.time) - Date.now()) < 10_000);
    assert.equal(missed.status, 404);
    assert.equal(missed.route, null);
    assert.equal(missed.upstream_ms, null);
    assert.equal(missed.bytes, Buffer.byteLength('no route matches this request\n'));
  });

  it('writes the combined format, escaping quotes a client sent', async () => {
    const { port, dir } = await serveLogged((d) => `{ path: ${join(d, 'access.log')}, format: combined }`);
    await request(port, { path: '/api/a', headers: { 'user-agent': 'curl/8 "x"', referer: 'https://r.example/' } });
    const [line] = await lines(join(dir, 'access.log'), 1);
    assert.match(line, /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/api\/a HTTP\/1\.1" 200 5 "https:\/\/r\.example\/" "curl\/8 \\x22x\\x22"$/);
  });

  it('reopens its file on SIGUSR1, so logrotate can move it away', async () => {
    const { port, dir } = await serveLogged((d) => `{ path: ${join(d, 'access.log')} }`);
    await request(port, { path: '/api/1' });
    await lines(join(dir, 'access.log'), 1);
    renameSync(join(dir, 'access.log'), join(dir, 'access.log.1'));
    process.kill(process.pid, 'SIGUSR1');
    await sleep(100);
    await request(port, { path: '/api/2' });
    const [fresh] = await lines(join(dir, 'access.log'), 1);
    assert.equal(JSON.parse(fresh).path, '/api/2');
    assert.equal(readFileSync(join(dir, 'access.log.1'), 'utf8').split('\n').filter(Boolean).length, 1);
  });

  it('logs about `sample` of the requests', async () => {
    const { port, dir } = await serveLogged((d) => `{ path: ${join(d, 'access.log')}, sample: 0.2 }`);
    for (let i = 0; i < 200; i++) await request(port, { path: '/api/s' });
    await sleep(1500);
    const n = readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter(Boolean).length;
    assert.ok(n > 15 && n < 75, `${n} of 200 logged at sample 0.2`);
  });

  it('writes to standard output with stdout: true, and flushes it when serve drains', async () => {
    const b = await startBackend();
    const port = await freePort();
    const sp = await spawnServe(await writeConfig(tempDir(), `listeners:
  - name: web
    address: 127.0.0.1:${port}
    accessLog: { stdout: true, format: combined }
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ address: ${b.address} }] }
`));
    await request(port, { path: '/out' });
    await eventually(() => /"GET \/out HTTP\/1\.1" 200 /.test(sp.stdout), 5000, 'the line on stdout');
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
  });

  it('with --workers 2 both workers append whole lines to the one file', async () => {
    const b = await startBackend();
    const port = await freePort();
    const dir = tempDir();
    const sp = await spawnServe(await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    accessLog: { path: ./access.log }
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ address: ${b.address} }] }
`), ['--workers', '2']);
    await Promise.all(Array.from({ length: 60 }, (_, i) => request(port, { path: `/w/${i}` })));
    const got = await lines(join(dir, 'access.log'), 60);
    assert.deepEqual(got.map((l) => JSON.parse(l).path).sort(), Array.from({ length: 60 }, (_, i) => `/w/${i}`).sort());
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
  });
});
