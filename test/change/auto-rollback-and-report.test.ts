/**
 * The third and fourth lines of defence against a real serve: a forced change that sends
 * most of the pool's traffic to one backend, under steady load, makes a monitor fire; inside
 * the bake window evenkeel rolls back to the last known-good version by itself and journals
 * why; outside it, it alerts only. `evenkeel report` then writes the postmortem naming the change.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually } from '../dataplane/helpers/harness.js';
import { evenkeel, journal, serve, site, steadyTraffic, webhookReceiver, type Site } from './helpers.js';

after(cleanup);

/**
 * The site's config with a short monitor window (quick resolution), capacities far above what
 * the test's load reaches (so only the concentration of the bad change fires), and `extra`
 * guardrails lines.
 */
function withGuardrails(s: Site, weights: [number, number], extra = ''): string {
  return s.text(weights).replace('capacity: 500', 'capacity: 50000').replace('  traffic: { peakRps: 600 }\n', `  traffic: { peakRps: 1000 }\n  rollback: { window: 5s }\n${extra}`);
}

describe('monitors on live traffic', () => {
  it('a forced concentrating change fires an alert, rolls back by itself, and the report names the change', async () => {
    const s = await site();
    s.write(withGuardrails(s, [1, 1]));
    await serve(s);
    const load = steadyTraffic(s.port);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const start = new Date().toISOString();
      const bad = s.write(withGuardrails(s, [9, 1]), 'bad.yaml');
      const forced = await evenkeel(['apply', bad, '--force', '--no-canary', '--reason', 'send b1 the traffic', '--author', 'alice', '-c', s.file]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
      assert.match(forced.stdout, /now serving version 2 \(forced/);

      await eventually(async () => (await journal(s)).some((e) => e.type === 'rollback.auto'), 60_000, 'an automatic rollback');
      const events = await journal(s);
      const fired = events.find((e) => e.type === 'alert.fired');
      assert.ok(fired, 'alert.fired is journalled');
      assert.equal(fired.version, 2);
      assert.equal(typeof fired.data.id, 'string');
      assert.equal(typeof (fired.data.shares as Record<string, number>).b1, 'number');
      assert.match(String(fired.data.action), /rolled back to v1/);
      const rb = events.find((e) => e.type === 'rollback.auto')!;
      assert.equal(rb.version, 1);
      assert.equal(rb.data.from, 2);
      assert.equal(rb.data.to, 1);
      assert.equal(rb.data.monitor, fired.data.monitor);
      assert.match(String(rb.data.reason), /bake window/);
      assert.ok(events.indexOf(fired) < events.indexOf(rb), 'the alert comes before the rollback');

      const status = await evenkeel(['status', '-c', s.file]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /serving version 1 /);
      assert.match(status.stdout, /^alerts firing: /m);

      // Balanced again, the alert resolves after a quiet window (5 s here).
      await eventually(async () => (await journal(s)).some((e) => e.type === 'alert.resolved'), 60_000, 'the alert to resolve');

      const report = await evenkeel(['report', '--since', start, '-c', s.file]);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /^# Postmortem: .* after config v2/m);
      assert.match(report.stdout, /^### Issue Summary/m);
      assert.match(report.stdout, /^- End: \d{4}-/m, 'the incident closed when the alert resolved');
      assert.match(report.stdout, /^### Timeline/m);
      assert.match(report.stdout, /^### Root Cause/m);
      assert.match(report.stdout, /Config v2 applied by alice with --force/);
      assert.match(report.stdout, /Automatic rollback to v1 from v2/);
      assert.match(report.stdout, /weight/);
      const byId = await evenkeel(['report', '--incident', `I${fired.id}`, '-c', s.file]);
      assert.equal(byId.code, 0, byId.stderr);
      assert.match(byId.stdout, new RegExp(`Incident I${fired.id}`));
    } finally {
      const { ok } = await load.stop();
      assert.ok(ok > 0);
    }
  });

  it('outside the bake window a firing monitor alerts only, and the webhook hears of it', async () => {
    const s = await site();
    const hook = await webhookReceiver();
    s.write(withGuardrails(s, [1, 1]));
    await serve(s);
    const load = steadyTraffic(s.port);
    try {
      const bad = s.write(`${withGuardrails(s, [9, 1], '  rollout: { bakeTime: 1ms }\n')}alerts: { webhooks: [{ url: '${hook.url}' }] }\n`, 'bad.yaml');
      const forced = await evenkeel(['apply', bad, '--force', '--no-canary', '--reason', 'send b1 the traffic', '-c', s.file]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
      await eventually(async () => (await journal(s)).some((e) => e.type === 'alert.fired'), 60_000, 'an alert');
      const events = await journal(s);
      assert.match(String(events.find((e) => e.type === 'alert.fired')!.data.action), /alerted only \(outside the .* bake window/);
      assert.ok(!events.some((e) => e.type.startsWith('rollback.')), 'no rollback outside the bake window');
      const status = await evenkeel(['status', '-c', s.file]);
      assert.match(status.stdout, /serving version 2 /);
      assert.match(status.stdout, /^alerts firing: [1-9]/m);
      assert.match(status.stdout, /FIRING \S+ on pool app/);
      const metrics = await (await fetch(`http://127.0.0.1:${s.admin}/metrics`)).text();
      assert.match(metrics, /^evenkeel_alerts_firing\{monitor="\S+",pool="app"\} 1$/m);
      await eventually(() => hook.bodies.length > 0, 30_000, 'the webhook notice');
      const notice = hook.bodies[0];
      assert.equal(notice.status, 'firing');
      assert.equal(notice.pool, 'app');
      assert.match(String(notice.action), /alerted only/);
      assert.deepEqual((notice.config as { version: number }).version, 2);
      assert.match(String((notice.config as { diff?: string }).diff), /weight: 1 → 9/);
    } finally {
      await load.stop();
    }
  });

  it('with workers, the primary reads the workers\' counters and rolls back the same way', async () => {
    const s = await site();
    s.write(`${withGuardrails(s, [1, 1])}workers: 2\n`);
    await serve(s);
    const load = steadyTraffic(s.port);
    try {
      const bad = s.write(`${withGuardrails(s, [9, 1])}workers: 2\n`, 'bad.yaml');
      const forced = await evenkeel(['apply', bad, '--force', '--no-canary', '--reason', 'send b1 the traffic', '-c', s.file]);
      assert.equal(forced.code, 0, forced.stdout + forced.stderr);
      await eventually(async () => (await journal(s)).some((e) => e.type === 'rollback.auto'), 60_000, 'an automatic rollback');
      const events = await journal(s);
      assert.equal(events.find((e) => e.type === 'alert.fired')?.data.monitor, 'concentration');
      assert.equal(events.find((e) => e.type === 'rollback.auto')?.data.to, 1);
    } finally {
      await load.stop();
    }
  });
});
