/** The metrics operators expect beside evenkeel's own: process metrics, build info, retries, ejections, health-check results. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, request, serveOnePool, startBackend } from './helpers/harness.js';

after(cleanup);

describe('/metrics', () => {
  it('has process metrics, build info, and counts retries, ejections and health checks', async () => {
    const good = await startBackend();
    const dead = `127.0.0.1:${await freePort()}`;
    const { port, inst } = await serveOnePool(`
    backends: [{ name: good, address: ${good.address} }, { name: dead, address: ${dead} }]
    healthCheck: { path: /healthz, interval: 100ms, timeout: 50ms, unhealthyThreshold: 100 }
    outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 50 }
    retries: { attempts: 1 }`);
    for (let i = 0; i < 4; i++) assert.equal((await request(port)).status, 200);
    const checks = (t: string, address: string, result: string) => Number(new RegExp(`^evenkeel_health_checks_total\\{address="${address}",result="${result}"\\} (\\d+)$`, 'm').exec(t)?.[1] ?? 0);
    // Health checks run every 100 ms: wait for one of each kind rather than a fixed time a loaded machine can outlast.
    let text = '';
    await eventually(async () => {
      text = await (await fetch(`http://127.0.0.1:${inst.admin.port}/metrics`)).text();
      return checks(text, good.address, 'pass') >= 1 && checks(text, dead, 'fail') >= 1;
    }, 10_000, 'a passed and a failed health check in /metrics');
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^process_resident_memory_bytes \d/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.match(text, /^evenkeel_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*"\} 1$/m);
    // The dead backend's connect failure was retried on the good one once, then it was ejected.
    assert.equal(value(/^evenkeel_retries_total\{listener="web",route="all",pool="app"\} (\d+)$/m), 1);
    assert.equal(value(new RegExp(`^evenkeel_ejections_total\\{address="${dead}"\\} (\\d+)$`, 'm')), 1);
    assert.ok(value(new RegExp(`^evenkeel_health_checks_total\\{address="${good.address}",result="pass"\\} (\\d+)$`, 'm')) >= 1);
    assert.ok(value(new RegExp(`^evenkeel_health_checks_total\\{address="${dead}",result="fail"\\} (\\d+)$`, 'm')) >= 1);
  });
});
