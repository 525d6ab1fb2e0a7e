/** Property: whatever bytes arrive, loading and validating yields findings, never an exception. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigBuffer } from '../src/config/index.ts';
import { analyzeLoaded } from '../src/analysis/index.ts';
import { CODES } from '../src/config/findings.ts';

function check(buf: Buffer): void {
  const report = analyzeLoaded(parseConfigBuffer(buf, 'fuzz.yaml'));
  for (const f of report.findings) {
    assert.ok(f.code in CODES, `unknown code ${f.code}`);
    assert.equal(typeof f.message, 'string');
    assert.equal(typeof f.hint, 'string');
    if (f.severity === 'error') assert.equal(report.valid, false);
  }
}

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/);
const address = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `10.0.0.${h}:${p}`),
  fc.string(),
);
const backend = fc.record({ name: fc.option(name, { nil: undefined }), address, weight: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constant(0), fc.double()), capacity: fc.option(fc.integer({ min: -5, max: 1000 }), { nil: undefined }) }, { requiredKeys: ['address'] });
const pool = fc.record({
  algorithm: fc.constantFrom('round-robin', 'least-request', 'random', 'consistent-hash', 'weird'),
  hashOn: fc.option(fc.constantFrom('header:x-user-id', 'cookie:sid', 'client-ip', 'path', 'bogus'), { nil: undefined }),
  capacity: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
  backends: fc.array(backend, { maxLength: 5 }),
  healthCheck: fc.option(fc.record({ interval: fc.constantFrom('1s', '2s', '500ms', 'x'), timeout: fc.constantFrom('1s', '3s', '100ms'), unhealthyThreshold: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
}, { requiredKeys: ['backends'] });
const route = fc.record({
  name,
  match: fc.option(fc.record({ host: fc.constantFrom('a.example.com', '*.example.com', 'b.example.com'), pathPrefix: fc.constantFrom('/', '/api/', '/api/v1/'), methods: fc.constantFrom(['GET'], ['GET', 'POST']) }, { requiredKeys: [] }), { nil: undefined }),
  pool: fc.option(name, { nil: undefined }),
  split: fc.option(fc.array(fc.record({ pool: name, weight: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
}, { requiredKeys: ['name'] });
const config = fc.record({
  listeners: fc.array(fc.record({ name, address: fc.constantFrom('0.0.0.0:8080', '127.0.0.1:8080', '127.0.0.1:9000'), protocol: fc.constantFrom('http', 'tcp'), routes: fc.option(fc.array(route, { maxLength: 4 }), { nil: undefined }), pool: fc.option(name, { nil: undefined }) }, { requiredKeys: ['name', 'address'] }), { maxLength: 3 }),
  pools: fc.dictionary(name, pool, { maxKeys: 4 }),
  guardrails: fc.option(fc.record({ traffic: fc.record({ peakRps: fc.integer({ min: 1, max: 5000 }), routes: fc.dictionary(name, fc.integer({ min: 1, max: 3000 }), { maxKeys: 2 }) }, { requiredKeys: [] }), tolerateFailures: fc.integer({ min: 0, max: 3 }), maxBackendShare: fc.double({ min: 0, max: 1, noNaN: true }) }, { requiredKeys: [] }), { nil: undefined }),
}, { requiredKeys: ['listeners', 'pools'] });

test('generated configs never make the analysis throw', () => {
  fc.assert(fc.property(config, (c) => check(Buffer.from(stringify(c)))), { numRuns: 400 });
});

test('arbitrary text never makes the loader throw', () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => check(Buffer.from(s))), { numRuns: 500 });
});

test('arbitrary bytes never make the loader throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(Buffer.from(b))), { numRuns: 500 });
});

test('YAML-looking garbage (anchors, tags, nesting) never makes the loader throw', () => {
  const token = fc.constantFrom('a: ', '- ', '&x ', '*x ', '!!str ', '{', '}', '[', ']', ':', '\n', '  ', '"', "'", '#', '? ', '|', '>', 'listeners', 'pools', 'backends', '<<: *x', '~', 'null', '1e999');
  fc.assert(fc.property(fc.array(token, { maxLength: 60 }), (ts) => check(Buffer.from(ts.join('')))), { numRuns: 800 });
});

test('regression: an alias bomb is refused, not expanded', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
  const report = analyzeLoaded(parseConfigBuffer(Buffer.from(bomb.join('\n')), 'bomb.yaml'));
  assert.equal(report.valid, false);
  assert.equal(report.findings[0].code, 'EK100');
});
