/**
 * Helpers for the change-management tests: a real `evenkeel serve` process on a real SQLite
 * store in a temp folder, two real backends, and the CLI run as a user runs it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { JournalEvent } from '../../src/demo/index.js';
import { freePort, onCleanup, spawnServe, startBackend, tempDir, type Backend, type ServeProcess } from '../dataplane/helpers/harness.js';

const cli = fileURLToPath(new URL('../dataplane/helpers/cli.ts', import.meta.url));

/** What a CLI run printed and returned. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `evenkeel ARGS` from source in `cwd`. */
export function evenkeel(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...opts.env };
    if (!opts.env || !('EVENKEEL_TOKEN' in opts.env)) delete env.EVENKEEL_TOKEN;
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: CliRun = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (run.stdout += d));
    child.stderr.on('data', (d) => (run.stderr += d));
    child.on('exit', (code) => resolve({ ...run, code }));
  });
}

/** A test site: backends, ports, a config folder and the config texts. */
export interface Site {
  dir: string;
  file: string;
  port: number;
  admin: number;
  backends: Backend[];
  /** Config text with these weights for the two backends. */
  text(weights: [number, number]): string;
  /** Writes `text` to the config file (or another name in the folder) and returns its path. */
  write(text: string, name?: string): string;
}

/**
 * Two backends of capacity 500 and a peak of 600 req/s: weights 1:1 fit (60% each), a
 * single backend does not (120%, an EK2xx overload error naming the backend).
 */
export async function site(): Promise<Site> {
  const backends = [await startBackend(), await startBackend()];
  const [port, admin] = [await freePort(), await freePort()];
  const dir = tempDir();
  const text = (w: [number, number]) => `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app }]
pools:
  app:
    capacity: 500
    backends:
      - { name: b1, address: ${backends[0].address}, weight: ${w[0]} }
      - { name: b2, address: ${backends[1].address}, weight: ${w[1]} }
guardrails:
  traffic: { peakRps: 600 }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`;
  const write = writerIn(dir);
  return { dir, file: write(text([1, 1])), port, admin, backends, text, write };
}

/** Writes a config text into `dir` (as evenkeel.yaml unless named) and returns its path. */
export function writerIn(dir: string): (text: string, name?: string) => string {
  return (t, name = 'evenkeel.yaml') => {
    const f = join(dir, name);
    writeFileSync(f, t);
    return f;
  };
}

/** The admin token serve generated for a site (in its store folder). */
export function adminToken(s: Site): string {
  return readFileSync(join(s.dir, 'store', 'admin.token'), 'utf8').trim();
}

/** GET `path` from a site's admin API with its token: the JSON body. */
export async function adminGet<T>(s: Site, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${s.admin}${path}`, { headers: { authorization: `Bearer ${adminToken(s)}` } });
  return (await res.json()) as T;
}

/** Starts `evenkeel serve -c FILE` for a site. */
export function serve(s: Site): Promise<ServeProcess> {
  return spawnServe(s.file);
}

/**
 * Sends requests one after another on a keep-alive connection until stopped, counting
 * answers that are not 200 and connection errors: the "0 failed requests" of the issue.
 * `rps` paces it to about that many requests a second (default: as fast as answers come);
 * `paths` are requested in turn (default `/`).
 */
export function steadyTraffic(port: number, opts: { rps?: number; paths?: readonly string[] } = {}): { stop(): Promise<{ ok: number; failed: number }> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const paths = opts.paths ?? ['/'];
  let running = true;
  let ok = 0;
  let failed = 0;
  let n = 0;
  const one = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: paths[n++ % paths.length], agent }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode === 200 ? ok++ : failed++), resolve()));
    });
    req.on('error', () => (failed++, resolve()));
  });
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      await one();
      if (opts.rps) await new Promise((r) => setTimeout(r, Math.max(0, 1000 / opts.rps! - (Date.now() - t))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { ok, failed };
    },
  };
}

/** A journal event as the admin API returns it. */
export type { JournalEvent } from '../../src/demo/index.js';

/** The journal, straight from the admin API (polling through the CLI would cost a process each time). */
export async function journal(s: Site): Promise<JournalEvent[]> {
  return (await adminGet<{ events: JournalEvent[] }>(s, '/api/v1/events')).events;
}

/** A webhook receiver that keeps the JSON bodies posted to it; closed at cleanup. */
export async function webhookReceiver(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

/** A backend (answers 200 `ok`, health checks included) that can be stopped and started again on the same port; running when returned. */
export async function restartableBackend(): Promise<{ address: string; start(): Promise<void>; stop(): Promise<void> }> {
  const port = await freePort();
  let server: http.Server | undefined;
  const api = {
    address: `127.0.0.1:${port}`,
    async start() {
      const srv = http.createServer((req, res) => {
        req.resume();
        res.end('ok');
      });
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
      server = srv;
    },
    async stop() {
      const srv = server;
      server = undefined;
      if (!srv) return;
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
  await api.start();
  onCleanup(() => api.stop());
  return api;
}
