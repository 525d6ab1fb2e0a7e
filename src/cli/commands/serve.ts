/**
 * `evenkeel serve -c FILE [--workers N]`: opens the config store at `store.path` and serves its
 * active version, or, on an empty store, the file as version 1 (an invalid file is refused with
 * its findings, exit 1). Prints where it listens, the admin address and the version, and says
 * so when the file differs from the stored version. SIGHUP applies the file's current text
 * through the same gate as `evenkeel apply`; SIGUSR1 reopens the access logs; SIGTERM and
 * SIGINT drain, then exit. `--pid-file FILE` holds the pid while serving.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { validateFile } from '../../analysis/index.js';
import type { ReloadResult } from '../../control/index.js';
import { ConfigRefusedError, UsageError } from '../../errors.js';
import { displayPath, formatFinding, summaryLine } from '../format.js';
import { type CommandResult, DEFAULT_CONFIG, durationFlag } from '../shared.js';
import { checkPidFile, removePidFile, writePidFile } from '../pid-file.js';

interface ServeFlags {
  config: string;
  workers?: string;
  drainTimeout: string;
  log: boolean;
  pidFile?: string;
}

export function registerServe(program: Command, result: CommandResult): void {
  program
    .command('serve')
    .description('run the load balancer: the store\'s active version, or FILE as version 1 on an empty store (SIGHUP applies FILE, SIGTERM drains and exits)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--workers <n>', 'data-plane processes (overrides workers: in the config; "auto" = one per core)')
    .option('--drain-timeout <duration>', 'how long SIGTERM waits for in-flight requests', '10s')
    .option('--no-log', 'no JSON logs on stderr')
    .option('--pid-file <file>', 'write the pid here while serving (removed on stop; refuses to start when it names a live process)')
    .action(async (flags: ServeFlags) => {
      // SIGUSR1 reopens the access logs (they add their own listener). With no listener at all
      // Node opens its inspector on 127.0.0.1:9229 instead: never, from the first moment on.
      process.on('SIGUSR1', () => undefined);
      if (cluster.isWorker) {
        // The data plane (undici, prom-client, pino) is loaded only by serve, so validate,
        // plan and test start without it.
        const { runWorker } = await import('../../control/index.js');
        runWorker(flags.log);
        return new Promise<void>(() => undefined);
      }
      result.exitCode = await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<number> {
  const workers = parseWorkers(flags.workers);
  const drainMs = durationFlag('--drain-timeout', flags.drainTimeout);
  const file = flags.config;
  if (flags.pidFile !== undefined) checkPidFile(flags.pidFile);
  const report = validateFile(file);
  if (!report.config) {
    process.stderr.write(report.findings.map((f) => formatFinding(f, file)).join(''));
    process.stderr.write(summaryLine(file, report.findings, 'valid', 'refused: nothing was started'));
    return 1;
  }
  const { Instance } = await import('../../control/index.js');
  let inst: Awaited<ReturnType<typeof Instance.start>>;
  try {
    inst = await Instance.start({ file, config: report.config, fileValid: report.valid, workers, log: flags.log });
  } catch (err) {
    if (!(err instanceof ConfigRefusedError)) throw err;
    process.stderr.write(report.findings.filter((f) => f.severity !== 'info').map((f) => formatFinding(f, file)).join(''));
    process.stderr.write(summaryLine(file, report.findings, 'valid', 'refused: nothing was started'));
    return 1;
  }
  if (flags.pidFile !== undefined) {
    try {
      writePidFile(flags.pidFile);
    } catch (err) {
      await inst.stop(0);
      throw err;
    }
  }
  const pidFile = flags.pidFile;
  const boot = inst.boot;
  if (boot.source === 'file') process.stderr.write(report.findings.filter((f) => f.severity !== 'info').map((f) => formatFinding(f, file)).join(''));
  const v = boot.version;
  const from = boot.source === 'file'
    ? `evenkeel serving ${displayPath(file)}: version ${v.id} (file, hash ${inst.info.hash})`
    : `evenkeel serving version ${v.id} from the config store in ${displayPath(report.config.store.path)} (hash ${inst.info.hash}, by ${v.author}: ${v.reason})`;
  const engine = inst.engine();
  const served = engine.type === 'haproxy' ? `engine haproxy ${String(engine.version)}` : `${inst.workers} worker${inst.workers === 1 ? '' : 's'}`;
  const out: string[] = [`${from}, ${served}`];
  if (boot.source === 'store') {
    out.push(boot.fileDiffers
      ? `  note: ${displayPath(file)} differs from the active version ${v.id}; it is NOT served. Changes go through evenkeel apply (or SIGHUP to apply the file).`
      : `  ${displayPath(file)} is the active version ${v.id}`);
  }
  for (const l of inst.listeners) out.push(`  listener ${l.name}: ${l.tls ? 'https' : l.protocol}://${hostOf(l.address)}:${l.port}`);
  out.push(`  admin: http://${hostOf(inst.admin.address)}:${inst.admin.port} (metrics at /metrics; bearer token in ${inst.token.file}${inst.token.generated ? ', just generated' : ''})`);
  if (boot.source === 'file') out.push(`  store: ${displayPath(report.config.store.path)} (the file is now version 1; later changes go through evenkeel apply)`);
  process.stdout.write(`${out.join('\n')}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onHup = () =>
      void inst.reload().then(
        (r) => process.stderr.write(describeReload(file, r)),
        (err: Error) => process.stderr.write(`evenkeel: reload (SIGHUP) failed: ${err.message}; still serving version ${inst.info.version}\n`),
      );
    const onStop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`evenkeel: ${sig}: draining (at most ${flags.drainTimeout})\n`);
      process.off('SIGHUP', onHup);
      // Past the deadline plus a margin, exit whatever is still pending.
      setTimeout(() => process.exit(0), drainMs + 3000).unref();
      inst.stop(drainMs).then(
        () => {
          if (pidFile !== undefined) removePidFile(pidFile);
          process.stderr.write('evenkeel: stopped\n');
          resolve(0);
        },
        (err: Error) => {
          if (pidFile !== undefined) removePidFile(pidFile);
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
  // A refusal shows its reasons (the errors); an applied change shows its warnings too.
  const shown = r.findings.filter((f) => (r.applied ? f.severity !== 'info' : f.severity === 'error')).map((f) => formatFinding(f, file)).join('');
  if (r.unchanged) return `evenkeel: reload (SIGHUP): ${displayPath(file)} is unchanged; version ${r.version} already serves it, nothing to apply\n`;
  if (r.applied && r.canary) return `${shown}evenkeel: applied ${displayPath(file)} (SIGHUP) as canary version ${r.canary.version}: ${r.canary.percent}% of requests for ${Math.round(r.canary.durationMs / 1000)}s beside version ${r.version}; promoted unless a monitor objects\n`;
  if (r.applied) return `${shown}evenkeel: applied ${displayPath(file)} (SIGHUP): now serving version ${r.version}\n`;
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
