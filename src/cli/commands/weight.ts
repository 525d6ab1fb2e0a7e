/**
 * `evenkeel drain POOL BACKEND --reason TEXT` and `evenkeel weight POOL BACKEND N --reason TEXT`:
 * a runtime change to one backend, made as a change of the active version and judged like an
 * apply (control/backend-weight.ts): a drain that leaves a pool with no usable backend, or one
 * backend over its capacity, is refused with the finding that names the pool (exit 1) unless
 * forced with a reason. An accepted change runs as a canary unless `--force --no-canary`.
 */
import type { Command } from 'commander';
import { UsageError, VersionStateError } from '../../errors.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { formatFinding, summaryLine } from '../format.js';
import { author, type ApplyReply, type CommandResult } from '../shared.js';

/** The apply answer, and the change it made. */
type WeightReply = ApplyReply & { change: { pool: string; backend: string; weight: number } };

type Flags = AdminFlags & { reason: string; force?: boolean; canary: boolean; author?: string };

export function registerWeight(program: Command, result: CommandResult): void {
  const options = (c: Command) => adminOptions(c
    .requiredOption('--reason <text>', 'why (recorded with the version the change makes)')
    .option('--force', 'make the change despite error findings (recorded as forced)')
    .option('--no-canary', 'skip the canary (only with --force)')
    .option('--author <name>', 'who is making the change (default: your login name)'));
  options(program
    .command('drain')
    .description('set a backend\'s weight to 0 in the running instance: a new version judged like an apply (refused when the pool would be left with no usable backend)')
    .argument('<pool>')
    .argument('<backend>', 'the backend\'s name (or its address when it has none)'))
    .action((pool: string, backend: string, flags: Flags) => send(pool, backend, 0, flags, result));
  options(program
    .command('weight')
    .description('set a backend\'s weight in the running instance: a new version judged like an apply')
    .argument('<pool>')
    .argument('<backend>', 'the backend\'s name (or its address when it has none)')
    .argument('<weight>', 'a number >= 0 (0 drains it)'))
    .action((pool: string, backend: string, weight: string, flags: Flags) => {
      const w = Number(weight);
      if (weight.trim() === '' || !Number.isFinite(w) || w < 0) throw new UsageError(`weight ${weight}: expected a number >= 0 (0 drains it)`);
      return send(pool, backend, w, flags, result);
    });
}

async function send(pool: string, backend: string, weight: number, flags: Flags, result: CommandResult): Promise<void> {
  if (!flags.reason.trim()) throw new UsageError('--reason must not be empty');
  if (!flags.canary && !flags.force) throw new UsageError('--no-canary only with --force (and a --reason): skipping the canary is an override and is recorded as one');
  const client = AdminClient.fromFlags(flags);
  const path = `/api/v1/pools/${encodeURIComponent(pool)}/backends/${encodeURIComponent(backend)}/weight`;
  const reply = await client.call<WeightReply>('POST', path, { weight, reason: flags.reason, author: author(flags.author), force: flags.force === true, canary: flags.canary });
  if (reply.status !== 200 && !(reply.status === 409 && Array.isArray((reply.body as Partial<WeightReply>).findings))) {
    if (reply.status === 409) throw new VersionStateError(`refused: ${(reply.body as { error?: string }).error ?? 'conflict'}`);
    ok(reply);
  }
  const r = reply.body;
  const what = `${pool}/${backend} weight ${weight}`;
  let out = r.findings.map((f) => formatFinding(f, `<${what}>`)).join('');
  if (r.unchanged) {
    out += `${what}: unchanged: version ${r.active} already has it; nothing to apply\n`;
    result.exitCode = 0;
  } else if (r.applied && r.canary) {
    out += summaryLine(what, r.findings, 'accepted', 'accepted despite errors (--force)');
    out += `${what}: version ${r.canary.version} is in canary (${r.canary.percent}% of requests for ${Math.round(r.canary.durationMs / 1000)}s beside version ${r.active}); follow it with evenkeel status\n`;
    result.exitCode = 0;
  } else if (r.applied) {
    out += summaryLine(what, r.findings, 'applied', 'applied despite errors (--force)');
    out += `${what}: now serving version ${r.version}\n`;
    result.exitCode = 0;
  } else if (r.error) {
    out += `${what}: version ${r.version} could not be served (${r.error}); still serving version ${r.active}\n`;
    result.exitCode = 1;
  } else {
    out += summaryLine(what, r.findings, 'refused', 'REFUSED');
    out += `${what}: stored as refused version ${r.version}; nothing changed, still serving version ${r.active}\n`;
    result.exitCode = 1;
  }
  process.stdout.write(out);
}
