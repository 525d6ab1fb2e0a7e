/**
 * `evenkeel serve -c FILE [--workers N]`: validates the config (refusing an invalid one with
 * its findings, exit 1), serves it, and prints where it listens, the admin address and the
 * config version. SIGHUP reloads (an invalid config is refused, the old one keeps serving);
 * SIGTERM and SIGINT drain in-flight requests, then exit.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { validateFile } from '../../analysis/index.js';
import type { ReloadResult } from '../../control/instance.js';
import { parseDuration } from '../../core/duration.js';
import { UsageError } from '../../errors.js';
import { displayPath, formatFinding, summaryLine } from '../format.js';
import type { CommandResult } from '../main.js';
import { DEFAULT_CONFIG } from './validate.js';

interface ServeFlags {
  config: string;
  workers?: string;
  drainTimeout: string;
  log: boolean;
}

export function registerServe(program: Command, result: CommandResult): void {
  program
    .command('serve')
    .description('run the load balancer on a config (SIGHUP reloads, SIGTERM drains and exits)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--workers <n>', 'data-plane processes (overrides workers: in the config; "auto" = one per core)')
    .option('--drain-timeout <duration>', 'how long SIGTERM waits for in-flight requests', '10s')
    .option('--no-log', 'no JSON logs on stderr')
    .action(async (flags: ServeFlags) => {
      if (cluster.isWorker) {
        // The data plane (undici, prom-client, pino) is loaded only by serve, so validate,
        // plan and test start without it.
        const { runWorker } = await import('../../control/worker.js');
        runWorker(flags.log);
        return new Promise<void>(() => undefined);
      }
      result.exitCode = await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<number> {
  const workers = parseWorkers(flags.workers);
  let drainMs: number;
  try {
    drainMs = parseDuration(flags.drainTimeout);
  } catch {
    throw new UsageError(`--drain-timeout ${flags.drainTimeout}: expected a duration such as 10s`);
  }
  const file = flags.config;
  const report = validateFile(file);
  const shown = report.findings.filter((f) => f.severity !== 'info');
  process.stderr.write(shown.map((f) => formatFinding(f, file)).join(''));
  if (!report.valid || !report.config) {
    process.stderr.write(summaryLine(file, report.findings, 'valid', 'refused: nothing was started'));
    return 1;
  }
  const { Instance } = await import('../../control/instance.js');
  const inst = await Instance.start({ file, config: report.config, workers, log: flags.log });
  const out: string[] = [`evenkeel serving ${displayPath(file)}: version ${inst.info.version} (file, hash ${inst.info.hash}), ${inst.workers} worker${inst.workers === 1 ? '' : 's'}`];
  for (const l of inst.listeners) out.push(`  listener ${l.name}: ${l.protocol}://${hostOf(l.address)}:${l.port}`);
  out.push(`  admin: http://${hostOf(inst.admin.address)}:${inst.admin.port} (metrics at /metrics; bearer token in ${inst.token.file}${inst.token.generated ? ', just generated' : ''})`);
  process.stdout.write(`${out.join('\n')}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onHup = () => void inst.reload().then((r) => process.stderr.write(describeReload(file, r)));
    const onStop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`evenkeel: ${sig}: draining (at most ${flags.drainTimeout})\n`);
      process.off('SIGHUP', onHup);
      // Past the deadline plus a margin, exit whatever is still pending.
      setTimeout(() => process.exit(0), drainMs + 3000).unref();
      inst.stop(drainMs).then(
        () => {
          process.stderr.write('evenkeel: stopped\n');
          resolve(0);
        },
        (err: Error) => {
          process.stderr.write(`evenkeel: error while stopping: ${err.message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', () => onStop('SIGTERM'));
    process.once('SIGINT', () => onStop('SIGINT'));
  });
}

function describeReload(file: string, r: ReloadResult): string {
  const shown = r.findings.filter((f) => f.severity !== 'info').map((f) => formatFinding(f, file)).join('');
  if (r.applied) return `${shown}evenkeel: reloaded ${displayPath(file)}: now serving version ${r.version}\n`;
  return `${shown}evenkeel: reload refused${r.error ? ` (${r.error})` : ''}; still serving version ${r.version}\n`;
}

function parseWorkers(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === 'auto') return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--workers ${v}: expected a number from 1 to 64, or auto`);
  return n;
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}
