/** The real HAProxy on loopback in front of small Node backends, for the differential tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createConnection, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers.ts';

export const HAPROXY = '/usr/sbin/haproxy';
export const haveHaproxy = existsSync(HAPROXY);

/** Backends that answer every request with their own name. */
export async function startBackends(names: string[]): Promise<{ ports: Record<string, number>; close: () => Promise<void> }> {
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  for (const name of names) {
    const s = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('connection', 'close');
      res.end(name);
    });
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    ports[name] = (s.address() as AddressInfo).port;
    servers.push(s);
  }
  return { ports, close: async () => { await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok)))); } };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

/** Runs haproxy in the foreground on `cfg`; resolves when `port` accepts connections. */
export async function startHaproxy(cfg: string, port: number): Promise<{ file: string; stop: () => Promise<void> }> {
  const dir = tempDir('evenkeel-haproxy-');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, cfg);
  const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${stderr}`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}: ${stderr}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    file,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await done;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => { c.destroy(); ok(true); });
    c.once('error', () => ok(false));
  });
}

/** One request through haproxy (a new connection each, so every request is balanced); the body. */
export function get(port: number, path: string, host = 'localhost', method = 'GET'): Promise<string> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => ok(res.statusCode === 200 ? body : `status ${res.statusCode}`));
    });
    req.on('error', fail);
    req.end();
  });
}
