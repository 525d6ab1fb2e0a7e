/**
 * Diagnostics channels: the data plane publishes, metrics and logs subscribe, and the proxy
 * imports neither (undici's `lib/core/diagnostics.js` habit). Every publish is guarded by
 * `hasSubscribers`, so an unobserved channel costs one property read.
 */
import diagnostics from 'node:diagnostics_channel';

/** Identifies a (listener, route, pool, backend) series; interned at config time, compared by identity. */
export interface MetricKey {
  readonly listener: string;
  readonly route: string;
  readonly pool: string;
  readonly backend: string;
  /** True for requests served by a config canary (the candidate's slice). */
  readonly canary: boolean;
}

/** What `requestChannel` carries when a request completes (the proxy's own exchange object). */
export interface RequestRecord {
  readonly key: MetricKey;
  /** Status sent to the client; 499 when the client went away first. */
  readonly status: number;
  /** Start, from performance.now(). */
  readonly start: number;
  /** Times it was sent to another backend after a failure. */
  readonly retries: number;
}

/** One active health check finished (published by the checker, in the primary). */
export interface HealthCheckEvent {
  /** The backend's address key. */
  readonly key: string;
  readonly pass: boolean;
}

/** What the access log reads from a finished request (also the proxy's exchange object). */
export interface AccessRecord extends RequestRecord {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly clientIp: string;
  readonly retries: number;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  /** performance.now() when the backend's response head arrived; 0 when none did. */
  readonly upstreamAt: number;
  readonly snapshot: { readonly info: { readonly version: number } };
  readonly req: { readonly rawHeaders: readonly string[]; readonly httpVersion: string };
}

/** An endpoint became usable or unusable, and why. */
export interface EndpointEvent {
  readonly key: string;
  readonly usable: boolean;
  readonly reason: 'health-check' | 'ejected' | 'ejection-expired';
}

/** A request to a backend failed (before a response was relayed). */
export interface UpstreamErrorEvent {
  readonly pool: string;
  readonly backend: string;
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly retried: boolean;
}

/** A client connection opened (+1) or closed (-1) on a listener. */
export interface ConnectionEvent {
  readonly listener: string;
  readonly delta: 1 | -1;
}

/** A TLS handshake on a listener: done (`reason` is the ALPN protocol) or failed (`reason` says why). */
export interface TlsEvent {
  readonly listener: string;
  readonly ok: boolean;
  readonly reason: string;
}

/** A config version was applied, or a reload refused. */
export interface ConfigEvent {
  readonly version: number;
  readonly hash: string;
  readonly source: string;
  readonly applied: boolean;
  readonly errors?: number;
}

export const requestChannel = diagnostics.channel('evenkeel:request');
export const endpointChannel = diagnostics.channel('evenkeel:endpoint');
export const upstreamErrorChannel = diagnostics.channel('evenkeel:upstream-error');
export const connectionChannel = diagnostics.channel('evenkeel:connection');
export const configChannel = diagnostics.channel('evenkeel:config');
export const tlsChannel = diagnostics.channel('evenkeel:tls');
export const healthCheckChannel = diagnostics.channel('evenkeel:health-check');
/** A sampled request's head (the live traffic sample); carries the proxy's exchange object. */
export const sampleChannel = diagnostics.channel('evenkeel:sample');

const interned = new Map<string, MetricKey>();

/** The one MetricKey object for these labels (call at config time, never per request). */
export function metricKey(listener: string, route: string, pool: string, backend: string, canary = false): MetricKey {
  const id = `${listener}\0${route}\0${pool}\0${backend}\0${canary ? 'c' : ''}`;
  let k = interned.get(id);
  if (!k) {
    k = Object.freeze({ listener, route, pool, backend, canary });
    interned.set(id, k);
  }
  return k;
}
