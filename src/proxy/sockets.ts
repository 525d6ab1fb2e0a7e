/** Socket bookkeeping shared by HTTP and TCP listeners: open-connection tracking, binding, drain waits. */
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Channel } from 'node:diagnostics_channel';
import { ListenError } from '../errors.js';

/** A listener's client sockets, and the ones handed over to a tunnel (WebSocket, TCP). */
export interface SocketSet {
  readonly open: Set<Socket>;
  readonly upgraded: Set<Duplex>;
}

/** Tracks a new client socket; publishes connection counts when someone listens. */
export function trackSocket(set: SocketSet, socket: Socket, listener: string, channel: Channel): void {
  set.open.add(socket);
  const counted = channel.hasSubscribers;
  if (counted) channel.publish({ listener, delta: 1 });
  // A stray error on a client socket (reset mid-write) must never reach the process.
  socket.on('error', noop);
  socket.once('close', () => {
    set.open.delete(socket);
    if (counted) channel.publish({ listener, delta: -1 });
  });
}

function noop(): void {}

/** Binds `server` to host:port; rejects with ListenError (EADDRINUSE, EACCES…). */
export function listenOn(server: Server, what: string, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new ListenError(`listener ${what}`, `${host}:${port}`, err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

/** Polls every 50 ms until `done()` holds and no client socket is open, or the deadline passes. */
export async function waitForDrain(set: SocketSet, deadlineMs: number, done: () => boolean): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (done() && set.open.size === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
