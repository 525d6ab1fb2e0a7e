/**
 * The real nginx on 127.0.0.1 for differential tests: Node backends that answer with their
 * address, an nginx started with `-p TMP -c TMP/nginx.conf` (pid, logs and temp files inside
 * TMP, so it needs nothing under /var), sequential requests, and the measured share of every
 * backend beside evenkeel's prediction for the same nginx.conf and the same requests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { freePort } from '../dataplane/helpers/harness.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readNginxFile } from '../../src/formats/nginx/index.js';
import { analyzeLoaded } from '../../src/analysis/validate.js';
import type { SampleRequest } from '../../src/analysis/sample.js';

export { freePort };

export const NGINX = '/usr/sbin/nginx';
/** Skip reason when the binary is missing (the tests are about nginx itself). */
export const noNginx = existsSync(NGINX) ? false : 'nginx is not installed (apt-get install nginx-light)';

/** Backends that answer every request with their own address in the body. */
export async function startBackends(n: number): Promise<{ addresses: string[]; close: () => Promise<void> }> {
  const servers: http.Server[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = http.createServer((req, res) => {
      req.resume();
      const a = s.address() as net.AddressInfo;
      res.end(`127.0.0.1:${a.port}`);
    });
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    servers.push(s);
    addresses.push(`127.0.0.1:${(s.address() as net.AddressInfo).port}`);
  }
  return { addresses, close: async () => { for (const s of servers) { s.closeAllConnections(); await new Promise((ok) => s.close(ok)); } } };
}

/** The prefix every test config runs under: temp paths inside the run folder, no access log. */
function wrap(httpBody: string, dir: string): string {
  const t = (x: string) => join(dir, x);
  return `worker_processes 1;
error_log ${t('error.log')} warn;
pid ${t('nginx.pid')};
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
${httpBody}
}
`;
}

/** A running nginx and the file its config is in. */
export interface RunningNginx {
  dir: string;
  file: string;
  stop: () => Promise<void>;
}

/** Writes `httpBody` (the inside of `http { }`) and starts nginx on it; resolves once `port` answers. */
export async function startNginx(httpBody: string, port: number): Promise<RunningNginx> {
  return startNginxFiles((dir) => ({ 'nginx.conf': wrap(httpBody, dir) }), port);
}

/**
 * Writes whole config files (`nginx.conf` and what it includes) into a temp folder and starts
 * nginx on them. Logs and the pid go to the folder through -g; temp paths are put in `http {`.
 */
export async function startNginxFiles(files: (dir: string) => Record<string, string>, port: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-nginx-'));
  for (const [name, text] of Object.entries(files(dir))) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const file = join(dir, 'nginx.conf');
  const text = readFileSync(file, 'utf8');
  const globals = [...(text.includes('error_log ') ? [] : [`error_log ${join(dir, 'error.log')};`]), ...(text.includes('pid ') ? [] : [`pid ${join(dir, 'nginx.pid')};`])].join(' ');
  if (!text.includes('proxy_temp_path')) writeFileSync(file, text.replace(/^http\s*\{/m, `http {\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`).join('\n')}`));
  const g = (extra: string) => ['-g', `${globals} ${extra}`.trim()];
  const check = spawnSync(NGINX, ['-t', '-q', '-p', dir, '-c', file, ...(globals ? g('') : [])], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the test config:\n${check.stderr}`);
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', file, ...g('daemon off;')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  const deadline = Date.now() + 5000;
  for (;;) {
    if (await answers(port)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${stderr}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    dir,
    file,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGQUIT');
        await Promise.race([exited, new Promise((ok) => setTimeout(ok, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** One request: what to send and to which port. */
export interface Probe {
  port: number;
  host?: string;
  path: string;
  headers?: Record<string, string>;
}

/** Sends the probes one after another (one keep-alive connection); counts which backend answered. */
export async function measure(probes: readonly Probe[]): Promise<Map<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const counts = new Map<string, number>();
  try {
    for (const p of probes) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: p.port, path: p.path, agent, headers: { host: p.host ?? 'localhost', ...p.headers } }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(res.statusCode === 200 ? b : `status ${res.statusCode}`));
        });
        req.on('error', reject);
        req.end();
      });
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
  } finally {
    agent.destroy();
  }
  return counts;
}

/**
 * evenkeel's prediction for the nginx.conf at `file` with exactly the probes as its traffic
 * sample: each backend's share of all requests (its pool's traffic × its share in the pool).
 */
export function predict(file: string, probes: readonly Probe[]): { shares: Map<string, number>; findings: string[] } {
  const load = readNginxFile(file);
  const sample: SampleRequest[] = probes.map((p) => ({ method: 'GET', host: p.host ?? 'localhost', path: p.path, headers: p.headers ?? {}, clientIp: '127.0.0.1' }));
  const report = analyzeLoaded(load, { sampleRequests: sample });
  const shares = new Map<string, number>();
  for (const pool of report.model?.pools.values() ?? []) {
    for (const b of pool.backends) shares.set(b.address, (shares.get(b.address) ?? 0) + b.rps / (report.model!.total || 1));
  }
  return { shares, findings: report.findings.map((f) => `${f.line}: ${f.severity} ${f.code} ${f.message}`) };
}

/** Measured shares as fractions of all probes. */
export function fractions(counts: Map<string, number>, total: number): Map<string, number> {
  return new Map([...counts].map(([k, v]) => [k, v / total]));
}
