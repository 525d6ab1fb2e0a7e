/** Alerts: notices, webhook formats, the non-blocking notifier, and the monitors as Prometheus rules. */
export * from './notice.js';
export { formatNotice, alertName, type WebhookFormat } from './format.js';
export { WebhookNotifier, type WebhookTarget, type NotifierOptions, type DeliveryResult, type NotifierStats } from './notifier.js';
export { prometheusRules } from './prometheus-rules.js';
