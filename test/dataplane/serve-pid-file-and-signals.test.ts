/** `serve --pid-file`: written on start, removed on stop, refuses a second instance; signals sent through it (SIGUSR1 reopens access logs). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, request, spawnServe, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

async function setup() {
  const b = await startBackend();
  const dir = tempDir();
  const port = await freePort();
  const file = await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    accessLog: { path: ./access.log }
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ address: ${b.address} }] }
`);
  return { dir, port, file, pidFile: join(dir, 'evenkeel.pid') };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('serve --pid-file', () => {
  it('holds the pid while serving; kill -USR1 $(cat FILE) reopens the access log; SIGTERM removes the file', async () => {
    const s = await setup();
    const sp = await spawnServe(s.file, ['--pid-file', s.pidFile]);
    assert.equal(readFileSync(s.pidFile, 'utf8'), `${sp.child.pid}\n`);
    await request(s.port, { path: '/one' });
    await eventually(() => lines(join(s.dir, 'access.log')).length === 1, 5000, 'the first line');
    renameSync(join(s.dir, 'access.log'), join(s.dir, 'access.log.1'));
    // As logrotate's postrotate would: signal the pid the file names.
    assert.equal(spawnSync('sh', ['-c', `kill -USR1 $(cat ${s.pidFile})`]).status, 0);
    await new Promise((r) => setTimeout(r, 200));
    await request(s.port, { path: '/two' });
    await eventually(() => lines(join(s.dir, 'access.log')).length === 1, 5000, 'a line in the reopened file');
    assert.equal(JSON.parse(lines(join(s.dir, 'access.log'))[0]).path, '/two');
    assert.doesNotMatch(sp.stderr, /Debugger listening/, 'SIGUSR1 must not open the inspector');
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
    assert.equal(existsSync(s.pidFile), false);
  });

  it('refuses to start while the file names a live process (exit 2), and replaces a stale one', async () => {
    const s = await setup();
    writeFileSync(s.pidFile, `${process.pid}\n`);
    const refused = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'cli.ts'), 'serve', '-c', s.file, '--no-log', '--pid-file', s.pidFile], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, new RegExp(`names process ${process.pid}, which is running`));
    assert.equal(readFileSync(s.pidFile, 'utf8'), `${process.pid}\n`, 'the other instance\'s file is left alone');
    // A pid no process has (beyond pid_max): the file is stale, serve takes it over.
    writeFileSync(s.pidFile, '4194305\n');
    const sp = await spawnServe(s.file, ['--pid-file', s.pidFile]);
    assert.equal(readFileSync(s.pidFile, 'utf8'), `${sp.child.pid}\n`);
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
  });
});
