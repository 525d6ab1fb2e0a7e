/**
 * Hitless reloads on the HAProxy engine: keep-alive load at a steady rate while the plane
 * applies a new version again and again (each one `haproxy -c` plus a master CLI reload), and
 * not one request fails. `option idle-close-on-response` is what makes this hold: the old
 * worker answers its keep-alive clients with `Connection: close` instead of closing under them.
 * EVENKEEL_RELOADS sets the count (20 by default; the figure is 100 at 2,000 req/s).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import autocannon from 'autocannon';
import { validateText } from '../../src/analysis/index.js';
import { HaproxyPlane } from '../../src/engines/haproxy/index.js';
import { cleanup, freePort, onCleanup, startBackend, tempDir } from '../dataplane/helpers/harness.js';
import { NO_HAPROXY } from './helpers.js';

after(cleanup);

const RELOADS = Number(process.env.EVENKEEL_RELOADS ?? 20);
const RATE = Number(process.env.EVENKEEL_RELOAD_RPS ?? 2000);

test(`${RELOADS} reloads under ${RATE} req/s of keep-alive load fail no request`, { skip: NO_HAPROXY, timeout: 600_000 }, async () => {
  const b = [await startBackend(), await startBackend()];
  const port = await freePort();
  const plane = new HaproxyPlane({ runDir: tempDir(), hardStopAfter: '10s' });
  onCleanup(() => plane.close());
  const version = (n: number) => {
    const r = validateText(`listeners: [{ name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }]\npools:\n  app: { backends: [{ name: a, address: ${b[0].address}, weight: ${1 + (n % 2)} }, { name: b, address: ${b[1].address} }] }\n`, 'v.yaml');
    return r.config!;
  };
  await plane.apply(version(0), { version: 0, hash: 'h0', source: 'test' });
  let reloads = 0;
  let stop = false;
  const started = Date.now();
  const reloading = (async () => {
    while (reloads < RELOADS && !stop) {
      reloads++;
      await plane.apply(version(reloads), { version: reloads, hash: `h${reloads}`, source: 'test' });
    }
  })();
  // autocannon runs until the reloads are done (a duration it cannot know up front).
  const load = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 16, overallRate: RATE, duration: 600 });
  await reloading.finally(() => (stop = true));
  (load as unknown as { stop: () => void }).stop();
  const result = await load;
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`${reloads} reloads in ${seconds.toFixed(1)}s; ${result.requests.total} requests, ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts\n`);
  assert.equal(reloads, RELOADS);
  assert.ok(result.requests.total > RATE, 'the load ran');
  assert.equal(result.errors + result.non2xx + result.timeouts, 0);
});
