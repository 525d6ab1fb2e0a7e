/**
 * `evenkeel export prometheus-rules [FILE | -c FILE] [-o FILE] [--scrape-interval D]`: the monitors as Prometheus alerting rules.
 * `evenkeel export haproxy [FILE | -c FILE] [-o FILE]`: the config as an equivalent haproxy.cfg.
 * `evenkeel export nginx [FILE | -c FILE] [-o FILE]`: the config as an equivalent nginx.conf.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfigFile, type Config } from '../../config/index.js';
import { prometheusRules } from '../../control/alerts/index.js';
import { FileReadError, UsageError } from '../../errors.js';
import { renderHaproxy } from '../../formats/haproxy/index.js';
import { renderNginx } from '../../formats/nginx/index.js';
import { durationFlag } from '../shared.js';
import { displayPath, formatFinding } from '../format.js';
import { type CommandResult, DEFAULT_CONFIG } from '../shared.js';

interface ExportFlags {
  config: string;
  output?: string;
}

/** Registers `export prometheus-rules`, `export haproxy` and `export nginx`. */
export function registerExport(program: Command, result: CommandResult): void {
  const exp = program.command('export').description('export evenkeel settings for other tools');
  exp
    .command('prometheus-rules')
    .description("write the monitors (overload, concentration, skew, error-rate, latency) as Prometheus alerting rules with the config's thresholds")
    .argument('[file]', 'config file (the same as -c)')
    .option('-c, --config <file>', 'config file to read the thresholds from', DEFAULT_CONFIG)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--scrape-interval <duration>', "Prometheus's scrape interval for evenkeel: each rule counts over the monitor window, but at least 4 scrapes", '15s')
    // Thresholds need a config that at least has its shape; rule findings (capacity and
    // the like) do not matter here, so validate is not required to pass.
    .action((file: string | undefined, flags: ExportFlags & { scrapeInterval: string }) => {
      const scrapeIntervalMs = durationFlag('--scrape-interval', flags.scrapeInterval);
      exportWith(withFile(file, flags), result, 'read thresholds', (config) => prometheusRules(config, { scrapeIntervalMs }));
    });
  // The other engines' configs: rendered, with what they cannot say exactly warned on stderr.
  const engines = [
    { name: 'haproxy', file: 'a haproxy.cfg', render: (c: Config, source: string) => { const r = renderHaproxy(c, { source }); return { text: r.text, notes: r.notes.map((n) => `${n.section}: ${n.message}`) }; } },
    { name: 'nginx', file: 'an nginx.conf', render: (c: Config, source: string) => { const r = renderNginx(c, { source }); return { text: r.text, notes: r.notes.map((n) => `${n.where}: ${n.message}`) }; } },
  ];
  for (const e of engines) {
    exp
      .command(e.name)
      .description(`write the config as an equivalent ${e.file.slice(e.file.indexOf(' ') + 1)} (what ${e.name === 'haproxy' ? 'HAProxy' : 'NGINX'} cannot say exactly is commented in the file and warned on stderr)`)
      .argument('[file]', 'config file to render (the same as -c)')
      .option('-c, --config <file>', 'config file to render', DEFAULT_CONFIG)
      .option('-o, --output <file>', 'write to this file instead of stdout')
      .action((file: string | undefined, given: ExportFlags) => {
        const flags = withFile(file, given);
        exportWith(flags, result, `render ${e.file}`, (config) => {
          const { text, notes } = e.render(config, displayPath(flags.config));
          for (const n of notes) process.stderr.write(`warning: ${n}\n`);
          return text;
        });
      });
  }
}

/** `export haproxy FILE`, as `validate FILE` reads: the positional file, else -c. */
function withFile<T extends ExportFlags>(file: string | undefined, flags: T): T {
  if (file !== undefined && flags.config !== DEFAULT_CONFIG && flags.config !== file) throw new UsageError(`two config files: ${file} and -c ${flags.config}; give one`);
  return file === undefined ? flags : { ...flags, config: file };
}

/** Loads the config, renders it, and writes stdout or `-o`. */
function exportWith(flags: ExportFlags, result: CommandResult, what: string, render: (config: Config) => string): void {
  const load = loadConfigFile(flags.config);
  if (!load.config) {
    process.stderr.write(load.findings.filter((f) => f.severity === 'error').map((f) => formatFinding(f, flags.config)).join(''));
    process.stderr.write(`${displayPath(flags.config)}: cannot ${what} from a config that does not load\n`);
    result.exitCode = 1;
    return;
  }
  const text = render(load.config);
  if (!flags.output) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(flags.output, text);
  } catch (err) {
    throw new FileReadError(flags.output, (err as Error).message, { cause: err });
  }
  process.stderr.write(`wrote ${displayPath(flags.output)}\n`);
}
