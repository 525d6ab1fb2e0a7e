/**
 * `evenkeel apply FILE --reason TEXT [--force]`: sends a config to the running instance, which
 * stores it as a new version, validates it against the live one and refuses it on any error
 * finding (exit 1, nothing changes) unless forced with a reason.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Finding } from '../../config/findings.js';
import { FileReadError, UsageError } from '../../errors.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { displayPath, formatFinding, summaryLine } from '../format.js';
import type { CommandResult } from '../main.js';

interface ApplyReply {
  applied: boolean;
  forced: boolean;
  version?: number;
  active: number;
  findings: Finding[];
  error?: string;
}

/** Who made a change, as recorded: --author, else the login name. */
export function author(flag: string | undefined): string {
  if (flag) return flag;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function registerApply(program: Command, result: CommandResult): void {
  adminOptions(program
    .command('apply')
    .description('apply a config to the running instance: validated against the live version, refused on any error finding (exit 1)')
    .argument('<file>', 'the new config')
    .requiredOption('--reason <text>', 'why (recorded with the version)')
    .option('--force', 'apply despite error findings (recorded as forced; needs --reason)')
    .option('--author <name>', 'who is applying (default: your login name)'))
    .action(async (file: string, flags: AdminFlags & { reason: string; force?: boolean; author?: string }) => {
      if (flags.force && !flags.reason.trim()) throw new UsageError('--force needs a non-empty --reason');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new FileReadError(file, (err as Error).message, { cause: err });
      }
      const client = AdminClient.fromFlags(flags);
      const reply = await client.call<ApplyReply>('POST', '/api/v1/apply', { text, file: resolve(file), reason: flags.reason, author: author(flags.author), force: flags.force === true });
      if (reply.status !== 200 && reply.status !== 409) ok(reply);
      const r = reply.body;
      let out = r.findings.map((f) => formatFinding(f, file)).join('');
      if (r.applied) {
        out += summaryLine(file, r.findings, 'applied', 'applied despite errors (--force)');
        out += `${displayPath(file)}: now serving version ${r.version}${r.forced ? ' (forced: recorded with its reason)' : ''}\n`;
        result.exitCode = 0;
      } else if (r.error) {
        out += `${displayPath(file)}: version ${r.version} could not be served (${r.error}); still serving version ${r.active}\n`;
        result.exitCode = 1;
      } else {
        out += summaryLine(file, r.findings, 'refused', 'REFUSED');
        out += `${displayPath(file)}: stored as refused version ${r.version}; nothing changed, still serving version ${r.active}${r.forced ? '' : ' (fix the errors, or --force --reason TEXT to override)'}\n`;
        result.exitCode = 1;
      }
      process.stdout.write(out);
    });
}
