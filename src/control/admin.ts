/**
 * The admin HTTP API, on its own address (loopback by default): `/metrics` (Prometheus) and
 * `/healthz` without a token; the dashboard's page and assets at `/` and `/ui/` (dashboard.ts);
 * everything under `/api/` behind the admin token (routes in admin-api.ts). No credentials is
 * 401, a wrong token 403. The token is never logged or echoed.
 *
 * Two ways to present the token: `Authorization: Bearer …` (CLI, scripts), or a session cookie
 * the dashboard gets once from POST /api/v1/session (session.ts). A cookie rides along with any
 * request the browser makes, so a write (anything but GET) authorized by the cookie alone must
 * also carry `X-Evenkeel-Csrf: 1` and, when the browser says where it comes from, a same-origin
 * `Origin`: a cross-site form cannot set a custom header, and a cross-site script that tries is
 * stopped by the CORS preflight this server never answers.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAddress } from '../core/index.js';
import { EvenkeelError, httpStatusOf, ListenError } from '../errors.js';
import { apiRoute, readJson, type ApiHandlers } from './admin-api.js';
import { securityHeaders, serveAsset } from './dashboard.js';
import { cookieValue } from '../balancer/index.js';
import { CSRF_HEADER, SESSION_COOKIE, sessionCookie, Sessions } from './session.js';
import { LiveStream, type StreamOptions, type StreamSources } from './stream.js';
import { bearerMatches, tokenMatches } from './token.js';
import { refuseSocket } from '../proxy/index.js';
import { HostGuard, LoginLimiter } from './admin-guard.js';

/** What the admin API serves; each function is provided by the instance. */
export interface AdminHandlers extends ApiHandlers {
  metrics(): Promise<string>;
  /** Cumulative requests and 5xx (the stream's request and error rates); absent: none counted. */
  counters?: StreamSources['counters'];
  /** Host names besides loopback ones and IP literals that may reach the API (admin.allowedHosts). */
  allowedHosts?: readonly string[];
  /** Stream tunables (tests). */
  stream?: StreamOptions;
}

/** A running admin server. */
export interface AdminServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** What one admin server keeps between requests. */
interface AdminState {
  readonly token: string;
  readonly h: AdminHandlers;
  readonly sessions: Sessions;
  readonly stream: LiveStream;
  readonly hosts: HostGuard;
  readonly logins: LoginLimiter;
}

/** Starts the admin API on `address`. */
export async function startAdmin(address: string, token: string, handlers: AdminHandlers): Promise<AdminServer> {
  const { host, port } = parseAddress(address);
  const stream = new LiveStream({ status: () => handlers.status(), counters: () => handlers.counters?.(), store: handlers.store }, handlers.stream);
  const state: AdminState = { token, h: handlers, sessions: new Sessions(), stream, hosts: new HostGuard(host, handlers.allowedHosts), logins: new LoginLimiter() };
  const server = http.createServer((req, res) => void route(req, res, state).catch((err: Error) => sendError(res, err)));
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('connect', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    refuseSocket(socket, 405);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError('the admin API', address, err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message, { cause: err })));
      server.listen({ host, port }, () => resolve());
    });
  } catch (err) {
    await stream.close();
    throw err;
  }
  const bound = server.address();
  return {
    address,
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: async () => {
      await stream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function route(req: IncomingMessage, res: ServerResponse, s: AdminState): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  if (!s.hosts.allows(req.headers.host)) {
    req.resume();
    return json(res, 403, { error: `Host ${JSON.stringify(req.headers.host ?? '')} is not a name of this admin API: use 127.0.0.1 or localhost, or list the name in admin.allowedHosts` });
  }
  if (req.method === 'GET' && path === '/metrics') {
    const text = await s.h.metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
    return;
  }
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { ok: true });
  if (await serveAsset(req, res, path)) return;
  if (path === '/api/v1/session') return session(req, res, s);
  if (path.startsWith('/api/')) {
    const denied = authorize(req, s);
    if (denied) {
      req.resume();
      if (denied.status === 401) res.setHeader('www-authenticate', 'Bearer');
      if (denied.retryAfter !== undefined) res.setHeader('retry-after', String(denied.retryAfter));
      return json(res, denied.status, { error: denied.error });
    }
    if (req.method === 'GET' && path === '/api/v1/stream') {
      if (await s.stream.open(req, res)) return;
      return json(res, 503, { error: `too many open streams (${s.stream.size}); close a dashboard tab and retry` });
    }
    const answer = await apiRoute(req, url, s.h);
    if (answer) return json(res, answer.status, answer.body);
  }
  req.resume();
  json(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
}

/** Undefined when `req` may use the API; otherwise the status and why not. */
function authorize(req: IncomingMessage, s: AdminState): { status: 401 | 403 | 429; error: string; retryAfter?: number } | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    if (!auth.startsWith('Bearer ')) return { status: 401, error: 'a bearer token is required (Authorization: Bearer <token from the admin token file>)' };
    const client = req.socket.remoteAddress ?? '';
    const wait = s.logins.retryAfter(client);
    if (wait > 0) return { status: 429, error: `too many wrong tokens from ${client}: try again in ${wait} s`, retryAfter: wait };
    if (bearerMatches(auth, s.token)) return undefined;
    s.logins.failed(client);
    return { status: 403, error: 'the bearer token is not this instance\'s admin token' };
  }
  const sid = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (sid === undefined) return { status: 401, error: 'a bearer token is required (Authorization: Bearer <token from the admin token file>), or a dashboard session' };
  if (!s.sessions.valid(sid)) return { status: 401, error: 'the dashboard session has expired or is unknown: log in again with the admin token' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (req.headers[CSRF_HEADER] !== '1') return { status: 403, error: `a write with a session cookie needs the header ${CSRF_HEADER}: 1 (the dashboard sends it; a cross-site form cannot)` };
    if (!sameOrigin(req)) return { status: 403, error: 'a write with a session cookie must come from the dashboard\'s own origin' };
  }
  return undefined;
}

