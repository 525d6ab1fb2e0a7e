/**
 * `evenkeel reload [-c FILE]`: asks the running instance to re-read its config file and apply it
 * through the gate (POST /api/v1/reload), like SIGHUP but without finding the process: a signal
 * sent by name (`pkill -HUP -f 'evenkeel serve'`) also reaches the npx wrapper, which dies of it
 * and leaves serve orphaned. Prints the findings; exit 0 applied (or in canary, or unchanged), 1 refused.
 */
import type { Command } from 'commander';
import type { Finding } from '../../config/index.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { formatFinding } from '../format.js';
import type { CommandResult } from '../shared.js';

interface ReloadReply {
  applied: boolean;
  version: number;
  findings: Finding[];
  error?: string;
  canary?: { version: number; percent: number; durationMs: number };
  unchanged?: boolean;
}

export function registerReload(program: Command, result: CommandResult): void {
  adminOptions(program
    .command('reload')
    .description("make the running instance re-read its config file and apply it through the gate (what SIGHUP does)"))
    .action(async (flags: AdminFlags) => {
      const client = AdminClient.fromFlags(flags);
      const reply = await client.call<ReloadReply>('POST', '/api/v1/reload');
      const r = reply.status === 422 ? reply.body : ok(reply);
      let out = r.findings.map((f) => formatFinding(f, flags.config ?? 'the served file')).join('');
      if (r.unchanged) out += `reload: the file is unchanged: version ${r.version} already serves it; nothing to apply\n`;
      else if (r.canary) out += `reload accepted: version ${r.canary.version} is in canary (${r.canary.percent}% of requests for ${Math.round(r.canary.durationMs / 1000)}s beside version ${r.version}); follow it with evenkeel status\n`;
      else if (r.applied) out += `reload applied: now serving version ${r.version}\n`;
      else out += `reload refused${r.error ? ` (${r.error})` : ''}; still serving version ${r.version}\n`;
      process.stdout.write(out);
      result.exitCode = r.applied || r.unchanged ? 0 : 1;
    });
}
