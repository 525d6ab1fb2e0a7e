/** Routing: compiles a config's listeners into immutable route tables. Pure. */
export * from './match.js';
export * from './table.js';
