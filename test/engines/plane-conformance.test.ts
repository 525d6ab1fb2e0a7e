/**
 * The plane contract (control/plane.ts), one suite for every engine: the built-in LocalPlane
 * and the HAProxy engine run the same cases with real backends and real sockets on loopback.
 * Apply serves a version and reports its backends; observed shares and the per-series counts
 * (data, what the monitors read) follow the weights after N requests; a canary slice takes its fraction and nothing after it stops; a new version
 * applies under load with no failed request; drain and close stop serving.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { validateText } from '../../src/analysis/index.js';
import type { Config } from '../../src/config/index.js';
import { LocalPlane, type Plane } from '../../src/control/plane.js';
import { HaproxyPlane } from '../../src/engines/haproxy/index.js';
import { cleanup, eventually, freePort, onCleanup, startBackend, tempDir, type Backend } from '../dataplane/helpers/harness.js';
import { NO_HAPROXY, sendSequential } from './helpers.js';

after(cleanup);

const engines: { name: string; make: () => Plane; skip?: string | false }[] = [
  { name: 'builtin (LocalPlane)', make: () => new LocalPlane() },
  { name: 'haproxy', make: () => new HaproxyPlane({ runDir: tempDir() }), skip: NO_HAPROXY },
];

function config(port: number, pools: string, routes = '[{ name: all, pool: app }]'): Config {
  const r = validateText(`listeners:\n  - { name: web, address: 127.0.0.1:${port}, routes: ${routes} }\npools:\n${pools}\nguardrails: { maxBackendShare: 1 }\n`, 'plane.yaml');
  assert.ok(r.config, r.findings.map((f) => f.message).join('\n'));
  return r.config;
}

const info = (version: number) => ({ version, hash: `h${version}`, source: `test version ${version}` });

for (const engine of engines) {
  describe(`plane contract: ${engine.name}`, { skip: engine.skip }, () => {
    let plane: Plane;
    let b: Backend[];
    let port: number;
    let agent: Agent;
    const send = (n: number) => sendSequential(port, agent, n);
    const hits = () => b.map((x) => x.hits);
    const reset = () => b.forEach((x) => (x.hits = 0));

    test('apply serves the version and reports its backends', async () => {
      b = [await startBackend(), await startBackend(), await startBackend()];
      port = await freePort();
      agent = new Agent({ connections: 4 });
      onCleanup(() => agent.close());
      plane = engine.make();
      onCleanup(() => plane.close());
      const bound = await plane.apply(config(port, `  app: { backends: [{ name: a, address: ${b[0].address}, weight: 3 }, { name: b, address: ${b[1].address}, weight: 1 }] }`), info(1));
      assert.deepEqual(bound.map((l) => [l.name, l.port]), [['web', port]]);
      assert.deepEqual(plane.backends().map((x) => [x.pool, x.backend, x.up, x.expectedShare]), [['app', 'a', true, 0.75], ['app', 'b', true, 0.25]]);
    });

    test('observed shares follow the weights after N requests', async () => {
      reset();
      assert.equal(await send(400), 0);
      assert.deepEqual(hits(), [300, 100, 0]);
      // The share window ticks every second (and HAProxy's counters are polled): wait for the
      // tick that holds the 400 requests rather than a fixed time a loaded machine can outlast.
      let obs = new Map<string, { share: number; rps: number }>();
      await eventually(async () => {
        obs = new Map((await plane.observed()).map((o) => [o.backend, o]));
        return (obs.get('a')?.rps ?? 0) + (obs.get('b')?.rps ?? 0) >= 40;
      }, 15_000, 'the 400 requests in the observed window');
      assert.ok(Math.abs(obs.get('a')!.share - 0.75) <= 0.03, JSON.stringify([...obs]));
      assert.ok(Math.abs(obs.get('b')!.share - 0.25) <= 0.03);
      assert.ok(obs.get('a')!.rps > 0);
      // The counts the monitors' feed reads, as data: exactly what each backend served.
      const counted = new Map<string, number>();
      for (const c of await plane.requestCounts()) counted.set(`${c.pool}/${c.backend}/${c.code}/${c.canary}`, (counted.get(`${c.pool}/${c.backend}/${c.code}/${c.canary}`) ?? 0) + c.requests);
      assert.deepEqual([...counted], [['app/a/200/false', 300], ['app/b/200/false', 100]]);
      const text = await plane.metricsText();
      assert.match(text, /evenkeel_requests_total\{[^}]*pool="app",backend="a",code="200"\} \d+/);
    });

    test('a canary slice takes its fraction, and nothing once it stops', async () => {
      const candidate = config(port, `  app: { backends: [{ name: a, address: ${b[0].address}, weight: 3 }, { name: b, address: ${b[1].address}, weight: 1 }] }\n  next: { backends: [{ name: c, address: ${b[2].address} }] }`, '[{ name: all, pool: next }]');
      await plane.startCanary(candidate, info(2), 0.3);
      assert.deepEqual(plane.canaryBackends().map((x) => [x.pool, x.backend]), [['app', 'a'], ['app', 'b'], ['next', 'c']]);
      reset();
      assert.equal(await send(1000), 0);
      const slice = b[2].hits / 1000;
      assert.ok(Math.abs(slice - 0.3) <= 0.05, `canary slice ${slice}`);
      await plane.stopCanary();
      assert.deepEqual(plane.canaryBackends(), []);
      reset();
      assert.equal(await send(200), 0);
      assert.equal(b[2].hits, 0);
    });

    test('a new version applies under load with no failed request', async () => {
      reset();
      let stop = false;
      let failed = 0;
      let sent = 0;
      const load = (async () => {
        while (!stop) {
          failed += await send(1);
          sent++;
        }
      })();
      await sleep(200);
      await plane.apply(config(port, `  app: { backends: [{ name: a, address: ${b[0].address} }, { name: c, address: ${b[2].address} }] }`), info(3));
      await sleep(300);
      stop = true;
      await load;
      assert.equal(failed, 0, `${failed} of ${sent} failed`);
      assert.deepEqual(plane.backends().map((x) => [x.backend, x.expectedShare]), [['a', 0.5], ['c', 0.5]]);
      reset();
      await send(100);
      assert.deepEqual(hits(), [50, 0, 50]);
    });

    test('drain and close stop serving', async () => {
      await plane.drain(1000);
      await plane.close();
      await assert.rejects(request(`http://127.0.0.1:${port}/`, { dispatcher: new Agent() }).then((r) => r.body.dump()));
    });
  });
}
