/**
 * `evenkeel apply FILE --reason TEXT [--force] [--no-canary] [--no-wait]`: sends a config to
 * the running instance, which validates it against the live version and the live traffic
 * sample and refuses it on any error finding (exit 1, nothing changes) unless forced with a
 * reason. An accepted change runs as a canary first; apply waits for the verdict and exits 0
 * when it is promoted, 1 when it is aborted (with the monitors' reasons).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FileReadError, UsageError, VersionStateError } from '../../errors.js';
import { AdminClient, adminOptions, ok, type AdminFlags } from '../admin-client.js';
import { displayPath, formatFinding, summaryLine } from '../format.js';
import { author, type ApplyReply, type CommandResult } from '../shared.js';


interface VersionReply {
  id: number;
  status: string;
}

interface EventsReply {
  events: { type: string; version: number | null; data: { summary?: string; reasons?: { summary: string }[] } }[];
}

/** How often apply looks at a running canary, and how long past its duration it waits for a verdict. */
const POLL_MS = 500;
const VERDICT_GRACE_MS = 30_000;

export function registerApply(program: Command, result: CommandResult): void {
  adminOptions(program
    .command('apply')
    .description('apply a config to the running instance: validated against the live version, refused on any error finding (exit 1)')
    .argument('<file>', 'the new config')
    .requiredOption('--reason <text>', 'why (recorded with the version)')
    .option('--force', 'apply despite error findings (recorded as forced; needs --reason)')
    .option('--no-canary', 'skip the canary and serve the change at once (only with --force)')
    .option('--no-wait', 'return as soon as the canary starts instead of waiting for its verdict')
    .option('--drain-to-one <pool...>', 'acknowledge that the change leaves POOL with one backend on purpose (maintenance): journalled, and the canary does not abort it for concentration')
    .option('--author <name>', 'who is applying (default: your login name)'))
    .action(async (file: string, flags: AdminFlags & { reason: string; force?: boolean; canary: boolean; wait: boolean; author?: string; drainToOne?: string[] }) => {
      if (flags.force && !flags.reason.trim()) throw new UsageError('--force needs a non-empty --reason');
      if (!flags.canary && !flags.force) throw new UsageError('--no-canary only with --force (and a --reason): skipping the canary is an override and is recorded as one');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new FileReadError(file, (err as Error).message, { cause: err });
      }
      const client = AdminClient.fromFlags(flags);
      const reply = await client.call<ApplyReply>('POST', '/api/v1/apply', { text, file: resolve(file), reason: flags.reason, author: author(flags.author), force: flags.force === true, canary: flags.canary, drainToOne: flags.drainToOne });
      // 409 is a refusal (findings) or a state conflict such as a canary in progress (error).
      if (reply.status !== 200 && !(reply.status === 409 && Array.isArray((reply.body as Partial<ApplyReply>).findings))) {
        if (reply.status === 409) throw new VersionStateError(`apply refused: ${(reply.body as { error?: string }).error ?? 'conflict'}`);
        ok(reply);
      }
      const r = reply.body;
      let out = r.findings.map((f) => formatFinding(f, file)).join('');
      if (r.unchanged) {
        process.stdout.write(`${displayPath(file)}: unchanged: version ${r.active} already serves this text; nothing to apply\n`);
        result.exitCode = 0;
        return;
      }
      if (r.applied && r.canary) {
        out += summaryLine(file, r.findings, 'accepted', 'accepted despite errors (--force)');
        const c = r.canary;
        out += `${displayPath(file)}: version ${c.version} is in canary: ${c.percent}% of requests for ${Math.round(c.durationMs / 1000)}s beside version ${r.active}; the monitors judge it${r.forced ? ' (forced: recorded with its reason)' : ''}\n`;
        process.stdout.write(out);
        out = '';
        if (!flags.wait) {
          process.stdout.write(`${displayPath(file)}: not waiting (--no-wait); follow it with evenkeel status or evenkeel events\n`);
          result.exitCode = 0;
          return;
        }
        const verdict = await waitForVerdict(client, c.version, c.maxDurationMs ?? c.durationMs);
        process.stdout.write(verdict.text);
        result.exitCode = verdict.promoted ? 0 : 1;
        return;
      }
      if (r.applied) {
        out += summaryLine(file, r.findings, 'applied', 'applied despite errors (--force)');
        out += `${displayPath(file)}: now serving version ${r.version}${r.forced ? ' (forced: recorded with its reason)' : ''}${r.noCanary ? `; no canary: ${r.noCanary}` : ''}\n`;
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

/** Polls the canary version until it is promoted or aborted; says which and why. */
async function waitForVerdict(client: AdminClient, version: number, durationMs: number): Promise<{ promoted: boolean; text: string }> {
  const deadline = Date.now() + durationMs + VERDICT_GRACE_MS;
  for (;;) {
    const v = await client.get<VersionReply>(`/api/v1/versions/${version}`);
    if (v.status !== 'canary') {
      const { events } = await client.get<EventsReply>(`/api/v1/events?version=${version}`);
      const mine = events.filter((e) => e.type.startsWith('canary.'));
      const last = mine.at(-1);
      if (v.status === 'active' || v.status === 'superseded' || last?.type === 'canary.promoted') {
        return { promoted: true, text: `canary promoted: ${last?.data.summary ?? 'no monitor objected'}\nnow serving version ${version}\n` };
      }
      const reasons = (last?.data.reasons ?? []).map((r) => `  - ${r.summary}\n`).join('');
      const active = await client.get<{ id: number }>('/api/v1/versions/active');
      return { promoted: false, text: `canary ABORTED:${reasons ? '\n' + reasons : ` ${last?.data.summary ?? 'see evenkeel events'}\n`}nothing else changed: still serving version ${active.id}\n` };
    }
    if (Date.now() > deadline) return { promoted: false, text: `version ${version} is still in canary after ${Math.round((durationMs + VERDICT_GRACE_MS) / 1000)}s; follow it with evenkeel status\n` };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
