/**
 * The monitors over simulated time: balanced pools of 2 and 4 backends with realistic jitter
 * raise nothing for minutes; each failure shape fires the right monitor within seconds and
 * resolves after recovery; a value hovering at the threshold does not flap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Monitors, type MonitorThresholds } from '../../src/telemetry/monitors/index.ts';
import { balancedTargets, drive, fired, lognormal, weighted, type Scenario } from './simulate.ts';

const T: MonitorThresholds = { windowMs: 20_000, errorRate: 0.05, skew: 0.15, maxBackendShare: 0.5, latencyP99Ms: 2000 };
const MIN = 60_000;

test('balanced pools of 2 and 4 backends run 10 simulated minutes without a single alert', () => {
  const cases = [
    { n: 2, rps: 200, capacity: 200, seed: 1 },
    { n: 4, rps: 1000, capacity: 400, seed: 2 },
    { n: 2, rps: 12, capacity: 50, seed: 3 }, // low traffic: near the minimum sample
    { n: 4, rps: 5000, capacity: 1600, seed: 4 },
  ];
  for (const c of cases) {
    const m = new Monitors(T);
    m.setTargets(balancedTargets('web', c.n, c.capacity));
    // Traffic that breathes ±20% over a minute, as real traffic does.
    const scenario: Scenario = { rps: (t) => c.rps * (1 + 0.2 * Math.sin((2 * Math.PI * t) / MIN)), pick: weighted(new Array(c.n).fill(1)), latency: lognormal(30, 0.6) };
    const seen = drive(m, 'web', c.n, scenario, 0, 10 * MIN, c.seed);
    assert.deepEqual(fired(seen), [], `${c.n} backends at ${c.rps} req/s`);
  }
});

/** Four backends of capacity 400 at 1000 req/s, answering 503 beyond their capacity. */
function overloadingStatus(capacity: number[]): Scenario['status'] {
  return (_t, b, r, load) => (load > capacity[b] && r < 1 - capacity[b] / load ? 503 : r < 0.001 ? 503 : 200);
}

interface Shape {
  name: string;
  capacity: number[];
  /** The faulty behaviour between 60 s and 120 s. */
  fault: Partial<Scenario>;
  rps?: number;
  /** Monitors that must fire (monitor/backend); nothing else may. */
  want: string[];
}

const shapes: Shape[] = [
  { name: 'all traffic to one backend (runtime fault)', capacity: [400, 400, 400, 400], fault: { pick: () => 0 }, want: ['concentration/web-1', 'error-rate/web-1', 'overload/web-1', 'skew/web-1'] },
  { name: 'one smaller backend overloaded when traffic grows', capacity: [200, 400, 400, 400], rps: 600, fault: { rps: () => 1000 }, want: ['overload/web-1'] },
  { name: 'skew against the weights without concentration', capacity: [600, 600, 600, 600], fault: { pick: weighted([0.46, 0.18, 0.18, 0.18]) }, want: ['skew/web-1'] },
  { name: 'a 503 burst from one backend', capacity: [400, 400, 400, 400], fault: { status: (_t, b, r) => (b === 1 ? 503 : r < 0.001 ? 503 : 200) }, want: ['error-rate/web-2'] },
  { name: 'a slow backend', capacity: [400, 400, 400, 400], fault: { latency: (t, b, r) => (b === 2 ? lognormal(3000, 0.2)(t, b, r) : lognormal(30)(t, b, r)) }, want: ['latency/web-3'] },
];

