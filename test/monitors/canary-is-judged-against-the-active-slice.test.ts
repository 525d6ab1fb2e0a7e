/**
 * The canary judgement: a healthy candidate is promoted at the end of the canary, a candidate
 * that would send everything to one server is aborted while it carries 10% of the traffic,
 * and one that fails more than the active version is aborted on its error rate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeCanary, Monitors, type BackendTarget, type MonitorThresholds } from '../../src/telemetry/monitors/index.ts';
import { balancedTargets, drive, weighted, type Scenario } from './simulate.ts';

const T: MonitorThresholds = { windowMs: 20_000, errorRate: 0.05, skew: 0.15, maxBackendShare: 0.5, latencyP99Ms: 2000 };
const EPOCH = Date.UTC(2024, 5, 10, 14);
const ACTIVE = balancedTargets('web', 4, 400);

/** Runs 1000 req/s split 90/10 between the active and canary slices for `seconds`, judging each second. */
function run(canaryScenario: Partial<Scenario>, canaryTargets: BackendTarget[], seconds = 30) {
  const active = new Monitors(T);
  const canary = new Monitors(T);
  active.setTargets(ACTIVE);
  canary.setTargets(canaryTargets);
  const base: Scenario = { rps: () => 900, pick: weighted([1, 1, 1, 1]) };
  const verdicts = [];
  for (let s = 0; s < seconds; s++) {
    drive(active, 'web', 4, base, s * 1000, (s + 1) * 1000, 100 + s, EPOCH);
    drive(canary, 'web', 4, { ...base, rps: () => 100, ...canaryScenario }, s * 1000, (s + 1) * 1000, 200 + s, EPOCH);
    const now = EPOCH + (s + 1) * 1000;
    const v = judgeCanary({ canary: canary.snapshot(now), active: active.snapshot(now), canaryTargets, thresholds: T, elapsedMs: (s + 1) * 1000, durationMs: seconds * 1000 });
    verdicts.push(v);
    if (v.decision !== 'wait') break;
  }
  return verdicts;
}

test('a healthy candidate waits through the canary and is promoted at its end', () => {
  const verdicts = run({}, ACTIVE);
  assert.deepEqual(verdicts.slice(0, -1).map((v) => v.decision), new Array(29).fill('wait'));
  const last = verdicts.at(-1)!;
  assert.equal(last.decision, 'promote');
  assert.ok(last.canaryRequests > 1000);
  assert.deepEqual(last.reasons, []);
});

test('a candidate sending all traffic to one server is aborted within seconds, on projected overload', () => {
  // The seed incident's config: three of four weights 0. Its own split is what it asks for,
  // so only projecting its shares onto the pool's whole rate shows the harm.
  const candidate = ACTIVE.map((b, i) => ({ ...b, expectedShare: i === 0 ? 1 : 0 }));
  const verdicts = run({ pick: () => 0 }, candidate);
  const last = verdicts.at(-1)!;
  assert.equal(last.decision, 'abort');
  assert.ok(verdicts.length <= 3, `aborted after ${verdicts.length} s`);
  const overload = last.reasons.find((r) => r.monitor === 'overload');
  assert.ok(overload, last.summary);
  assert.equal(overload.backend, 'web-1');
  assert.ok(overload.value > 900 && overload.value < 1100, `projected ${overload.value} req/s`);
  assert.match(overload.summary, /100\.0% of pool web to web-1/);
});

test('a candidate failing 8% of its requests is aborted on error rate', () => {
  const verdicts = run({ status: (_t, _b, r) => (r < 0.08 ? 502 : 200) }, ACTIVE);
  const last = verdicts.at(-1)!;
  assert.equal(last.decision, 'abort');
  assert.deepEqual(last.reasons.map((r) => r.monitor), ['error-rate']);
});

test('a canary with too little traffic to judge is promoted at the end, and says so', () => {
  const verdicts = run({ rps: () => 1 }, ACTIVE, 10);
  const last = verdicts.at(-1)!;
  assert.equal(last.decision, 'promote');
  assert.deepEqual(last.thin, ['web']);
  assert.match(last.summary, /NOT JUDGED on traffic: pool web saw \d+ canary requests, fewer than the 50 needed/);
});

test('the seed change is aborted on its weights at any load, with the drained backends counted', () => {
  // Two of three backends drained: the candidate's own usable set is one backend, so only
  // counting the active version's three shows the concentration.
  const active = balancedTargets('web', 3, 5000);
  const candidate = active.map((b, i) => ({ ...b, expectedShare: i === 0 ? 1 : 0 }));
  const empty = new Monitors(T).snapshot(EPOCH);
  const v = judgeCanary({ canary: empty, active: empty, canaryTargets: candidate, activeTargets: active, touched: new Set(['web']), thresholds: T, elapsedMs: 0, durationMs: 30_000 });
  assert.equal(v.decision, 'abort');
  assert.deepEqual(v.reasons.map((r) => [r.monitor, r.backend]), [['concentration', 'web-1']]);
  assert.deepEqual(v.pools, { web: 0 });
  // Acknowledged as maintenance, the same drain is not a concentration.
  const ack = judgeCanary({ canary: empty, active: empty, canaryTargets: candidate, activeTargets: active, touched: new Set(['web']), drainToOne: new Set(['web']), thresholds: T, elapsedMs: 0, durationMs: 30_000 });
  assert.equal(ack.decision, 'wait');
});

test('overload is judged at the projected peak of a full rollout, not at today\'s rate', () => {
  const active = balancedTargets('web', 3, 500);
  const candidate = active.map((b, i) => ({ ...b, expectedShare: i === 0 ? 1 : 0 }));
  const empty = new Monitors(T).snapshot(EPOCH);
  const peaks = new Map([['web', 900]]);
  const v = judgeCanary({ canary: empty, active: empty, canaryTargets: candidate, activeTargets: active, touched: new Set(['web']), drainToOne: new Set(['web']), projectedRps: peaks, activeProjectedRps: peaks, thresholds: T, elapsedMs: 0, durationMs: 30_000 });
  assert.equal(v.decision, 'abort');
  assert.deepEqual(v.reasons.map((r) => [r.monitor, r.backend, r.value]), [['overload', 'web-1', 900]]);
  // An untouched pool is not blamed for a peak it already had.
  const untouched = judgeCanary({ canary: empty, active: empty, canaryTargets: candidate, activeTargets: active, touched: new Set(), projectedRps: peaks, thresholds: T, elapsedMs: 0, durationMs: 30_000 });
  assert.equal(untouched.decision, 'wait');
});
