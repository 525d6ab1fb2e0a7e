/**
 * With `workers: 2`, a data-plane worker that dies is said on stderr, journalled
 * (`worker.exited`), and replaced; requests keep being served. Before, workers died silently
 * (the fuzzing of the hardening issue found a crash loop nobody could see).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, eventually, freePort, request, spawnServe, startBackend, tempDir, writeConfig } from './helpers/harness.js';

after(cleanup);

/** The data-plane workers of a serve process (its children with EVENKEEL_WORKER=1; tsx has an esbuild child too). */
function children(pid: number): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((p) => {
    try {
      return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes('EVENKEEL_WORKER=1');
    } catch {
      return false;
    }
  });
}

describe('a killed worker', () => {
  it('is replaced, said on stderr and journalled', async () => {
    const b = await startBackend();
    const port = await freePort();
    const admin = await freePort();
    const dir = tempDir();
    const file = await writeConfig(dir, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app }]
pools:
  app: { backends: [{ address: ${b.address} }] }
workers: 2
admin: { address: 127.0.0.1:${admin} }
`);
    const sp = await spawnServe(file);
    await eventually(() => children(sp.child.pid!).length === 2, 15_000, 'two workers');
    const [victim] = children(sp.child.pid!);
    process.kill(victim, 'SIGKILL');
    await eventually(() => new RegExp(`data-plane worker ${victim} ended \\(signal SIGKILL\\)`).test(sp.stderr), 10_000, 'the line on stderr');
    await eventually(() => children(sp.child.pid!).length === 2 && !children(sp.child.pid!).includes(victim), 15_000, 'a new worker');
    for (let i = 0; i < 20; i++) assert.equal((await request(port)).status, 200);
    const token = readFileSync(join(dir, 'store', 'admin.token'), 'utf8').trim();
    const { events } = (await (await fetch(`http://127.0.0.1:${admin}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } })).json()) as { events: { type: string; data: { pid: number; signal: string } }[] };
    const exited = events.find((e) => e.type === 'worker.exited');
    assert.deepEqual([exited?.data.pid, exited?.data.signal], [victim, 'SIGKILL']);
  });
});
