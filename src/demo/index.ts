/** The demo's moving parts, for `evenkeel demo` and the outage replay: capacity-bound backends and a steady load. */
export * from './backends.js';
export * from './traffic.js';
