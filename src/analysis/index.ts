/** Analysis: rules, the traffic model and prediction, plans, config test suites. Pure. */
export * from './validate.js';
export * from './traffic.js';
export * from './sample.js';
export { movedShare, serverShares } from './rules/change.js';
export type { Analysed } from './rules/context.js';
export * from './suite.js';
