/**
 * The embedded store: one SQLite file (better-sqlite3) under `store.path`.
 *
 * - WAL, so the CLI and dashboard can read while the instance writes.
 * - `synchronous=FULL`: every commit fsyncs the WAL. Writes here are human-paced (an apply, an
 *   alert), so the cost is invisible, and a version acknowledged to an operator must survive a
 *   power cut, not only a process crash (NORMAL guarantees only the latter in WAL mode).
 * - A version and its event commit in one transaction; "one active, at most one canary" is
 *   also a unique index, so even a bug in this file cannot store two active versions.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { checkActivate, checkKnownGood, checkNoCanary, checkSetStatus, hashText } from './rules.js';
import type { StoreOptions } from './memory.js';
import type { ActivateOptions, ConfigStore, ConfigVersion, EventQuery, NewEvent, NewVersion, StoreEvent, VersionQuery, VersionStatus, VersionWrite } from './types.js';

/** The database file inside `store.path`. */
export const STORE_FILE = 'evenkeel.db';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  text TEXT NOT NULL,
  hash TEXT NOT NULL,
  author TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('canary','active','aborted','rolled-back','refused','superseded'))
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_one_live ON versions(status) WHERE status IN ('active','canary');
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  version INTEGER REFERENCES versions(id),
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface VersionRow {
  id: number;
  text: string;
  hash: string;
  author: string;
  reason: string;
  created_at: number;
  status: VersionStatus;
}

interface EventRow {
  id: number;
  time: number;
  type: string;
  version: number | null;
  data: string;
}

