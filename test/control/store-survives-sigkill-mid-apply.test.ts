/**
 * Crash safety: a child process applies versions in a loop and is SIGKILLed mid-way, several
 * times over the same store. Every version the child reported as committed is there, nothing
 * is half-written (each version has its event, hashes match, one active), and integrity_check
 * is ok.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seededRandom } from '../../src/core/random.ts';
import { openSqliteStore } from '../../src/control/store/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORE_MODULE = pathToFileURL(join(ROOT, 'src/control/store/index.ts')).href;

// The child: recover a canary left by the previous kill, then apply forever, printing each
// commit only after the store call returned (so a printed id is an acknowledged commit).
const CHILD = `
import { writeSync } from 'node:fs';
import { openSqliteStore } from ${JSON.stringify(STORE_MODULE)};
const store = openSqliteStore(process.argv[2]);
const say = (line) => writeSync(1, line + '\\n');
const left = await store.canary();
if (left) await store.setStatus(left.id, 'aborted', { type: 'canary.aborted', data: { reason: 'found after restart' } });
const pad = 'x'.repeat(48 * 1024);
for (let i = 0; ; i++) {
  const text = 'pools:\\n  web: { backends: [] }\\n# ' + process.pid + ' ' + i + '\\n# ' + pad + '\\n';
  if (i % 5 === 4) {
    const r = await store.addVersion({ text, author: 'crash', reason: 'refused ' + i, status: 'refused' }, { type: 'config.refused', data: { i } });
    say('refused ' + r.version.id);
    continue;
  }
  const c = await store.addVersion({ text, author: 'crash', reason: 'apply ' + i, status: 'canary' }, { type: 'canary.started', data: { i, pad: pad.slice(0, 4096) } });
  say('canary ' + c.version.id);
  const p = await store.activate(c.version.id, { event: { type: 'canary.promoted', data: { i } } });
  say('active ' + p.version.id);
  if (i % 3 === 0) {
    await store.markKnownGood(p.version.id, { type: 'config.known-good' });
    say('good ' + p.version.id);
  }
  await store.appendEvent({ type: 'alert.fired', version: p.version.id, data: { i } });
}
`;

/** Runs the child until it has reported `stopAfter` commits, then SIGKILLs it; returns every line it printed. */
function runAndKill(script: string, storePath: string, stopAfter: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, storePath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    // A safety net for a wedged child, not a timing assertion.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!killed && out.split('\n').length - 1 >= stopAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL' || !killed) reject(new Error(`child ended by itself (code ${code}, signal ${signal}): ${err}`));
      else resolve(out.split('\n').filter((l) => /^(canary|active|good|refused) \d+$/.test(l)));
    });
  });
}

test('versions reported as committed survive SIGKILL mid-apply, nothing is half-written, integrity ok', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-crash-'));
  const storePath = join(dir, '.evenkeel');
  const script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  const random = seededRandom(42);
  const reported = new Map<number, string>();
  let lastGood = 0;
  try {
    for (let round = 0; round < 5; round++) {
      const lines = await runAndKill(script, storePath, 4 + Math.floor(random() * 30));
      assert.ok(lines.length > 0, 'the child committed something before the kill');
      for (const line of lines) {
        const [what, id] = line.split(' ');
        if (what === 'good') lastGood = Number(id);
        else reported.set(Number(id), what);
      }

      const store = openSqliteStore(storePath);
      try {
        assert.equal(store.integrityCheck(), 'ok', `round ${round}`);
        for (const [id, what] of reported) {
          const v = await store.get(id);
          assert.ok(v, `reported version ${id} is in the store after round ${round}`);
          assert.equal(v.hash, createHash('sha256').update(v.text).digest('hex'));
          if (what === 'refused') assert.equal(v.status, 'refused');
          if (what === 'active') assert.notEqual(v.status, 'canary', `version ${id} was reported active`);
        }
        const versions = await store.list();
        const events = await store.events();
        for (const v of versions) {
          assert.ok(v.text.endsWith('\n') && v.text.length > 48 * 1024, `version ${v.id} text is whole`);
          const opening = v.status === 'refused' ? 'config.refused' : 'canary.started';
          assert.ok(events.some((e) => e.type === opening && e.version === v.id), `version ${v.id} has its ${opening} event`);
          if (v.status === 'active' || v.status === 'superseded') assert.ok(events.some((e) => e.type === 'canary.promoted' && e.version === v.id), `version ${v.id} has its promotion event`);
        }
        assert.ok(versions.filter((v) => v.status === 'active').length <= 1);
        assert.ok(versions.filter((v) => v.status === 'canary').length <= 1);
        assert.ok(((await store.lastKnownGood())?.id ?? 0) >= lastGood, 'the known-good pointer is not older than the last reported one');
      } finally {
        await store.close();
      }
    }
    assert.ok(reported.size >= 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
