/**
 * Webhook bodies: `json` (evenkeel's own shape), `slack` (an incoming-webhook message) and
 * `alertmanager` (the array POST /api/v2/alerts takes; a resolution carries endsAt).
 */
import type { Config } from '../../config/index.js';
import type { AlertNotice } from './notice.js';

/** The formats alerts.webhooks[].format names (from the schema). */
export type WebhookFormat = Config['alerts']['webhooks'][number]['format'];

/** The request body for `notice` in `format`. */
export function formatNotice(notice: AlertNotice, format: WebhookFormat): unknown {
  switch (format) {
    case 'json':
      return json(notice);
    case 'slack':
      return slack(notice);
    case 'alertmanager':
      return alertmanager(notice);
  }
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function json(n: AlertNotice): unknown {
  return { source: 'evenkeel', ...n, startsAt: iso(n.startsAt), endsAt: iso(n.endsAt) };
}

/** `EvenkeelErrorRate` from `error-rate`. */
export function alertName(monitor: string): string {
  return `Evenkeel${monitor.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`;
}

function where(n: AlertNotice): string {
  return `pool ${n.pool}${n.backend ? `, backend ${n.backend}` : ''}`;
}

function figures(n: AlertNotice): string {
  return Object.entries(n.figures).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(', ');
}

function slack(n: AlertNotice): unknown {
  const head = n.status === 'firing' ? `:rotating_light: *FIRING* ${n.monitor} on ${where(n)}` : `:white_check_mark: *RESOLVED* ${n.monitor} on ${where(n)}`;
  const version = n.config.version === null ? 'no version' : `config v${n.config.version}${n.config.diff ? ` (changed: ${n.config.diff})` : ''}`;
  const lines = [head, n.summary, `*Figures:* ${figures(n)}`, `*Config:* ${version}`, `*evenkeel:* ${n.action}`];
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

function alertmanager(n: AlertNotice): unknown {
  const labels: Record<string, string> = { alertname: alertName(n.monitor), monitor: n.monitor, pool: n.pool, severity: 'critical', source: 'evenkeel' };
  if (n.backend) labels.backend = n.backend;
  if (n.instance) labels.instance = n.instance;
  const annotations: Record<string, string> = { summary: n.summary, description: `${n.summary}. evenkeel: ${n.action}.`, action: n.action, value: String(n.value), threshold: String(n.threshold), figures: figures(n) };
  if (n.config.version !== null) annotations.config_version = String(n.config.version);
  if (n.config.diff) annotations.config_diff = n.config.diff;
  // A firing alert without endsAt is kept alive by Alertmanager's resolve_timeout; the
  // resolution sets endsAt, which resolves it at once.
  return [{ labels, annotations, startsAt: iso(n.startsAt), ...(n.endsAt !== undefined ? { endsAt: iso(n.endsAt) } : {}) }];
}
