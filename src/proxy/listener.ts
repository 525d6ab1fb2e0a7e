/**
 * An HTTP/1.1 listener: Node's server with the limits set where Node enforces them
 * (header bytes, header and request timeouts, checked every 250 ms instead of Node's default
 * 30 s), protocol errors answered and closed, WebSocket upgrades tunnelled, and drain.
 * The config snapshot is one reference, swapped on reload.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type ServerHttp2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Listener } from '../config/index.js';
import { connectionChannel, tlsChannel } from '../telemetry/channels.js';
import type { ForwardContext } from './exchange.js';
import { abortInFlight, forward } from './forward.js';
import { pickSnapshot, type CanarySlice, type Serving, type Snapshot } from './snapshot.js';
import { clientErrorStatus, refuseSocket } from './status.js';
import { tunnelUpgrade } from './websocket.js';
import { listenOn, trackSocket, waitForDrain, type SocketSet } from './sockets.js';
import { ALPN, type CertificateSet } from './tls.js';

/** How often Node checks header/request timeouts: a slow client is cut within timeout + this. */
const CONNECTIONS_CHECK_MS = 250;

/** The part of Node's in-flight ServerResponse that onClientError reads. */
interface InFlight {
  headersSent: boolean;
  writableEnded: boolean;
  shouldKeepAlive: boolean;
  req?: { complete: boolean };
}

/**
 * One HTTP listener. Plain: Node's HTTP/1.1 server. With `tls`: a TLS server in front that
 * negotiates ALPN and hands each decrypted connection to the same HTTP/1.1 server, or to an
 * HTTP/2 server for `h2` — rather than http2's own `allowHTTP1` fallback, which ignores the
 * HTTP/1.1 server options (header and request timeouts, checked every 30 s instead of 250 ms).
 */
export class HttpListener implements ForwardContext, Serving {
  /** The server bound to the address (the HTTP server itself, or the TLS server). */
  readonly server: Server;
  /** HTTP/1.1 on every connection that is not HTTP/2. */
  readonly http: http.Server;
  /** HTTP/2 on TLS connections that chose `h2`. */
  private readonly h2: http2.Http2Server | undefined;
  /** Open HTTP/2 sessions (drain sends each a GOAWAY). */
  readonly sessions = new Set<ServerHttp2Session>();
  private certs: CertificateSet | undefined;
  readonly proto: 'http' | 'https';
  name: string;
  maxHeaderCount: number;
  maxBodyBytes: number;
  maxTunnels: number;
  tunnelIdleTimeout: number;
  draining = false;
  inflight = 0;
  snap: Snapshot;
  canary: CanarySlice | undefined = undefined;
  readonly sockets: SocketSet = { open: new Set(), upgraded: new Set() };

