/** `evenkeel validate [FILE]`: the first line of defence, before anything is deployed. */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { formatOptions, judgeForCommand, type FormatFlags } from '../load.js';
import { distributionTables, formatFinding, summaryLine } from '../format.js';
import { DEFAULT_CONFIG, type CommandResult } from '../shared.js';

export function registerValidate(program: Command, result: CommandResult): void {
  formatOptions(program
    .command('validate')
    .description('check a config (evenkeel YAML, haproxy.cfg or nginx.conf): schema, rules, and the traffic it would send to each backend (exit 0 valid, 1 invalid, 2 unreadable)')
    .argument('[file]', 'config file', DEFAULT_CONFIG)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--traffic <sample>', 'traffic sample (JSONL) to use instead of guardrails.traffic.sample'))
    .action(async (file: string, opts: FormatFlags & { format: 'text' | 'json'; traffic?: string }) => {
      if (file === DEFAULT_CONFIG && !existsSync(file)) throw new UsageError(`no config file given and no ${DEFAULT_CONFIG} in ${process.cwd()}: run evenkeel validate FILE`);
      const report = await judgeForCommand(file, opts, { samplePath: opts.traffic });
      if (typeof report === 'string') {
        process.stderr.write(`evenkeel: ${report}\n`);
        result.exitCode = 1;
        return;
      }
      result.exitCode = report.valid ? 0 : 1;
      if (opts.format === 'json') {
        const findings = report.findings.map(({ code, severity, message, subject, path, line, column, hint, file: f }) => ({ code, severity, message, subject, path, line, column, hint, ...(f ? { file: f } : {}) }));
        process.stdout.write(`${JSON.stringify({ file, valid: report.valid, findings, prediction: report.prediction ?? null })}\n`);
        return;
      }
      let out = report.findings.map((f) => formatFinding(f, file)).join('');
      if (report.model && report.config) {
        const algorithms = Object.fromEntries(Object.entries(report.config.pools).map(([n, p]) => [n, p.algorithm]));
        out += `${out ? '\n' : ''}${distributionTables(report.model, report.config.guardrails.headroom, algorithms, report.words)}\n`;
      }
      out += summaryLine(file, report.findings, 'valid', 'invalid');
      process.stdout.write(out);
    });
}
