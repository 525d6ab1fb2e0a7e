/** The proxy: listeners, forwarding, header rules, limits, WebSocket and TCP pass-through. */
export * from './dataplane.js';
export type { VersionInfo } from './snapshot.js';
export { statusFor, classify, refuseSocket } from './status.js';
export { TrafficRecorder, type SampledRequest } from './sample.js';
