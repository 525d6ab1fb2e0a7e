/**
 * evenkeel's command line. Each command lives in commands/ and registers itself here; this
 * module owns exit codes: 0 success, 1 refused or invalid, 2 usage or environment error.
 */
import { Command, CommanderError } from 'commander';
import { EvenkeelError } from '../errors.js';
import { registerValidate } from './commands/validate.js';
import { registerPlan } from './commands/plan.js';
import { registerTest } from './commands/test.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerApply } from './commands/apply.js';
import { registerReload } from './commands/reload.js';
import { registerRollback } from './commands/rollback.js';
import { registerVersions } from './commands/versions.js';
import { registerEvents } from './commands/events.js';
import { registerStatus } from './commands/status.js';
import { registerReport } from './commands/report.js';
import { registerWeight } from './commands/weight.js';
import type { CommandResult } from './shared.js';
import { VERSION } from './version.js';

/** Builds the program; exported so tests can run commands in-process. */
export function buildProgram(result: CommandResult): Command {
  const program = new Command();
  program
    .name('evenkeel')
    .description('A load balancer that refuses a config which would concentrate traffic, canaries every change and rolls back by itself.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run evenkeel --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerValidate(program, result);
  registerPlan(program, result);
  registerTest(program, result);
  registerSchema(program, result);
  registerServe(program, result);
  registerDemo(program, result, main);
  registerExport(program, result);
  registerApply(program, result);
  registerRollback(program, result);
  registerReload(program, result);
  registerVersions(program, result);
  registerEvents(program, result);
  registerStatus(program, result);
  registerReport(program, result);
  registerWeight(program, result);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (process.argv shape) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  const program = buildProgram(result);
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof EvenkeelError) {
      process.stderr.write(`evenkeel: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`evenkeel: internal error (this is a bug, please report it): ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.EVENKEEL_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return 2;
  }
}
