/**
 * The HAProxy engine's config canary: its share of requests is a runtime map value, so a new
 * share, and an abort (share 0), take effect at once with no reload (the reload count stays).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Agent, request } from 'undici';
import { validateText } from '../../src/analysis/index.js';
import { HaproxyPlane } from '../../src/engines/haproxy/index.js';
import { cleanup, freePort, onCleanup, startBackend, tempDir } from '../dataplane/helpers/harness.js';
import { NO_HAPROXY } from './helpers.js';

after(cleanup);

test('the canary share changes, and an abort is instant, without a reload', { skip: NO_HAPROXY }, async () => {
  const [active, next] = [await startBackend(), await startBackend()];
  const port = await freePort();
  const cfg = (address: string) => validateText(`listeners: [{ name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }]\npools:\n  app: { backends: [{ name: s, address: ${address} }] }\n`, 'v.yaml').config!;
  const plane = new HaproxyPlane({ runDir: tempDir() });
  onCleanup(() => plane.close());
  const agent = new Agent({ connections: 2 });
  onCleanup(() => agent.close());
  const slice = async (n: number) => {
    next.hits = 0;
    for (let i = 0; i < n; i++) await (await request(`http://127.0.0.1:${port}/`, { dispatcher: agent })).body.dump();
    return next.hits / n;
  };
  await plane.apply(cfg(active.address), { version: 1, hash: 'h1', source: 'test' });
  await plane.startCanary(cfg(next.address), { version: 2, hash: 'h2', source: 'test' }, 0.5);
  const reloads = plane.engineInfo().reloads;
  assert.ok(Math.abs((await slice(600)) - 0.5) <= 0.07);
  await plane.setCanaryFraction(0.1);
  assert.ok(Math.abs((await slice(600)) - 0.1) <= 0.04);
  await plane.setCanaryFraction(0);
  assert.equal(await slice(200), 0);
  assert.equal(plane.engineInfo().reloads, reloads, 'no reload for a new share');
  await plane.stopCanary();
  assert.equal(plane.engineInfo().reloads, reloads + 1, 'stopping renders the active version alone');
});
