/** Prometheus text exposition helpers for the HAProxy engine's own series. */

/** A counter family in Prometheus text. */
export function counter(name: string, help: string, values: ReadonlyMap<string, number>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} counter\n`;
  for (const [labels, v] of values) out += `${name}{${labels}} ${v}\n`;
  return out;
}

/** A gauge family in Prometheus text. */
export function gauge(name: string, help: string, rows: readonly [string, number][]): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
  for (const [labels, v] of rows) out += `${name}${labels ? `{${labels}}` : ''} ${v}\n`;
  return out;
}

/** Prometheus label value escaping. */
export function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
