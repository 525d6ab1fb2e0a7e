/**
 * The one place where failures become HTTP statuses (Traefik maps errNoAvailableServer to 503
 * only in ServeHTTP), for plain requests (forward.ts), upgrades (websocket.ts) and connections
 * that fail to parse (listener.ts) alike: 502 the upstream failed or sent garbage, 503 nothing
 * usable, 504 the upstream timed out, 404 no route, 413/431/400/408 the client broke a limit or
 * the protocol. evenkeel's own errors take their status from the error table (errors.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyLimitError, ERRORS } from '../errors.js';

/** Why evenkeel answers a request itself, with no backend involved, and the status each gets. */
export const REFUSED = {
  /** More headers than limits.maxHeaderCount (RFC 6585 §5; Node would drop the rest silently). */
  tooManyHeaders: 431,
  /** A head past limits.maxHeaderBytes. */
  headersTooLarge: 431,
  /** Two Host headers, chunked HTTP/1.0, a bad request target, a parse error (RFC 9112). */
  badRequest: 400,
  /** A body past limits.maxBodyBytes. */
  bodyTooLarge: ERRORS[BodyLimitError.code].status,
  /** The head did not arrive within limits.headersTimeout. */
  requestTimeout: 408,
  /** No route of the listener matches. */
  noRoute: 404,
  /** The route's pools have no usable backend, or the listener is draining. */
  noBackend: 503,
  /** A route's rate limit is spent for this client (RFC 6585 §4). */
  rateLimited: 429,
  /** A request line with a version other than HTTP/1.x on an HTTP/1 connection. */
  versionNotSupported: 505,
} as const;

/** How a failure is treated for retries and outlier detection. */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'protocol' | 'client' | 'limit' | 'bad-request' | 'other';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CLIENT_CODES = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'UND_ERR_ABORTED', 'ABORT_ERR']);

/** Classifies an error from undici, a socket, or our own limits. */
export function classify(err: unknown): FailureKind {
  const code = (err as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (RESET_CODES.has(code)) return 'reset';
  if (CLIENT_CODES.has(code)) return 'client';
  if (code === BodyLimitError.code) return 'limit';
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return 'bad-request';
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') return 'protocol';
  return 'other';
}

/** The status a client gets for a failure of this kind. */
export function statusFor(kind: FailureKind): number {
  switch (kind) {
    case 'timeout': return 504;
    case 'limit': return REFUSED.bodyTooLarge;
    case 'bad-request': return 400;
    case 'client': return 499; // never sent: the client is gone; recorded as nginx does
    default: return 502;
  }
}

const REASONS: Record<number, string> = {
  400: 'bad request\n', 404: 'no route matches this request\n', 413: 'request body too large\n', 431: 'request header fields too large\n', 429: 'too many requests: slow down and retry after the time in Retry-After\n',
  502: 'bad gateway: the backend failed or sent an invalid response\n', 503: 'no backend available\n', 504: 'gateway timeout: the backend did not answer in time\n', 505: 'HTTP version not supported: speak HTTP/1.1, or HTTP/2 over TLS\n',
};

/** Sends evenkeel's own response (no backend involved); returns the body bytes sent. `close` ends the connection (the request body was not read). */
export function sendStatus(res: ServerResponse, status: number, close: boolean): number {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return 0;
  }
  const body = REASONS[status] ?? 'error\n';
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  if (close) res.shouldKeepAlive = false;
  res.end(body);
  return body.length;
}

/** The status for a parse error or timeout on a client connection (Node's clientError), as Node's default handler answers it. */
export function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return REFUSED.headersTooLarge;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return REFUSED.requestTimeout;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return REFUSED.bodyTooLarge;
  return REFUSED.badRequest;
}

/**
 * Answers a socket that has no ServerResponse (a parse error, a refused upgrade, CONNECT) with
 * our own status, and closes it. end() waits for the peer, so a client that never reads is
 * destroyed a second later rather than keeping the socket.
 */
export function refuseSocket(socket: Duplex, status: number): void {
  socket.end(rawStatus(status));
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** A raw response for a socket with no ServerResponse (parse errors, failed upgrades). */
function rawStatus(status: number): string {
  const text: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };
  return `HTTP/1.1 ${status} ${text[status] ?? 'Error'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`;
}
