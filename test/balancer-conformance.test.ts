/**
 * One conformance suite for every balancer behind `pick()`: exact distributions where the
 * algorithm is deterministic, weight 0 never picked, -1 when nothing is usable, and minimal
 * remapping for the hash when a backend leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer, MaglevTable, type AlgorithmName, type Endpoint, type EndpointView } from '../src/balancer/index.ts';

function endpoints(weights: number[]): Endpoint[] {
  return weights.map((weight, i) => ({ name: `b${i}`, address: `10.0.0.${i + 1}:80`, weight }));
}

function view(weights: number[], inflight: number[] = weights.map(() => 0)): EndpointView & { generation: number } {
  return { weight: (i) => weights[i], inflight: (i) => inflight[i], generation: 0 };
}

/** Deterministic random source so the statistical algorithms give the same counts every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

function counts(alg: AlgorithmName, weights: number[], picks: number, keyOf: (i: number) => string | undefined = () => undefined): number[] {
  const b = createBalancer(alg, endpoints(weights), view(weights), seeded(7));
  const out = weights.map(() => 0);
  for (let i = 0; i < picks; i++) {
    const p = b.pick(keyOf(i));
    assert.ok(p >= 0, 'a usable endpoint exists');
    out[p]++;
  }
  return out;
}

const ALGORITHMS: AlgorithmName[] = ['round-robin', 'least-request', 'random', 'consistent-hash'];

test('round-robin: weights 3:1 give exactly 3 and 1 over 4 picks', () => {
  assert.deepEqual(counts('round-robin', [3, 1], 4), [3, 1]);
});

test('round-robin: exact proportions over every full cycle, table-driven', () => {
  const cases: { weights: number[]; picks: number; want: number[] }[] = [
    { weights: [1, 1, 1, 1], picks: 8, want: [2, 2, 2, 2] },
    { weights: [5, 1, 1], picks: 7, want: [5, 1, 1] },
    { weights: [2, 0, 2], picks: 4, want: [2, 0, 2] },
    { weights: [0.5, 1.5], picks: 8, want: [2, 6] },
  ];
  for (const c of cases) assert.deepEqual(counts('round-robin', c.weights, c.picks), c.want, JSON.stringify(c.weights));
});

test('round-robin is smooth: weights 5:1:1 never send more than 2 in a row to the heavy one', () => {
  const b = createBalancer('round-robin', endpoints([5, 1, 1]), view([5, 1, 1]));
  const seq = Array.from({ length: 7 }, () => b.pick()).join('');
  assert.equal(seq, '0010200');
});

for (const alg of ALGORITHMS) {
  test(`${alg}: weight 0 is never picked`, () => {
    const c = counts(alg, [1, 0, 2, 0], 4000, (i) => `user-${i}`);
    assert.equal(c[1], 0);
    assert.equal(c[3], 0);
    assert.ok(c[0] > 0 && c[2] > 0);
  });

  test(`${alg}: returns -1 when nothing is usable`, () => {
    const b = createBalancer(alg, endpoints([0, 0]), view([0, 0]), seeded(1));
    assert.equal(b.pick('k'), -1);
    assert.equal(b.pick(), -1);
  });

  test(`${alg}: shares follow weights 3:1 within 3 points over 20,000 picks`, () => {
    const c = counts(alg, [3, 1], 20000, (i) => `user-${i}`);
    const share = c[0] / 20000;
    assert.ok(Math.abs(share - 0.75) < 0.03, `share ${share}`);
  });

  test(`${alg}: a backend that goes down (view weight 0) stops getting picks`, () => {
    const weights = [1, 1, 1];
    const v = view(weights);
    const b = createBalancer(alg, endpoints([1, 1, 1]), v, seeded(3));
    weights[1] = 0;
    v.generation++;
    for (let i = 0; i < 3000; i++) assert.notEqual(b.pick(`k${i}`), 1);
  });
}

test('least-request prefers the endpoint with fewer requests in flight', () => {
  const b = createBalancer('least-request', endpoints([1, 1]), view([1, 1], [50, 0]), seeded(5));
  const c = [0, 0];
  for (let i = 0; i < 1000; i++) c[b.pick()]++;
  assert.equal(c[0], 0, 'with two endpoints both are always compared, so the idle one always wins');
});

test('consistent-hash: the same key always reaches the same backend', () => {
  const b = createBalancer('consistent-hash', endpoints([1, 1, 1, 1]), view([1, 1, 1, 1]));
  for (let i = 0; i < 100; i++) {
    const first = b.pick(`user-${i}`);
    for (let j = 0; j < 5; j++) assert.equal(b.pick(`user-${i}`), first);
  }
});

test('consistent-hash: when a backend leaves, only its own keys move', () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  const before = new MaglevTable(names, [1, 1, 1, 1, 1]);
  const after = new MaglevTable(names, [1, 1, 0, 1, 1]);
  let moved = 0;
  let owned = 0;
  for (let i = 0; i < 50000; i++) {
    const k = `user-${i}`;
    const x = before.lookup(k);
    if (x === 2) owned++;
    else if (x !== after.lookup(k)) moved++;
  }
  assert.ok(owned > 8000, `c owned ${owned}`);
  // Maglev is near-minimal: a small fraction of other keys may move. Bound it at 2% of all keys.
  assert.ok(moved / 50000 < 0.02, `moved ${moved} keys that c did not own`);
});

test('maglev: slot shares are within 0.5% of the weights (bounded imbalance)', () => {
  const t = new MaglevTable(['a', 'b', 'c', 'd'], [2, 1, 1, 0]);
  const s = t.slotShares(4);
  assert.ok(Math.abs(s[0] - 0.5) < 0.005 && Math.abs(s[1] - 0.25) < 0.005 && Math.abs(s[2] - 0.25) < 0.005, JSON.stringify(s));
  assert.equal(s[3], 0);
});

test('consistent-hash without a key spreads by weight instead of piling onto one backend', () => {
  assert.deepEqual(counts('consistent-hash', [1, 1, 1, 1], 8), [2, 2, 2, 2]);
});
