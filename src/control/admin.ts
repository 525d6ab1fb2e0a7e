/**
 * The admin HTTP API, on its own address (loopback by default): `/metrics` (Prometheus),
 * `/healthz`, and, behind the bearer token, `GET /api/v1/status` and `POST /api/v1/reload`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAddress } from '../core/address.js';
import { ListenError } from '../errors.js';
import { bearerMatches } from './token.js';

/** What the admin API serves; each function is provided by the instance. */
export interface AdminHandlers {
  metrics(): Promise<string>;
  status(): unknown;
  reload(): Promise<{ applied: boolean }>;
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
  const server = http.createServer((req, res) => void route(req, res, token, handlers).catch((err: Error) => json(res, 500, { error: err.message })));
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
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/metrics') {
    const text = await h.metrics();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(text);
    return;
  }
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { ok: true });
  if (path.startsWith('/api/')) {
    if (!bearerMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return json(res, 401, { error: 'a bearer token is required (Authorization: Bearer <token from the admin token file>)' });
    }
    if (req.method === 'GET' && path === '/api/v1/status') return json(res, 200, h.status());
    if (req.method === 'POST' && path === '/api/v1/reload') {
      req.resume();
      const result = await h.reload();
      return json(res, result.applied ? 200 : 422, result);
    }
  }
  json(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
