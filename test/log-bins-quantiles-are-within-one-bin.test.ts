/**
 * The one log-binned histogram (core/log-bins.ts) the monitors' window and the demo's run
 * quantiles both count into: a quantile read from the bins is the true quantile or above it
 * by less than one bin's growth; values under the base land in bin 0 and past the last bin in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LogBins } from '../src/core/index.js';

test('a quantile from the bins is within one bin above the true quantile', () => {
  for (const [base, growth] of [[0.1, 1.15], [0.05, 1.02]] as const) {
    const bins = new LogBins(base, growth, 2000);
    fc.assert(fc.property(fc.array(fc.double({ min: base * 1.01, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (values, q) => {
      const counts = new Float64Array(bins.count);
      for (const v of values) counts[bins.bin(v)]++;
      const sorted = [...values].sort((a, b) => a - b);
      const truth = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
      const got = bins.quantile(counts, q)!;
      assert.ok(got >= truth * (1 - 1e-9) && got <= truth * growth * (1 + 1e-9), `q${q} of ${values.length}: ${got} for ${truth}`);
    }));
  }
});

test('edges: empty, under the base, past the last bin, and bad parameters', () => {
  const bins = new LogBins(0.1, 1.15, 120);
  assert.equal(bins.quantile(new Uint32Array(120), 0.99), null);
  assert.deepEqual([bins.bin(0), bins.bin(0.1), bins.bin(Number.NaN), bins.bin(-5)], [0, 0, 0, 0]);
  assert.equal(bins.bin(1e12), 119);
  assert.equal(bins.bin(0.1 * 1.15 ** 10), 10);
  assert.throws(() => new LogBins(0, 1.1, 10), /log bins need base > 0/);
  assert.throws(() => new LogBins(1, 1, 10), /growth > 1/);
});
