/**
 * A SIGHUP (a certificate renewal hook sends one), `evenkeel reload` or `evenkeel apply` of
 * the text that already serves changes nothing: no version is stored, no canary starts, and
 * each says so and succeeds. Regression: every one of them stored a new version and ran a
 * 30 s canary, during which the next real change was refused.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, eventually } from '../dataplane/helpers/harness.js';
import { adminGet, evenkeel, serve, site } from './helpers.js';

after(cleanup);

describe('a config that is already serving', () => {
  it('is not applied again by SIGHUP, reload or apply; a real change after them still goes in', async () => {
    const s = await site();
    const sp = await serve(s);
    sp.child.kill('SIGHUP');
    await eventually(() => /is unchanged/.test(sp.stderr), 15_000, 'the SIGHUP to be answered');
    assert.match(sp.stderr, /evenkeel: reload \(SIGHUP\): \S*evenkeel\.yaml is unchanged; version 1 already serves it, nothing to apply/);

    const reload = await evenkeel(['reload', '-c', s.file]);
    assert.equal(reload.code, 0, reload.stdout + reload.stderr);
    assert.match(reload.stdout, /^reload: the file is unchanged: version 1 already serves it; nothing to apply$/m);

    const apply = await evenkeel(['apply', s.file, '--reason', 'again', '-c', s.file]);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.match(apply.stdout, /unchanged: version 1 already serves this text; nothing to apply/);

    const versions = await adminGet<{ versions: { id: number }[] }>(s, '/api/v1/versions');
    assert.deepEqual(versions.versions.map((v) => v.id), [1]);
    const status = await adminGet<{ version: number; canary: unknown }>(s, '/api/v1/status');
    assert.deepEqual([status.version, status.canary], [1, null]);

    s.write(s.text([2, 2]));
    sp.child.kill('SIGHUP');
    await eventually(() => /as canary version 2/.test(sp.stderr), 15_000, 'the real change to start its canary');
  });
});
