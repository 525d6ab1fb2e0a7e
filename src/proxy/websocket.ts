/**
 * Upgrade pass-through (WebSocket, RFC 6455 §4): the request head is rewritten with the same
 * header hygiene as any request (Connection/Upgrade restored, RFC 9110 §7.8), sent to a backend
 * picked by the route's pool, and from then on bytes are piped both ways; the backend's 101 (or
 * refusal) reaches the client unchanged.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { recordFailure, recordSuccess } from '../health/index.js';
import type { RequestInfo } from '../balancer/index.js';
import type { ForwardContext } from './exchange.js';
import { upgradeRequestHeaders, type RequestHeadInfo } from './headers.js';
import type { Snapshot } from './snapshot.js';
import type { SocketSet } from './sockets.js';
import { classify, rawStatus, REFUSED, statusFor } from './status.js';

/** The listener side of an upgrade. */
export interface UpgradeContext extends ForwardContext {
  readonly sockets: SocketSet;
}

/** Handles an Upgrade request: route, pick, connect, relay. */
export function tunnelUpgrade(ctx: UpgradeContext, snap: Snapshot, req: IncomingMessage, client: Duplex, head: Buffer): void {
  client.on('error', () => client.destroy());
  const info: RequestHeadInfo = { host: '', hostCount: 0, contentLength: undefined, chunked: false };
  const headers = upgradeRequestHeaders(req.rawHeaders, req.socket.remoteAddress ?? '', 'http', info);
  if (info.hostCount !== 1 || ctx.draining || (req.url ?? '').charCodeAt(0) !== 47) return void client.end(rawStatus(ctx.draining ? REFUSED.noBackend : REFUSED.badRequest));
  const request: RequestInfo = { method: req.method ?? 'GET', host: info.host, path: req.url ?? '/', headers: req.headers, clientIp: req.socket.remoteAddress };
  const route = snap.tables.get(ctx.name)?.match(request);
  const rr = route && snap.routes.get(route);
  const t = route ? route.pickTarget() : -1;
  const pool = rr && t >= 0 ? rr.pools[t] : undefined;
  const i = pool ? pool.pick(request) : -1;
  if (!pool || i < 0) return void client.end(rawStatus(route ? REFUSED.noBackend : REFUSED.noRoute));
  const ep = pool.endpoints[i];
  const upstream = net.connect({ host: ep.host, port: ep.port, noDelay: true });
  upstream.setTimeout(pool.config.timeouts.connect);
  ep.inflight++;
  ctx.sockets.upgraded.add(client);
  let connected = false;
  upstream.once('timeout', () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
  upstream.once('connect', () => {
    connected = true;
    upstream.setTimeout(0);
    recordSuccess(ep);
    let text = `${request.method} ${request.path} HTTP/1.1\r\n`;
    for (let k = 0; k < headers.length; k += 2) text += `${headers[k]}: ${headers[k + 1]}\r\n`;
    upstream.write(`${text}\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) {
      recordFailure(ep, pool, snap.registry);
      client.end(rawStatus(statusFor(classify(err))));
    } else client.destroy();
  });
  upstream.once('close', (hadError) => {
    ep.inflight--;
    ctx.sockets.upgraded.delete(client);
    // A clean close already ended the client through pipe(); only an error cuts it.
    if (connected && hadError) client.destroy();
  });
  client.once('close', () => {
    ctx.sockets.upgraded.delete(client);
    upstream.destroy();
  });
}
