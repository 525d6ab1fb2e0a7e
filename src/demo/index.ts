/** The demo's moving parts, for `evenkeel demo` and the outage replay: capacity-bound backends, a steady load, and the outage scenario. */
export * from './backends.js';
export * from './traffic.js';
export * from './scenario.js';
