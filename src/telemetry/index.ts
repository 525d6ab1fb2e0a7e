/** Telemetry: diagnostics channels (the proxy's only telemetry import), Prometheus metrics, JSON logs. */
export * from './channels.js';
export * from './state.js';
export * from './metrics.js';
export * from './log.js';
export * from './access-log.js';