/** Opens (creating when needed) the store in folder `path`. Throws StoreError when it cannot. */
export function openSqliteStore(path: string, options: StoreOptions = {}): SqliteStore {
  const file = join(path, STORE_FILE);
  let db: Database.Database | undefined;
  try {
    mkdirSync(path, { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Another process (the CLI) may hold the write lock for a moment; wait rather than fail.
    db.pragma('busy_timeout = 5000');
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > SCHEMA_VERSION) throw new StoreError(`${file} was written by a newer evenkeel (schema ${found}, this build knows ${SCHEMA_VERSION})`);
    db.exec(SCHEMA);
    if (found < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    db?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open the config store ${file}: ${(err as Error).message}`, { cause: err });
  }
  return new SqliteStore(db, file, options);
}

/** The SQLite ConfigStore; construct it with openSqliteStore. */
export class SqliteStore implements ConfigStore {
  private readonly now: () => number;
  private readonly q;

  constructor(private readonly db: Database.Database, readonly file: string, options: StoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.q = {
      get: db.prepare<[number], VersionRow>('SELECT * FROM versions WHERE id = ?'),
      byStatus: db.prepare<[string], VersionRow>('SELECT * FROM versions WHERE status = ? ORDER BY id DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO versions (text, hash, author, reason, created_at, status) VALUES (?, ?, ?, ?, ?, ?)'),
      setStatus: db.prepare('UPDATE versions SET status = ? WHERE id = ?'),
      demote: db.prepare("UPDATE versions SET status = ? WHERE status = 'active'"),
      event: db.prepare('INSERT INTO events (time, type, version, data) VALUES (?, ?, ?, ?)'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  async addVersion(v: NewVersion, event?: NewEvent): Promise<VersionWrite> {
    return this.write(() => {
      if (v.status === 'canary') checkNoCanary(this.byStatus('canary'));
      if (v.status === 'active') this.q.demote.run('superseded');
      const info = this.q.insert.run(v.text, hashText(v.text), v.author, v.reason, v.createdAt ?? this.now(), v.status);
      const id = Number(info.lastInsertRowid);
      return { version: this.mustGet(id), event: this.insertEvent(event, id) };
    });
  }

  async setStatus(id: number, status: VersionStatus, event?: NewEvent): Promise<VersionWrite> {
    return this.write(() => {
      checkSetStatus(this.getRow(id), id, status);
      this.q.setStatus.run(status, id);
      return { version: this.mustGet(id), event: this.insertEvent(event, id) };
    });
  }

  async activate(id: number, options: ActivateOptions = {}): Promise<VersionWrite> {
    return this.write(() => {
      checkActivate(this.getRow(id), id);
      this.q.demote.run(options.previousStatus ?? 'superseded');
      this.q.setStatus.run('active', id);
      return { version: this.mustGet(id), event: this.insertEvent(options.event, id) };
    });
  }

  async markKnownGood(id: number, event?: NewEvent): Promise<VersionWrite> {
    return this.write(() => {
      checkKnownGood(this.getRow(id), id);
      this.q.setMeta.run('last_known_good', String(id));
      return { version: this.mustGet(id), event: this.insertEvent(event, id) };
    });
  }

  async lastKnownGood(): Promise<ConfigVersion | undefined> {
    return this.read(() => {
      const row = this.q.getMeta.get('last_known_good');
      return row ? this.getRow(Number(row.value)) : undefined;
    });
  }

  async active(): Promise<ConfigVersion | undefined> {
    return this.read(() => this.byStatus('active'));
  }

  async canary(): Promise<ConfigVersion | undefined> {
    return this.read(() => this.byStatus('canary'));
  }

  async get(id: number): Promise<ConfigVersion | undefined> {
    return this.read(() => this.getRow(id));
  }

  async list(query: VersionQuery = {}): Promise<ConfigVersion[]> {
    return this.read(() => {
      const where = query.status ? 'WHERE status = ?' : '';
      const args: unknown[] = query.status ? [query.status] : [];
      const rows = this.db.prepare<unknown[], VersionRow>(`SELECT * FROM versions ${where} ORDER BY id DESC LIMIT ?`).all(...args, query.limit ?? -1);
      return rows.map(toVersion);
    });
  }

  async appendEvent(event: NewEvent): Promise<StoreEvent> {
    return this.write(() => this.insertEvent(event, null) as StoreEvent);
  }

  async events(query: EventQuery = {}): Promise<StoreEvent[]> {
    return this.read(() => {
      const clauses: string[] = [];
      const args: unknown[] = [];
      if (query.since !== undefined) (clauses.push('time >= ?'), args.push(query.since));
      if (query.until !== undefined) (clauses.push('time <= ?'), args.push(query.until));
      if (query.afterId !== undefined) (clauses.push('id > ?'), args.push(query.afterId));
      if (query.version !== undefined) (clauses.push('version = ?'), args.push(query.version));
      if (query.type !== undefined) {
        const types = typeof query.type === 'string' ? [query.type] : [...query.type];
        clauses.push(`type IN (${types.map(() => '?').join(',') || 'NULL'})`);
        args.push(...types);
      }
      const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
      const rows = this.db.prepare<unknown[], EventRow>(`SELECT * FROM events ${where} ORDER BY id LIMIT ?`).all(...args, query.limit ?? -1);
      return rows.map(toEvent);
    });
  }

  /** `PRAGMA integrity_check`: "ok" when the file is sound (the crash test asserts it). */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two processes never both read and then
  // fail to upgrade; better-sqlite3 rolls back when fn throws.
  private write<T>(fn: () => T): T {
    return this.guard(() => this.db.transaction(fn).immediate());
  }

  private read<T>(fn: () => T): T {
    return this.guard(fn);
  }

  private guard<T>(fn: () => T): T {
    if (!this.db.open) throw new StoreError('the store is closed');
    try {
      return fn();
    } catch (err) {
      if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SQLITE_')) {
        throw new StoreError(`config store ${this.file}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  private insertEvent(event: NewEvent | undefined, version: number | null): StoreEvent | undefined {
    if (!event) return undefined;
    const time = event.time ?? this.now();
    const v = event.version !== undefined ? event.version : version;
    const data = JSON.stringify(event.data ?? {});
    const info = this.q.event.run(time, event.type, v, data);
    return { id: Number(info.lastInsertRowid), time, type: event.type, version: v, data: JSON.parse(data) as Record<string, unknown> };
  }

  private byStatus(status: VersionStatus): ConfigVersion | undefined {
    const row = this.q.byStatus.get(status);
    return row ? toVersion(row) : undefined;
  }

  private getRow(id: number): ConfigVersion | undefined {
    const row = this.q.get.get(id);
    return row ? toVersion(row) : undefined;
  }

  private mustGet(id: number): ConfigVersion {
    return this.getRow(id) as ConfigVersion;
  }
}

function toVersion(r: VersionRow): ConfigVersion {
  return { id: r.id, text: r.text, hash: r.hash, author: r.author, reason: r.reason, createdAt: r.created_at, status: r.status };
}

function toEvent(r: EventRow): StoreEvent {
  return { id: r.id, time: r.time, type: r.type, version: r.version, data: JSON.parse(r.data) as Record<string, unknown> };
}
