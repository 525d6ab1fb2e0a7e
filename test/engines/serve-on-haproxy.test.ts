/**
 * `evenkeel serve` with `engine: haproxy`: the same instance (store, change manager, monitors,
 * status) on HAProxy. A canaried change is promoted through a reload; a version HAProxy cannot
 * load (its port is taken) is not served and the old worker keeps answering; a killed worker
 * is restarted and journalled; status names the engine; a missing binary is one clear line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Agent } from 'undici';
import type { Instance } from '../../src/control/instance.js';
import { cleanup, eventually, freePort, onCleanup, serveInProcess, spawnServe, startBackend, tempDir, writeConfig, type Backend } from '../dataplane/helpers/harness.js';
import { evenkeel } from '../change/helpers.js';
import { NO_HAPROXY, sendSequential } from './helpers.js';

after(cleanup);

const cli = fileURLToPath(new URL('../dataplane/helpers/cli.ts', import.meta.url));
const skip = NO_HAPROXY;

function site(port: number, b: Backend[], weights: [number, number], extra = ''): string {
  return `listeners:
  - { name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }
pools:
  app:
    healthCheck: { path: /healthz, interval: 1s, timeout: 500ms }
    backends:
      - { name: a, address: ${b[0].address}, weight: ${weights[0]} }
      - { name: b, address: ${b[1].address}, weight: ${weights[1]} }
guardrails:
  maxBackendShare: 1
  maxShift: 1
  rollout: { canaryPercent: 50, canaryDuration: 2s, bakeTime: 1m }
engine: haproxy
${extra}`;
}

describe('serve on the haproxy engine', { skip }, () => {
  let inst: Instance;
  let port: number;
  let b: Backend[];
  let dir: string;
  const agent = new Agent({ connections: 2 });
  const send = (n: number) => sendSequential(port, agent, n);

  test('serves the file as version 1 through haproxy, and status names the engine', async () => {
    onCleanup(() => agent.close());
    b = [await startBackend(), await startBackend()];
    port = await freePort();
    dir = tempDir();
    inst = await serveInProcess(await writeConfig(dir, site(port, b, [1, 1])));
    assert.equal(await send(20), 0);
    assert.deepEqual([b[0].hits, b[1].hits], [10, 10]);
    const s = (await inst.status()) as { engine: { type: string; version: string; masterPid: number }; version: number };
    assert.equal(s.engine.type, 'haproxy');
    assert.match(s.engine.version, /^2\.\d+/);
    assert.ok(s.engine.masterPid > 0);
    // Asynchronously: the instance answering is in this process.
    const status = await evenkeel(['status', '--admin', `http://127.0.0.1:${inst.admin.port}`], { env: { EVENKEEL_TOKEN: inst.token.token } });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^engine: haproxy 2\.\d+\S* \(master pid \d+, worker pid \d+, 0 reloads, 0 restarts\)$/m);
  });

  test('a canaried change is judged on haproxy counters and promoted through a reload', async () => {
    const text = site(port, b, [3, 1]);
    const file = join(dir, 'v2.yaml');
    writeFileSync(file, text);
    const r = await inst.changes.apply({ text, file, author: 'test', reason: 'weights 3:1' });
    assert.ok(r.canary, JSON.stringify(r));
    let failed = 0;
    const deadline = Date.now() + 15_000;
    // Promotion clears the canary, then reloads haproxy with the candidate alone.
    while (inst.changes.active.id !== r.canary!.version && Date.now() < deadline) failed += await send(20);
    assert.equal(failed, 0);
    const judged = (await inst.store.events({ type: ['canary.promoted', 'canary.aborted'] })).map((e) => JSON.stringify(e.data)).join('\n');
    assert.equal(inst.changes.active.id, r.canary!.version, `the canary was promoted: ${judged}`);
    b[0].hits = b[1].hits = 0;
    await send(40);
    assert.deepEqual([b[0].hits, b[1].hits], [30, 10]);
  });

  test('a version haproxy cannot load is not served; the old worker keeps answering', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    onCleanup(() => new Promise<void>((r) => taken.close(() => r())));
    const busy = (taken.address() as net.AddressInfo).port;
    const before = inst.changes.active.id;
    const text = `${site(port, b, [3, 1])}`.replace('routes: [{ name: all, pool: app }] }', `routes: [{ name: all, pool: app }] }\n  - { name: more, address: 127.0.0.1:${busy}, routes: [{ name: more, pool: app }] }`);
    const r = await inst.changes.apply({ text, file: join(dir, 'v3.yaml'), author: 'test', reason: 'a listener on a taken port' });
    assert.equal(r.applied, false, JSON.stringify(r));
    assert.match(r.error ?? '', /haproxy refused the reload/);
    assert.equal(inst.changes.active.id, before);
    assert.equal(await send(20), 0);
  });

  test('a killed haproxy worker is restarted and journalled', async () => {
    const { workerPid } = (await inst.status() as { engine: { workerPid: number } }).engine;
    process.kill(workerPid, 'SIGKILL');
    await eventually(async () => ((await inst.status()) as { engine: { restarts: number } }).engine.restarts === 1, 10_000, 'haproxy restarted');
    await eventually(async () => (await send(1)) === 0, 5000, 'serving again');
    assert.equal(await send(20), 0);
    const events = (await inst.store.events({})).map((e) => e.type);
    assert.ok(events.includes('engine.exited') && events.includes('engine.restarted'), events.join(','));
  });

  test("haproxy's checks take a dead backend out: status and the journal say so", async () => {
    await b[1].kill();
    await eventually(async () => ((await inst.status()) as { backends: { backend: string; up: boolean }[] }).backends.some((x) => x.backend === 'b' && !x.up), 10_000, 'b is down');
    const health = (await inst.store.events({ type: 'backend.health' })).map((e) => e.data);
    assert.ok(health.some((d) => d.backend === 'b' && d.up === false && d.pool === 'app'), JSON.stringify(health));
    assert.equal(await send(20), 0, 'the other backend serves everything');
    // Across a reload the dead backend stays out (the server-state file carries its state;
    // a new worker would also take it out at its first failed check: the health counter
    // starts at rise, the lowest UP value).
    const text = site(port, b, [1, 2]);
    const r = await inst.changes.apply({ text, file: join(dir, 'v4.yaml'), author: 'test', reason: 'weights 1:2', force: true, canary: false });
    assert.equal(r.applied, true, JSON.stringify(r));
    await new Promise((res) => setTimeout(res, 600));
    const after = ((await inst.status()) as { backends: { backend: string; up: boolean }[] }).backends;
    assert.equal(after.find((x) => x.backend === 'b')?.up, false, JSON.stringify(after));
    assert.equal(await send(20), 0, 'the dead backend stayed out across the reload');
  });
});

test('a serve that was killed leaves haproxy running; the next serve on the store stops it and serves', { skip }, async () => {
  const b = [await startBackend(), await startBackend()];
  const port = await freePort();
  const dir = tempDir();
  const file = await writeConfig(dir, site(port, b, [1, 1]));
  const pidFile = join(dir, 'store', 'haproxy', 'haproxy.pid');
  // Whatever happens below, the haproxy this test caused is stopped (by its pid).
  onCleanup(() => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const first = await spawnServe(file);
  first.child.kill('SIGKILL');
  await first.exited;
  const orphan = Number(readFileSync(pidFile, 'utf8'));
  assert.doesNotThrow(() => process.kill(orphan, 0), 'the first haproxy master outlived its evenkeel');
  const second = await spawnServe(file);
  const agent = new Agent();
  onCleanup(() => agent.close());
  assert.equal(await sendSequential(port, agent, 10), 0);
  assert.notEqual(Number(readFileSync(pidFile, 'utf8')), orphan);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
  assert.throws(() => process.kill(Number(readFileSync(pidFile, 'utf8')), 0), 'SIGTERM stopped haproxy too');
});

test('serve fails with one line naming the package when haproxy is missing', async () => {
  const dir = tempDir();
  const file = await writeConfig(dir, site(await freePort(), [{ address: '127.0.0.1:1' } as Backend, { address: '127.0.0.1:2' } as Backend], [1, 1]).replace('engine: haproxy', 'engine: { type: haproxy, binary: /nonexistent/haproxy }'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'serve', '-c', file, '--no-log'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^evenkeel: engine haproxy: \/nonexistent\/haproxy not found: install Debian's "haproxy" package \(apt-get install haproxy\), version 2\.6 or newer/);
});
