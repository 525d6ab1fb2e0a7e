/**
 * Demo backends: HTTP servers that behave like real servers with a finite capacity. Each
 * serves at most `capacity` requests/s: a token bucket refilled on real time, with a small
 * burst, and a short queue: a request that finds the bucket empty waits for its token if that
 * takes at most `queueMs`, else it is answered 503 at once. So a burst is absorbed with latency,
 * as a real server's accept queue absorbs it, while a sustained rate above capacity is refused.
 * The server also slows down as it approaches capacity: its service time grows like a queue's,
 * `base / (1 − utilization)`, where utilization is the offered request rate (an exponentially
 * weighted moving average over about a second) against capacity. GET /healthz answers 200 at
 * once and is not counted.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How a demo backend behaves. */
export interface DemoBackendOptions {
  /** Names the server in its answers (`x-served-by` and the body). */
  readonly name: string;
  /** Requests/s it serves; beyond that it answers 503. */
  readonly capacity: number;
  /** Port to listen on [0: chosen by the OS]. */
  readonly port?: number;
  /** Address to listen on [127.0.0.1]. */
  readonly host?: string;
  /** Requests it may take at once above the steady rate [max(2, capacity/10): 100 ms worth, so a
   *  scheduling hiccup on a busy machine is not an overload]. */
  readonly burst?: number;
  /**
   * Longest wait for a token before answering 503, ms [250]: deep enough that a pause of a few
   * hundred ms upstream (the proxy or this process descheduled on a busy machine) arrives as
   * latency, not as 503s that would read as an overload.
   */
  readonly queueMs?: number;
  /** Service time when idle, ms [2]. */
  readonly baseLatencyMs?: number;
  /** Service time near or over capacity, ms [100]. */
  readonly maxLatencyMs?: number;
}

/** A running demo backend. */
export interface DemoBackend {
  readonly name: string;
  readonly capacity: number;
  readonly port: number;
  /** `host:port`, as a config names it. */
  readonly address: string;
  /** Requests answered 200 (health checks excluded). */
  readonly served: number;
  /** Requests answered 503 because it was over capacity. */
  readonly rejected: number;
  /** Offered requests/s against capacity, now (0 when idle; above 1 when overloaded). */
  utilization(): number;
  /** Stops listening and drops every connection and pending answer. */
  close(): Promise<void>;
}

/** Time constant of the offered-rate average, ms. */
const RATE_TAU_MS = 1000;

/** Starts a demo backend; resolves once it listens. */
export async function startDemoBackend(options: DemoBackendOptions): Promise<DemoBackend> {
  const { name, capacity } = options;
  if (!(capacity > 0)) throw new RangeError(`demo backend ${name}: capacity must be > 0`);
  const burst = options.burst ?? Math.max(2, capacity / 10);
  const base = options.baseLatencyMs ?? 2;
  const max = Math.max(base, options.maxLatencyMs ?? 100);
  const perMs = capacity / 1000;
  // Tokens may go below zero down to the queue's length: each waiting request holds a future token.
  const floor = -(options.queueMs ?? 250) * perMs;

  let tokens = burst;
  let rate = 0;
  let last = performance.now();
  let served = 0;
  let rejected = 0;
  const pending = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();

  /** Refills the bucket and decays the rate estimate to `now`. */
  const advance = (now: number) => {
    const dt = now - last;
    if (dt <= 0) return;
    tokens = Math.min(burst, tokens + dt * perMs);
    rate *= Math.exp(-dt / RATE_TAU_MS);
    last = now;
  };

  const respond = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    advance(performance.now());
    // Each arrival adds 1/τ to an exponentially decaying sum: an estimate of arrivals per ms.
    rate += 1 / RATE_TAU_MS;
    if (tokens - 1 < floor) {
      rejected++;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1', 'x-served-by': name });
      res.end(`${name} is over its capacity of ${capacity} req/s\n`);
      return;
    }
    tokens -= 1;
    served++;
    const wait = tokens < 0 ? -tokens / perMs : 0;
    const u = rate / perMs;
    const delay = wait + Math.min(max, base / Math.max(1 - u, base / max));
    const t = setTimeout(() => {
      pending.delete(t);
      send(req, res, name);
    }, delay);
    pending.add(t);
  };

  const server = http.createServer((req, res) => {
    // Bodies are not used; read them so keep-alive connections stay usable.
    req.resume();
    respond(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    name,
    capacity,
    port: addr.port,
    address: `${addr.address}:${addr.port}`,
    get served() {
      return served;
    },
    get rejected() {
      return rejected;
    },
    utilization() {
      advance(performance.now());
      return rate / perMs;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        pending.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

/** A tiny page for a browser, JSON for an API path: both name the server that answered. */
function send(req: IncomingMessage, res: ServerResponse, name: string): void {
  if (res.destroyed) return;
  const path = req.url ?? '/';
  if (path.startsWith('/api/')) {
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
    res.end(`${JSON.stringify({ server: name, path, ok: true })}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-served-by': name });
  res.end(req.method === 'HEAD' ? undefined : page(name, path));
}

function page(name: string, path: string): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><title>example shop</title>
<h1>example shop</h1>
<p>This page (${esc(path)}) was served by <b>${esc(name)}</b>. Reload it: evenkeel spreads requests over the servers.</p>
<p>The shop's API is under <a href="/api/products">/api/</a>.</p>
`;
}
