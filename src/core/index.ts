/** Core helpers with no knowledge of load balancing: durations, addresses, text, a ring buffer, log bins. */
export * from './duration.js';
export * from './address.js';
export * from './text.js';
export * from './random.js';
export * from './ring.js';
export * from './log-bins.js';
export * from './certificate.js';
