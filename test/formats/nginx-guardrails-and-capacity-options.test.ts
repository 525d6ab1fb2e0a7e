// What a guardrails file gives an nginx.conf (the `--guardrails GUARD.yaml` of the CLI):
// guardrails over the `# evenkeel:` comments, capacity per upstream or per server by its name
// as written; the comments alone do the same when there is no file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNginx } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';

const conf = `# evenkeel: peakRps=600 maxBackendShare=0.5
events {}
http {
    upstream app {
        server 10.0.0.11:8080; # evenkeel: capacity=500
        server app2.internal;  # evenkeel: capacity=500
    }
    server { listen 80; location / { proxy_pass http://app; } }
}
`;
const codes = (r: ReturnType<typeof analyzeLoaded>) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code} ${f.subject.backend ?? f.subject.pool ?? ''}`.trim());

test('the comments alone: 300 req/s on each of two 500 req/s servers passes', () => {
  const r = analyzeLoaded(readNginx(conf, '/x/nginx.conf'));
  assert.deepEqual(codes(r), []);
  assert.equal(r.prediction!.pools.app.backends['app2.internal'].capacity, 500);
});

test('a guardrails file raises the peak over the comment, and its capacities win', () => {
  const r = analyzeLoaded(readNginx(conf, '/x/nginx.conf', { guardrails: { traffic: { peakRps: 700 } }, capacity: { app: { 'app2.internal': 300 } } }));
  assert.equal(r.config!.guardrails.traffic!.peakRps, 700);
  assert.equal(r.config!.guardrails.maxBackendShare, 0.5);
  assert.deepEqual(codes(r), ['EK202 app2.internal']);
});

test('a number for an upstream is every server\'s capacity', () => {
  const r = analyzeLoaded(readNginx(conf.replace(/ # evenkeel: capacity=500/g, ''), '/x/nginx.conf', { capacity: { app: 200 } }));
  assert.deepEqual(Object.values(r.prediction!.pools.app.backends).map((b) => b.capacity), [200, 200]);
  assert.deepEqual(codes(r), ['EK203 app', 'EK202 10.0.0.11:8080', 'EK202 app2.internal']);
});
