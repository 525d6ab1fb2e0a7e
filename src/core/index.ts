/** Core helpers with no knowledge of load balancing: durations, addresses, text. */
export * from './duration.js';
export * from './address.js';
export * from './text.js';
export * from './random.js';
