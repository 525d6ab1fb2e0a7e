/** `evenkeel serve` as a process: prints where it listens; SIGHUP reloads; SIGTERM drains in-flight requests, then exits 0. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, request, spawnServe, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

async function config(slowMs: number) {
  const fast = await startBackend();
  const slow = await startBackend((_req, res) => setTimeout(() => res.end('slow done'), slowMs));
  const [p, admin] = [await freePort(), await freePort()];
  const dir = tempDir();
  const text = (target: string) => `
listeners:
  - name: web
    address: 127.0.0.1:${p}
    routes:
      - { name: slow, match: { pathPrefix: /slow }, pool: slow }
      - { name: all, pool: ${target} }
pools:
  fast: { backends: [{ name: f, address: ${fast.address} }] }
  slow: { backends: [{ address: ${slow.address} }] }
admin: { address: 127.0.0.1:${admin} }
guardrails: { rollout: { canaryDuration: 1s } }
`;
  const file = await writeConfig(dir, text('fast'));
  return { file, port: p, admin, slow, rewrite: (target: string) => writeFileSync(file, `${text(target)}\nstore: { path: ${dir}/store }\n`) };
}

describe('serve process lifecycle', () => {
  it('prints the listener, the admin address and the config version', async () => {
    const c = await config(10);
    const sp = await spawnServe(c.file);
    assert.match(sp.stdout, /version 1 \(file, hash [0-9a-f]{12}\)/);
    assert.match(sp.stdout, new RegExp(`listener web: http://127\\.0\\.0\\.1:${c.port}`));
    assert.match(sp.stdout, new RegExp(`admin: http://127\\.0\\.0\\.1:${c.admin}`));
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
  });

  it('SIGHUP reloads a valid config and refuses an invalid one, serving on', async () => {
    const c = await config(10);
    const sp = await spawnServe(c.file);
    c.rewrite('slow');
    sp.child.kill('SIGHUP');
    // Like any change, the reload is a canary first (1 s here), then promoted.
    await eventually(() => /canary v2 promoted|refused|aborted/.test(sp.stderr), 60_000, 'the reload');
    assert.match(sp.stderr, /applied .* \(SIGHUP\) as canary version 2: 10% of requests for 1s beside version 1/);
    assert.match(sp.stderr, /canary v2 promoted/);
    // The catch-all route now goes to the slow pool.
    assert.equal((await request(c.port)).body, 'slow done');
    writeFileSync(c.file, 'listeners: [');
    sp.child.kill('SIGHUP');
    await eventually(() => /reload refused/.test(sp.stderr), 60_000, 'the refusal');
    assert.match(sp.stderr, /still serving version 2/);
    assert.equal((await request(c.port, { path: '/slow' })).status, 200);
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
  });

  it('SIGTERM lets in-flight requests finish, refuses new connections, and exits 0', async () => {
    const c = await config(800);
    const sp = await spawnServe(c.file, ['--drain-timeout', '5s']);
    const inflight = Promise.all([request(c.port, { path: '/slow' }), request(c.port, { path: '/slow' })]);
    // SIGTERM once both requests are at the backend (in flight through the proxy), not after a
    // fixed pause that a loaded machine can outlast.
    await eventually(() => c.slow.hits === 2, 10_000, 'both requests to reach the slow backend');
    sp.child.kill('SIGTERM');
    const replies = await inflight;
    assert.deepEqual(replies.map((r) => [r.status, r.body]), [[200, 'slow done'], [200, 'slow done']]);
    assert.equal(await sp.exited, 0);
    await assert.rejects(request(c.port), /ECONNREFUSED/);
  });

  it('a config with errors is refused at start with its findings and exit code 1', async () => {
    const dir = tempDir();
    const file = await writeConfig(dir, `listeners:\n  - { name: web, address: 127.0.0.1:${await freePort()}, routes: [{ name: all, pool: missing }] }\npools: {}\n`);
    await assert.rejects(spawnServe(file), /serve exited 1: .*error EK/s);
  });
});
