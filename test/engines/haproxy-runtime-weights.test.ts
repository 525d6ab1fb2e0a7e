/**
 * What of a version change the HAProxy engine sends to the running worker before its reload
 * (src/engines/haproxy/runtime.ts): the weights of servers both rendered texts have in the same
 * backend at the same address, exactly as the writer renders them (scaled into 0–256); a server
 * added, removed or moved waits for the reload.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateText } from '../../src/analysis/index.js';
import { renderHaproxy } from '../../src/formats/haproxy/write.js';
import { weightChanges, weightCommand } from '../../src/engines/haproxy/runtime.js';

function rendered(backends: string): string {
  const { config } = validateText(`listeners:
  - { name: web, address: 127.0.0.1:8080, routes: [{ name: all, pool: app }] }
pools:
  app:
    backends:
${backends}
`, 'x.yaml');
  return renderHaproxy(config!).text;
}

test('the weight changes of servers both versions have, in the rendered scale', () => {
  const before = rendered(`      - { name: s1, address: 127.0.0.1:9001, weight: 1 }
      - { name: s2, address: 127.0.0.1:9002, weight: 0 }
      - { name: s3, address: 127.0.0.1:9003, weight: 0 }
      - { name: gone, address: 127.0.0.1:9004 }`);
  const after = rendered(`      - { name: s1, address: 127.0.0.1:9001, weight: 0 }
      - { name: s2, address: 127.0.0.1:9002, weight: 1 }
      - { name: s3, address: 127.0.0.1:9999, weight: 1 }
      - { name: new, address: 127.0.0.1:9005, weight: 0.5 }`);
  assert.deepEqual(weightChanges(before, after), [
    { backend: 'app', server: 's1', weight: 0 },
    // `new` at 0.5 makes the writer scale the pool: s2's 1 is rendered 256.
    { backend: 'app', server: 's2', weight: 256 },
  ]);
  assert.equal(weightCommand({ backend: 'app', server: 's2', weight: 1 }), 'set server app/s2 weight 1');
  const scaled = rendered(`      - { name: s1, address: 127.0.0.1:9001, weight: 0.5 }
      - { name: s2, address: 127.0.0.1:9002, weight: 1 }`);
  assert.deepEqual(weightChanges(before, scaled), [{ backend: 'app', server: 's1', weight: 128 }, { backend: 'app', server: 's2', weight: 256 }]);
  assert.deepEqual(weightChanges(after, after), []);
});
