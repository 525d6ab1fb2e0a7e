/**
 * Forwarding one HTTP request: route, pick, dispatch to the backend's undici pool, retry
 * within the rules, and turn failures into statuses through status.ts.
 *
 * The request object is itself the undici dispatch handler (onConnect/onHeaders/onData/
 * onComplete/onError) — undici's `dispatch()`, the layer under `Pool.stream()`. With `stream()`
 * and the ServerResponse as its sink every request also paid for an AsyncResource scope,
 * `stream.finished()` listeners and a header object; here there is no per-request closure or
 * stream wrapper. (bench/: ~15k → ~21–24k req/s together with running compiled JS instead of
 * tsx; the two changes were not measured apart.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { recordFailure, recordSuccess } from '../health/index.js';
import { requestChannel, sampleChannel, upstreamErrorChannel } from '../telemetry/channels.js';
import { Exchange, type ForwardContext } from './exchange.js';
import { downstreamResponseHeaders, replaceHost, upstreamRequestHeaders } from './headers.js';
import { BodyLimiter } from './limits.js';
import { sampling } from './sample.js';
import type { Snapshot } from './snapshot.js';
import { classify, REFUSED, sendStatus, statusFor, type FailureKind } from './status.js';

/** The exchange a client socket is waiting on, so a client that leaves aborts its upstream request. */
const CURRENT = Symbol('evenkeel.exchange');
type TaggedSocket = Socket & { [CURRENT]?: ProxyExchange };

/**
 * Called when a client socket closes: aborts the upstream request it was waiting on. Without
 * it, a request paused by backpressure (or a backend slow to answer) would hold its backend
 * connection until the upstream timeout.
 */
export function abortInFlight(socket: Socket): void {
  const ex = (socket as TaggedSocket)[CURRENT];
  if (ex !== undefined && ex.abort !== null) ex.abort();
}

function ignore(): void {}

/** Handles one request on `ctx` with the config snapshot `snap`. */
export function forward(ctx: ForwardContext, snap: Snapshot, req: IncomingMessage, res: ServerResponse): void {
  const ex = new ProxyExchange(ctx, req, res, snap, snap.unrouted.get(ctx.name)!, performance.now());
  ctx.inflight++;
  // HTTP/2: many streams share one socket, so each stream aborts its own upstream request.
  // (Told by the stream, not by the version: an HTTP/1.1 parser also reads a request line that says HTTP/2.0.)
  const stream = (req as unknown as { stream?: Http2Stream }).stream;
  const h2 = stream !== undefined;
  if (h2) stream.once('close', () => ex.abort?.());
  else (ex.socket as TaggedSocket)[CURRENT] = ex;
  if (ctx.draining) res.shouldKeepAlive = false;
  const raw = req.rawHeaders;
  // Node stops reading headers at maxHeadersCount without telling anyone; the server is set
  // to one more than our limit, so a full list means the client sent too many: 431 (RFC 6585 §5).
  // (HTTP/2's four pseudo-headers are in the list too and do not count.)
  if (raw.length > (h2 ? ctx.maxHeaderCount + 4 : ctx.maxHeaderCount) * 2) return reply(ex, REFUSED.tooManyHeaders, true);
  ex.upstreamHeaders = upstreamRequestHeaders(raw, ex.clientIp, ctx.proto, ex);
  // HTTP/2.0 (or 0.9, 3.0…) on an HTTP/1.x connection: 505 (RFC 9110 §15.6.6), as nginx answers.
  if (!h2 && req.httpVersionMajor !== 1) return reply(ex, REFUSED.versionNotSupported, true);
  // RFC 9112 §3.2: a request with more than one Host is a 400.
  if (ex.hostCount > 1) return reply(ex, REFUSED.badRequest, true);
  // RFC 9112 §6.1: chunked framing does not exist in HTTP/1.0; a message claiming it is a
  // smuggling attempt or a broken client. Reject and close.
  if (ex.chunked && req.httpVersionMinor === 0) return reply(ex, REFUSED.badRequest, true);
  // Origin-form (RFC 9112 §3.2.1) or absolute-form (§3.2.2); `*` and anything else is a 400.
  if (ex.path.charCodeAt(0) !== 47 /* / */ && !absoluteForm(ex)) return reply(ex, REFUSED.badRequest, true);

  const sized = ex.contentLength !== undefined && ex.contentLength !== '0';
  if (sized && Number(ex.contentLength) > ctx.maxBodyBytes) return reply(ex, REFUSED.bodyTooLarge, true);
  // An HTTP/2 body is framed by DATA frames, with or without a content-length (RFC 9113 §8.1).
  if (ex.chunked || sized || (h2 && !stream.endAfterHeaders)) {
    // The body reaches undici through a pass-through, never as `req` itself: undici destroys
    // the body stream it was given when the request ends, and destroying `req` would destroy
    // the client's socket — keep-alive and pipelining after every request with a body would
    // end there. The limiter also counts chunked bodies (a Content-Length was checked above).
    const limiter = new BodyLimiter(ctx.maxBodyBytes);
    // The limit can trip before undici attaches its own error listener; never let it be unhandled.
    limiter.on('error', ignore);
    ex.body = req.pipe(limiter);
  }

  if (sampleChannel.hasSubscribers) {
    sampling.seen++;
    if (Math.random() < sampling.rate) sampleChannel.publish(ex);
  }
  const route = snap.tables.get(ctx.name)?.match(ex);
  if (route === undefined) return reply(ex, REFUSED.noRoute, ex.body !== null);
  const rr = snap.routes.get(route)!;
  ex.route = rr;
  if (rr.limiter !== undefined) {
    const wait = rr.limiter.take(ex, ex.start);
    if (wait > 0) {
      ex.key = rr.limited;
      // RFC 6585 §4: 429, and RFC 9110 §10.2.3: when a token will be there again.
      ex.res.setHeader('retry-after', wait);
      return reply(ex, REFUSED.rateLimited, ex.body !== null);
    }
  }
  const t = route.pickTarget();
  const pool = t >= 0 ? rr.pools[t] : undefined;
  ex.target = t < 0 ? 0 : t;
  ex.key = rr.noBackend[ex.target];
  if (pool === undefined) return reply(ex, REFUSED.noBackend, ex.body !== null);
  ex.pool = pool;
  let i = -1;
  if (pool.sticky !== undefined) i = ex.stuck = pool.stickyPick(ex);
  if (i < 0) i = pool.pick(ex);
  if (i < 0) return reply(ex, REFUSED.noBackend, ex.body !== null);
  ex.index = i;
  pool.active++;
  dispatch(ex);
}

