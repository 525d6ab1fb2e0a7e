/**
 * The incident report from a realistic journal: the seed incident replayed through the store
 * (a forced config sends everything to one backend, monitors fire, evenkeel rolls back), then
 * written up in the postmortem's shape with its figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateText } from '../../src/analysis/index.ts';
import { MemoryStore } from '../../src/control/store/index.ts';
import { findIncidents, summarizeDiff, unifiedDiff, writeReport } from '../../src/control/report/index.ts';
import { smallConfig } from '../helpers.ts';

const T0 = Date.UTC(2024, 6, 1, 14, 0, 0);
const GOOD = smallConfig({ weights: [1, 1, 1, 1], capacity: 400, peakRps: 1000 });
const BAD = smallConfig({ weights: [1, 0, 0, 0], capacity: 400, peakRps: 1000 });

/** Cumulative counters as the instance would record them: 1000 req/s, `failing` of them failing since `from`. */
function counters(t: number, failed: number) {
  const requests = (t - (T0 - 600_000)) / 1000 * 1000;
  return { requests, failed, routes: { site: { requests, failed } }, pools: { web: { requests, failed } } };
}

async function journal() {
  const store = new MemoryStore({ now: () => T0 });
  await store.addVersion({ text: GOOD, author: 'alice', reason: 'initial', status: 'active', createdAt: T0 - 600_000 }, { type: 'config.applied', time: T0 - 600_000, data: { counters: counters(T0 - 600_000, 0) } });
  await store.markKnownGood(1);
  const bad = validateText(BAD, 'bad.yaml', { previous: undefined });
  assert.equal(bad.valid, false, 'validation refuses the bad config');
  const findings = bad.findings.map(({ code, severity, message, hint }) => ({ code, severity, message, hint }));
  await store.addVersion({ text: BAD, author: 'bob', reason: 'routine update', status: 'refused', createdAt: T0 - 60_000 }, { type: 'config.refused', time: T0 - 60_000, data: { author: 'bob', findings } });
  await store.addVersion({ text: BAD, author: 'bob', reason: 'routine update, validator is wrong', status: 'active', createdAt: T0 }, {
    type: 'config.applied', time: T0, data: { author: 'bob', reason: 'routine update, validator is wrong', forced: true, previous: 1, findings, prediction: bad.prediction, counters: counters(T0, 40) },
  });
  const alert = (monitor: string, backend: string | null, t: number, summary: string, figures: Record<string, number>) => ({
    id: `${monitor}:web:${backend ?? ''}:${t}`, monitor, pool: 'web', backend, summary, figures, shares: { 'web-1': 1, 'web-2': 0, 'web-3': 0, 'web-4': 0 },
  });
  const errorRate = alert('error-rate', 'web-1', T0 + 3000, 'pool web: 58.0% of 2900 requests failed with 5xx over the window (limit 5.0%), most from web-1 (1682)', { errorRate: 0.58, errors: 1682, requests: 2900 });
  const overload = alert('overload', 'web-1', T0 + 5000, 'backend web-1 of pool web receives 1000 req/s, 250.0% of its capacity 400 req/s (share 100.0%)', { rps: 1000, capacity: 400, utilization: 2.5 });
  await store.appendEvent({ type: 'alert.fired', version: 4 - 1, time: T0 + 3000, data: { ...errorRate, counters: counters(T0 + 3000, 40 + 1800) } });
  await store.appendEvent({ type: 'alert.fired', version: 3, time: T0 + 5000, data: overload });
  await store.activate(1, { previousStatus: 'rolled-back', event: { type: 'rollback.auto', time: T0 + 5200, data: { from: 3, to: 1, monitor: 'error-rate' } } });
  await store.appendEvent({ type: 'alert.resolved', version: 1, time: T0 + 40_000, data: { ...overload, counters: counters(T0 + 40_000, 40 + 3100) } });
  await store.appendEvent({ type: 'alert.resolved', version: 1, time: T0 + 47_000, data: { ...errorRate, counters: counters(T0 + 47_000, 40 + 3150) } });
  // A later, unrelated alert: a second incident.
  await store.appendEvent({ type: 'alert.fired', time: T0 + 3_600_000, data: { id: 'latency:web::x', monitor: 'latency', pool: 'web', summary: 'pool web: p99 latency 2600 ms' } });
  return { events: await store.events(), versions: await store.list() };
}

test('incidents open on the first firing and close when the last alert resolves', async () => {
  const { events } = await journal();
  const incidents = findIncidents(events);
  assert.deepEqual(incidents.map((i) => [i.start - T0, i.end === null ? null : i.end - T0, i.fired.length, i.resolved.length]), [[3000, 47_000, 2, 2], [3_600_000, null, 1, 0]]);
});

