/**
 * A TLS listener on the haproxy engine: HAProxy terminates it with the config's certificate
 * (the engine writes cert and key into one PEM, the only form HAProxy reads a key from
 * elsewhere than `<crt>.key`), speaks HTTP/2 and HTTP/1.1 by ALPN, and a SIGHUP-style reload
 * serves a certificate renewed in place.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, describe, test } from 'node:test';
import { cleanup, freePort, serveInProcess, startBackend, tempDir, writeConfig } from '../dataplane/helpers/harness.js';
import { NO_HAPROXY } from './helpers.js';

after(cleanup);

const run = promisify(execFile);

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'tls');

/** curl, asynchronously: the backends answer from this process, so it must not block. */
async function curl(port: number, version: '--http2' | '--http1.1'): Promise<string> {
  const r = await run('curl', ['-sk', version, '--max-time', '5', '--resolve', `www.example.com:${port}:127.0.0.1`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://www.example.com:${port}/`]).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return r.stdout;
}

/** The SHA-256 fingerprint of the certificate the listener presents. */
function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'www.example.com', rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

describe('a TLS listener on the haproxy engine', { skip: NO_HAPROXY }, () => {
  test('h2 and http/1.1 by ALPN with the configured certificate; a certificate renewed in place is served after a reload', async () => {
    const dir = tempDir();
    copyFileSync(join(EXAMPLES, 'site.crt'), join(dir, 'cert.pem'));
    copyFileSync(join(EXAMPLES, 'site.key'), join(dir, 'key.pem'));
    const a = await startBackend();
    const b = await startBackend();
    const port = await freePort();
    const inst = await serveInProcess(await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    tls: { certificates: [{ cert: ./cert.pem, key: ./key.pem }] }
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ name: a, address: ${a.address} }, { name: b, address: ${b.address} }] }
engine: haproxy
`));
    assert.equal(await curl(port, '--http2'), '2 200');
    assert.equal(await curl(port, '--http1.1'), '1.1 200');
    assert.equal(inst.listeners.find((l) => l.name === 'web')?.tls, true, 'serve prints it as https://');
    const before = await served(port);
    const fixture = spawnSync('openssl', ['x509', '-in', join(EXAMPLES, 'site.crt'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).stdout;
    assert.equal(before, fixture.trim().split('=')[1]);

    // Renewed in place: a new key and certificate for the same name, at the same paths.
    const renewed = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=www.example.com', '-addext', 'subjectAltName=DNS:www.example.com',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(renewed.status, 0, renewed.stderr);
    // The config did not change: the reload is the plane's reloadCertificates() alone.
    const r = await inst.reload();
    assert.equal(r.error, undefined);
    assert.equal(r.unchanged, true);
    const after = await served(port);
    assert.notEqual(after, before, 'the renewed certificate is served');
    assert.equal(await curl(port, '--http2'), '2 200');
  });
});
