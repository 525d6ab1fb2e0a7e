/** The versioned config store: contract, SQLite implementation, in-memory implementation. */
export * from './types.js';
export { hashText } from './rules.js';
export { MemoryStore, type StoreOptions } from './memory.js';
export { openSqliteStore, SqliteStore, STORE_FILE } from './sqlite.js';
