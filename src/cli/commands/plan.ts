/**
 * `evenkeel plan FILE --against FILE|live`: what a change would do to the distribution, before it
 * is applied. `live` compares with the active version of the running instance (found like
 * `apply` finds it; `-c` defaults to FILE itself).
 */
import { Option, type Command } from 'commander';
import { movedShare, validateText, type ValidateOptions, type ValidationReport } from '../../analysis/index.js';
import { formatOptions, judgeForCommand, type FormatFlags } from '../load.js';
import { AdminClient, adminOptions, type AdminFlags } from '../admin-client.js';
import { pct } from '../../core/index.js';
import { UsageError } from '../../errors.js';
import { displayPath, fmtRps, formatFinding, loadWord, summaryLine, table } from '../format.js';
import type { CommandResult } from '../shared.js';

interface Side {
  share: number;
  peakRps: number | null;
  capacity: number | null;
  utilization: number | null;
}

/** One backend's row of the plan. */
interface PlanRow {
  pool: string;
  backend: string;
  before?: Side;
  after?: Side;
  worse: string[];
}

export function registerPlan(program: Command, result: CommandResult): void {
  adminOptions(formatOptions(program
    .command('plan')
    .description('predict how a config changes the traffic distribution against the current one (exit 1 when an apply would be refused)')
    .argument('<file>', 'the candidate config')
    .requiredOption('--against <file>', 'the config it replaces: a file, or live (the active version of the running instance)')
    .option('--traffic <sample>', 'traffic sample (JSONL) for both versions')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--all', 'show every pool, not only the ones the change touches')), null)
    .action(async (file: string, opts: AdminFlags & FormatFlags & { against: string; traffic?: string; format: 'text' | 'json'; all?: boolean }) => {
      const { report: before, label } = await against(file, opts);
      if (!before.config || !before.model) {
        const first = before.findings.find((f) => f.severity === 'error');
        throw new UsageError(`the --against config ${label} does not load, so there is nothing to compare with${first ? `: ${first.line ?? 1}:${first.column ?? 1}: ${first.code}: ${first.message}` : ''}`);
      }
      const after = await validateAny(file, opts, { samplePath: opts.traffic, previous: { config: before.config, model: before.model } });
      result.exitCode = after.valid ? 0 : 1;
      const rows = planRows(before, after);
      const moved = after.model ? movedShare(before.model, after.model).moved : null;
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify({ file, against: opts.against, valid: after.valid, moved, maxShift: after.config?.guardrails.maxShift ?? null, rows, findings: after.findings })}\n`);
        return;
      }
      let out = '';
      if (after.model && after.config) {
        out += `plan: ${label} → ${displayPath(file)}\n`;
        out += `traffic moved between servers: ${pct(moved ?? 0)} of all requests (maxShift ${pct(after.config.guardrails.maxShift)}); the shares below are of each pool's requests\n`;
        const headroom = after.config.guardrails.headroom;
        const pools = [...new Set(rows.map((r) => r.pool))];
        const touched = pools.filter((p) => opts.all || rows.some((r) => r.pool === p && changed(r)));
        for (const pool of touched) {
          out += `\npool ${pool}\n`;
          const t = [['backend', 'share before', 'share after', 'peak req/s', 'capacity', 'utilization', '']];
          for (const r of rows.filter((x) => x.pool === pool)) {
            const a = r.after;
            t.push([r.backend, r.before ? pct(r.before.share) : '(new)', a ? pct(a.share) : '(removed)', a ? fmtRps(a.peakRps) : '-', a?.capacity ? fmtRps(a.capacity) : '-', a?.utilization != null ? `${pct(a.utilization)} ${loadWord(a.utilization, headroom)}`.trim() : '-', r.worse.length ? `<< worse: ${r.worse.join(', ')}` : '']);
          }
          out += table(t);
        }
        if (touched.length < pools.length) out += `\n(${pools.length - touched.length} unchanged ${pools.length - touched.length === 1 ? 'pool' : 'pools'} not shown; --all shows them)\n`;
        out += '\n';
      }
      out += after.findings.map((f) => formatFinding(f, file)).join('');
      out += summaryLine(file, after.findings, 'an apply would be accepted', 'an apply would be REFUSED');
      process.stdout.write(out);
    });
}

/** The version being replaced: a file, or the live active version fetched from the instance. */
async function against(file: string, opts: AdminFlags & FormatFlags & { against: string; traffic?: string }): Promise<{ report: ValidationReport; label: string }> {
  if (opts.against !== 'live') return { report: await validateAny(opts.against, opts, { samplePath: opts.traffic }), label: displayPath(opts.against) };
  const client = AdminClient.fromFlags({ ...opts, config: opts.config ?? file });
  const live = await client.get<{ id: number; text: string }>('/api/v1/versions/active');
  // Relative paths in the live text resolve against the candidate's folder, as they would on apply.
  return { report: validateText(live.text, file, { samplePath: opts.traffic }), label: `live version ${live.id} (${client.url})` };
}

/** Validates a file in any format; one that is no config evenkeel reads is a usage error here. */
async function validateAny(file: string, flags: FormatFlags, options: ValidateOptions): Promise<ValidationReport> {
  const report = await judgeForCommand(file, flags, options);
  if (typeof report === 'string') throw new UsageError(report);
  return report;
}

/** True when a backend's prediction differs between the versions (beyond rounding). */
function changed(r: PlanRow): boolean {
  if (!r.before || !r.after || r.worse.length) return true;
  return Math.abs(r.before.share - r.after.share) > 0.0005 || Math.abs((r.before.peakRps ?? 0) - (r.after.peakRps ?? 0)) > 0.5 || r.before.capacity !== r.after.capacity;
}

/** Joins both predictions backend by backend and marks what got worse. */
function planRows(before: ValidationReport, after: ValidationReport): PlanRow[] {
  const rows: PlanRow[] = [];
  const b = before.prediction?.pools ?? {};
  const a = after.prediction?.pools ?? {};
  const headroom = after.config?.guardrails.headroom ?? 0.2;
  for (const pool of new Set([...Object.keys(b), ...Object.keys(a)])) {
    const bb = b[pool]?.backends ?? {};
    const ab = a[pool]?.backends ?? {};
    for (const backend of new Set([...Object.keys(bb), ...Object.keys(ab)])) {
      const x = bb[backend];
      const y = ab[backend];
      const worse: string[] = [];
      if (x && y && y.share > x.share + 0.01) worse.push(`share +${pct(y.share - x.share)}`);
      if (y?.utilization != null && y.utilization > 1 - headroom && (x?.utilization ?? 0) < y.utilization) worse.push(y.utilization > 1 ? 'overloaded' : 'above headroom');
      if (x && !y && x.share > 0) worse.push('removed');
      rows.push({ pool, backend, before: x, after: y, worse });
    }
  }
  return rows;
}
