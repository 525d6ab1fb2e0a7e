/** Memory and SQLite stores pass the same conformance suite; SQLite-only behaviour is checked after it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryStore, openSqliteStore, STORE_FILE } from '../../src/control/store/index.ts';
import { StoreError } from '../../src/errors.ts';
import { storeConformance } from './store-suite.ts';

storeConformance('memory', {
  async open(now) {
    return { store: new MemoryStore({ now }), cleanup: async () => {} };
  },
});

storeConformance('sqlite', {
  async open(now) {
    const dir = mkdtempSync(join(tmpdir(), 'evenkeel-store-'));
    const path = join(dir, 'nested', '.evenkeel');
    return { store: openSqliteStore(path, { now }), reopen: async () => openSqliteStore(path, { now }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
});

test('sqlite: creates store.path, uses WAL, and the file passes integrity_check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-store-'));
  try {
    const path = join(dir, 'a', 'b');
    const store = openSqliteStore(path);
    await store.addVersion({ text: 'x', author: 'a', reason: 'r', status: 'active' }, { type: 'config.applied' });
    assert.equal(store.integrityCheck(), 'ok');
    await store.close();
    assert.ok(existsSync(join(path, STORE_FILE)));
    const db = new Database(join(path, STORE_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a file that is not a store is a StoreError (exit 2), not a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-store-'));
  try {
    writeFileSync(join(dir, STORE_FILE), 'this is not a database, just text that is long enough to have a header'.repeat(20));
    assert.throws(() => openSqliteStore(dir), (err: unknown) => err instanceof StoreError && err.exitCode === 2 && err.message.includes(STORE_FILE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite: a closed store refuses calls with StoreError', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-store-'));
  try {
    const store = openSqliteStore(dir);
    await store.close();
    await assert.rejects(store.active(), StoreError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
