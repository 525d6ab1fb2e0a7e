/** EK3xx: health checking — checks that cannot work, flap, or are missing. */
import { formatDuration } from '../../core/index.js';
import { finding, type Finding } from '../../config/index.js';
import type { RuleContext } from './context.js';

/** All EK3xx rules. */
export function healthRules({ config, words }: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const [name, pool] of Object.entries(config.pools)) {
    const hc = pool.healthCheck;
    const pp = ['pools', name];
    if (hc && hc.timeout >= hc.interval) {
      out.push(finding('EK301', {
        message: `${words.pool} ${name}: health-check timeout ${formatDuration(hc.timeout)} is not shorter than its interval ${formatDuration(hc.interval)}, so checks overlap and a slow backend is never judged in time`,
        hint: `make timeout shorter than interval, e.g. timeout: ${formatDuration(Math.max(100, Math.floor(hc.interval / 2)))}`,
        path: [...pp, 'healthCheck', 'timeout'],
        subject: { pool: name },
      }));
    }
    if (hc && hc.unhealthyThreshold === 1) {
      out.push(finding('EK302', {
        message: `${words.pool} ${name}: unhealthyThreshold: 1 takes a backend out after a single failed check, so one slow response flaps it and shifts its traffic onto the others`,
        hint: 'use unhealthyThreshold: 3 (the default) or at least 2',
        path: [...pp, 'healthCheck', 'unhealthyThreshold'],
        subject: { pool: name },
      }));
    }
    if (!hc && pool.backends.filter((b) => b.weight > 0).length >= 2) {
      out.push(finding('EK303', {
        message: `${words.pool} ${name} has ${pool.backends.length} ${words.backend}s and no active health check: a dead ${words.backend} is found only by failing real requests`,
        hint: 'add healthCheck: { path: /healthz, interval: 2s, timeout: 1s }',
        path: pp,
        subject: { pool: name },
      }));
    }
    if (pool.outlierDetection && pool.outlierDetection.maxEjectionPercent >= 100 && pool.backends.length >= 2) {
      out.push(finding('EK304', {
        message: `${words.pool} ${name}: outlierDetection.maxEjectionPercent is ${pool.outlierDetection.maxEjectionPercent}, so a shared fault (a bad deploy, a slow database) can eject every backend and turn errors into an outage`,
        hint: 'keep maxEjectionPercent at 50 (the default) or below',
        path: [...pp, 'outlierDetection', 'maxEjectionPercent'],
        subject: { pool: name },
      }));
    }
  }
  return out;
}
