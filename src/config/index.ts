/** The config model: schema, defaults, YAML loading with positions, the finding catalogue. No runtime code. */
export * from './schema.js';
export * from './findings.js';
export * from './source.js';
export * from './load.js';
export { configJsonSchema } from './json-schema.js';
