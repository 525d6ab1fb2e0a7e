/**
 * A forced apply is recorded with its reason; `rollback` goes back to the last known-good
 * version; a restart serves the rolled-back-to version from the store (not the file, which
 * still holds the bad change) and says the file differs; history, show, diff and events tell
 * the story.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, request } from '../dataplane/helpers/harness.js';
import { evenkeel, serve, site } from './helpers.js';

after(cleanup);

async function backendsHit(port: number, n = 6): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) seen.add((JSON.parse((await request(port)).body) as { port: number }).port);
  return seen;
}

describe('forced apply, rollback, restart', () => {
  it('records the force, rolls back to the last known good version, and a restart keeps the rollback', async () => {
    const s = await site();
    const sp = await serve(s);
    assert.match(sp.stdout, /version 1 \(file, hash [0-9a-f]{12}\), 1 worker\n(.*\n)*  store: .*the file is now version 1/);
    const [b1, b2] = s.backends.map((b) => b.port);

    // The operator edits the file to the bad change and forces it in.
    s.write(s.text([1, 0]));
    const noReason = await evenkeel(['apply', s.file, '--reason', '', '--force', '-c', s.file]);
    assert.equal(noReason.code, 2, 'an empty reason with --force is a usage error');
    const forced = await evenkeel(['apply', s.file, '--reason', 'b2 maintenance window', '--force', '--no-canary', '--author', 'alice', '-c', s.file]);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stdout, /error EK209/);
    assert.match(forced.stdout, /now serving version 2 \(forced/);
    assert.deepEqual(await backendsHit(s.port), new Set([b1]));

    const rb = await evenkeel(['rollback', '--reason', 'b2 is back', '-c', s.file]);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /rolled back: version 2 → version 1/);
    assert.deepEqual(await backendsHit(s.port), new Set([b1, b2]));

    const history = await evenkeel(['history', '-c', s.file]);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /^2\s+rolled-back\s+\S+ \S+\s+alice\s+[0-9a-f]{12}\s+b2 maintenance window$/m);
    assert.match(history.stdout, /^1\*\s+active\s+.*initial$/m);

    const show = await evenkeel(['show', '2', '-c', s.file]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^# version 2 \(rolled-back\) by alice/);
    assert.ok(show.stdout.includes(s.text([1, 0])), 'show prints the stored text');

    const diff = await evenkeel(['diff', '1', '2', '-c', s.file]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^--- version 1 \(active\)\n\+\+\+ version 2 \(rolled-back\)\n@@/);
    assert.match(diff.stdout, /^-      - \{ name: b2, .*weight: 1 \}$/m);
    assert.match(diff.stdout, /^\+      - \{ name: b2, .*weight: 0 \}$/m);

    const events = await evenkeel(['events', '--since', '1h', '-c', s.file]);
    assert.equal(events.code, 0, events.stderr);
    const lines = events.stdout.trim().split('\n');
    assert.match(lines[0], /config\.applied\s+Config v1 applied by initial/);
    assert.match(lines[1], /config\.applied\s+Config v2 applied by alice with --force \("b2 maintenance window"\)/);
    assert.match(lines[2], /rollback\.manual\s+Manual rollback to v1 from v2 by .*\("b2 is back"\)/);
    const none = await evenkeel(['events', '--since', '2999-01-01T00:00:00Z', '-c', s.file]);
    assert.match(none.stdout, /no events in that range/);

    // Restart on the same file (still the bad change): the store's version 1 is served.
    sp.child.kill('SIGTERM');
    assert.equal(await sp.exited, 0);
    const again = await serve(s);
    assert.match(again.stdout, /serving version 1 from the config store in \S*store \(hash/);
    assert.match(again.stdout, /evenkeel\.yaml differs from the active version 1; it is NOT served\. Changes go through evenkeel apply/);
    assert.deepEqual(await backendsHit(s.port), new Set([b1, b2]));

    const status = await evenkeel(['status', '-c', s.file]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /serving version 1 \(hash [0-9a-f]{12}\)/);
    assert.match(status.stdout, /last known good: version 1/);
    assert.match(status.stdout, /backend\s+health\s+expected\s+observed\s+req\/s\s+capacity\s+utilization/);
    assert.match(status.stdout, /^\s+b1\s+up\s+50\.0%\s+\S+%\s+\S+\s+500\s+\S+%$/m);
  });

  it('SIGHUP applies the file through the same gate: a bad file is refused and journalled as by sighup', async () => {
    const s = await site();
    const sp = await serve(s);
    s.write(s.text([0, 1]));
    sp.child.kill('SIGHUP');
    const until = Date.now() + 20_000;
    while (!/reload refused/.test(sp.stderr) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.match(sp.stderr, /error EK209/);
    assert.match(sp.stderr, /reload refused; still serving version 1/);
    const events = await evenkeel(['events', '--json', '-c', s.file]);
    const refused = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: { author: string } }).find((e) => e.type === 'config.refused');
    assert.equal(refused?.data.author, 'sighup');
  });
});
