/**
 * Packaging: the example systemd unit passes `systemd-analyze verify` (Debian's systemd; .ci/run
 * installs it), and the `npm pack` tarball, installed for real with `npm install -g --prefix`,
 * gives an `evenkeel` on the PATH that runs `--help`, `validate`, and `serve` (which opens its
 * SQLite store, so the native better-sqlite3 was built).
 *
 * The install resolves the dependencies from the npm registry and compiles better-sqlite3 from
 * source with node-gyp (about a minute): python3, make, g++ and Node's headers (npm's `nodedir`)
 * are on every machine of this kind. `npm_config_build_from_source` tells prebuild-install not
 * to fetch a prebuilt binary from GitHub, which this network does not reach; the checkout's own
 * installs get the same from .prebuild-installrc, which a global install does not see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
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

test('npm pack ships bin, dist, docs and examples (no sources, tests or bench), and a global install of it runs --help, validate and serve', async () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'build first: npm run build (npm test does)');
  const dir = tempDir();
  // --ignore-scripts: dist/ is already built (npm pack would otherwise run prepare, a full build).
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info.files.map((f) => f.path);
  for (const f of ['bin/evenkeel.js', 'dist/cli/main.js', 'package.json', 'README.md', 'docs/config.md', 'examples/website.yaml', 'examples/systemd/evenkeel.service']) assert.ok(files.includes(f), `${f} is in the tarball`);
  assert.deepEqual(files.filter((f) => /^(test|bench|scripts|\.ci|node_modules)\//.test(f) || (f.startsWith('src/') && !f.startsWith('src/ui/'))), []);

  // A real global install into a prefix of its own: P/lib/node_modules/evenkeel, and P/bin/evenkeel linked to its bin.
  const prefix = join(dir, 'prefix');
  const pkg = join(prefix, 'lib', 'node_modules', 'evenkeel');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3', join(dir, info.filename)], {
    cwd: dir,
    encoding: 'utf8',
    // Node's headers: npm's nodedir where it is set (here ~/.npmrc says /usr), else Node's own
    // /usr/include/node when present, so node-gyp never tries to download them.
    env: { ...process.env, npm_config_build_from_source: 'true', ...(nodedir() ? { npm_config_nodedir: nodedir() } : {}) },
    timeout: 240_000,
  });
  assert.equal(install.status, 0, `npm install -g failed:\n${install.stdout}${install.stderr}`);
  assert.ok(existsSync(join(pkg, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')), 'better-sqlite3 was compiled for this Node');
  const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  const help = spawnSync('evenkeel', ['--help'], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: evenkeel/);
  assert.match(help.stdout, /serve/);
  const ok = spawnSync('evenkeel', ['validate', join(pkg, 'examples', 'website.yaml')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = spawnSync('evenkeel', ['validate', join(pkg, 'examples', 'bad-change.yaml')], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(bad.status, 1, 'the bad example is refused');

  // serve from the installed package: its store is SQLite, so this loads the compiled addon.
  const port = await freePort();
  const admin = await freePort();
  writeFileSync(join(dir, 'evenkeel.yaml'), `listeners:\n  - { name: web, address: 127.0.0.1:${port}, routes: [{ name: all, pool: app }] }\npools:\n  app: { backends: [{ address: 127.0.0.1:${await freePort()} }] }\nadmin: { address: 127.0.0.1:${admin} }\nstore: { path: ${join(dir, 'store')} }\n`);
  const serve = spawn('evenkeel', ['serve', '-c', join(dir, 'evenkeel.yaml'), '--no-log'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  serve.stdout.on('data', (d) => (output += d));
  serve.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => serve.once('exit', r));
  try {
    const until = Date.now() + 60_000;
    let status = 0;
    while (status === 0) {
      if (serve.exitCode !== null) assert.fail(`serve exited ${serve.exitCode}: ${output}`);
      if (Date.now() > until) assert.fail(`serve did not answer: ${output}`);
      status = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.status, () => 0);
      if (status === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 502, 'the only backend is closed: 502, from a running data plane');
    assert.ok(existsSync(join(dir, 'store', 'evenkeel.db')), 'the SQLite store was created');
  } finally {
    serve.kill('SIGTERM');
    await exited;
  }
});

/** The folder whose include/node holds Node's headers, unless npm already names one. */
function nodedir(): string | undefined {
  const configured = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout.trim();
  if (configured && configured !== 'undefined' && configured !== 'null') return undefined;
  return existsSync('/usr/include/node/node.h') ? '/usr' : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
