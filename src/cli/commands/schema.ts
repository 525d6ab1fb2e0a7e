/** `evenkeel schema`: prints the config's JSON Schema (draft-7) for editors. */
import type { Command } from 'commander';
import { configJsonSchema } from '../../config/index.js';
import type { CommandResult } from '../shared.js';

export function registerSchema(program: Command, _result: CommandResult): void {
  program
    .command('schema')
    .description('print the config JSON Schema (draft-7), for yaml-language-server and other editors')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
