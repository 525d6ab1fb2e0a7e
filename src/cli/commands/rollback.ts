/**
 * `evenkeel rollback [--to V] [--reason TEXT] [--force]`: one command back to the last known-good
 * version, or to version V through the same gate as an apply: V is judged against the live
 * version and sample, and a version that was refused, aborted or rolled back, or has error
 * findings now, needs `--force --reason`. During a canary, plain `rollback` aborts the canary.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { author, type CommandResult } from '../shared.js';

interface RollbackReply {
  from: number;
  to: number;
  canaryAborted?: number;
  forward?: boolean;
  webhooks?: { removed: string[]; added: string[] };
  error?: string;
}

export function registerRollback(program: Command, result: CommandResult): void {
  adminOptions(program
    .command('rollback')
    .description('serve the last known-good version again (or --to VERSION, judged like an apply), recorded as a manual rollback')
    .option('--to <version>', 'the version to serve again (default: the last known-good one)')
    .option('--reason <text>', 'why (recorded in the journal) [manual rollback]')
    .option('--force', 'serve --to VERSION although it was refused, aborted or rolled back, or has error findings (needs --reason)')
    .option('--author <name>', 'who is rolling back (default: your login name)'))
    .action(async (flags: AdminFlags & { to?: string; reason?: string; force?: boolean; author?: string }) => {
      const to = flags.to === undefined ? undefined : Number(flags.to.replace(/^v/, ''));
      if (to !== undefined && !Number.isInteger(to)) throw new UsageError(`--to ${flags.to}: expected a version number`);
      if (flags.force && !flags.reason?.trim()) throw new UsageError('--force needs a non-empty --reason');
      const client = AdminClient.fromFlags(flags);
      const reply = await client.call<RollbackReply>('POST', '/api/v1/rollback', { to, reason: flags.reason ?? 'manual rollback', author: author(flags.author), force: flags.force === true });
      if (reply.status === 409) {
        process.stderr.write(`evenkeel: rollback refused: ${reply.body.error}\n`);
        result.exitCode = 1;
        return;
      }
      const r = ok(reply);
      if (r.canaryAborted !== undefined) {
        process.stdout.write(`canary aborted: version ${r.canaryAborted} no longer serves any request\n`);
        if (r.from === r.to) return void process.stdout.write(`still serving version ${r.to}\n`);
      }
      // Going to a newer version is not a rollback: the active one is superseded.
      if (r.forward) process.stdout.write(`moved forward: version ${r.from} → version ${r.to} (version ${r.from} is superseded); now serving version ${r.to}\n`);
      else process.stdout.write(`rolled back: version ${r.from} → version ${r.to}; now serving version ${r.to}\n`);
      if (r.webhooks?.removed.length) process.stdout.write(`note: version ${r.to} no longer sends alerts to ${r.webhooks.removed.join(', ')} (alerts already firing still resolve there)\n`);
    });
}
