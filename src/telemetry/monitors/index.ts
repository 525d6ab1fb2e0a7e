/** Monitors: sliding windows over per-backend counters, the five monitors with hysteresis, and the canary judgement. Pure; time is passed in. */
export * from './types.js';
export { SlidingCounters, NO_BACKEND, quantileMs, type WindowSnapshot, type PoolWindow, type WindowCounts } from './window.js';
export { Monitors } from './monitors.js';
export { healthConditions, type HealthBackend, type HealthCondition, type HealthSplit } from './health.js';
export { judgeCanary, type CanaryVerdict, type CanaryInput, type TooFewRequests, type VerdictReason } from './canary.js';
