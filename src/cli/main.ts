/**
 * evenkeel's command line. Each command lives in commands/ and registers itself here; this
 * module owns exit codes: 0 success, 1 refused or invalid, 2 usage or environment error.
 */
import { Command, CommanderError } from 'commander';
import { EvenkeelError } from '../errors.js';
import type { CommandResult } from './shared.js';
import { VERSION } from './version.js';

type Register = (program: Command, result: CommandResult) => void;

/**
 * Every command, in the order --help lists them, each loaded only when it is needed: `evenkeel
 * validate` in a CI step should not pay for the data plane, the store and the metrics (undici,
 * better-sqlite3, prom-client, pino: 590 modules for the whole CLI, 234 for validate).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  test: async () => (await import('./commands/test.js')).registerTest,
  schema: async () => (await import('./commands/schema.js')).registerSchema,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  demo: async () => {
    const { registerDemo } = await import('./commands/demo.js');
    return (program, result) => registerDemo(program, result, main);
  },
  export: async () => (await import('./commands/export.js')).registerExport,
  apply: async () => (await import('./commands/apply.js')).registerApply,
  rollback: async () => (await import('./commands/rollback.js')).registerRollback,
  reload: async () => (await import('./commands/reload.js')).registerReload,
  versions: async () => (await import('./commands/versions.js')).registerVersions,
  events: async () => (await import('./commands/events.js')).registerEvents,
  status: async () => (await import('./commands/status.js')).registerStatus,
  report: async () => (await import('./commands/report.js')).registerReport,
  // One module registers both `drain` and `weight`.
  drain: async () => (await import('./commands/weight.js')).registerWeight,
  weight: async () => (await import('./commands/weight.js')).registerWeight,
};

/**
 * Builds the program with the command `argv` names, or with all of them when it names none
 * (--help, a typo commander should answer with a suggestion).
 */
async function buildProgram(argv: string[], result: CommandResult): Promise<Command> {
  const program = new Command();
  program
    .name('evenkeel')
    .description('A load balancer that refuses a config which would concentrate traffic, canaries every change and rolls back by itself.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run evenkeel --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const named = argv[2];
  // --version needs no command; anything else unknown gets them all (help, suggestions).
  const wanted = named === '-V' || named === '--version' ? [] : named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  const registers = await Promise.all(wanted.map((name) => COMMANDS[name]()));
  for (const register of new Set(registers)) register(program, result);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (process.argv shape) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  try {
    const program = await buildProgram(argv, result);
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