for (const s of shapes) {
  test(`${s.name}: ${s.want.join(', ')} fire within 10 s and resolve after recovery`, () => {
    const m = new Monitors(T);
    m.setTargets(balancedTargets('web', 4, s.capacity));
    const base: Scenario = { rps: () => s.rps ?? 1000, pick: weighted([1, 1, 1, 1]), status: overloadingStatus(s.capacity) };
    const faulty: Scenario = { ...base, ...s.fault };
    const during = (t: number) => t >= MIN && t < 2 * MIN;
    const scenario: Scenario = {
      rps: (t) => (during(t) ? faulty : base).rps(t),
      pick: (t, r) => (during(t) ? faulty : base).pick(t, r),
      status: (t, b, r, load) => ((during(t) ? faulty : base).status ?? base.status)!(t, b, r, load),
      latency: (t, b, r) => ((during(t) ? faulty : base).latency ?? lognormal(30))(t, b, r),
    };
    const seen = drive(m, 'web', 4, scenario, 0, 4 * MIN, 11);
    const fires = seen.filter((x) => x.alert.kind === 'fire');
    assert.deepEqual(fires.filter((x) => x.t < 60).map((x) => x.alert.monitor), [], 'nothing before the fault');
    assert.deepEqual([...new Set(fired(seen))].sort(), s.want, 'exactly the expected monitors fire');
    for (const f of fires) {
      assert.ok(f.t >= 60 && f.t <= 70, `${f.alert.monitor} fired at ${f.t}s, within 10 s of the fault at 60 s`);
      assert.ok(f.alert.summary.length > 20 && f.alert.value > 0);
    }
    assert.equal(fires.length, s.want.length, 'each fires once (no flapping)');
    const resolves = seen.filter((x) => x.alert.kind === 'resolve');
    assert.deepEqual(resolves.map((x) => x.alert.id).sort(), fires.map((x) => x.alert.id).sort(), 'every alert resolves');
    for (const r of resolves) assert.ok(r.t > 120 && r.t <= 180, `${r.alert.monitor} resolved at ${r.t}s: after recovery at 120 s, within a minute`);
    assert.deepEqual(m.firing(), []);
  });
}

test('a bad config (three of four weights 0): overload and error-rate fire at once; the split itself is what the config asks', () => {
  const m = new Monitors(T);
  const capacity = [400, 400, 400, 400];
  m.setTargets(balancedTargets('web', 4, 400));
  const base: Scenario = { rps: () => 1000, pick: weighted([1, 1, 1, 1]), status: overloadingStatus(capacity) };
  assert.deepEqual(fired(drive(m, 'web', 4, base, 0, MIN, 5)), []);
  m.setTargets([{ pool: 'web', backend: 'web-1', up: true, expectedShare: 1, capacity: 400 }, ...balancedTargets('web', 4, 400).slice(1).map((b) => ({ ...b, expectedShare: 0 }))]);
  const seen = drive(m, 'web', 4, { ...base, pick: () => 0 }, MIN, 2 * MIN, 6);
  assert.deepEqual([...new Set(fired(seen))].sort(), ['error-rate/web-1', 'overload/web-1']);
  for (const f of seen) assert.ok(f.t <= 65, `${f.alert.monitor} at ${f.t}s`);
  const overload = seen.find((x) => x.alert.monitor === 'overload')!.alert;
  assert.ok(overload.figures.utilization! > 2, 'about 1000 req/s on a 400 req/s backend');
  assert.equal(overload.shares['web-1'], 1);
});

test('an error rate hovering around the threshold fires once and does not flap', () => {
  const m = new Monitors(T);
  m.setTargets(balancedTargets('web', 2, 1000));
  // 3% and 9% in alternating 10 s stretches: the window sees about 6%, over the 5% limit.
  const seen = drive(m, 'web', 2, { rps: () => 300, pick: weighted([1, 1]), status: (t, _b, r) => (r < (Math.floor(t / 10_000) % 2 ? 0.09 : 0.03) ? 500 : 200) }, 0, 5 * MIN, 8);
  assert.ok(fired(seen).length <= 1, `fired ${fired(seen).length} times`);
  assert.ok(seen.filter((s) => s.alert.kind === 'resolve').length === 0);
});

test('503s evenkeel answers with no usable backend count toward the pool error rate', () => {
  const m = new Monitors(T);
  m.setTargets(balancedTargets('web', 2, 1000));
  const now = Date.UTC(2024, 5, 10, 14);
  for (let i = 0; i < 400; i++) m.record('web', null, 503, 0.2, now + i * 10);
  const fires = m.evaluate(now + 4000);
  assert.deepEqual(fires.map((a) => [a.monitor, a.backend]), [['error-rate', null]]);
  assert.match(fires[0].summary, /no usable backend/);
});

test('a pool below the minimum sample never fires, even at 100% errors', () => {
  const m = new Monitors(T);
  m.setTargets(balancedTargets('web', 2, 1));
  const now = Date.UTC(2024, 5, 10, 14);
  for (let i = 0; i < 30; i++) m.record('web', 'web-1', 503, 5000, now + i * 500);
  assert.deepEqual(m.evaluate(now + 15_000), []);
});
