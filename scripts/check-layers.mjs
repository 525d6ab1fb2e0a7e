// The import rules of .dependency-cruiser.cjs over src/, run by `npm run typecheck`. Every error
// is printed and fails the run; a rule made a warning would be counted per rule and listed only
// with --verbose.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../node_modules/dependency-cruiser/bin/dependency-cruise.mjs', import.meta.url));
const r = spawnSync(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
if (!r.stdout) {
  process.stderr.write(r.stderr);
  process.exit(2);
}
const { summary } = JSON.parse(r.stdout);
const verbose = process.argv.includes('--verbose');
const line = (v) => `  ${v.rule.severity} ${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name ?? c).join(' → ') : v.to}\n`;
let out = '';
const warnings = new Map();
for (const v of summary.violations) {
  if (v.rule.severity === 'error' || verbose) out += line(v);
  if (v.rule.severity === 'warn') warnings.set(v.rule.name, (warnings.get(v.rule.name) ?? 0) + 1);
}
const counts = [...warnings].map(([name, n]) => `${n} ${name}`).join(', ');
out += `layers: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports: ${summary.error} errors, ${summary.warn} warnings${counts ? ` (${counts}${verbose ? '' : '; list them with --verbose'})` : ''}\n`;
process.stdout.write(out);
process.exit(summary.error > 0 ? 1 : 0);
