/** The report's sentences: one line per journal event, and the measures derived from findings and monitors. */
import type { StoreEvent } from '../store/index.js';

/** A finding as recorded in an event (validate's JSON shape). */
export interface ReportFinding {
  code: string;
  severity: string;
  message: string;
  hint?: string;
}

function s(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** One timeline line for an event: Markdown for the report, plain text for `evenkeel events`. */
export function describeEvent(e: StoreEvent, style: 'markdown' | 'text' = 'markdown'): string {
  const strong = (x: string) => (style === 'markdown' ? `**${x}**` : x);
  const d = e.data;
  const v = e.version === null ? '' : `v${e.version}`;
  const by = d.author ? ` by ${s(d.author)}` : '';
  const reason = d.reason ? ` ("${s(d.reason)}")` : '';
  switch (e.type) {
    case 'config.applied':
      return `Config ${v} applied${by}${d.forced ? ' with --force' : ''}${reason}${Array.isArray(d.findings) && d.findings.length ? `; validation reported ${findingCodes(d.findings as ReportFinding[])}` : ''}.`;
    case 'config.refused':
      return `Config ${v} refused${by}${Array.isArray(d.findings) ? `: ${findingCodes(d.findings as ReportFinding[])}` : ''}.`;
    case 'canary.started':
      return `Canary of ${v} started${by}${d.percent !== undefined ? ` on ${s(d.percent)}% of requests` : ''}${reason}.`;
    case 'canary.promoted':
      return `Canary ${v} promoted to active.`;
    case 'canary.aborted':
      return `Canary ${v} aborted${d.summary ? `: ${s(d.summary)}` : ''}.`;
    case 'alert.fired':
      return `Alert ${strong(s(d.monitor))} fired on pool ${s(d.pool)}${d.backend ? ` (${s(d.backend)})` : ''}: ${s(d.summary)}.`;
    case 'alert.resolved':
      return `Alert ${s(d.monitor)} on pool ${s(d.pool)} resolved.`;
    case 'alert.undelivered':
      return `Alert notice ${s(d.id)} (${s(d.status)}) ${strong('not delivered')} to ${s(d.receiver)} after ${s(d.attempts)} attempts: ${s(d.error)}.`;
    case 'rollback.auto':
      return `Automatic rollback to ${v}${d.from ? ` from v${s(d.from)}` : ''}${d.monitor ? ` (${s(d.monitor)} fired inside the bake window)` : ''}.`;
    case 'rollback.manual':
      if (d.direction === 'forward') return `${v} served again${d.from ? `, forward from v${s(d.from)} (superseded, not rolled back)` : ''}${d.by ? ` by ${s(d.by)}` : ''}${d.forced ? ' with --force' : ''}${reason}.`;
      return `Manual rollback to ${v}${d.from ? ` from v${s(d.from)}` : ''}${d.by ? ` by ${s(d.by)}` : ''}${reason}.`;
    case 'reload.refused':
      return `Reload (${s(d.author)}) refused: ${s(d.reason)}.`;
    case 'worker.exited':
      return `Data-plane worker ${s(d.pid)} ended (${d.signal ? `signal ${s(d.signal)}` : `exit code ${s(d.code)}`}); another was started.`;
    case 'backend.down':
      return `Backend ${s(d.backend)}${d.address ? ` (${s(d.address)})` : ''} of pool ${s(d.pool)} ${strong('down')}: ${s(d.reason)}.`;
    case 'backend.up':
      return `Backend ${s(d.backend)}${d.address ? ` (${s(d.address)})` : ''} of pool ${s(d.pool)} up again${d.downForMs !== undefined ? ` after ${Math.round(Number(d.downForMs) / 1000)} s` : ''}.`;
    default:
      return `${e.type}${v ? ` ${v}` : ''}${d.summary ? `: ${s(d.summary)}` : ''}.`;
  }
}

function findingCodes(list: ReportFinding[]): string {
  return list.filter((f) => f.severity === 'error').map((f) => f.code).join(', ') || `${list.length} warnings`;
}

// What to do after each monitor fired, for the tasks list.
const MONITOR_TASKS: Record<string, string> = {
  overload: 'Check declared capacities against what the backends really sustain (a load test per backend), and keep guardrails.headroom.',
  concentration: 'Find why one backend took most of its pool (weights, health, hashing) and add an `evenkeel test` case that pins the expected spread.',
  skew: 'Compare observed and expected shares on the dashboard; look at health flaps, consistent-hash key spread and stickiness.',
  'error-rate': "Read the failing backends' logs for the window; check the error rate returned to baseline after the resolution.",
  latency: 'Profile the slow backend; consider outlierDetection or a lower timeout for the pool.',
};

/** Improvements and tasks from the change's findings and the monitors that fired. */
export function measures(findings: ReportFinding[], monitors: string[], forced: boolean, autoRollback: boolean): { improvements: string[]; tasks: string[] } {
  const improvements: string[] = [];
  const tasks: string[] = [];
  const errors = findings.filter((f) => f.severity === 'error');
  if (forced && errors.length) {
    improvements.push(`The change was forced past ${errors.length} error finding${errors.length === 1 ? '' : 's'} that predicted this: ${errors.map((f) => `${f.code} (${f.message})`).join('; ')}. Treat these findings as blocking; require a second reviewer for --force.`);
  }
  for (const f of findings.filter((x) => x.severity !== 'info')) if (f.hint) tasks.push(`${f.code}: ${f.hint}`);
  if (!autoRollback) improvements.push('Enable guardrails.rollback.auto so a monitor firing inside the bake window rolls back without waiting for a person.');
  else improvements.push('Automatic rollback limited the impact; keep guardrails.rollback.auto on and bakeTime at least as long as it takes this failure to show.');
  improvements.push('Roll out config changes through the canary (no --no-canary) so a bad split is judged on a few percent of traffic first.');
  for (const m of monitors) if (MONITOR_TASKS[m]) tasks.push(MONITOR_TASKS[m]);
  tasks.push('Review this draft, add what the journal cannot know (who was paged, customer impact), and schedule the review meeting.');
  return { improvements, tasks };
}
