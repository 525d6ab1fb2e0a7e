/**
 * Upgrade pass-through (WebSocket, RFC 6455 §4). The request head gets the same header hygiene
 * as any request (Connection/Upgrade restored, RFC 9110 §7.8) and goes to a backend picked by
 * the route's pool through node:http's client, whose strict parser reads the answer:
 *
 * - a valid 101 (`Upgrade: websocket`, `Connection: upgrade`) opens the tunnel, and only then;
 * - any other answer is relayed as an HTTP response and the client connection closes after it:
 *   bytes the client sent after asking to leave HTTP are never passed on raw (nginx and HAProxy
 *   parse them as HTTP; closing is the smaller surface). Passing them through was a route
 *   bypass: a refused upgrade to an allowed path, then a request for any path, went raw;
 * - an answer that does not parse, or a 101 that is not a valid upgrade, is a 502.
 *
 * Only WebSocket is tunnelled. Any other protocol (`h2c`, with its HTTP2-Settings) is sent on
 * as a plain request without its upgrade headers, so HTTP/2 cannot be smuggled through an
 * HTTP/1.1 listener. Tunnels are counted per listener (`limits.maxTunnels`, 503 past it) and
 * closed after `limits.tunnelIdleTimeout` without a byte either way.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { recordFailure, recordSuccess } from '../health/index.js';
import type { RequestInfo } from '../balancer/index.js';
import type { ForwardContext } from './exchange.js';
import { downstreamResponseHeaders, upgradeRequestHeaders, upstreamRequestHeaders, type RequestHeadInfo } from './headers.js';
import type { Snapshot } from './snapshot.js';
import type { SocketSet } from './sockets.js';
import { classify, refuseSocket, statusFor } from './status.js';

/** The listener side of an upgrade. */
export interface UpgradeContext extends ForwardContext {
  readonly sockets: SocketSet;
  /** Most tunnels open at once on this listener. */
  readonly maxTunnels: number;
  /** A tunnel with no byte either way for this long is closed (ms). */
  readonly tunnelIdleTimeout: number;
}

/** Handles a request that asks for an upgrade: route, pick, ask the backend, tunnel on a valid 101. */
export function tunnelUpgrade(ctx: UpgradeContext, snap: Snapshot, req: IncomingMessage, client: Duplex, head: Buffer): void {
  client.on('error', () => client.destroy());
  const clientIp = req.socket.remoteAddress ?? '';
  const info: RequestHeadInfo = { host: '', hostCount: 0, contentLength: undefined, chunked: false };
  const method = req.method ?? 'GET';
  const websocket = method === 'GET' && isWebSocket(req.headers.upgrade);
  // Anything but a WebSocket upgrade goes on as a plain request: its Upgrade, Connection and
  // HTTP2-Settings headers are hop-by-hop and dropped (RFC 9113 §3.1 retired h2c anyway).
  const headers = websocket ? upgradeRequestHeaders(req.rawHeaders, clientIp, ctx.proto, info) : withoutHttp2Settings(upstreamRequestHeaders(req.rawHeaders, clientIp, ctx.proto, info));
  if (info.hostCount !== 1 || (req.url ?? '').charCodeAt(0) !== 47) return refuseSocket(client, 400);
  if (ctx.draining) return refuseSocket(client, 503);
  const request: RequestInfo = { method, host: info.host, path: req.url ?? '/', headers: req.headers, clientIp };
  const route = snap.tables.get(ctx.name)?.match(request);
  if (route === undefined) return refuseSocket(client, 404);
  const rr = snap.routes.get(route)!;
  const t = route.pickTarget();
  const pool = t >= 0 ? rr.pools[t] : undefined;
  const i = pool ? pool.pick(request) : -1;
  if (pool === undefined || i < 0) return refuseSocket(client, 503);
  if (websocket && ctx.sockets.upgraded.size >= ctx.maxTunnels) return refuseSocket(client, 503);
  const ep = pool.endpoints[i];
  ep.inflight++;
  ctx.sockets.upgraded.add(client);
  let done = false;
  const settle = () => {
    if (done) return;
    done = true;
    ep.inflight--;
    ctx.sockets.upgraded.delete(client);
  };
  const up = http.request({ host: ep.host, port: ep.port, method, path: request.path, headers, agent: false, setHost: false, timeout: pool.config.timeouts.request });
  let answered = false;
  up.once('timeout', () => up.destroy(Object.assign(new Error('the backend did not answer the upgrade in time'), { code: 'ETIMEDOUT' })));
  up.on('error', (err) => {
    settle();
    if (answered) return void client.destroy();
    const kind = classify(err);
    if (kind === 'connect' || kind === 'timeout' || kind === 'reset' || kind === 'protocol') recordFailure(ep, pool, snap.registry);
    refuseSocket(client, statusFor(kind === 'client' || kind === 'bad-request' || kind === 'limit' ? 'other' : kind));
  });
  up.once('upgrade', (res: IncomingMessage, upstream: Socket, upHead: Buffer) => {
    answered = true;
    if (!websocket || !validUpgrade(res)) {
      upstream.destroy();
      settle();
      recordFailure(ep, pool, snap.registry);
      return refuseSocket(client, 502);
    }
    recordSuccess(ep);
    open(ctx, client, upstream, res, head, upHead, settle);
  });
  up.once('response', (res: IncomingMessage) => {
    answered = true;
    // A 1xx as the final answer (a 101 that is not an upgrade) is not a response to relay.
    if ((res.statusCode ?? 0) < 200) {
      res.destroy();
      settle();
      recordFailure(ep, pool, snap.registry);
      return refuseSocket(client, 502);
    }
    recordSuccess(ep);
    relayAndClose(client, res, settle);
  });
  client.once('close', () => {
    up.destroy();
    settle();
  });
  up.end();
}

