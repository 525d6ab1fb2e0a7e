/**
 * The admin HTTP API, on its own address (loopback by default): `/metrics` (Prometheus) and
 * `/healthz` without a token; everything under `/api/` behind the bearer token (routes in
 * admin-api.ts). No token is 401, a wrong one 403. The token is never logged or echoed.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAddress } from '../core/address.js';
import { CanaryError, EvenkeelError, ListenError, UsageError, VersionStateError } from '../errors.js';
import { apiRoute, type ApiHandlers } from './admin-api.js';
import { bearerMatches } from './token.js';

/** What the admin API serves; each function is provided by the instance. */
export interface AdminHandlers extends ApiHandlers {
  metrics(): Promise<string>;
}

/** A running admin server. */
export interface AdminServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the admin API on `address`. */
export async function startAdmin(address: string, token: string, handlers: AdminHandlers): Promise<AdminServer> {
  const { host, port } = parseAddress(address);
  const server = http.createServer((req, res) => void route(req, res, token, handlers).catch((err: Error) => sendError(res, err)));
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError('the admin API', address, err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message, { cause: err })));
    server.listen({ host, port }, () => resolve());
  });
  const bound = server.address();
  return {
    address,
    port: typeof bound === 'object' && bound ? bound.port : port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, token: string, h: AdminHandlers): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/metrics') {
    const text = await h.metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
    return;
  }
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { ok: true });
  if (path.startsWith('/api/')) {
    const auth = req.headers.authorization;
    if (!auth || !auth.startsWith('Bearer ')) {
      req.resume();
      res.setHeader('www-authenticate', 'Bearer');
      return json(res, 401, { error: 'a bearer token is required (Authorization: Bearer <token from the admin token file>)' });
    }
    if (!bearerMatches(auth, token)) {
      req.resume();
      return json(res, 403, { error: 'the bearer token is not this instance\'s admin token' });
    }
    const answer = await apiRoute(req, url, h);
    if (answer) return json(res, answer.status, answer.body);
  }
  req.resume();
  json(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
}

// The one place an error becomes an HTTP status for the admin API.
function sendError(res: ServerResponse, err: Error): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof VersionStateError || err instanceof CanaryError) return json(res, 409, { error: err.message, code: err.code });
  if (err instanceof UsageError) return json(res, 400, { error: err.message, code: err.code });
  if (err instanceof EvenkeelError) return json(res, 500, { error: err.message, code: err.code });
  json(res, 500, { error: err.message });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
