// Runs every test/**/*.test.ts through node:test with tsx (Node 20's --test does not expand
// globs itself). --test-timeout bounds each test file as a whole in Node 20 (not each test), so
// it is 5 minutes: the slowest files take about 100 s on a machine shared by a dozen test runs,
// and one that hangs fails instead of hanging CI. There is no --test-force-exit: a file whose
// tests are done must also have closed every handle it opened, so a leaked server, socket or
// timer shows up as that file timing out.
// Extra arguments narrow the run: `npm test -- test/config`.
// The tools some tests drive (Debian's chromium for test/ui/, haproxy, nginx, prometheus) are
// installed by .ci/run, not here: `npm test` never installs anything.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find('test').sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
if (files.some((f) => f.startsWith(join('test', 'ui'))) && !existsSync('/usr/bin/chromium')) {
  console.error('run-tests: /usr/bin/chromium is missing, so the dashboard tests (test/ui/) will fail; install it with: apt-get install -y chromium (.ci/run does)');
}

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
