/**
 * `evenkeel report`: an incident written up in the shape of incident-postmortem.md (Issue
 * Summary, Timeline, Root Cause and Resolution, Corrective and Preventative Measures,
 * Conclusion), from the journal and the stored versions. A draft for people to finish: every
 * figure comes from an event, and what the journal does not know is said, not guessed.
 *
 * Event data it reads (all optional): `counters` {requests, failed, routes, pools} cumulative
 * since the instance started, on any event; `prediction` (validate's shape), `findings`,
 * `forced`, `previous` on config.applied / canary.started; `shares`, `summary`, `figures` on
 * alert events; `from`, `to`, `by`, `reason`, `monitor` on rollback and canary events.
 */
import { formatDuration } from '../../core/index.js';
import { pct } from '../../core/index.js';
import type { ConfigVersion, StoreEvent } from '../store/index.js';
import { changedKeys, unifiedDiff } from './diff.js';
import { findIncidents, type Incident } from './incident.js';
import { describeEvent, measures, type ReportFinding } from './wording.js';

/** What a report is written from. */
export interface ReportInput {
  /** The journal around the incident (include the change before it: an hour before is plenty). */
  events: readonly StoreEvent[];
  versions: readonly ConfigVersion[];
  /** `I<event id>`; default: every incident in `events`. */
  incident?: string;
  /** Used as the end of an incident that is still open. */
  now?: number;
}

/** Event types that change which config serves traffic. */
const CHANGES = new Set(['config.applied', 'canary.started', 'canary.promoted']);
const ROLLBACKS = new Set(['rollback.auto', 'rollback.manual', 'canary.aborted']);

/** The postmortem Markdown for the incident(s) in `input`; a timeline-only report when none is found. */
export function writeReport(input: ReportInput): string {
  const events = [...input.events].sort((a, b) => a.time - b.time || a.id - b.id);
  const all = findIncidents(events);
  // A change is blamed only when no earlier incident ended after it.
  const after = new Map(all.map((inc, k) => [inc.id, k > 0 ? all[k - 1].end ?? -Infinity : -Infinity]));
  const incidents = input.incident ? all.filter((i) => i.id === input.incident) : all;
  if (incidents.length === 0) return quietReport(events, input.incident);
  return incidents.map((i) => incidentReport(i, events, input, after.get(i.id) ?? -Infinity)).join('\n---\n\n');
}

function quietReport(events: StoreEvent[], asked?: string): string {
  const lines = ['# Postmortem', '', '### Issue Summary', asked ? `No incident ${asked} in the journal.` : 'No monitor fired in this range: there is no incident to report.', '', '### Timeline'];
  lines.push(...(events.length ? events.map((e) => `- **${clock(e.time)}**: ${describeEvent(e)}`) : ['- (no events)']));
  return `${lines.join('\n')}\n`;
}

