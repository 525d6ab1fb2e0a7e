/** `evenkeel test [SUITE...]` — placeholder until the suite runner lands. */
import type { Command } from 'commander';
import type { CommandResult } from '../main.js';

export function registerTest(_program: Command, _result: CommandResult): void {}
