/** Health: active checks with thresholds, passive outlier ejection. */
export * from './active.js';
export * from './outlier.js';
