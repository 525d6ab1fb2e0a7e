/** Upstreams: the endpoint registry (outlives reloads), undici pools, and pools of one config version. */
export * from './endpoint.js';
export * from './registry.js';
export * from './pool.js';
export * from './sticky.js';
