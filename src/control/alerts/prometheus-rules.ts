/**
 * The monitors as Prometheus alerting rules, for teams that alert from Prometheus: the same
 * five monitors with the config's thresholds, and the same statistics as the built-in ones
 * (telemetry/monitors/checks.ts), so the rules page exactly when evenkeel itself would alert:
 *
 * - counted from `evenkeel_requests_total` over the monitor's window (at least a minute, so a
 *   rate holds two scrapes), not from the 10 s share gauges;
 * - a minimum sample of 50 requests in the pool before a share or error rule may fire;
 * - the same sampling tolerance: an observation must clear its threshold by 4 standard errors
 *   of the threshold itself (sqrt(q(1-q)/n)), and a share the limit by one more point, so a
 *   healthy two-backend pool at 50.5% does not page;
 * - concentration only in pools of two or more usable backends (up, expected share > 0);
 * - `for:` the monitor's window, `keep_firing_for:` the window (the monitors' hysteresis);
 * - severities: overload and error-rate page (`critical`: users get errors), concentration,
 *   skew and latency warn (`warning`: the distribution or speed is off before anyone fails).
 */
import { stringify } from 'yaml';
import type { Config } from '../../config/index.js';
import { formatDuration } from '../../core/index.js';
import { alertName } from './format.js';

// increase() needs at least two scrapes inside its range, and extrapolates less the more it
// holds: the range is the window, but never under four scrape intervals (a minute at the
// usual 15 s).
const SCRAPES_PER_RANGE = 4;
/** Prometheus's default scrape interval. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 15_000;
/** Requests a pool needs in the window before a share or error rule fires (MonitorOptions.minRequests). */
export const RULE_MIN_REQUESTS = 50;
/** Standard errors an observation must clear its threshold by (MonitorOptions.z). */
export const RULE_Z = 4;

/** A constant for an expression: six significant digits, no float noise (0.5599999999999999). */
function num(x: number): number {
  return Number(x.toPrecision(6));
}

/** The rules file (YAML) for `config`'s thresholds. */
export function prometheusRules(config: Config, options: { scrapeIntervalMs?: number } = {}): string {
  const g = config.guardrails;
  const r = g.rollback;
  const rangeMs = Math.max(r.window, SCRAPES_PER_RANGE * (options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS));
  const range = formatDuration(rangeMs);
  const window = formatDuration(r.window);
  const z = RULE_Z;
  const rule = (monitor: string, severity: 'critical' | 'warning', expr: string, summary: string, description: string) => ({
    alert: alertName(monitor),
    expr,
    for: window,
    keep_firing_for: window,
    labels: { severity, monitor, source: 'evenkeel' },
    annotations: { summary, description },
  });
  // Requests per backend, and per pool, that reached a backend over the range.
  const perBackend = `sum by (pool, backend) (increase(evenkeel_requests_total{backend!=""}[${range}]))`;
  const perPool = `sum by (pool) (increase(evenkeel_requests_total{backend!=""}[${range}]))`;
  const share = `(${perBackend} / on (pool) group_left () ${perPool})`;
  const enough = `on (pool) (${perPool} >= ${RULE_MIN_REQUESTS})`;
  // The gauges reduced to their (pool, backend) labels, so they match the sums one to one
  // whatever job and instance labels the scrape adds.
  const expected = 'max by (pool, backend) (evenkeel_backend_expected_share)';
  const up = 'min by (pool, backend) (evenkeel_backend_up)';
  const capacity = 'max by (pool, backend) (evenkeel_backend_capacity)';
  const usable = `count by (pool) (${up} == 1 and ${expected} > 0)`;
  const q = g.maxBackendShare;
  // Skew's null hypothesis is the expected share moved by the tolerance towards what was observed.
  const edge = `clamp(${expected} + ${r.skew} * sgn(${share} - ${expected}), 0, 1)`;
  const all = `sum by (pool) (increase(evenkeel_requests_total[${range}]))`;
  const errors = `sum by (pool) (increase(evenkeel_requests_total{code=~"5.."}[${range}]))`;
  const seconds = rangeMs / 1000;
  const rules = [
    rule('overload', 'critical',
      // Poisson noise on a count: the rate must clear capacity by z·sqrt(count).
      `(${perBackend} - ${z} * sqrt(${perBackend})) / ${seconds} > ${capacity} and ${perBackend} >= ${RULE_MIN_REQUESTS}`,
      'Backend {{ $labels.backend }} of pool {{ $labels.pool }} is over its declared capacity',
      `It receives {{ $value | humanize }} req/s (less the sampling margin) over ${range}, more than the capacity declared in the evenkeel config.`),
    rule('concentration', 'warning',
      `${share} > on (pool) group_left () (${num(q + 0.01)} + ${num(z * Math.sqrt(q * (1 - q)))} / sqrt(${perPool})) and ${enough} and on (pool) (${usable} >= 2)`,
      'Backend {{ $labels.backend }} takes most of pool {{ $labels.pool }}',
      `Its share of the pool's requests over ${range} is {{ $value | humanizePercentage }}; guardrails.maxBackendShare is ${q}.`),
    rule('skew', 'warning',
      `abs(${share} - ${expected}) - ${z} * sqrt(${edge} * (1 - ${edge}) / on (pool) group_left () ${perPool}) > ${r.skew} and ${enough}`,
      'Backend {{ $labels.backend }} of pool {{ $labels.pool }} is off its expected share',
      `Observed share differs from the share its weights and health give it by {{ $value | humanizePercentage }} (beyond sampling noise) over ${range}; guardrails.rollback.skew is ${r.skew}.`),
    rule('error-rate', 'critical',
      `${errors} / ${all} > (${r.errorRate} + ${num(z * Math.sqrt(r.errorRate * (1 - r.errorRate)))} / sqrt(${all})) and ${all} >= ${RULE_MIN_REQUESTS}`,
      'Pool {{ $labels.pool }} is failing requests',
      `{{ $value | humanizePercentage }} of its requests answered 5xx over ${range}; guardrails.rollback.errorRate is ${r.errorRate}.`),
  ];
  if (r.latencyP99 !== undefined) {
    rules.push(rule('latency', 'warning',
      `histogram_quantile(0.99, sum by (pool, le) (rate(evenkeel_request_duration_seconds_bucket[${range}]))) > ${r.latencyP99 / 1000} and on (pool) (sum by (pool) (increase(evenkeel_request_duration_seconds_count[${range}])) >= 100)`,
      'Pool {{ $labels.pool }} is slow',
      `p99 latency is {{ $value | humanizeDuration }} over ${range}; guardrails.rollback.latencyP99 is ${formatDuration(r.latencyP99)}.`));
  }
  const header = '# Generated by `evenkeel export prometheus-rules` from the evenkeel config; regenerate after changing guardrails.\n';
  return header + stringify({ groups: [{ name: 'evenkeel', rules }] }, { lineWidth: 0 });
}
