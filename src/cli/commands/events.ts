/** `evenkeel events [--since T] [--until T]`: the running instance's journal, one line per event. */
import type { Command } from 'commander';
import { describeEvent } from '../../control/report/index.js';
import type { StoreEvent } from '../../control/store/index.js';
import { AdminClient, adminOptions, type AdminFlags } from '../admin-client.js';
import { parseTime, type CommandResult } from '../shared.js';

export function registerEvents(program: Command, _result: CommandResult): void {
  adminOptions(program
    .command('events')
    .description('print the events journal (applies, refusals, rollbacks, alerts), oldest first')
    .option('--since <time>', 'from this time: ISO 8601, or a duration ago such as 30m')
    .option('--until <time>', 'up to this time (same forms)')
    .option('--json', 'one JSON object per line'))
    .action(async (flags: AdminFlags & { since?: string; until?: string; json?: boolean }) => {
      const q = new URLSearchParams();
      if (flags.since) q.set('since', parseTime(flags.since, '--since'));
      if (flags.until) q.set('until', parseTime(flags.until, '--until'));
      const client = AdminClient.fromFlags(flags);
      const { events } = await client.get<{ events: (Omit<StoreEvent, 'time'> & { time: string })[] }>(`/api/v1/events${q.size ? `?${q}` : ''}`);
      if (flags.json) return void process.stdout.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      let out = '';
      for (const e of events) out += `${e.time}  ${e.type.padEnd(16)} ${describeEvent({ ...e, time: Date.parse(e.time) }, 'text')}\n`;
      process.stdout.write(out || 'no events in that range\n');
    });
}