/** True when the request names no Origin, or names the host it was sent to. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * /api/v1/session: GET says whether the caller has a session (nothing else: where the token
 * file is would tell an anonymous caller about the machine); POST {token} logs in, at most
 * LoginLimiter's wrong tokens a minute per client address; DELETE logs out.
 */
async function session(req: IncomingMessage, res: ServerResponse, s: AdminState): Promise<void> {
  const sid = cookieValue(req.headers.cookie, SESSION_COOKIE);
  const noStore = { 'cache-control': 'no-store', ...securityHeaders() };
  if (req.method === 'GET') {
    req.resume();
    return json(res, 200, { authenticated: s.sessions.valid(sid) }, noStore);
  }
  if (req.method === 'POST') {
    const body = await readJson(req);
    const given = typeof body.token === 'string' ? body.token : '';
    if (!given.trim()) return json(res, 401, { error: 'the admin token is required: {"token": "<contents of the admin token file>"}' }, noStore);
    const client = req.socket.remoteAddress ?? '';
    const wait = s.logins.retryAfter(client);
    if (wait > 0) return json(res, 429, { error: `too many wrong tokens from ${client}: try again in ${wait} s` }, { ...noStore, 'retry-after': String(wait) });
    if (!tokenMatches(given, s.token)) {
      s.logins.failed(client);
      return json(res, 403, { error: 'that is not this instance\'s admin token' }, noStore);
    }
    s.logins.succeeded(client);
    s.sessions.revoke(sid);
    const created = s.sessions.create();
    res.setHeader('set-cookie', sessionCookie(created.id, created.maxAgeSeconds));
    return json(res, 200, { authenticated: true, expiresAt: new Date(created.expires).toISOString() }, noStore);
  }
  if (req.method === 'DELETE') {
    req.resume();
    if (sid !== undefined && req.headers[CSRF_HEADER] !== '1') return json(res, 403, { error: `logging out needs the header ${CSRF_HEADER}: 1` }, noStore);
    s.sessions.revoke(sid);
    res.setHeader('set-cookie', sessionCookie('', 0));
    return json(res, 200, { authenticated: false }, noStore);
  }
  req.resume();
  json(res, 405, { error: `${req.method} /api/v1/session: use GET, POST or DELETE` });
}

// The admin API's one error boundary: the status comes from the error table (errors.ts).
function sendError(res: ServerResponse, err: Error): void {
  if (res.headersSent) return void res.destroy();
  json(res, httpStatusOf(err), err instanceof EvenkeelError ? { error: err.message, code: err.code } : { error: err.message });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
