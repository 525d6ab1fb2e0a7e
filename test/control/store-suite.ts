/**
 * The ConfigStore conformance suite: every store (memory, SQLite, a later etcd) runs these
 * same cases through `storeConformance(name, open)`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { VersionStateError } from '../../src/errors.ts';
import type { ConfigStore } from '../../src/control/store/index.ts';

/** Opens a fresh, empty store whose clock is `now`; `reopen` (when the store persists) opens the same data again. */
export interface StoreFactory {
  open(now: () => number): Promise<{ store: ConfigStore; reopen?: () => Promise<ConfigStore>; cleanup: () => Promise<void> }>;
}

const T0 = Date.UTC(2024, 5, 10, 14, 0, 0);

/** Registers the suite's tests for one implementation. */
export function storeConformance(name: string, factory: StoreFactory): void {
  async function withStore(fn: (s: ConfigStore, clock: { t: number }, reopen?: () => Promise<ConfigStore>) => Promise<void>): Promise<void> {
    const clock = { t: T0 };
    const { store, reopen, cleanup } = await factory.open(() => clock.t);
    try {
      await fn(store, clock, reopen);
    } finally {
      await store.close();
      await cleanup();
    }
  }

  test(`${name}: a version keeps its text, sha256, author, reason and time, and its event commits with it`, () =>
    withStore(async (s) => {
      const text = 'listeners: []\n# é\n';
      const { version, event } = await s.addVersion({ text, author: 'alice', reason: 'first', status: 'active' }, { type: 'config.applied', data: { forced: false } });
      assert.equal(version.id, 1);
      assert.equal(version.hash, createHash('sha256').update(text).digest('hex'));
      assert.deepEqual({ ...version, hash: undefined }, { id: 1, text, hash: undefined, author: 'alice', reason: 'first', createdAt: T0, status: 'active' });
      assert.deepEqual(event, { id: 1, time: T0, type: 'config.applied', version: 1, data: { forced: false } });
      assert.deepEqual(await s.get(1), version);
      assert.deepEqual(await s.active(), version);
    }));

  test(`${name}: canary then promote supersedes the active version; one active at a time`, () =>
    withStore(async (s, clock) => {
      await s.addVersion({ text: 'a', author: 'a', reason: 'r', status: 'active' });
      clock.t += 1000;
      const c = await s.addVersion({ text: 'b', author: 'b', reason: 'r', status: 'canary' }, { type: 'canary.started' });
      assert.equal(c.version.status, 'canary');
      assert.equal((await s.canary())?.id, 2);
      assert.equal((await s.active())?.id, 1);
      const p = await s.activate(2, { event: { type: 'canary.promoted', data: { requests: 120 } } });
      assert.equal(p.version.status, 'active');
      assert.equal(p.event?.version, 2);
      assert.equal((await s.get(1))?.status, 'superseded');
      assert.equal(await s.canary(), undefined);
      assert.deepEqual((await s.list()).map((v) => [v.id, v.status]), [[2, 'active'], [1, 'superseded']]);
      assert.deepEqual((await s.list({ status: 'superseded' })).map((v) => v.id), [1]);
      assert.deepEqual((await s.list({ limit: 1 })).map((v) => v.id), [2]);
    }));

  test(`${name}: a canary is aborted with nothing else touched; a second canary is refused`, () =>
    withStore(async (s) => {
      await s.addVersion({ text: 'a', author: 'a', reason: 'r', status: 'active' });
      await s.addVersion({ text: 'b', author: 'a', reason: 'r', status: 'canary' });
      await assert.rejects(s.addVersion({ text: 'c', author: 'a', reason: 'r', status: 'canary' }), VersionStateError);
      const a = await s.setStatus(2, 'aborted', { type: 'canary.aborted', data: { monitor: 'overload' } });
      assert.equal(a.version.status, 'aborted');
      assert.equal((await s.active())?.id, 1);
      await assert.rejects(s.activate(2), VersionStateError, 'an aborted version is never served again');
      assert.equal((await s.list()).length, 2, 'the refused second canary left no version behind');
    }));

  test(`${name}: rollback reactivates the last known good and marks the bad version rolled-back`, () =>
    withStore(async (s) => {
      await s.addVersion({ text: 'good', author: 'a', reason: 'r', status: 'active' });
      await s.markKnownGood(1, { type: 'config.known-good' });
      await s.addVersion({ text: 'bad', author: 'b', reason: 'forced', status: 'active' }, { type: 'config.applied' });
      assert.equal((await s.lastKnownGood())?.id, 1);
      const r = await s.activate(1, { previousStatus: 'rolled-back', event: { type: 'rollback.auto', data: { from: 2, monitor: 'overload' } } });
      assert.equal(r.version.status, 'active');
      assert.equal((await s.get(2))?.status, 'rolled-back');
      assert.deepEqual((await s.events({ type: 'rollback.auto' }))[0].data, { from: 2, monitor: 'overload' });
    }));

  test(`${name}: status moves outside the rules are refused and change nothing`, () =>
    withStore(async (s) => {
      await s.addVersion({ text: 'a', author: 'a', reason: 'r', status: 'active' });
      await s.addVersion({ text: 'x', author: 'a', reason: 'r', status: 'refused' }, { type: 'config.refused' });
      const cases: [string, () => Promise<unknown>][] = [
        ['activate a refused version', () => s.activate(2)],
        ['activate the active version', () => s.activate(1)],
        ['setStatus active', () => s.setStatus(2, 'active')],
        ['abort a non-canary', () => s.setStatus(1, 'aborted')],
        ['unknown version', () => s.activate(99)],
        ['known-good a refused version', () => s.markKnownGood(2)],
      ];
      for (const [what, fn] of cases) await assert.rejects(fn(), VersionStateError, what);
      assert.equal((await s.active())?.id, 1);
      assert.equal((await s.events()).length, 1, 'a refused move journals nothing');
      assert.equal(await s.lastKnownGood(), undefined);
    }));

  test(`${name}: events are append-only with ids in order and filter by time, type, version and id`, () =>
    withStore(async (s, clock) => {
      await s.addVersion({ text: 'a', author: 'a', reason: 'r', status: 'active' }, { type: 'config.applied' });
      for (const [dt, type] of [[1000, 'alert.fired'], [2000, 'rollback.auto'], [3000, 'alert.resolved']] as const) {
        clock.t = T0 + dt;
        await s.appendEvent({ type, data: { n: dt } });
      }
      await s.appendEvent({ type: 'alert.fired', version: 1, time: T0 + 5000 });
      const all = await s.events();
      assert.deepEqual(all.map((e) => e.id), [1, 2, 3, 4, 5]);
      assert.equal(all[1].version, null);
      assert.deepEqual((await s.events({ since: T0 + 1000, until: T0 + 2000 })).map((e) => e.type), ['alert.fired', 'rollback.auto']);
      assert.deepEqual((await s.events({ type: ['alert.fired', 'alert.resolved'] })).map((e) => e.id), [2, 4, 5]);
      assert.deepEqual((await s.events({ version: 1 })).map((e) => e.id), [1, 5]);
      assert.deepEqual((await s.events({ afterId: 3, limit: 1 })).map((e) => e.id), [4]);
      all[1].data.n = 'mutated';
      assert.equal((await s.events({ afterId: 1, limit: 1 }))[0].data.n, 1000, 'returned events are copies');
    }));

  test(`${name}: everything survives closing and opening again`, () =>
    withStore(async (s, _clock, reopen) => {
      if (!reopen) return;
      await s.addVersion({ text: 'a', author: 'a', reason: 'r', status: 'active' }, { type: 'config.applied' });
      await s.markKnownGood(1);
      await s.addVersion({ text: 'b', author: 'a', reason: 'r', status: 'canary' }, { type: 'canary.started' });
      await s.close();
      const again = await reopen();
      try {
        assert.equal((await again.active())?.text, 'a');
        assert.equal((await again.canary())?.text, 'b');
        assert.equal((await again.lastKnownGood())?.id, 1);
        assert.equal((await again.events()).length, 2);
        const next = await again.addVersion({ text: 'c', author: 'a', reason: 'r', status: 'refused' });
        assert.equal(next.version.id, 3, 'ids continue');
      } finally {
        await again.close();
      }
    }));
}
