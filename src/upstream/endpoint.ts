/**
 * The live state of one backend server, keyed by its address. It outlives reloads (Caddy's
 * `reverseproxy/hosts.go` habit): a config change must not forget that a server is down,
 * reset its failure counters, or drop its warm keep-alive connections.
 */
import { Pool } from 'undici';
import { parseAddress } from '../core/index.js';

/** Upstream connection settings for one server; a change rebuilds its connection pool. */
export interface UpstreamOptions {
  /** Concurrency cap (`maxConnections`); undefined = unlimited. */
  readonly connections?: number;
  readonly connectTimeout: number;
  /** How long an idle keep-alive connection is kept (`timeouts.idle`). */
  readonly idleTimeout: number;
}

/** One backend server's state and its undici pool. */
export class EndpointState {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** Requests or connections in flight through this process. */
  inflight = 0;
  /** `maxConnections`: above it the proxy sheds (503) rather than queue without bound inside undici. */
  limit: number;
  /** The active health check's verdict (true until a check says otherwise). */
  activeUp = true;
  /** Passive ejection: epoch ms until which the endpoint is out, 0 when not ejected. */
  ejectedUntil = 0;
  /** How many times it was ejected in a row (ejection time grows with it, as in Envoy). */
  ejections = 0;
  consecutiveFailures = 0;
  /** When it last became usable after being unusable (slow start), 0 = since the start. */
  usableSince = 0;
  dispatcher: Pool;
  private optionsKey: string;

  constructor(key: string, options: UpstreamOptions) {
    const { host, port } = parseAddress(key);
    this.key = key;
    this.host = host;
    this.port = port;
    this.optionsKey = keyOf(options);
    this.limit = options.connections ?? Infinity;
    this.dispatcher = createDispatcher(host, port, options);
  }

  /** Usable when the active check passes and it is not ejected. */
  get usable(): boolean {
    return this.activeUp && this.ejectedUntil === 0;
  }

  /** Applies new upstream options; rebuilds the pool only when they changed (the old one drains). */
  configure(options: UpstreamOptions): void {
    const k = keyOf(options);
    this.limit = options.connections ?? Infinity;
    if (k === this.optionsKey) return;
    const old = this.dispatcher;
    this.optionsKey = k;
    this.dispatcher = createDispatcher(this.host, this.port, options);
    old.close().catch(() => undefined);
  }

  /** Closes the pool after its in-flight requests finish. */
  close(): Promise<void> {
    return this.dispatcher.close().catch(() => undefined);
  }

  /** Closes the pool at once, failing whatever is in flight (shutdown deadline passed). */
  destroy(): Promise<void> {
    return this.dispatcher.destroy().catch(() => undefined);
  }
}

function keyOf(o: UpstreamOptions): string {
  return `${o.connections ?? 0}|${o.connectTimeout}|${o.idleTimeout}`;
}

function createDispatcher(host: string, port: number, o: UpstreamOptions): Pool {
  const h = host.includes(':') ? `[${host}]` : host;
  return new Pool(`http://${h}:${port}`, {
    connections: o.connections ?? null,
    pipelining: 1,
    connect: { timeout: o.connectTimeout, noDelay: true },
    // A backend's own Keep-Alive hint wins (undici honours it); without one, keep idle sockets
    // at most 4 s so we do not reuse a socket the backend is about to close (Node's default
    // server keepAliveTimeout is 5 s), and never longer than `timeouts.idle`.
    keepAliveTimeout: Math.min(4000, o.idleTimeout),
    keepAliveMaxTimeout: o.idleTimeout,
    // Per-request timeouts are passed with each request (pool timeouts.request).
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}
