/**
 * `evenkeel demo`: what `npm start` runs. Shows the first line of defence on the bundled
 * example: a good config validated and tested, then the seed incident's change (three of
 * four backends drained) planned against it and refused, with the finding that names the
 * backend and the fix.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { CommandResult } from '../main.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

export function registerDemo(program: Command, result: CommandResult, run: (argv: string[]) => Promise<number>): void {
  program
    .command('demo')
    .description('walk through the guardrails on the bundled example: validate, test, and a refused bad change')
    .action(async () => {
      const step = async (title: string, args: string[], expect: number) => {
        process.stdout.write(`\n=== ${title}\n$ evenkeel ${args.join(' ')}\n\n`);
        const code = await run(['node', 'evenkeel', ...args]);
        process.stdout.write(`(exit ${code}${code === expect ? '' : `, expected ${expect}`})\n`);
        return code === expect;
      };
      process.chdir(EXAMPLES);
      const ok = [
        await step('1. The website config: every finding, and the traffic each backend would get at peak', ['validate', 'website.yaml'], 0),
        await step('2. Its config tests: where requests go, how traffic spreads', ['test', 'website.test.yaml'], 0),
        await step("3. The outage's change (three of four web backends set to weight 0), planned against it", ['plan', 'bad-change.yaml', '--against', 'website.yaml'], 1),
      ].every(Boolean);
      process.stdout.write(`\n${ok ? 'The bad change is refused before deploy, naming web-1 and the fix.' : 'The demo did not behave as expected (see above).'}\n` +
        `Next: examples/incidents/ holds configs modelled on public outages; try \`evenkeel validate\` on them.\n`);
      result.exitCode = ok ? 0 : 1;
    });
}
