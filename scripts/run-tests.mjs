// Runs every test/**/*.test.ts through node:test with tsx (Node 20's --test does not expand
// globs itself). A test that runs past 2 minutes fails instead of hanging CI, and a file
// whose tests are done exits even if a handle was left open. Extra arguments narrow the run: `npm test -- test/config`.
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
// The dashboard tests (test/ui/) drive Debian's Chromium. On a fresh machine where we are root
// with apt-get, install it here, so `npm test` needs no set-up step of its own; otherwise those
// tests fail with a message that says how to install it.
const CHROMIUM = '/usr/bin/chromium';
if (files.some((f) => f.startsWith(join('test', 'ui'))) && !existsSync(CHROMIUM)) {
  const apt = ['/usr/bin/apt-get', '/bin/apt-get'].find((p) => existsSync(p));
  if (process.getuid?.() === 0 && apt) {
    const run = (args) => {
      console.error(`run-tests: ${CHROMIUM} is missing; running: apt-get ${args.join(' ')}`);
      return spawnSync(apt, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    };
    const installed = run(['install', '-y', 'chromium']) || (run(['update']) && run(['install', '-y', 'chromium']));
    console.error(installed ? `run-tests: installed ${CHROMIUM}` : 'run-tests: could not install chromium with apt-get; the dashboard tests will fail');
  } else {
    console.error(`run-tests: ${CHROMIUM} is missing and this is not root with apt-get: the dashboard tests will fail (install it with: apt-get update && apt-get install -y chromium)`);
  }
}

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=120000', '--test-force-exit', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
