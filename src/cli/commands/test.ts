/** `evenkeel test [SUITE...]`: run config test suites (YAML) through the real routing and balancers. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runSuiteFile } from '../../analysis/index.js';
import { UsageError } from '../../errors.js';
import { displayPath, formatFinding } from '../format.js';
import type { CommandResult } from '../shared.js';

/** Suites found when none is named: `*.test.yaml` below the working directory (not node_modules or dot folders). */
export function findSuites(dir: string, depth = 4): string[] {
  if (depth < 0) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findSuites(p, depth - 1));
    else if (/\.test\.ya?ml$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

export function registerTest(program: Command, result: CommandResult): void {
  program
    .command('test')
    .description('run config test suites (*.test.yaml): where requests go and how traffic spreads (exit 1 on any failure)')
    .argument('[suites...]', 'suite files (default: every *.test.yaml below the current folder)')
    .action((suites: string[]) => {
      const files = suites.length ? suites : findSuites(process.cwd());
      if (files.length === 0) throw new UsageError('no test suites given and no *.test.yaml found below the current folder');
      let passed = 0;
      let failed = 0;
      let out = '';
      for (const file of files) {
        const r = runSuiteFile(file);
        out += `${displayPath(file)}${r.config ? ` (config ${displayPath(r.config)})` : ''}\n`;
        for (const p of r.problems) {
          out += formatFinding(p, file);
          failed++;
        }
        for (const c of r.results) {
          out += `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}${c.ok ? `  (${c.detail})` : `\n        ${displayPath(file)}${c.line ? `:${c.line}` : ''}: ${c.detail}`}\n`;
          if (c.ok) passed++;
          else failed++;
        }
      }
      out += `\n${passed} passed, ${failed} failed\n`;
      process.stdout.write(out);
      result.exitCode = failed > 0 ? 1 : 0;
    });
}
