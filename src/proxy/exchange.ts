/**
 * The state of one proxied request, allocated once per request. Its subclass in forward.ts is
 * also the undici dispatch handler, so no closure is created per request. It is the
 * RequestInfo the router and the hash key read, and the record the request channel publishes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { RequestInfo } from '../balancer/index.js';
import type { AccessRecord, MetricKey } from '../telemetry/channels.js';
import type { EndpointState, PoolRuntime } from '../upstream/index.js';
import type { RequestHeadInfo } from './headers.js';
import type { RouteRuntime, Snapshot } from './snapshot.js';

/** Idempotent methods may be retried (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/** What the forwarder needs from its listener. */
export interface ForwardContext {
  readonly name: string;
  readonly maxHeaderCount: number;
  readonly maxBodyBytes: number;
  /** `https` on TLS listeners: X-Forwarded-Proto. */
  readonly proto: 'http' | 'https';
  /** True while draining: responses close their connection. */
  readonly draining: boolean;
  /** Requests in flight on this listener (drain waits for 0). */
  inflight: number;
}

/** One request in flight through the proxy. */
export class Exchange implements RequestInfo, AccessRecord, RequestHeadInfo {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The client's socket, kept: `req.socket` is null once Node has let go of the request. */
  readonly socket: Socket;
  readonly snapshot: Snapshot;
  readonly ctx: ForwardContext;
  readonly method: string;
  path: string;
  readonly clientIp: string;
  readonly start: number;
  readonly idempotent: boolean;
  host = '';
  hostCount = 0;
  contentLength: string | undefined = undefined;
  chunked = false;
  upstreamHeaders: string[] = [];
  body: Readable | null = null;
  route: RouteRuntime | undefined = undefined;
  target = 0;
  pool: PoolRuntime | undefined = undefined;
  index = -1;
  endpoint: EndpointState | undefined = undefined;
  key: MetricKey;
  status = 0;
  retries = 0;
  /** Response body bytes sent to the client (the access log's `bytes`). */
  bytes = 0;
  /** The backend index a valid stickiness cookie chose (-1: none, or it could not take the request). */
  stuck = -1;
  /** performance.now() when the relayed response head arrived from the backend; 0 when none did. */
  upstreamAt = 0;
  /** A backend status that will be retried instead of relayed. */
  retryStatus = 0;
  /** Whether this exchange currently counts in its pool's `retrying`. */
  inRetry = false;
  /** undici's abort for the attempt in flight. */
  abort: ((err?: Error) => void) | null = null;

  constructor(ctx: ForwardContext, req: IncomingMessage, res: ServerResponse, snapshot: Snapshot, key: MetricKey, start: number) {
    this.ctx = ctx;
    this.req = req;
    this.res = res;
    this.socket = req.socket;
    this.snapshot = snapshot;
    this.method = req.method ?? 'GET';
    this.path = req.url ?? '/';
    this.clientIp = this.socket.remoteAddress ?? '';
    this.start = start;
    this.idempotent = IDEMPOTENT.has(this.method);
    this.key = key;
  }

  /** Request headers as an object; built by Node lazily, so only routes that need them pay for it. */
  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }
}
