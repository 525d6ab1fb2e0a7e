/**
 * Test harness for the data plane: real backends and a real proxy on 127.0.0.1 with ports
 * the OS chose, configs written to a temp folder, and a client that never reuses a socket
 * unless asked. Everything started here is closed by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateFile } from '../../../src/analysis/index.js';
import { Instance } from '../../../src/control/instance.js';

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs every registered cleanup, newest first. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

/** Registers something to close at cleanup (servers a test starts itself). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A free port on 127.0.0.1 (released again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A backend test server. */
export interface Backend {
  readonly port: number;
  readonly address: string;
  readonly server: http.Server;
  hits: number;
  /** Stops accepting and destroys every open connection (a crashed server). */
  kill(): Promise<void>;
}

/** Starts an HTTP backend; the default handler answers 200 with its port and echoes request headers as JSON. */
export async function startBackend(handler?: (req: IncomingMessage, res: ServerResponse, b: Backend) => void): Promise<Backend> {
  const server = http.createServer();
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  let killed = false;
  const b: Backend = {
    port,
    address: `127.0.0.1:${port}`,
    server,
    hits: 0,
    kill: async () => {
      if (killed) return;
      killed = true;
      server.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => setImmediate(r));
    },
  };
  server.on('request', (req, res) => {
    if (req.url === '/healthz') return void res.end('ok');
    b.hits++;
    if (handler) return handler(req, res, b);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ port, method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders }));
    });
  });
  cleanups.push(() => b.kill());
  return b;
}

/** A fresh temp folder, removed at cleanup. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-dp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a config file; `store.path` and the admin address are added when missing. */
export async function writeConfig(dir: string, yaml: string, name = 'evenkeel.yaml'): Promise<string> {
  const file = join(dir, name);
  let text = yaml;
  if (!/^admin:/m.test(text)) text += `\nadmin:\n  address: 127.0.0.1:${await freePort()}\n`;
  if (!/^store:/m.test(text)) text += `\nstore:\n  path: ${join(dir, 'store')}\n`;
  writeFileSync(file, text);
  return file;
}

/** Validates and serves a config file in this process; stopped at cleanup. */
export async function serveInProcess(file: string): Promise<Instance> {
  const report = validateFile(file);
  if (!report.valid || !report.config) throw new Error(`test config is invalid:\n${report.findings.map((f) => `${f.code} ${f.message}`).join('\n')}`);
  const inst = await Instance.start({ file, config: report.config, log: false });
  cleanups.push(() => inst.stop(0));
  return inst;
}

/**
 * The config most tests need: one http listener `web` on `port` whose only route `all` sends
 * everything to pool `app`. `app` is the pool's YAML: inline (`{ backends: [...] }`) or a block
 * starting with a newline; `limits` the listener's limits mapping; `rest` more top-level YAML.
 */
export function onePoolConfig(port: number, app: string, opts: { limits?: string; rest?: string } = {}): string {
  return `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app }]
${opts.limits ? `    limits: ${opts.limits}\n` : ''}pools:
  app: ${app}
${opts.rest ?? ''}`;
}

/** Serves `onePoolConfig` in this process (stopped at cleanup): the listener's port and the instance. */
export async function serveOnePool(app: string, opts: { limits?: string; rest?: string } = {}): Promise<{ port: number; inst: Instance }> {
  const inst = await serveInProcess(await writeConfig(tempDir(), onePoolConfig(await freePort(), app, opts)));
  return { port: portOf(inst, 'web'), inst };
}

/** The port a listener of an instance is bound to. */
export function portOf(inst: Instance, listener: string): number {
  const l = inst.listeners.find((x) => x.name === listener);
  if (!l) throw new Error(`no listener ${listener}`);
  return l.port;
}

/** A response as the tests look at it. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a new connection. */
export function request(port: number, opts: { path?: string; method?: string; headers?: http.OutgoingHttpHeaders | string[]; body?: string | Buffer; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes on a new connection and collects everything until the server closes (or `ms` passes). */
export function rawExchange(port: number, data: string | Buffer, ms = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    }, ms);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    });
    s.write(data);
  });
}

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** A `evenkeel serve` child process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Starts `evenkeel serve -c file …` as a child process and waits until it prints its admin line. */
export async function spawnServe(file: string, args: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'serve', '-c', file, '--no-log', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: ServeProcess = { child, stdout: '', stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (p.stdout += d));
  child.stderr!.on('data', (d) => (p.stderr += d));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await p.exited;
    }
  });
  // Generous: with --workers each worker loads through tsx, which on a loaded machine takes long.
  const until = Date.now() + 90_000;
  while (!/admin: /.test(p.stdout)) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${p.stderr}`);
    if (Date.now() > until) throw new Error(`serve did not start: ${p.stdout}${p.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p;
}

/** Waits until `check` holds, polling every 25 ms; throws after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A backend that speaks raw TCP: it records the bytes each connection sent and answers as told. */
export interface RawBackend {
  readonly port: number;
  readonly address: string;
  /** Everything received, per connection, in order of connection. */
  readonly received: string[];
}

/**
 * Starts a raw backend. `onData(all, socket)` is called with everything the connection sent
 * so far each time bytes arrive; it writes what it wants (or nothing).
 */
export async function startRawBackend(onData: (all: string, socket: net.Socket) => void): Promise<RawBackend> {
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const i = received.push('') - 1;
    socket.on('data', (d) => {
      received[i] += d.toString('latin1');
      onData(received[i], socket);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(async () => {
    server.close();
    for (const s of sockets) s.destroy();
  });
  return { port, address: `127.0.0.1:${port}`, received };
}

/** Splits a raw HTTP/1.1 byte stream into the responses it holds (status and body), by Content-Length. */
export function parseResponses(text: string): { status: number; headers: string; body: string }[] {
  const out: { status: number; headers: string; body: string }[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
    const len = cl ? Number(cl[1]) : status === 101 || status === 204 || status === 304 || (status >= 100 && status < 200) ? 0 : rest.length - end - 4;
    out.push({ status, headers: head, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}
