/** `host:port` addresses, as listeners and backends write them. */
import { AddressError } from '../errors.js';

/** A parsed address; `host` has no brackets for IPv6. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `10.0.0.1:8080`, `[::1]:80`, `db.internal:5432`. Throws AddressError with the reason. */
export function parseAddress(input: string): HostPort {
  const s = input.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') throw new AddressError(input, 'expected [ipv6]:port');
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon <= 0) throw new AddressError(input, 'expected host:port, e.g. 10.0.0.11:8080');
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw new AddressError(input, 'IPv6 hosts need brackets, e.g. [::1]:8080');
  }
  if (!/^\d{1,5}$/.test(portText)) throw new AddressError(input, `port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new AddressError(input, `port ${port} is outside 1-65535`);
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) throw new AddressError(input, `host ${JSON.stringify(host)} has characters a host name cannot have`);
  return { host, port };
}

/** Canonical form used to decide that two backends are the same server: lower-case host, `localhost` kept as written. */
export function addressKey(input: string): string {
  const { host, port } = parseAddress(input);
  const h = host.toLowerCase();
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}
