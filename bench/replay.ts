/**
 * `npm run replay`: the outage, replayed against evenkeel (issue 4's acceptance scenario; the
 * orchestration is bench/replay/scenario.ts, shared with test/replay/). Prints, per phase, the
 * figures beside their goals with PASS/FAIL, then the incident report evenkeel wrote for (c).
 * Exit 1 when a goal is missed.
 *
 * Env: REPLAY_PHASES=refused,canary,rollback (a subset), REPLAY_STEADY_S [10] and
 * REPLAY_AFTER_S [30] (traffic before the change and after it), REPLAY_RPS [1000],
 * REPLAY_ENGINE=builtin|haproxy [builtin] (the data plane: `engine: haproxy` runs the same
 * phases through HAProxy, with the same goals).
 */
import { PHASE_TITLES, refusalLines, runReplay, type PhaseName, type PhaseResult } from './replay/scenario.js';

interface Row {
  figure: string;
  value: string;
  goal: string;
  pass: boolean;
}

const num = (name: string, d: number) => (process.env[name] ? Number(process.env[name]) : d);
const phases = process.env.REPLAY_PHASES?.split(',').map((s) => s.trim() as PhaseName);
const rps = num('REPLAY_RPS', 1000);
const engine = process.env.REPLAY_ENGINE === 'haproxy' ? 'haproxy' : 'builtin';
if (process.env.REPLAY_ENGINE && process.env.REPLAY_ENGINE !== engine) throw new Error(`REPLAY_ENGINE=${process.env.REPLAY_ENGINE}: expected builtin or haproxy`);

async function main(): Promise<void> {
  const results = await runReplay({
    rps,
    steadyMs: num('REPLAY_STEADY_S', 10) * 1000,
    afterMs: num('REPLAY_AFTER_S', 30) * 1000,
    phases,
    engine,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  let allPass = true;
  const out: string[] = [];
  out.push(`\nThe outage, replayed: 4 servers of 400 req/s each (503 beyond), ${rps} req/s through evenkeel (${engine === 'haproxy' ? 'the haproxy engine' : 'the built-in engine'}), then`);
  out.push('the change that set three of the four to weight 0. Each phase on a fresh instance and store.\n');
  const table: string[][] = [['phase', 'figure', 'value', 'goal', '']];
  for (const r of results) {
    const rows = goals(r);
    rows.forEach((row, i) => table.push([i === 0 ? PHASE_TITLES[r.phase] : '', row.figure, row.value, row.goal, !row.goal ? '' : row.pass ? 'PASS' : 'FAIL']));
    allPass &&= rows.every((row) => row.pass);
  }
  out.push(formatTable(table));
  out.push('\nThe original outage: 503s for 90 minutes, about 75% of users affected, reverted by hand.');
  out.push('\nTraffic per phase (the load generator\'s view):');
  for (const r of results) {
    const t = r.traffic.totals;
    out.push(`  ${PHASE_TITLES[r.phase]}: ${t.sent} requests in ${r.traffic.seconds} s, ${t.failed} failed (${t.http5xx} 5xx, ${t.transportErrors} transport errors, ${t.notSent} not sent), p50 ${ms(t.p50Ms)}, p99 ${ms(t.p99Ms)}`);
    out.push(`      backends served/503: ${r.backends.map((b) => `${b.name} ${b.served}/${b.rejected}`).join(', ')}`);
    if (r.outages.length) out.push(`      counted out by evenkeel (ejected or unhealthy), from the change: ${r.outages.map((o) => `${o.backend} ${secs(o.from)} → ${o.to === null ? 'the end' : secs(o.to)}`).join(', ')}`);
  }
  const rollback = results.find((r) => r.phase === 'rollback');
  if (rollback) {
    out.push('\nFailed requests per second around the change in (c) (second 0 holds the change):');
    const t0 = Math.floor((rollback.changeAt - rollback.traffic.timeline[0].at) / 1000);
    out.push(`  ${rollback.traffic.timeline.slice(Math.max(0, t0 - 2), t0 + 12).map((s) => `${s.second - t0}:${s.failed}`).join('  ')}`);
    out.push('\nThe incident report evenkeel wrote for (c) (`evenkeel report --since …`):\n');
    out.push(rollback.report ?? '(none)');
  }
  process.stdout.write(`${out.join('\n')}\n`);
  process.exitCode = allPass ? 0 : 1;
}

/** Each phase's figures against the issue's goals. */
function goals(r: PhaseResult): Row[] {
  const t = r.traffic.totals;
  const failed = (limit: number): Row => ({ figure: 'failed requests', value: `${pct(t.failed / t.sent)} (${t.failed} of ${t.sent})`, goal: limit === 0 ? '0' : `≤ ${pct(limit)}`, pass: limit === 0 ? t.failed === 0 : t.failed / t.sent <= limit });
  const types = r.events.map((e) => e.type);
  if (r.phase === 'refused') {
    const errors = refusalLines(r.apply.stdout);
    const named = errors.find((l) => /\bweb-1\b/.test(l));
    return [
      { figure: 'apply exit code', value: String(r.apply.code), goal: '1 (refused)', pass: r.apply.code === 1 },
      { figure: 'finding naming the backend', value: named ? (/\bEK\d+/.exec(named)?.[0] ?? 'yes') + ' names web-1' : 'none', goal: 'yes', pass: named !== undefined },
      { figure: 'active version after', value: `v${r.versionAfter}`, goal: `v${r.versionBefore} (unchanged)`, pass: r.versionAfter === r.versionBefore },
      failed(0),
    ];
  }
  if (r.phase === 'canary') {
    const verdict = types.includes('canary.aborted') ? 'aborted' : types.includes('canary.promoted') ? 'promoted' : types.includes('canary.started') ? 'no verdict' : 'no canary ran';
    return [
      { figure: 'canary verdict', value: verdict, goal: 'aborted', pass: verdict === 'aborted' },
      { figure: 'apply → verdict (journal)', value: secs(r.changeToVerdictMs), goal: '', pass: true },
      { figure: 'apply exit code', value: String(r.apply.code), goal: '1 (aborted)', pass: r.apply.code === 1 },
      { figure: 'active version after', value: `v${r.versionAfter}`, goal: `v${r.versionBefore} (unchanged)`, pass: r.versionAfter === r.versionBefore },
      failed(0.005),
    ];
  }
  return [
    { figure: 'automatic rollback', value: types.includes('rollback.auto') ? `yes, to v${r.versionAfter}` : 'no', goal: `yes, to v${r.versionBefore}`, pass: types.includes('rollback.auto') && r.versionAfter === r.versionBefore },
    { figure: 'apply → alert (journal)', value: secs(r.changeToAlertMs), goal: '≤ 10 s', pass: r.changeToAlertMs !== null && r.changeToAlertMs <= 10_000 },
    { figure: 'apply → rollback (journal)', value: secs(r.changeToRollbackMs), goal: '', pass: true },
    { figure: 'apply → errors at baseline (traffic)', value: secs(r.changeToRecoveredMs), goal: '≤ 20 s', pass: r.changeToRecoveredMs !== null && r.changeToRecoveredMs <= 20_000 },
    { figure: 'worst second after the change', value: `${pct(r.worstSecondFailedShare)} failed`, goal: '', pass: true },
    failed(0.02),
  ];
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x > 0 && x < 0.001 ? 3 : 2)}%`;
}

function secs(v: number | null): string {
  return v === null ? 'never' : `${(v / 1000).toFixed(1)} s`;
}

function ms(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(1)} ms`;
}

main().catch((err: Error) => {
  process.stderr.write(`replay failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 2;
});
