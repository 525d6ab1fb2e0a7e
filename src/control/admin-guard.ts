/**
 * What the admin server checks before it looks at a path.
 *
 * - Host (DNS rebinding): a page on evil.example whose name an attacker re-points at 127.0.0.1
 *   can make the victim's browser talk to the admin port with `Host: evil.example`. So only
 *   names that cannot be rebound are served: IP literals, `localhost`, the admin address's own
 *   host and `admin.allowedHosts`. Anything else is 403 (Kubernetes' API server, Jupyter and
 *   the Docker daemon check Host the same way).
 * - Login attempts: wrong tokens are limited per client address (a fixed window), so the
 *   dashboard's login cannot be used to guess the token at line rate.
 */
import { isIP } from 'node:net';

/** Decides whether a request's Host may reach the admin API. */
export class HostGuard {
  private readonly names: Set<string>;

  constructor(adminHost: string, allowed: readonly string[] = []) {
    this.names = new Set(['localhost', ...allowed.map((h) => h.toLowerCase())]);
    if (isIP(adminHost) === 0) this.names.add(adminHost.toLowerCase());
  }

  /** True when `host` (a Host header, with or without a port) names this server safely. */
  allows(host: string | undefined): boolean {
    if (!host) return false;
    const name = hostName(host).toLowerCase();
    if (isIP(name) !== 0) return true;
    return this.names.has(name) || name.endsWith('.localhost');
  }
}

/** The host part of a Host header: `[::1]:9901` → `::1`, `a.b:80` → `a.b`. */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(1, end) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** Failed logins allowed per client address per window. */
const MAX_FAILURES = 10;
const WINDOW_MS = 60_000;
/** Most client addresses tracked at once (a spray from many addresses cannot grow memory). */
const MAX_CLIENTS = 10_000;

/** Counts failed logins per client address in fixed windows. */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds until `client` may try again; 0 when it may try now. */
  retryAfter(client: string): number {
    const f = this.failures.get(client);
    if (f === undefined) return 0;
    const left = f.since + WINDOW_MS - this.now();
    if (left <= 0) {
      this.failures.delete(client);
      return 0;
    }
    return f.count >= MAX_FAILURES ? Math.ceil(left / 1000) : 0;
  }

  /** Records a wrong token from `client`. */
  failed(client: string): void {
    const f = this.failures.get(client);
    if (f !== undefined && f.since + WINDOW_MS > this.now()) {
      f.count++;
      return;
    }
    if (this.failures.size >= MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(client, { count: 1, since: this.now() });
  }

  /** A successful login clears the client's count. */
  succeeded(client: string): void {
    this.failures.delete(client);
  }
}
