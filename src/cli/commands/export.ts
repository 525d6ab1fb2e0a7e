/** `evenkeel export prometheus-rules [-c FILE] [-o FILE]`: the monitors as Prometheus alerting rules. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/index.js';
import { prometheusRules } from '../../control/alerts/index.js';
import { FileReadError } from '../../errors.js';
import { displayPath, formatFinding } from '../format.js';
import { type CommandResult, DEFAULT_CONFIG } from '../shared.js';

/** Registers `export prometheus-rules`. */
export function registerExport(program: Command, result: CommandResult): void {
  const exp = program.command('export').description('export evenkeel settings for other tools');
  exp
    .command('prometheus-rules')
    .description("write the monitors (overload, concentration, skew, error-rate, latency) as Prometheus alerting rules with the config's thresholds")
    .option('-c, --config <file>', 'config file to read the thresholds from', DEFAULT_CONFIG)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action((flags: { config: string; output?: string }) => {
      const load = loadConfigFile(flags.config);
      if (!load.config) {
        // Thresholds need a config that at least has its shape; rule findings (capacity and
        // the like) do not matter here, so validate is not required to pass.
        process.stderr.write(load.findings.filter((f) => f.severity === 'error').map((f) => formatFinding(f, flags.config)).join(''));
        process.stderr.write(`${displayPath(flags.config)}: cannot read thresholds from a config that does not load\n`);
        result.exitCode = 1;
        return;
      }
      const yaml = prometheusRules(load.config);
      if (!flags.output) {
        process.stdout.write(yaml);
        return;
      }
      try {
        writeFileSync(flags.output, yaml);
      } catch (err) {
        throw new FileReadError(flags.output, (err as Error).message, { cause: err });
      }
      process.stderr.write(`wrote ${displayPath(flags.output)}\n`);
    });
}
