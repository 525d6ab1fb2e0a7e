/**
 * `evenkeel export haproxy` renders the day-one keys so HAProxy offers them too: `tls` (ssl crt,
 * ALPN h2 and http/1.1, ssl-min-ver), `rateLimit` (a stick-table and a 429 with Retry-After),
 * `accessLog` (log and log-format with evenkeel's fields) and `stickiness` (cookie insertion).
 * Checked on Debian's haproxy: `haproxy -c` accepts the file, and a real haproxy serving it on
 * loopback answers curl over HTTP/2 and HTTP/1.1, refuses after the burst, keeps a cookie's
 * client on its server and writes JSON lines. The reader reads the export back with the same
 * shares, its cookie as stickiness, and no findings about what the exporter wrote.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { analyzeLoaded, validateText } from '../../src/analysis/index.js';
import type { Config } from '../../src/config/index.js';
import { readHaproxy } from '../../src/formats/haproxy/index.js';
import { renderHaproxy } from '../../src/formats/haproxy/write.js';
import { makeCert, type CertFiles } from '../dataplane/helpers/certs.js';
import { cleanup, eventually, freePort, onCleanup, startBackend, tempDir, type Backend } from '../dataplane/helpers/harness.js';

const HAPROXY = '/usr/sbin/haproxy';
const run = promisify(execFile);
after(cleanup);

let dir: string;
let cert: CertFiles;
let port = 0;
let plainPort = 0;
let app: Backend[];
let config: Config;
let exported: ReturnType<typeof renderHaproxy>;
let yaml: string;
const logLines: string[] = [];

before(async () => {
  dir = tempDir();
  cert = makeCert(dir, 'site', ['localhost', 'www.example.com']);
  app = [await startBackend(), await startBackend()];
  const other = await startBackend();
  port = await freePort();
  plainPort = await freePort();
  yaml = `listeners:
  - name: secure
    address: 127.0.0.1:${port}
    tls: { certificates: [{ cert: ${cert.cert}, key: ${cert.key} }], minVersion: TLSv1.2 }
    accessLog: { stdout: true, format: json }
    routes:
      - { name: limited, match: { pathPrefix: /limited/ }, pool: app, rateLimit: { rps: 0.5, burst: 3 } }
      - { name: site, pool: app }
  - name: plain
    address: 127.0.0.1:${plainPort}
    accessLog: { path: ${join(dir, 'plain.log')}, format: combined, sample: 0.5 }
    routes: [{ name: rest, pool: other, rateLimit: { rps: 100, key: "header:x-user" } }]
pools:
  app:
    stickiness: { cookie: SRV, ttl: 1h }
    backends:
${app.map((b, i) => `      - { name: a${i}, address: ${b.address} }`).join('\n')}
  other: { stickiness: { cookie: S2 }, backends: [{ name: o1, address: ${other.address} }] }
guardrails: { maxBackendShare: 1 }
`;
  const report = validateText(yaml, join(dir, 'evenkeel.yaml'));
  assert.ok(report.config, report.findings.map((f) => f.message).join('\n'));
  config = report.config;
  exported = renderHaproxy(config);
});

/** Writes the export and starts haproxy in the foreground on it; its stdout (the access log) is collected. */
async function startHaproxy(): Promise<void> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, exported.text);
  if (!existsSync(`${cert.cert}.key`)) symlinkSync(cert.key, `${cert.cert}.key`);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    logLines.push(...parts);
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  onCleanup(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${stderr}`);
    return (await get('/').catch(() => undefined)) !== undefined;
  }, 10_000, 'haproxy answers over TLS');
}

/** A GET over TLS (HTTP/1.1, a new connection) that trusts the test certificate. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, servername: 'localhost', path, headers, ca: readFileSync(cert.cert), agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const servedBy = (body: string) => (JSON.parse(body) as { port: number }).port;

describe('the export of tls, rateLimit, accessLog and stickiness', () => {
  it('renders each key, says what is not exact, and haproxy -c accepts it once the key is where HAProxy looks', () => {
    const text = exported.text;
    assert.match(text, new RegExp(`bind 127\\.0\\.0\\.1:${port} ssl crt ${cert.cert.replace(/[.]/g, '\\.')} alpn h2,http/1\\.1 ssl-min-ver TLSv1\\.2\\n`));
    assert.match(text, /frontend secure\n(?:.*\n)*? {2}http-request set-header X-Forwarded-Proto https\n/);
    assert.match(text, /http-request track-sc0 src table ek:rl:secure:limited if \{ var\(txn\.ek_route\) -m str limited \}/);
    assert.match(text, /http-request deny status 429 .* hdr Retry-After 2 if \{ var\(txn\.ek_route\) -m str limited \} \{ sc_http_req_rate\(0\) gt 3 \}/);
    assert.match(text, /backend ek:rl:secure:limited\n.*\n {2}stick-table type ipv6 size 100k expire 12s store http_req_rate\(6s\)/);
    assert.match(text, /http-request track-sc0 req\.hdr\(x-user\) table ek:rl:plain:rest/);
    assert.match(text, /cookie SRV insert indirect nocache httponly secure attr SameSite=Lax attr Max-Age=3600\n/);
    assert.match(text, /cookie S2 insert indirect nocache httponly attr SameSite=Lax\n/);
    assert.match(text, /server a0 \S+ weight 1 cookie [A-Za-z0-9_-]{12}\n/);
    assert.match(text, /log stdout format raw local0\n/);
    assert.match(text, /log \/dev\/log sample 1:2 local0\n/);
    const said = exported.notes.map((n) => `${n.section}: ${n.message}`).join('\n');
    for (const expected of [
      /frontend secure: HAProxy reads the key of \S+site\.crt from that file or from \S+site\.crt\.key beside it/,
      /frontend secure: route limited: rateLimit 0\.5 req\/s \(burst 3\) is 3 requests per sliding 6s in HAProxy, not a token bucket/,
      /frontend plain: route rest: a request without x-user is not limited by HAProxy/,
      /frontend plain: accessLog\.path \S+plain\.log: HAProxy logs to syslog, not to a file/,
      /frontend secure: access log: time is to the second/,
      /backend app: stickiness: HAProxy's cookie values are fixed per server .* not signed/,
    ]) assert.match(said, expected);
    assert.doesNotMatch(text, /tls is not rendered/);
    for (const n of exported.notes) assert.ok(text.includes(`# not exact: ${n.message}`), n.message);
    const file = join(dir, 'check.cfg');
    writeFileSync(file, text);
    const before = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
    assert.notEqual(before.status, 0, 'without the key where HAProxy looks, it refuses the certificate (as the note says)');
    // What the note says to do: the key beside the certificate as <cert>.key.
    if (!existsSync(`${cert.cert}.key`)) symlinkSync(cert.key, `${cert.cert}.key`);
    const r = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}\n${text}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /WARNING/, 'no warning either (rules in the order HAProxy runs them)');
    // As the HAProxy engine renders it during a canary (the candidate limits harder), with combined PEMs of its own.
    const candidate = validateText(yaml.replace('rps: 0.5, burst: 3', 'rps: 0.5, burst: 2'), join(dir, 'evenkeel.yaml')).config!;
    const pem = join(dir, 'combined.pem');
    writeFileSync(pem, readFileSync(cert.cert, 'utf8') + readFileSync(cert.key, 'utf8'));
    const engine = renderHaproxy(config, { engine: { statsSocket: join(dir, 'stats.sock'), mapFile: join(dir, 'canary.map'), canary: candidate, pemFor: () => pem } });
    writeFileSync(join(dir, 'canary.map'), 'canary 0\n');
    assert.match(engine.text, new RegExp(`ssl crt ${pem.replace(/[.]/g, '\\.')} alpn`));
    assert.match(engine.text, /# not exact: during a canary the active config's rate limits apply to every request/);
    const inCanary = /backend canary:app\n(?:.*\n)*? {2}server a0 \S+ weight 1 cookie ([A-Za-z0-9_-]{12})/.exec(engine.text)?.[1];
    const inActive = /backend app\n(?:.*\n)*? {2}server a0 \S+ weight 1 cookie ([A-Za-z0-9_-]{12})/.exec(engine.text)?.[1];
    assert.ok(inActive && inCanary === inActive, 'a session cookie names the same server in the candidate, so it survives a promote');
    writeFileSync(file, engine.text);
    const e = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(e.status, 0, `${e.stdout}${e.stderr}\n${engine.text}`);
  });

  it('the reader reads the export back: same shares, the cookie as stickiness, no findings about the new lines', () => {
    const back = readHaproxy(exported.text, 'haproxy.cfg', { guardrails: { maxBackendShare: 1 } });
    assert.ok(back.config, back.findings.map((f) => `${f.line}: ${f.message}`).join('\n'));
    // Rate tables are not pools, and neither is the catch-all backend that answers 404 itself.
    assert.deepEqual(Object.keys(back.config.pools).sort(), ['app', 'other']);
    assert.deepEqual(back.config.pools.app.stickiness, { cookie: 'SRV', ttl: 3_600_000 });
    assert.deepEqual(back.config.pools.other.stickiness, { cookie: 'S2' });
    assert.deepEqual(back.findings.map((f) => `${f.code} ${f.message}`), []);
    const original = validateText(yaml, join(dir, 'evenkeel.yaml')).prediction!.pools as Record<string, { backends: Record<string, { share: number }> }>;
    const predicted = analyzeLoaded(back).prediction!.pools as Record<string, { backends: Record<string, { share: number }> }>;
    for (const pool of ['app', 'other']) {
      for (const [name, b] of Object.entries(original[pool].backends)) assert.equal(predicted[pool].backends[name].share, b.share, `${pool}/${name}`);
    }
  });

  it('haproxy serving the export speaks HTTP/2 and HTTP/1.1 over TLS (curl, h2load) with X-Forwarded-Proto https', async () => {
    await startHaproxy();
    const resolve = ['--resolve', `localhost:${port}:127.0.0.1`, '--cacert', cert.cert];
    for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']]) {
      const r = await run('curl', ['-sS', flag, ...resolve, '-w', '\n%{http_version} %{http_code}', `https://localhost:${port}/page`]);
      const [body, status] = r.stdout.split('\n');
      assert.equal(status, `${version} 200`);
      assert.equal((JSON.parse(body) as { headers: Record<string, string> }).headers['x-forwarded-proto'], 'https');
    }
    const h2 = await run('h2load', ['-n', '20', '-c', '2', `https://127.0.0.1:${port}/h2load`]);
    assert.match(h2.stdout, /Application protocol: h2/);
    assert.match(h2.stdout, /requests: 20 total, 20 started, 20 done, 20 succeeded/);
  });

  it('refuses a client after its burst with 429 and Retry-After, other routes unaffected', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await get('/limited/x');
      statuses.push(r.status);
      if (r.status === 429) refused = r;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(refused!.headers['retry-after'], '2');
    assert.equal((await get('/elsewhere')).status, 200);
  });

  it('sets a Secure, HttpOnly cookie and keeps the client on its server while round-robin would move it', async () => {
    const first = await get('/s');
    const setCookie = String(first.headers['set-cookie']);
    assert.match(setCookie, /^SRV=[A-Za-z0-9_-]{12}; path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=3600$/i);
    const home = servedBy(first.body);
    const cookie = setCookie.split(';')[0];
    for (let i = 0; i < 6; i++) assert.equal(servedBy((await get('/s', { cookie })).body), home);
    const without = new Set<number>();
    for (let i = 0; i < 4; i++) without.add(servedBy((await get('/s')).body));
    assert.equal(without.size, 2, 'without the cookie, round-robin uses both servers');
  });

  it('writes one JSON line per request with evenkeel\'s fields', async () => {
    await get('/logged?q=a%22b', { host: 'www.example.com' });
    await eventually(() => logLines.some((l) => l.includes('/logged')), 5000, 'the access log line');
    const line = JSON.parse(logLines.find((l) => l.includes('/logged'))!) as Record<string, unknown>;
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.method, 'GET');
    assert.equal(line.host, 'www.example.com');
    assert.equal(line.path, '/logged?q=a%22b');
    assert.equal(line.status, 200);
    assert.equal(line.listener, 'secure');
    assert.equal(line.route, 'site');
    assert.equal(line.pool, 'app');
    assert.match(String(line.backend), /^a[01]$/);
    assert.ok(typeof line.duration_ms === 'number' && typeof line.bytes === 'number' && (line.bytes as number) > 0);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Every line is JSON, the refused ones too.
    for (const l of logLines.filter((x) => x.startsWith('{'))) JSON.parse(l);
    assert.ok(logLines.some((l) => (JSON.parse(l) as { status: number }).status === 429));
  });
});