function incidentReport(inc: Incident, all: StoreEvent[], input: ReportInput, notBefore: number): string {
  const end = inc.end ?? input.now ?? all.at(-1)?.time ?? inc.start;
  const version = (id: unknown) => input.versions.find((v) => v.id === id);
  const change = [...all].reverse().find((e) => CHANGES.has(e.type) && e.time <= inc.start && e.time > notBefore && inc.start - e.time < 3_600_000);
  const changed = change ? version(change.version) : undefined;
  const previous = change ? version(typeof change.data.previous === 'number' ? change.data.previous : undefined) ?? previousVersion(input.versions, changed) : undefined;
  const during = all.filter((e) => e.time >= (change?.time ?? inc.start) && e.time <= end);
  const rollbacks = during.filter((e) => ROLLBACKS.has(e.type));
  const pools = [...new Set(inc.fired.map((e) => String(e.data.pool ?? '')).filter(Boolean))];
  const monitors = [...new Set(inc.fired.map((e) => String(e.data.monitor ?? 'unknown')))];
  // Impact counts from the change when there is one: requests fail before a monitor can fire.
  const impact = impactOf(all, change?.time ?? inc.start, end);

  const out: string[] = [];
  const what = `${monitors.join(', ')} on pool${pools.length === 1 ? '' : 's'} ${pools.join(', ')}`;
  out.push(`# Postmortem: ${what}${changed ? ` after config v${changed.id}` : ''}`, '');
  out.push(`_Incident ${inc.id}, written by evenkeel from its events journal${inc.end === null ? '; the incident is still open' : ''}._`, '');

  out.push('### Issue Summary', '**Duration:**  ');
  out.push(`- Start: ${stamp(inc.start)}  `, `- End: ${inc.end === null ? `still open at ${stamp(end)}` : stamp(inc.end)}  `, `- Duration: ${formatDuration(end - inc.start)}  `, '');
  out.push('**Impact:**  ');
  if (impact) {
    out.push(`- Failed requests: ${impact.failed} of ${impact.requests} (${pct(impact.requests ? impact.failed / impact.requests : 0)}) from ${clock(change?.time ?? inc.start)} to ${clock(end)}  `);
    out.push(`- Affected routes: ${impact.routes.length ? impact.routes.join(', ') : 'none recorded'}  `);
  } else {
    const seen = Math.max(0, ...inc.fired.map((e) => Number((e.data.figures as Record<string, unknown> | undefined)?.errors ?? 0)));
    out.push(`- Failed requests: not recorded in the journal (no counters); the monitors saw at least ${seen} 5xx in one window  `);
  }
  out.push(`- Affected pools: ${[...new Set([...pools, ...(impact?.pools ?? [])])].join(', ')}  `, '');
  out.push('**Root Cause:**  ');
  out.push(changed ? `Config v${changed.id} (${changed.author}: "${changed.reason}")${change?.data.forced ? ', applied with --force,' : ''} ${changedKeys(previous?.text ?? '', changed.text).length ? `changed ${summary(previous, changed)}` : 'was applied'}; ${firstSummary(inc)}.` : `No config change in the hour before the first alert; ${firstSummary(inc)}.`, '');

  out.push('### Timeline');
  for (const e of during) out.push(`- **${clock(e.time)}**: ${describeEvent(e)}`);
  out.push('');

  out.push('### Root Cause and Resolution', '**Root Cause:**  ');
  if (changed && previous) {
    out.push(`The change from v${previous.id} to v${changed.id}:`, '', '```diff', unifiedDiff(previous.text, changed.text, `v${previous.id}`, `v${changed.id}`).trimEnd() || '(no textual change)', '```', '');
  } else if (changed) {
    out.push(`v${changed.id} is the first version in the store; there is no earlier version to compare with.`, '');
  } else {
    out.push('The journal holds no config change before the incident: the cause lies outside the config (a backend, the network, the traffic itself). What the monitors saw:', '');
    for (const e of inc.fired) out.push(`- ${String(e.data.summary ?? describeEvent(e))}`);
    out.push('');
  }
  out.push(...distribution(change, inc));
  out.push('**Resolution:**  ');
  if (rollbacks.length === 0) out.push(`No rollback was recorded; the alerts resolved ${inc.end === null ? 'not yet' : `at ${clock(inc.end)}`}.`);
  for (const r of rollbacks) out.push(resolution(r, change));
  out.push('');

  out.push('### Corrective and Preventative Measures');
  const findings = Array.isArray(change?.data.findings) ? (change.data.findings as ReportFinding[]) : [];
  const m = measures(findings, monitors, Boolean(change?.data.forced), rollbacks.some((r) => r.type === 'rollback.auto'));
  out.push('**Improvements/Fixes:**  ', ...m.improvements.map((x, i) => `${i + 1}. ${x}`), '', '**Tasks to Address the Issue:**  ', ...m.tasks.map((x) => `- [ ] ${x}`), '');

  out.push('### Conclusion');
  const detect = change ? ` ${formatDuration(inc.start - change.time)} after the change` : '';
  const fix = rollbacks[0] && change ? `, and ${rollbacks[0].type === 'rollback.manual' ? 'it was rolled back by hand' : rollbacks[0].type === 'canary.aborted' ? 'the canary was aborted' : 'evenkeel rolled it back by itself'} ${formatDuration(rollbacks[0].time - change.time)} after it` : '';
  out.push(`evenkeel detected the problem${detect}${fix}. The incident lasted ${formatDuration(end - inc.start)}${impact ? `; ${pct(impact.requests ? impact.failed / impact.requests : 0)} of requests failed from the change to the end` : ''}.`);
  return `${out.join('\n')}\n`;
}

function previousVersion(versions: readonly ConfigVersion[], v: ConfigVersion | undefined): ConfigVersion | undefined {
  if (!v) return undefined;
  return [...versions].filter((x) => x.id < v.id && x.status !== 'refused' && x.status !== 'aborted').sort((a, b) => b.id - a.id)[0];
}