test('the report has the postmortem sections, the figures, the diff, the distribution and the rollback', async () => {
  const { events, versions } = await journal();
  const id = findIncidents(events)[0].id;
  const md = writeReport({ events, versions, incident: id });
  const sections = md.split('\n').filter((l) => l.startsWith('#')).map((l) => l.replace(/:.*/, ''));
  assert.deepEqual(sections, ['# Postmortem', '### Issue Summary', '### Timeline', '### Root Cause and Resolution', '### Corrective and Preventative Measures', '### Conclusion']);
  // Issue Summary: times, duration, impact.
  assert.match(md, /- Start: 2024-07-01 14:00:03 UTC/);
  assert.match(md, /- End: 2024-07-01 14:00:47 UTC/);
  assert.match(md, /- Duration: 44s/);
  assert.match(md, /- Failed requests: 3150 of 47000 \(6\.7%\) from 14:00:00 UTC to 14:00:47 UTC/);
  assert.match(md, /- Affected routes: site/);
  assert.match(md, /- Affected pools: web/);
  assert.match(md, /Config v3 \(bob: "routine update, validator is wrong"\), applied with --force, changed pools\.web\.backends\[1\]\.weight: 1 → 0/);
  // Timeline: every event from the change to the end, in UTC.
  const timeline = md.split('### Timeline\n')[1].split('\n\n')[0].split('\n');
  assert.deepEqual(timeline.map((l) => l.slice(0, 20)), ['- **14:00:00 UTC**: ', '- **14:00:03 UTC**: ', '- **14:00:05 UTC**: ', '- **14:00:05 UTC**: ', '- **14:00:40 UTC**: ', '- **14:00:47 UTC**: ']);
  assert.match(timeline[0], /Config v3 applied by bob with --force .*EK209/);
  assert.match(timeline[3], /Automatic rollback to v1 from v3/);
  // Root cause: the line diff and predicted vs observed.
  assert.ok(md.includes('```diff\n--- v1\n+++ v3\n'));
  assert.ok(md.includes('-      - { name: web-2, address: 10.0.0.2:8080, weight: 1 }\n'));
  assert.ok(md.includes('+      - { name: web-2, address: 10.0.0.2:8080, weight: 0 }\n'));
  assert.match(md, /\| web-1 \| 100\.0% \| 1000 \| 100\.0% \|/);
  assert.match(md, /\| web-2 \| 0\.0% \| 0 \| 0\.0% \|/);
  // Resolution and measures.
  assert.match(md, /evenkeel rolled back automatically from v3 to the last known-good v1 at 14:00:05 UTC \(error-rate fired inside the bake window\)/);
  assert.match(md, /forced past \d+ error findings? that predicted this: .*EK209/);
  assert.match(md, /- \[ \] EK209: /);
  assert.match(md, /- \[ \] Check declared capacities/);
  assert.match(md, /evenkeel detected the problem 3s after the change, and evenkeel rolled it back by itself 5\.2s after it\. The incident lasted 44s; 6\.7% of requests failed from the change to the end/);
});

test('a range with two incidents gives two reports; an open incident says so; a quiet range says there is none', async () => {
  const { events, versions } = await journal();
  const both = writeReport({ events, versions, now: T0 + 3_660_000 });
  assert.equal(both.split('\n---\n').length, 2);
  assert.match(both, /still open at 2024-07-01 15:01:00 UTC/);
  assert.match(both, /No config change in the hour before the first alert/);
  const quiet = writeReport({ events: events.filter((e) => !e.type.startsWith('alert.')), versions });
  assert.match(quiet, /No monitor fired in this range/);
  assert.match(quiet, /- \*\*14:00:00 UTC\*\*: Config v3 applied/);
});

test('diffs: unified hunks with context, and a key-by-key summary', () => {
  const d = unifiedDiff(GOOD, BAD, 'v1', 'v2', 0);
  assert.deepEqual(d.split('\n').filter((l) => l.startsWith('@@')), ['@@ -13,3 +13,3 @@']);
  assert.equal(summarizeDiff(GOOD, BAD, 2), 'pools.web.backends[1].weight: 1 → 0; pools.web.backends[2].weight: 1 → 0; and 1 more');
  assert.equal(unifiedDiff(GOOD, GOOD, 'a', 'b'), '');
});

test('diffs: the hunks are the ones diff(1) prints, for an empty side and for a config past 4M LCS cells', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-diff-'));
  try {
    const big = Array.from({ length: 3000 }, (_, i) => `      - { name: web-${i}, address: 10.0.${i >> 8}.${i & 255}:8080 }`).join('\n') + '\n';
    const cases: [string, string, number][] = [[GOOD, BAD, 3], [GOOD, BAD, 0], ['', 'listeners: []\n', 3], ['a: 1\n', '', 3], [big, big.replace('web-1500,', 'web-1500b,'), 3]];
    for (const [a, b, context] of cases) {
      writeFileSync(join(dir, 'a'), a);
      writeFileSync(join(dir, 'b'), b);
      // diff(1) exits 1 when the files differ; its first two lines are the file headers.
      const expected = spawnSync('diff', [`-U${context}`, join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' }).stdout.split('\n').slice(2).join('\n');
      const got = unifiedDiff(a, b, 'a', 'b', context);
      assert.equal(got.split('\n').slice(2).join('\n'), expected, `context ${context}, ${a.length} → ${b.length} bytes`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
