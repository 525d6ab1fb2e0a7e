/**
 * control/: the control plane (the instance, the store, the monitors' watch, the admin API).
 * What cli/ commands name from it; a command that only talks to a running instance imports
 * types alone, so it never loads the store or the data plane.
 */
export { Instance, type ReloadResult } from './instance.js';
export type { CanaryStatus } from './changes.js';
export type { PoolsStatus } from './status.js';
export { runWorker } from './worker.js';
