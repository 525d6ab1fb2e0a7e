/**
 * `evenkeel report [--incident ID | --since T --until T]`: the postmortem draft of an incident,
 * written from the running instance's journal and stored versions (src/control/report).
 * Events from an hour before the range are read too, so the change that caused an incident
 * is found and blamed even when it came before `--since`.
 */
import type { Command } from 'commander';
import { findIncidents, writeReport } from '../../control/report/index.js';
import type { ConfigVersion, StoreEvent } from '../../control/store/index.js';
import { UsageError } from '../../errors.js';
import { AdminClient, adminOptions, type AdminFlags } from '../admin-client.js';
import { type CommandResult, parseTime } from '../shared.js';

/** How far before the range the journal is read for the change behind an incident. */
const LOOKBACK_MS = 3_600_000;

type Wire<T, K extends keyof T> = Omit<T, K> & { [P in K]: string };

interface ReportFlags extends AdminFlags {
  incident?: string;
  since?: string;
  until?: string;
}

export function registerReport(program: Command, _result: CommandResult): void {
  adminOptions(program
    .command('report')
    .description('write a postmortem draft (Markdown) of an incident: by id, or every incident in a time range')
    .option('--incident <id>', 'the incident id (I<event id>, as the report and events show)')
    .option('--since <time>', 'incidents that started from this time: ISO 8601, or a duration ago such as 2h')
    .option('--until <time>', 'up to this time (same forms; default now)'))
    .action(async (flags: ReportFlags) => {
      if (flags.incident && (flags.since || flags.until)) throw new UsageError('pass --incident ID or --since/--until, not both');
      if (flags.incident && !/^I\d+$/.test(flags.incident)) throw new UsageError(`--incident ${flags.incident}: expected an id such as I42`);
      const since = flags.since ? Date.parse(parseTime(flags.since, '--since')) : undefined;
      const until = flags.until ? Date.parse(parseTime(flags.until, '--until')) : undefined;
      const client = AdminClient.fromFlags(flags);
      const q = new URLSearchParams();
      if (since !== undefined) q.set('since', new Date(since - LOOKBACK_MS).toISOString());
      if (until !== undefined) q.set('until', new Date(until).toISOString());
      const { events: wire } = await client.get<{ events: Wire<StoreEvent, 'time'>[] }>(`/api/v1/events${q.size ? `?${q}` : ''}`);
      const events: StoreEvent[] = wire.map((e) => ({ ...e, time: Date.parse(e.time) }));
      const versions = await fetchVersions(client, events);
      const now = Date.now();
      if (flags.incident) return void process.stdout.write(writeReport({ events, versions, incident: flags.incident, now }));
      const lo = since ?? -Infinity;
      const hi = until ?? Infinity;
      const incidents = findIncidents(events).filter((i) => i.start >= lo && i.start <= hi);
      // No incident in the range: the timeline of the range itself.
      if (incidents.length === 0) return void process.stdout.write(writeReport({ events: events.filter((e) => e.time >= lo && e.time <= hi), versions, now }));
      process.stdout.write(incidents.map((i) => writeReport({ events, versions, incident: i.id, now })).join('\n---\n\n'));
    });
}

/** The versions the events name (their own, `previous`, `from`, `to`), with their text. */
async function fetchVersions(client: AdminClient, events: readonly StoreEvent[]): Promise<ConfigVersion[]> {
  const ids = new Set<number>();
  for (const e of events) {
    if (typeof e.version === 'number') ids.add(e.version);
    for (const k of ['previous', 'from', 'to', 'against']) if (typeof e.data[k] === 'number') ids.add(e.data[k] as number);
  }
  const out: ConfigVersion[] = [];
  for (const id of [...ids].sort((a, b) => a - b)) {
    const r = await client.call<Wire<ConfigVersion, 'createdAt'>>('GET', `/api/v1/versions/${id}`);
    if (r.status === 200) out.push({ ...r.body, createdAt: Date.parse(r.body.createdAt) });
  }
  return out;
}
