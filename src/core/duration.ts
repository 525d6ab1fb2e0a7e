/** Durations in the config are strings such as `500ms`, `2s`, `5m`, `1h`; internally milliseconds. */
import { DurationError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Pattern the config schema checks durations against (also emitted into the JSON Schema). */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses `2s` into 2000. Throws DurationError on anything else. */
export function parseDuration(input: string): number {
  const m = DURATION_PATTERN.exec(input.trim());
  if (!m) throw new DurationError(input);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** Formats milliseconds the way an operator writes them: 1500 → `1.5s`, 300000 → `5m`. */
export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 60_000 === 0) return `${+(ms / 3_600_000).toFixed(2)}h`;
  if (ms >= 60_000 && ms % 1000 === 0) return `${+(ms / 60_000).toFixed(2)}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${ms}ms`;
}

/** A measured span, rounded for a message: 840 → `840ms`, 12_345 → `12.3s`, 300_500 → `5m`. */
export function formatAge(ms: number): string {
  if (ms < 1000) return formatDuration(Math.max(0, Math.round(ms)));
  return formatDuration(ms < 120_000 ? Math.round(ms / 100) * 100 : Math.round(ms / 60_000) * 60_000);
}
