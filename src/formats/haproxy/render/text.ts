/** Quoting and naming for haproxy.cfg output (configuration.txt §2.2 "Quoting and escaping"). */

/**
 * One argument as haproxy.cfg reads it back unchanged: bare when it has no space, quote, `#`,
 * backslash or `$`; single-quoted otherwise (no escapes and no `${ENV}` expansion inside);
 * double-quoted with escapes only when the value itself holds a single quote.
 */
export function arg(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_.:\/*+@%=~,;!?^|&<>()[\]{}-]+$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$#]/g, (c) => `\\${c}`)}"`;
}

/** A name HAProxy accepts for a proxy, server or ACL: letters, digits, `-`, `_`, `.`, `:`. */
export function haName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]/g, '_');
}

/** A duration in milliseconds as HAProxy writes it (`2s`, `500ms`, `5m`). */
export function haDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/** `host:port` as a `bind` or `server` address: IPv6 hosts get HAProxy's `ipv6@` prefix. */
export function haAddress(host: string, port: number): string {
  return host.includes(':') ? `ipv6@${host}:${port}` : `${host}:${port}`;
}

/** A regular expression matching `s` literally. */
export function regexLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
