/** Small haproxy.cfg value readers shared by the pool and listener mapping: times, addresses, names. */

/** HAProxy times: a number with an optional unit (us, ms, s, m, h, d; milliseconds when none). */
export function haproxyTime(text: string): string | undefined {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!m) return undefined;
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return `${Math.ceil(Number(m[1]) * factor[m[2] ?? 'ms'])}ms`;
}

/** Milliseconds of a `NNNms` string made by haproxyTime. */
export function ms(time: string): number {
  return Number(time.slice(0, -2));
}

/** An address as HAProxy writes it → `host:port` for the model, or why it cannot be one. */
export function modelAddress(text: string, defaultPort?: number): { address?: string; note?: string } {
  let s = text.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6)@/, '');
  if (/^(unix|abns|fd|sockpair|udp[46]?|quic[46]?)@/.test(s) || s.startsWith('/')) return { note: `${text} is not an IP address and port` };
  let host: string;
  let port: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return { note: `${text}: unterminated [` };
    host = s.slice(1, close);
    port = s[close + 1] === ':' ? s.slice(close + 2) : undefined;
  } else {
    const colons = s.split(':').length - 1;
    const at = s.lastIndexOf(':');
    if (colons === 0) [host, port] = [s, undefined];
    else [host, port] = [s.slice(0, at), s.slice(at + 1)];
    if (colons > 1 && host.endsWith(':')) host = host.slice(0, -1) || '::';
  }
  if (host === '' || host === '*') host = '0.0.0.0';
  const range = port ? /^(\d+)-(\d+)$/.exec(port) : null;
  let note: string | undefined;
  if (range) {
    note = `${text} is a port range; the model uses its first port`;
    port = range[1];
  }
  if (port === undefined || port === '') {
    if (defaultPort === undefined) return { note: `${text} has no port` };
    note = `${text} has no port: HAProxy connects to the port the client connected to; the model uses ${defaultPort}`;
    port = String(defaultPort);
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return { note: `${text}: port ${port} is not a port number${/^[+-]/.test(port) ? ' (port offsets are not modelled)' : ''}` };
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) return { note: `${text}: ${host} is not a host name or IP address` };
  s = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { address: s, note };
}

/** A HAProxy proxy or server name as an evenkeel name (which allows letters, digits, `.`, `_`, `-`). */
export function modelName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._\-]/g, '_').slice(0, 128);
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `x${cleaned}`.slice(0, 128);
}

/** An integer in [min, max], or undefined. */
export function intIn(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}