function summary(a: ConfigVersion | undefined, b: ConfigVersion): string {
  const keys = changedKeys(a?.text ?? '', b.text);
  return keys.slice(0, 4).join('; ') + (keys.length > 4 ? `; and ${keys.length - 4} more` : '');
}

function firstSummary(inc: Incident): string {
  return String(inc.fired[0]?.data.summary ?? 'a monitor fired');
}

interface Counters {
  requests: number;
  failed: number;
  routes?: Record<string, { requests: number; failed: number }>;
  pools?: Record<string, { requests: number; failed: number }>;
}

/** Failed requests between the last counters at or before `start` and the last at or before `end`. */
function impactOf(events: StoreEvent[], start: number, end: number): { requests: number; failed: number; routes: string[]; pools: string[] } | undefined {
  const withCounters = events.filter((e) => isCounters(e.data.counters) && e.time <= end);
  if (withCounters.length === 0) return undefined;
  const before = [...withCounters].reverse().find((e) => e.time <= start) ?? withCounters[0];
  const a = before.data.counters as Counters;
  const last = withCounters.at(-1)!;
  if (last === before) return undefined;
  const b = last.data.counters as Counters;
  // A smaller later count means the instance restarted: count from zero.
  const d = (x: number | undefined, y: number | undefined) => ((y ?? 0) >= (x ?? 0) ? (y ?? 0) - (x ?? 0) : y ?? 0);
  const failedIn = (key: 'routes' | 'pools') => Object.keys(b[key] ?? {}).filter((k) => d(a[key]?.[k]?.failed, b[key]?.[k]?.failed) > 0);
  return { requests: d(a.requests, b.requests), failed: d(a.failed, b.failed), routes: failedIn('routes'), pools: failedIn('pools') };
}

function isCounters(v: unknown): v is Counters {
  return typeof v === 'object' && v !== null && typeof (v as Counters).requests === 'number' && typeof (v as Counters).failed === 'number';
}

/** Predicted (from the change's prediction) against observed (from the alerts' shares), per affected pool. */
function distribution(change: StoreEvent | undefined, inc: Incident): string[] {
  const prediction = change?.data.prediction as { pools?: Record<string, { backends: Record<string, { share: number; peakRps: number | null }> }> } | undefined;
  const out: string[] = [];
  for (const pool of new Set(inc.fired.map((e) => String(e.data.pool ?? '')))) {
    const observed = inc.fired.find((e) => e.data.pool === pool && typeof e.data.shares === 'object')?.data.shares as Record<string, number> | undefined;
    const predicted = prediction?.pools?.[pool]?.backends;
    if (!observed && !predicted) continue;
    out.push(`Distribution in pool ${pool}, predicted by validation for the new config against observed when the alert fired:`, '', '| backend | predicted share | predicted peak req/s | observed share |', '|---|---|---|---|');
    for (const b of new Set([...Object.keys(predicted ?? {}), ...Object.keys(observed ?? {})])) {
      const p = predicted?.[b];
      out.push(`| ${b} | ${p ? pct(p.share) : '-'} | ${p?.peakRps ?? '-'} | ${observed?.[b] !== undefined ? pct(observed[b]) : '-'} |`);
    }
    out.push('');
  }
  return out;
}

function resolution(r: StoreEvent, change: StoreEvent | undefined): string {
  const to = r.data.to ?? r.version;
  const from = r.data.from ?? change?.version;
  const why = r.data.monitor ? ` (${String(r.data.monitor)} fired${r.type === 'rollback.auto' ? ' inside the bake window' : ''})` : '';
  if (r.type === 'rollback.auto') return `evenkeel rolled back automatically from v${from} to the last known-good v${to} at ${clock(r.time)}${why}.`;
  if (r.type === 'rollback.manual' && r.data.direction === 'forward') return `${String(r.data.by ?? 'an operator')} served v${to} again, forward from v${from}, at ${clock(r.time)}${r.data.reason ? ` ("${String(r.data.reason)}")` : ''}.`;
  if (r.type === 'rollback.manual') return `${String(r.data.by ?? 'an operator')} rolled back from v${from} to v${to} at ${clock(r.time)}${r.data.reason ? ` ("${String(r.data.reason)}")` : ''}.`;
  return `evenkeel aborted the canary of v${r.version ?? from} at ${clock(r.time)}${why}; the active version kept serving.`;
}

/** `2024-06-10 14:00:05 UTC`. */
function stamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `14:00:05 UTC`. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}
