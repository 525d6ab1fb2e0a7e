/**
 * Issue 4's acceptance scenario, as behaviour (the figures against their goals are
 * `npm run replay`; both run bench/replay/scenario.ts): four servers of 400 req/s, 1,000
 * req/s through a real `evenkeel serve`, and the outage's change (three of four backends at
 * weight 0) applied three ways, each on a fresh instance and store. Shorter phases than the
 * benchmark's; the compiled CLI (`npm test` builds it first).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusalLines, runPhase, type JournalEvent, type PhaseResult, type ReplayOptions } from '../../bench/replay/scenario.ts';
import { assertTheChangeReachedTheTraffic } from './harm.ts';

const options: ReplayOptions = { steadyMs: 4000, afterMs: 8000 };

const types = (r: PhaseResult) => r.events.map((e: JournalEvent) => e.type);
const output = (r: PhaseResult) => `exit ${r.apply.code}\n${r.apply.stdout}${r.apply.stderr}`;

describe('the outage replayed: four servers of 400 req/s, 1,000 req/s, three of four backends set to weight 0', () => {
  it('apply refuses the change with a finding naming the backend, and no request fails', async () => {
    const r = await runPhase('refused', options);
    assert.equal(r.apply.code, 1, output(r));
    assert.ok(refusalLines(r.apply.stdout).some((l) => /\bweb-1\b/.test(l)), `an error finding names web-1:\n${r.apply.stdout}`);
    assert.ok(types(r).includes('config.refused'), 'the refusal is journalled');
    assert.equal(r.versionAfter, r.versionBefore, 'nothing changed');
    assert.ok(r.traffic.totals.sent > 5000, 'the load ran');
    assert.equal(r.traffic.totals.failed, 0, JSON.stringify(r.traffic.totals));
  });

  it('apply --force runs the change as a canary, which is aborted; the active version never changes', async () => {
    const r = await runPhase('canary', options);
    assert.equal(r.apply.code, 1, output(r));
    const t = types(r);
    assert.ok(t.includes('canary.started'), t.join(', '));
    assert.ok(t.includes('canary.aborted'), t.join(', '));
    assert.ok(!t.includes('canary.promoted') && !t.includes('rollback.auto'), `the canary neither promoted nor needed a rollback: ${t.join(', ')}`);
    assert.equal(r.versionBefore, 1);
    assert.equal(r.versionAfter, 1);
  });

  it('apply --force --no-canary serves the change; the monitors fire and roll back to v1, and the traffic recovers', async (ctx) => {
    const r = await runPhase('rollback', options);
    assert.equal(r.apply.code, 0, output(r));
    const t = types(r);
    const fired = t.indexOf('alert.fired');
    const rolled = t.indexOf('rollback.auto');
    assert.ok(fired >= 0 && rolled > fired, `an alert, then an automatic rollback: ${t.join(', ')}`);
    assert.equal(r.events[rolled].data.to, 1);
    assert.equal(r.versionAfter, 1, 'v1 serves again');
    assertTheChangeReachedTheTraffic(r, fired, ctx);
    const full = r.traffic.timeline.filter((s) => s.sent >= 900);
    const last = full.slice(-3);
    assert.ok(last.length === 3 && last.every((s) => s.failed <= s.sent / 100), `the last seconds are back to normal: ${JSON.stringify(last)}`);
    assert.match(r.report ?? '', /Automatic rollback to v1/);
  });
});
