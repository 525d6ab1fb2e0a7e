/**
 * A TCP listener: each connection is piped to an endpoint of the listener's pool, chosen by
 * the pool's balancer. A failed connect is retried on another endpoint (nothing was sent yet).
 * Half-closes are kept (allowHalfOpen), so protocols that shut down one direction first work.
 */
import net from 'node:net';
import type { Listener } from '../config/index.js';
import type { RequestInfo } from '../balancer/index.js';
import { recordFailure, recordSuccess } from '../health/index.js';
import { connectionChannel } from '../telemetry/channels.js';
import type { PoolRuntime } from '../upstream/index.js';
import { pickSnapshot, type CanarySlice, type Serving, type Snapshot } from './snapshot.js';
import { listenOn, trackSocket, waitForDrain, type SocketSet } from './sockets.js';

const NO_HEADERS = Object.freeze({});

/** One TCP listener. */
export class TcpListener implements Serving {
  readonly server: net.Server;
  name: string;
  snap: Snapshot;
  canary: CanarySlice | undefined = undefined;
  draining = false;
  readonly sockets: SocketSet = { open: new Set(), upgraded: new Set() };

  constructor(config: Listener, snap: Snapshot) {
    this.name = config.name;
    this.snap = snap;
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(socket));
  }

  /** Binds the listener's address. */
  listen(host: string, port: number): Promise<void> {
    return listenOn(this.server, this.name, host, port);
  }

  /** Applies a new config version. */
  update(config: Listener, snap: Snapshot): void {
    this.name = config.name;
    this.snap = snap;
  }

  private accept(client: net.Socket): void {
    trackSocket(this.sockets, client, this.name, connectionChannel);
    const snap = pickSnapshot(this);
    const route = snap.tables.get(this.name)?.routes[0];
    const pool = route ? snap.routes.get(route)?.pools[0] : undefined;
    const info: RequestInfo = { method: 'TCP', host: '', path: '', headers: NO_HEADERS, clientIp: client.remoteAddress };
    if (!pool || this.draining) return void client.destroy();
    this.connect(client, pool, info, pool.pick(info), 0);
  }

  private connect(client: net.Socket, pool: PoolRuntime, info: RequestInfo, i: number, attempt: number): void {
    if (i < 0) return void client.destroy();
    const ep = pool.endpoints[i];
    const upstream = net.connect({ host: ep.host, port: ep.port, allowHalfOpen: true, noDelay: true });
    upstream.setTimeout(pool.config.timeouts.connect);
    let connected = false;
    ep.inflight++;
    upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      recordSuccess(ep);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (connected) return void client.destroy();
      recordFailure(ep, pool, this.snap.registry);
      const next = attempt < pool.config.retries.attempts ? pool.pickOther(info, i) : -1;
      if (next >= 0 && !client.destroyed) this.connect(client, pool, info, next, attempt + 1);
      else client.destroy();
    });
    upstream.once('close', (hadError) => {
      ep.inflight--;
      // A clean close already ended the client through pipe(); only an error cuts it.
      if (connected && hadError) client.destroy();
    });
    client.once('close', () => upstream.destroy());
  }

  /** Stops accepting; open connections get until the deadline to finish. */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    await waitForDrain(this.sockets, deadlineMs, () => true);
    for (const s of this.sockets.open) s.destroy();
  }
}
