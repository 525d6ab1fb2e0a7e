/** `evenkeel rollback [--to V] [--reason TEXT]`: one command back to the last known-good version (or V). */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { author, type CommandResult } from '../shared.js';

export function registerRollback(program: Command, result: CommandResult): void {
  adminOptions(program
    .command('rollback')
    .description('serve the last known-good version again (or --to VERSION), recorded as a manual rollback')
    .option('--to <version>', 'the version to go back to (default: the last known-good one)')
    .option('--reason <text>', 'why (recorded in the journal)', 'manual rollback')
    .option('--author <name>', 'who is rolling back (default: your login name)'))
    .action(async (flags: AdminFlags & { to?: string; reason: string; author?: string }) => {
      const to = flags.to === undefined ? undefined : Number(flags.to.replace(/^v/, ''));
      if (to !== undefined && !Number.isInteger(to)) throw new UsageError(`--to ${flags.to}: expected a version number`);
      const client = AdminClient.fromFlags(flags);
      const reply = await client.call<{ from: number; to: number; canaryAborted?: number; error?: string }>('POST', '/api/v1/rollback', { to, reason: flags.reason, author: author(flags.author) });
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
      process.stdout.write(`rolled back: version ${r.from} → version ${r.to}; now serving version ${r.to}\n`);
    });
}
