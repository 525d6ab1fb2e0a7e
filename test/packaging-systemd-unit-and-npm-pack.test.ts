/**
 * Packaging: the example systemd unit passes `systemd-analyze verify` (Debian's systemd; .ci/run
 * installs it), and the `npm pack` tarball, laid out as `npm install -g --prefix` lays it out,
 * runs `evenkeel --help` and `evenkeel validate` from its own files.
 *
 * Not a real `npm install -g <tarball>`: that resolves the dependencies from the registry
 * (here `--offline` fails with ENOTCACHED for better-sqlite3), and better-sqlite3 then compiles
 * for a minute. The dependencies are linked from this checkout's node_modules instead; every
 * other file comes out of the tarball.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.ts';

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const analyze = which('systemd-analyze');

test('examples/systemd/evenkeel.service passes systemd-analyze verify with no warning', { skip: !analyze && !process.env.CI ? 'systemd-analyze is not installed (apt-get install systemd)' : false }, () => {
  assert.ok(analyze, 'systemd-analyze is missing: .ci/run installs Debian\'s systemd');
  const unit = readFileSync(join(ROOT, 'examples', 'systemd', 'evenkeel.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/evenkeel serve -c \/etc\/evenkeel\/evenkeel\.yaml --pid-file \/run\/evenkeel\/evenkeel\.pid$/m);
  assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  // verify checks that ExecStart's program exists: point it at this checkout's bin.
  const dir = tempDir();
  writeFileSync(join(dir, 'evenkeel.service'), unit.replace('/usr/bin/evenkeel', join(ROOT, 'bin', 'evenkeel.js')));
  const r = spawnSync(analyze!, ['verify', join(dir, 'evenkeel.service')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warning either (an unknown key is only a warning)');
});

test('npm pack ships bin, dist, docs and examples (no sources, tests or bench), and the installed layout runs --help and validate', () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'build first: npm run build (npm test does)');
  const dir = tempDir();
  // --ignore-scripts: dist/ is already built (npm pack would otherwise run prepare, a full build).
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info.files.map((f) => f.path);
  for (const f of ['bin/evenkeel.js', 'dist/cli/main.js', 'package.json', 'README.md', 'docs/config.md', 'examples/website.yaml', 'examples/systemd/evenkeel.service']) assert.ok(files.includes(f), `${f} is in the tarball`);
  assert.deepEqual(files.filter((f) => /^(test|bench|scripts|\.ci|node_modules)\//.test(f) || (f.startsWith('src/') && !f.startsWith('src/ui/'))), []);

  // npm install -g --prefix P puts the package in P/lib/node_modules/evenkeel and links P/bin/evenkeel to its bin.
  const prefix = join(dir, 'prefix');
  const pkg = join(prefix, 'lib', 'node_modules', 'evenkeel');
  mkdirSync(pkg, { recursive: true });
  const untar = spawnSync('tar', ['-xzf', join(dir, info.filename), '-C', pkg, '--strip-components=1']);
  assert.equal(untar.status, 0, String(untar.stderr));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  mkdirSync(join(prefix, 'bin'));
  symlinkSync(join(pkg, 'bin', 'evenkeel.js'), join(prefix, 'bin', 'evenkeel'));
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  const help = spawnSync('evenkeel', ['--help'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: evenkeel/);
  assert.match(help.stdout, /serve/);
  const ok = spawnSync('evenkeel', ['validate', join(pkg, 'examples', 'website.yaml')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = spawnSync('evenkeel', ['validate', join(pkg, 'examples', 'bad-change.yaml')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(bad.status, 1, 'the bad example is refused');
});
