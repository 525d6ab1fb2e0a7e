/** `evenkeel status`: the active version, and per pool each backend's health, shares and load. */
import type { Command } from 'commander';
import type { CanaryStatus } from '../../control/index.js';
import type { PoolsStatus } from '../../control/index.js';
import { pct } from '../../core/index.js';
import { AdminClient, adminOptions, type AdminFlags } from '../admin-client.js';
import { fmtRps, table } from '../format.js';
import type { CommandResult } from '../shared.js';

interface StatusReply {
  version: number;
  hash: string;
  active?: { id: number; author: string; reason: string; createdAt: string };
  lastKnownGood: number | null;
  canary?: CanaryStatus | null;
  workers: number;
  /** Absent from instances older than the engine setting. */
  engine?: { type: string; version: string; masterPid?: number | null; workerPid?: number | null; reloads?: number; restarts?: number };
  listeners: { name: string; protocol: string; address: string; port: number }[];
  pools: PoolsStatus;
  alerts?: { id: string; monitor: string; pool: string; backend: string | null; since: string; summary: string }[];
}

export function registerStatus(program: Command, _result: CommandResult): void {
  adminOptions(program.command('status').description('the running instance: active version, and per pool each backend\'s health, expected and observed share, req/s vs capacity'))
    .action(async (flags: AdminFlags) => {
      const client = AdminClient.fromFlags(flags);
      const s = await client.get<StatusReply>('/api/v1/status');
      const a = s.active;
      let out = `${client.url}: serving version ${s.version} (hash ${s.hash})${a ? `, applied ${a.createdAt} by ${a.author}: ${a.reason}` : ''}\n`;
      out += `last known good: ${s.lastKnownGood === null ? 'none' : `version ${s.lastKnownGood}`}; ${s.workers} worker${s.workers === 1 ? '' : 's'}\n`;
      const e = s.engine;
      if (e) out += e.type === 'haproxy' ? `engine: haproxy ${e.version} (master pid ${e.masterPid ?? '-'}, worker pid ${e.workerPid ?? '-'}, ${e.reloads ?? 0} reloads, ${e.restarts ?? 0} restarts)\n` : `engine: builtin (${e.version})\n`;
      const c = s.canary;
      if (c) out += `canary: version ${c.version}, ${c.percent}% of requests since ${c.startedAt} for ${Math.round(c.durationMs / 1000)}s: ${c.summary} (abort it with evenkeel rollback)\n`;
      const alerts = s.alerts ?? [];
      out += `alerts firing: ${alerts.length === 0 ? 'none' : alerts.length}\n`;
      for (const al of alerts) out += `  FIRING ${al.monitor} on pool ${al.pool}${al.backend ? ` (${al.backend})` : ''} since ${al.since}: ${al.summary}\n`;
      for (const l of s.listeners) out += `listener ${l.name}: ${l.protocol} ${l.address.slice(0, l.address.lastIndexOf(':'))}:${l.port}\n`;
      for (const [name, pool] of Object.entries(s.pools)) {
        out += `\npool ${name} (${fmtRps(pool.rps)} req/s observed over the last 10 s)\n`;
        const rows = [['backend', 'health', 'expected', 'observed', 'req/s', 'capacity', 'utilization']];
        for (const b of pool.backends) rows.push([b.backend, b.up ? 'up' : 'DOWN', pct(b.expectedShare), pct(b.observedShare), fmtRps(b.rps), b.capacity === null ? '-' : fmtRps(b.capacity), b.utilization === null ? '-' : `${pct(b.utilization)}${b.utilization > 1 ? ' OVERLOAD' : ''}`]);
        out += table(rows);
      }
      process.stdout.write(out);
    });
}