  constructor(config: Listener, snap: Snapshot, certs?: CertificateSet) {
    const l = config.limits;
    this.name = config.name;
    this.snap = snap;
    this.maxHeaderCount = l.maxHeaderCount;
    this.maxBodyBytes = l.maxBodyBytes;
    this.maxTunnels = l.maxTunnels;
    this.tunnelIdleTimeout = l.tunnelIdleTimeout;
    this.proto = config.tls ? 'https' : 'http';
    const server = (this.http = http.createServer({
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: Math.min(l.headersTimeout, l.requestTimeout),
      requestTimeout: l.requestTimeout,
      keepAliveTimeout: l.keepAliveTimeout,
      connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    }));
    // One past the limit, so forward() can tell "exactly the limit" from "more" (Node drops the rest silently).
    server.maxHeadersCount = l.maxHeaderCount + 1;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => forward(this, pickSnapshot(this), req, res));
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      continueInTurn(req, res);
      forward(this, pickSnapshot(this), req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => tunnelUpgrade(this, pickSnapshot(this), req, socket, head));
    server.on('clientError', onClientError);
    // CONNECT would make this a tunnel to anywhere: never (RFC 9110 §9.3.6 lets a server refuse it).
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      refuseSocket(socket, 405);
    });
    if (!config.tls || certs === undefined) {
      this.server = server;
      server.on('connection', (socket: Socket) => {
        trackSocket(this.sockets, socket, this.name, connectionChannel);
        socket.once('close', () => abortInFlight(socket));
      });
      return;
    }
    this.certs = certs;
    this.h2 = createH2(this, l);
    const secure = tls.createServer({
      ...certs.defaultPair,
      minVersion: config.tls.minVersion,
      ALPNProtocols: ALPN,
      SNICallback: (name, cb) => cb(null, this.certs!.pick(name)),
      // A TLS handshake that does not finish within the headers timeout is cut.
      handshakeTimeout: Math.min(l.headersTimeout, 10_000),
    });
    this.server = secure;
    secure.on('connection', (socket: Socket) => trackSocket(this.sockets, socket, this.name, connectionChannel));
    secure.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      if (tlsChannel.hasSubscribers) tlsChannel.publish({ listener: this.name, ok: false, reason: tlsFailure(err) });
      socket.destroy();
    });
    secure.on('secureConnection', (socket: TLSSocket) => {
      if (tlsChannel.hasSubscribers) tlsChannel.publish({ listener: this.name, ok: true, reason: socket.alpnProtocol || 'none' });
      socket.on('error', () => socket.destroy());
      if (socket.alpnProtocol === 'h2') return void this.h2!.emit('connection', socket);
      socket.once('close', () => abortInFlight(socket));
      server.emit('connection', socket);
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
  update(config: Listener, snap: Snapshot, certs?: CertificateSet): void {
    const l = config.limits;
    if (certs !== undefined) this.setCertificates(certs, config.tls?.minVersion);
    this.name = config.name;
    this.maxHeaderCount = l.maxHeaderCount;
    this.maxBodyBytes = l.maxBodyBytes;
    this.maxTunnels = l.maxTunnels;
    this.tunnelIdleTimeout = l.tunnelIdleTimeout;
    this.http.maxHeadersCount = l.maxHeaderCount + 1;
    this.http.headersTimeout = Math.min(l.headersTimeout, l.requestTimeout);
    this.http.requestTimeout = l.requestTimeout;
    this.http.keepAliveTimeout = l.keepAliveTimeout;
    this.snap = snap;
  }

  /** Renewed certificates: new handshakes get them; open connections keep the context they have. */
  setCertificates(certs: CertificateSet, minVersion: 'TLSv1.2' | 'TLSv1.3' | undefined): void {
    if (this.certs === undefined) return;
    this.certs = certs;
    (this.server as tls.Server).setSecureContext({ ...certs.defaultPair, minVersion });
  }

  /** Stops accepting, lets requests in flight finish (their connections close after the response), then closes everything left at the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    // HTTP/2: GOAWAY now; each session closes once its open streams are done.
    for (const s of this.sessions) s.close();
    await waitForDrain(this.sockets, deadlineMs, () => {
      this.http.closeIdleConnections();
      return this.inflight === 0 && this.sockets.upgraded.size === 0;
    });
    this.http.closeAllConnections();
    for (const s of this.sessions) s.destroy();
    for (const s of this.sockets.upgraded) s.destroy();
    for (const s of this.sockets.open) s.destroy();
  }
}

/**
 * The HTTP/2 side of a TLS listener: the same forward() as HTTP/1.1 (Node's compatibility
 * request/response), with nghttp2's limits set from the listener's: streams per connection,
 * header list pairs and bytes. The floods of the last years are bounded in nghttp2 and Node
 * (rapid reset, CVE-2023-44487: RST_STREAM rate limit; CONTINUATION flood, CVE-2024-27983:
 * header block limits; SETTINGS/PING floods: outstanding limits), each tested from a raw client
 * in test/dataplane/http2-floods-leave-the-process-serving.test.ts. An idle session is closed.
 */
/**
 * `Expect: 100-continue`, answered here instead of by Node's default, which writes the 100 at
 * once. For a pipelined request that waits behind another response the 100 is buffered, and a
 * response head sent with a Buffer body goes in front of that buffer (OutgoingMessage._send
 * unshifts it): the client read a response head, then "HTTP/1.1 100 Continue", then the body
 * (found by the raw-socket fuzz test). So: no 100 when the framing says the request has no
 * content (RFC 9110 §10.1.1 lets a server omit it), and a queued request gets it when its turn
 * comes, unless its final response has already begun.
 */
function continueInTurn(req: IncomingMessage, res: ServerResponse): void {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  if (res.socket) return void res.writeContinue();
  res.once('socket', () => {
    if (!res.headersSent) res.writeContinue();
  });
}

/** Streams a client may reset before their response before its share of resets is judged. */
const PREMATURE_RESETS = 100;

function createH2(owner: HttpListener, l: Listener['limits']): http2.Http2Server {
  const h2 = http2.createServer({
    maxHeaderListPairs: l.maxHeaderCount + 8,
    maxSessionMemory: 16,
    maxOutstandingPings: 10,
    maxSettings: 32,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    settings: { maxConcurrentStreams: l.maxConcurrentStreams, maxHeaderListSize: l.maxHeaderBytes, enablePush: false },
  });
  h2.on('request', (req, res) => forward(owner, pickSnapshot(owner), req as unknown as IncomingMessage, res as unknown as ServerResponse));
  h2.on('session', (session: ServerHttp2Session) => {
    owner.sessions.add(session);
    session.on('error', () => session.destroy());
    // Rapid reset (CVE-2023-44487): nghttp2 as bundled with Node 20 does not rate-limit a
    // client's RST_STREAMs, and each reset stream has already cost a backend request. Like
    // Envoy's premature-reset check: once a session has reset 100 streams before their
    // response, and more than half of its streams, it gets GOAWAY(ENHANCE_YOUR_CALM) and is cut.
    let streams = 0;
    let resets = 0;
    session.on('stream', (stream) => {
      streams++;
      stream.once('close', () => {
        if (stream.rstCode === http2.constants.NGHTTP2_NO_ERROR || stream.headersSent) return;
        if (++resets >= PREMATURE_RESETS && resets * 2 > streams && !session.destroyed) {
          session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
          session.destroy();
        }
      });
    });
    session.setTimeout(Math.max(l.keepAliveTimeout, l.requestTimeout), () => session.close());
    session.once('close', () => owner.sessions.delete(session));
  });
  h2.on('sessionError', () => undefined);
  return h2;
}

/** A short reason for a failed handshake, for the metric's label. */
function tlsFailure(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ECONNRESET') return 'reset';
  if (/TIMEOUT/i.test(code) || /timed out/i.test(err.message)) return 'timeout';
  if (/VERSION|PROTOCOL/i.test(code)) return 'protocol-version';
  if (/CIPHER/i.test(code)) return 'no-shared-cipher';
  if (/HTTP_REQUEST/i.test(code)) return 'plain-http';
  return 'other';
}

/**
 * Parse errors, oversized headers and timeouts on a client connection: answer like Node's
 * default handler would (400/408/413/431) and close. Handling it ourselves means no socket
 * error can surface as an unhandled 'error' event.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code ?? '';
  // Node sets `_httpMessage` to null between responses.
  const pending = (socket as Duplex & { _httpMessage?: InFlight | null })._httpMessage ?? undefined;
  // Bytes that do not parse after a complete request (`POST` with its whole body, then junk):
  // that request is being served; answer it, then close, as nginx and HAProxy do. Nothing
  // after the junk is read as a request.
  if (pending !== undefined && !pending.writableEnded && pending.req?.complete === true && code.startsWith('HPE_') && socket.writable) {
    pending.shouldKeepAlive = false;
    return;
  }
  // Otherwise a request in flight is broken (its body did not parse, it timed out): stop its
  // upstream request. A response already started cannot be followed by a raw status line.
  if (pending !== undefined) abortInFlight(socket as Socket);
  if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable || pending?.headersSent === true) {
    socket.destroy();
    return;
  }
  refuseSocket(socket, clientErrorStatus(code));
}
