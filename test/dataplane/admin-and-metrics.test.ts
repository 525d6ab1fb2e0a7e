/** The admin API: /metrics with the DESIGN.md names, writes need the bearer token, the token file is 0600. */
import assert from 'node:assert/strict';
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateFile } from '../../src/analysis/index.js';
import { Instance } from '../../src/control/instance.js';
import { cleanup, freePort, portOf, request, serveInProcess, startBackend, tempDir, writeConfig } from './helpers/harness.js';

let inst: Instance;
let dir: string;
let admin: number;
let configFile: string;

before(async () => {
  const b = await startBackend();
  const p = await freePort();
  admin = await freePort();
  dir = tempDir();
  const file = await writeConfig(dir, `
listeners:
  - name: web
    address: 127.0.0.1:${p}
    routes: [{ name: all, pool: app }]
pools:
  app:
    capacity: 1000
    backends: [{ name: one, address: ${b.address} }]
admin: { address: 127.0.0.1:${admin} }
`);
  configFile = file;
  inst = await serveInProcess(file);
  for (let i = 0; i < 5; i++) await request(portOf(inst, 'web'));
});
after(cleanup);

describe('admin API', () => {
  it('serves Prometheus metrics with the names in DESIGN.md', async () => {
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    assert.match(text, /evenkeel_requests_total\{listener="web",route="all",pool="app",backend="one",code="200"\} 5/);
    for (const name of ['evenkeel_request_duration_seconds_bucket', 'evenkeel_backend_up{pool="app",backend="one"} 1', 'evenkeel_backend_expected_share{pool="app",backend="one"} 1', 'evenkeel_backend_observed_share', 'evenkeel_backend_utilization', 'evenkeel_config_version 1', 'evenkeel_config_info{version="1"', 'evenkeel_config_last_apply_timestamp_seconds', 'evenkeel_active_connections']) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
  });

  it('generates the token into <store.path>/admin.token with mode 0600', () => {
    const file = join(dir, 'store', 'admin.token');
    assert.equal(inst.token.file, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('refuses a reload without the token and applies one with it', async () => {
    const url = `http://127.0.0.1:${admin}/api/v1/reload`;
    assert.equal((await fetch(url, { method: 'POST' })).status, 401);
    assert.equal((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status, 403);
    const token = readFileSync(inst.token.file, 'utf8').trim();
    // The file changed: the reload is a change like any other, and starts as canary version 2 beside version 1.
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('capacity: 1000', 'capacity: 900'));
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { applied: boolean; version: number; canary: { version: number } };
    assert.deepEqual([body.applied, body.version, body.canary.version], [true, 1, 2]);
  });

  it('refuses to start with a non-loopback admin address and no tokenFile', async () => {
    const d = tempDir();
    const file = join(d, 'x.yaml');
    writeFileSync(file, `listeners:\n  - { name: web, address: 127.0.0.1:${await freePort()}, routes: [{ name: all, pool: app }] }\npools:\n  app: { backends: [{ address: 127.0.0.1:1 }] }\nadmin: { address: 0.0.0.0:${await freePort()} }\nstore: { path: ${join(d, 'store')} }\n`);
    const report = validateFile(file);
    assert.ok(report.config);
    await assert.rejects(Instance.start({ file, config: report.config, log: false }), (err: Error & { code?: string }) => err.code === 'EK_E_ADMIN_EXPOSED');
  });
});