/** A valid 101 for a WebSocket upgrade: `Upgrade: websocket` and `Connection: upgrade` (RFC 6455 §4.2.2). */
function validUpgrade(res: IncomingMessage): boolean {
  if (res.statusCode !== 101 || !isWebSocket(res.headers.upgrade)) return false;
  const connection = res.headers.connection;
  return typeof connection === 'string' && connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade');
}

function isWebSocket(upgrade: string | undefined): boolean {
  return upgrade !== undefined && upgrade.trim().toLowerCase() === 'websocket';
}

function withoutHttp2Settings(headers: string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) if (headers[k].toLowerCase() !== 'http2-settings') out.push(headers[k], headers[k + 1]);
  return out;
}

/** Relays the backend's 101 and pipes bytes both ways until either side closes or the tunnel idles. */
function open(ctx: UpgradeContext, client: Duplex, upstream: Socket, res: IncomingMessage, head: Buffer, upHead: Buffer, settle: () => void): void {
  client.write(responseHead(`101 ${res.statusMessage || 'Switching Protocols'}`, 'connection: Upgrade\r\nupgrade: websocket', res));
  if (upHead.length > 0) client.write(upHead);
  if (head.length > 0) upstream.write(head);
  upstream.on('error', () => client.destroy());
  upstream.setNoDelay(true);
  const idle = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.setTimeout(ctx.tunnelIdleTimeout, idle);
  (client as Socket).setTimeout?.(ctx.tunnelIdleTimeout, idle);
  upstream.pipe(client);
  client.pipe(upstream);
  upstream.once('close', () => {
    settle();
    client.destroy();
  });
  client.once('close', () => upstream.destroy());
}

/** Relays an answer that is not an upgrade as an HTTP response, then closes the client connection. */
function relayAndClose(client: Duplex, res: IncomingMessage, settle: () => void): void {
  client.write(responseHead(`${res.statusCode} ${res.statusMessage ?? ''}`, 'connection: close', res));
  res.on('error', () => client.destroy());
  res.once('end', settle);
  // Close-delimited when the backend gave no Content-Length (RFC 9112 §6.3 rule 8).
  res.pipe(client);
}

/** The head we relay for a backend's answer: our status line and connection headers, then its own headers after hop-by-hop hygiene. */
function responseHead(statusLine: string, connection: string, res: IncomingMessage): string {
  // Off the request path (upgrades only): the string headers are turned into the Buffers the shared filter reads.
  const headers = downstreamResponseHeaders(res.rawHeaders.map((h) => Buffer.from(h, 'latin1')));
  let text = `HTTP/1.1 ${statusLine}\r\n${connection}\r\n`;
  for (let k = 0; k < headers.length; k += 2) text += `${headers[k]}: ${headers[k + 1]}\r\n`;
  return `${text}\r\n`;
}
