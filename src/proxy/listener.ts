/**
 * An HTTP/1.1 listener: Node's server with the limits set where Node enforces them
 * (header bytes, header and request timeouts, checked every 250 ms instead of Node's default
 * 30 s), protocol errors answered and closed, WebSocket upgrades tunnelled, and drain.
 * The config snapshot is one reference, swapped on reload.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Listener } from '../config/schema.js';
import { connectionChannel } from '../telemetry/channels.js';
import type { ForwardContext } from './exchange.js';
import { abortInFlight, forward } from './forward.js';
import { pickSnapshot, type CanarySlice, type Serving, type Snapshot } from './snapshot.js';
import { clientErrorStatus, rawStatus } from './status.js';
import { tunnelUpgrade } from './websocket.js';
import { listenOn, trackSocket, waitForDrain, type SocketSet } from './sockets.js';

/** How often Node checks header/request timeouts: a slow client is cut within timeout + this. */
const CONNECTIONS_CHECK_MS = 250;

/** One HTTP listener. */
export class HttpListener implements ForwardContext, Serving {
  readonly server: http.Server;
  name: string;
  maxHeaderCount: number;
  maxBodyBytes: number;
  draining = false;
  inflight = 0;
  snap: Snapshot;
  canary: CanarySlice | undefined = undefined;
  readonly sockets: SocketSet = { open: new Set(), upgraded: new Set() };

  constructor(config: Listener, snap: Snapshot) {
    const l = config.limits;
    this.name = config.name;
    this.snap = snap;
    this.maxHeaderCount = l.maxHeaderCount;
    this.maxBodyBytes = l.maxBodyBytes;
    this.server = http.createServer({
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: Math.min(l.headersTimeout, l.requestTimeout),
      requestTimeout: l.requestTimeout,
      keepAliveTimeout: l.keepAliveTimeout,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    });
    // One past the limit, so forward() can tell "exactly the limit" from "more" (Node drops the rest silently).
    this.server.maxHeadersCount = l.maxHeaderCount + 1;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => forward(this, pickSnapshot(this), req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => tunnelUpgrade(this, pickSnapshot(this), req, socket, head));
    this.server.on('clientError', onClientError);
    this.server.on('connection', (socket: Socket) => {
      trackSocket(this.sockets, socket, this.name, connectionChannel);
      socket.once('close', () => abortInFlight(socket));
    });
  }

  /** Binds the listener's address. */
  listen(host: string, port: number): Promise<void> {
    return listenOn(this.server, this.name, host, port);
  }

  /** The bound port (useful when the OS chose it). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Applies a new config version: the snapshot, and the limits Node lets us change on a live server. */
  update(config: Listener, snap: Snapshot): void {
    const l = config.limits;
    this.name = config.name;
    this.maxHeaderCount = l.maxHeaderCount;
    this.maxBodyBytes = l.maxBodyBytes;
    this.server.maxHeadersCount = l.maxHeaderCount + 1;
    this.server.headersTimeout = Math.min(l.headersTimeout, l.requestTimeout);
    this.server.requestTimeout = l.requestTimeout;
    this.server.keepAliveTimeout = l.keepAliveTimeout;
    this.snap = snap;
  }

  /** Stops accepting, lets requests in flight finish (their connections close after the response), then closes everything left at the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    await waitForDrain(this.sockets, deadlineMs, () => {
      this.server.closeIdleConnections();
      return this.inflight === 0 && this.sockets.upgraded.size === 0;
    });
    this.server.closeAllConnections();
    for (const s of this.sockets.upgraded) s.destroy();
  }
}

/**
 * Parse errors, oversized headers and timeouts on a client connection: answer like Node's
 * default handler would (400/408/413/431) and close. Handling it ourselves means no socket
 * error can surface as an unhandled 'error' event.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code ?? '';
  // A response already started on this connection cannot be followed by a raw status line.
  const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable || busy) {
    socket.destroy();
    return;
  }
  socket.end(rawStatus(clientErrorStatus(code)));
  // end() waits for the peer; a client that never reads must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}