const ABSOLUTE = /^https?:\/\/([^/?#@]+)([^#]*)$/i;

/** Rewrites an absolute-form target to origin-form; its authority replaces Host (RFC 9112 §3.2.2). */
function absoluteForm(ex: Exchange): boolean {
  const m = ABSOLUTE.exec(ex.path);
  if (m === null) return false;
  const rest = m[2];
  ex.path = rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
  if (ex.path.charCodeAt(0) !== 47) return false;
  ex.host = m[1];
  replaceHost(ex.upstreamHeaders, m[1]);
  return true;
}

function dispatch(ex: ProxyExchange): void {
  const pool = ex.pool!;
  const ep = pool.endpoints[ex.index];
  ex.endpoint = ep;
  ex.key = ex.route!.keys[ex.target][ex.index];
  ep.inflight++;
  const timeout = pool.config.timeouts.request;
  ep.dispatcher.dispatch({
    path: ex.path,
    method: ex.method,
    headers: ex.upstreamHeaders,
    body: ex.body,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  }, ex);
}

/** A request in flight, and undici's handler for its current attempt. */
class ProxyExchange extends Exchange {
  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx informational: not relayed (undici never sends Expect)
    if ((status === 502 || status === 503 || status === 504) && mayRetry(this, status === 502 ? 's502' : status === 503 ? 's503' : 's504')) {
      this.retryStatus = status;
      return true;
    }
    const res = this.res;
    this.status = status;
    this.upstreamAt = performance.now();
    if (res.destroyed) {
      this.abort?.();
      return false;
    }
    if (this.ctx.draining) res.shouldKeepAlive = false;
    // Held until the first body byte or the end: Node would not send it before then either, and
    // a backend that fails in between still gets its client a 502 instead of a cut connection.
    this.head = downstreamResponseHeaders(raw);
    // A new session, or one whose backend could not take it (or failed it): the cookie names
    // the backend that answered. Secure on a TLS listener (see sticky.ts).
    const sticky = this.pool!.sticky;
    if (sticky !== undefined && this.stuck !== this.index) this.head.push('set-cookie', (this.ctx.proto === 'https' ? sticky.setCookieSecure : sticky.setCookie)[this.index]);
    this.resume = resume;
    return true;
  }

  /** Writes the held response head. */
  private flushHead(): void {
    const head = this.head!;
    this.head = null;
    this.res.writeHead(this.status, head);
  }

  onData(chunk: Buffer): boolean {
    if (this.retryStatus !== 0) return true;
    const res = this.res;
    if (res.destroyed) {
      this.abort?.();
      return false;
    }
    if (this.head !== null) this.flushHead();
    this.bytes += chunk.length;
    if (res.write(chunk)) return true;
    // Backpressure: undici pauses this upstream socket until the client drains.
    res.once('drain', this.resume!);
    return false;
  }

  onComplete(): void {
    const ep = this.endpoint!;
    const pool = this.pool!;
    this.settle();
    if (this.retryStatus !== 0) {
      const status = this.retryStatus;
      this.retryStatus = 0;
      recordFailure(ep, pool, this.snapshot.registry);
      if (retry(this)) return;
      publishError(this, `backend answered ${status}`, String(status), status, false);
      return reply(this, status, false);
    }
    if (this.status >= 502 && this.status <= 504) recordFailure(ep, pool, this.snapshot.registry);
    else recordSuccess(ep);
    if (this.head !== null) this.flushHead();
    this.res.end();
    finish(this, this.status);
  }

  onError(err: Error): void {
    const ep = this.endpoint!;
    const pool = this.pool!;
    this.settle();
    this.retryStatus = 0;
    // Nothing of this response reached the client yet: forget its head, answer with a status.
    this.head = null;
    let kind: FailureKind = classify(err);
    if (this.res.destroyed && kind !== 'protocol' && kind !== 'timeout' && kind !== 'reset') kind = 'client';
    if (kind === 'connect' || kind === 'reset' || kind === 'timeout' || kind === 'protocol') recordFailure(ep, pool, this.snapshot.registry);
    const code = (err as { code?: string }).code ?? kind;
    const failed = this.index;
    if (!this.res.headersSent && !this.res.destroyed && (kind === 'connect' || kind === 'reset') && mayRetry(this, kind) && retry(this)) {
      // Name the backend that failed, not the one the retry went to.
      publishError(this, err.message, code, 0, true, failed);
      return;
    }
    const status = statusFor(kind);
    // The client left, or its connection is being failed by the listener (a body that does not
    // parse, a timeout), which answers it: nothing may be written here.
    if (kind === 'client') return finish(this, status);
    publishError(this, err.message, code, status, false);
    if (this.res.headersSent) {
      // The response started: the client can only learn of the failure by the connection closing.
      this.res.destroy();
      return finish(this, this.status);
    }
    reply(this, status, this.body !== null && !this.req.complete);
  }

  resume: (() => void) | null = null;
  /** The backend's response head, until the first body byte or the end is relayed. */
  private head: string[] | null = null;

  /** Ends the bookkeeping of the attempt that just finished. */
  private settle(): void {
    this.endpoint!.inflight--;
    this.abort = null;
    if (this.inRetry) {
      this.inRetry = false;
      this.pool!.retrying--;
    }
  }
}

/** Retries go to idempotent requests without a body, or to any bodiless request whose connect failed; within attempts and budget. */
function mayRetry(ex: Exchange, why: 'connect' | 'reset' | 's502' | 's503' | 's504'): boolean {
  const pool = ex.pool!;
  if (ex.retries >= pool.config.retries.attempts || ex.body !== null) return false;
  const on = pool.retryOn;
  if (why === 'connect') {
    if (!on.connect) return false;
  } else if (!ex.idempotent) return false;
  else if (why === 'reset' ? !on.reset : why === 's502' ? !on.s502 : why === 's503' ? !on.s503 : !on.s504) return false;
  return pool.retryAllowed();
}

/** Sends the request to another backend (never the same one twice in a row). False when none is left. */
function retry(ex: ProxyExchange): boolean {
  const pool = ex.pool!;
  const i = pool.pickOther(ex, ex.index);
  if (i < 0) return false;
  ex.retries++;
  ex.index = i;
  ex.inRetry = true;
  pool.retrying++;
  dispatch(ex);
  return true;
}

function publishError(ex: Exchange, message: string, code: string, status: number, retried: boolean, index = ex.index): void {
  if (!upstreamErrorChannel.hasSubscribers) return;
  upstreamErrorChannel.publish({ pool: ex.pool!.name, backend: ex.pool!.names[index], code, message, status, retried });
}

/** Sends our own status (404, 413, 431, 502, 503, 504…) and completes the exchange. */
function reply(ex: Exchange, status: number, close: boolean): void {
  ex.bytes = sendStatus(ex.res, status, close);
  finish(ex, status);
}

function finish(ex: Exchange, status: number): void {
  ex.ctx.inflight--;
  const socket = ex.socket as TaggedSocket;
  if (socket[CURRENT] === ex) socket[CURRENT] = undefined;
  if (ex.pool !== undefined && ex.index >= 0) ex.pool.active--;
  ex.status = status;
  if (requestChannel.hasSubscribers) requestChannel.publish(ex);
}

export type { ForwardContext };
