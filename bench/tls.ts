/**
 * `npm run bench:tls`: evenkeel's TLS listener beside nginx with the same certificate
 * (examples/tls/site.crt, ECDSA P-256) and the same backends: Debian's nginx answering
 * `return 200`, so the proxy under test is the bottleneck. One run, about two minutes:
 *
 * - plain HTTP/1.1 (wrk -t1 -c50), the reference ratio;
 * - TLS HTTP/1.1 (wrk -t1 -c50, keep-alive) req/s and p99;
 * - TLS HTTP/2 (h2load -c10 -m10) req/s and p99 (from h2load's per-request log);
 * - handshakes/s: TLS HTTP/1.1 with `Connection: close`, a full handshake per request (wrk does
 *   not resume sessions);
 * - the access log's cost: evenkeel with `accessLog` (JSON to a file) against without.
 *
 * Prints each figure and its ratio to nginx, and the TLS ratios against the plain one (issue
 * 14's goal: the same ratio to nginx as plain HTTP, or better). Files go to bench/.out/tls/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nginxProxyConf, startNginxReturn200 } from './nginx-backends.js';
import { ensureTools, freePort, start, stop, version, waitForPort, which, wrk } from './tools.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '.out', 'tls');
const CERT = join(here, '..', 'examples', 'tls', 'site.crt');
const KEY = join(here, '..', 'examples', 'tls', 'site.key');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const WARMUP = 2;
const CONNECTIONS = 50;
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=4').split(' ').filter(Boolean);

/** One target's figures: req/s and p99 (ms) per kind of load. */
interface Figures {
  plain: { rps: number; p99: number };
  tls1: { rps: number; p99: number };
  h2: { rps: number; p99: number };
  handshakes: { rps: number; p99: number };
}

/** The backends: Debian's nginx answering `return 200` on each port (bench/nginx-backends.ts). */
async function startBackends(nginx: string, ports: number[], log: number) {
  const child = startNginxReturn200({ bin: nginx, ports, dir: out, log });
  await Promise.all(ports.map((p) => waitForPort(p)));
  return child;
}

/** nginx as the TLS proxy: one worker, the same certificate, keep-alive to the backends. */
function nginxConf(ports: number[], plain: number, secure: number): string {
  return nginxProxyConf({ dir: out, name: 'proxy-nginx', ports, listen: plain, tls: { port: secure, cert: CERT, key: KEY } });
}

/** evenkeel with a plain and a TLS listener on the same pool (health checks and metrics on, as bench/run.ts). */
function evenkeelConf(ports: number[], plain: number, secure: number, admin: number, store: string, accessLog: string | undefined): string {
  const log = accessLog ? `    accessLog: { path: ${accessLog}, format: json }\n` : '';
  return `listeners:
  - name: plain
    address: 127.0.0.1:${plain}
${log}    routes: [{ name: all, pool: app }]
  - name: secure
    address: 127.0.0.1:${secure}
    tls: { certificates: [{ cert: ${CERT}, key: ${KEY} }] }
${log}    routes: [{ name: all-tls, pool: app }]
pools:
  app:
    backends:
${ports.map((p, i) => `      - { name: b${i}, address: 127.0.0.1:${p} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 2s, timeout: 1s }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${store} }
guardrails: { maxBackendShare: 1 }
`;
}

/** wrk with a warm-up; `close` sends Connection: close (a new TLS handshake per request). */
async function wrkRun(bin: string, url: string, close = false): Promise<{ rps: number; p99: number }> {
  const args = close ? ['-H', 'Connection: close'] : [];
  await wrkWith(bin, url, args, WARMUP);
  return wrkWith(bin, url, args, SECONDS);
}

async function wrkWith(bin: string, url: string, headerArgs: string[], seconds: number): Promise<{ rps: number; p99: number }> {
  if (headerArgs.length === 0) {
    const r = await wrk(bin, url, CONNECTIONS, seconds);
    if (r.errors > 0) process.stderr.write(`  (${r.errors} errors on ${url})\n`);
    return { rps: r.rps, p99: r.p99 };
  }
  const text = await run(bin, ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...headerArgs, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const p99 = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : NaN;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (sock && sock.slice(1).some((x) => x !== '0')) process.stderr.write(`  (${sock[0]} on ${url})\n`);
  return { rps, p99 };
}

/** h2load over TLS (ALPN h2): req/s from its summary, p99 from its per-request log. */
async function h2load(url: string): Promise<{ rps: number; p99: number }> {
  const file = join(out, 'h2load.log');
  rmSync(file, { force: true });
  const text = await run('h2load', ['-c', '10', '-m', '10', '-t', '1', `--warm-up-time=${WARMUP}`, `-D`, String(SECONDS), `--log-file=${file}`, url]);
  if (!/Application protocol: h2/.test(text)) throw new Error(`h2load did not negotiate h2:\n${text}`);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(text)?.[1] ?? NaN);
  const failed = Number(/(\d+) failed/.exec(text)?.[1] ?? 0);
  if (failed > 0) process.stderr.write(`  (h2load: ${failed} failed on ${url})\n`);
  // Each line: start time (µs since the epoch), status, duration (µs).
  const durations = readFileSync(file, 'utf8').trim().split('\n').map((l) => Number(l.split('\t')[2])).filter((d) => Number.isFinite(d)).sort((a, b) => a - b);
  const p99 = durations.length ? durations[Math.floor(durations.length * 0.99)] / 1000 : NaN;
  return { rps, p99 };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
}

/** Every kind of load against one target's plain and TLS ports. */
async function figures(wrkBin: string, plain: number, secure: number): Promise<Figures> {
  return {
    plain: await wrkRun(wrkBin, `http://127.0.0.1:${plain}/`),
    tls1: await wrkRun(wrkBin, `https://127.0.0.1:${secure}/`),
    h2: await h2load(`https://127.0.0.1:${secure}/`),
    handshakes: await wrkRun(wrkBin, `https://127.0.0.1:${secure}/`, true),
  };
}

/** Compiles evenkeel to bench/.out/tls/dist: the bench measures the JavaScript that ships. */
function buildEvenkeel(): string {
  const dist = join(out, 'dist');
  const tsc = spawnSync(process.execPath, [join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, '..', 'tsconfig.build.json'), '--outDir', join(dist, 'src'), '--sourceMap', 'false'], { encoding: 'utf8' });
  if (tsc.status !== 0) process.stderr.write(`tsc reported errors (output was still emitted):\n${tsc.stdout}`);
  writeFileSync(join(dist, 'package.json'), '{ "type": "module", "version": "0.0.0-bench" }\n');
  writeFileSync(join(dist, 'evenkeel.js'), "import { main } from './src/cli/main.js';\nmain(process.argv).then((code) => { process.exitCode = code; });\n");
  return join(dist, 'evenkeel.js');
}

async function runNginx(nginx: string, wrkBin: string, ports: number[], log: number): Promise<Figures> {
  const [plain, secure] = [await freePort(), await freePort()];
  const conf = join(out, 'proxy-nginx.conf');
  writeFileSync(conf, nginxConf(ports, plain, secure));
  mkdirSync(join(out, 'nginx-tmp'), { recursive: true });
  const child = start(nginx, ['-c', conf, '-p', out], log, 0);
  try {
    await waitForPort(secure);
    return await figures(wrkBin, plain, secure);
  } finally {
    await stop(child);
  }
}

async function runEvenkeel(entry: string, wrkBin: string, ports: number[], log: number, accessLog: boolean): Promise<Figures | Pick<Figures, 'plain' | 'tls1'>> {
  const [plain, secure, admin] = [await freePort(), await freePort(), await freePort()];
  const name = accessLog ? 'with-log' : 'no-log';
  const store = join(out, `store-${name}`);
  rmSync(store, { recursive: true, force: true });
  const logFile = join(out, 'access.log');
  rmSync(logFile, { force: true });
  const conf = join(out, `evenkeel-${name}.yaml`);
  writeFileSync(conf, evenkeelConf(ports, plain, secure, admin, store, accessLog ? logFile : undefined));
  const child = start(process.execPath, [...NODE_FLAGS, entry, 'serve', '-c', conf, '--workers', '1', '--no-log'], log, 0);
  try {
    await waitForPort(secure, 30_000);
    if (!accessLog) return await figures(wrkBin, plain, secure);
    const r = { plain: await wrkRun(wrkBin, `http://127.0.0.1:${plain}/`), tls1: await wrkRun(wrkBin, `https://127.0.0.1:${secure}/`) };
    const lines = readFileSync(logFile, 'utf8').split('\n').length - 1;
    process.stderr.write(`  access log: ${lines} lines written\n`);
    if (lines === 0) throw new Error('the access log stayed empty: the with-log row measured nothing');
    return r;
  } finally {
    await stop(child);
  }
}

function print(rows: [string, Partial<Figures>][]): void {
  const nginx = rows[0][1] as Figures;
  const kinds: [keyof Figures, string][] = [['plain', 'plain HTTP/1.1 (wrk)'], ['tls1', 'TLS HTTP/1.1 (wrk)'], ['h2', 'TLS HTTP/2 (h2load -c10 -m10)'], ['handshakes', 'TLS handshakes (wrk, Connection: close)']];
  process.stdout.write(`\n${process.version}, ${version('nginx', ['-v'])}, ${version('openssl', ['version'])}; ${SECONDS}s per figure after ${WARMUP}s warm-up; ECDSA P-256 certificate; backends: nginx return 200\n\n`);
  process.stdout.write('| load | target | req/s | p99 ms | req/s vs nginx | p99 vs nginx |\n|---|---|---|---|---|---|\n');
  for (const [kind, label] of kinds) {
    for (const [name, f] of rows) {
      const x = f[kind];
      if (!x) continue;
      const n = nginx[kind];
      process.stdout.write(`| ${label} | ${name} | ${x.rps.toFixed(0)} | ${x.p99.toFixed(2)} | ${(x.rps / n.rps).toFixed(2)}× | ${(x.p99 / n.p99).toFixed(2)}× |\n`);
    }
  }
  const ek = rows[1][1] as Figures;
  const plainRatio = ek.plain.rps / nginx.plain.rps;
  process.stdout.write(`\nratio to nginx, req/s: plain ${plainRatio.toFixed(2)}×, TLS HTTP/1.1 ${(ek.tls1.rps / nginx.tls1.rps).toFixed(2)}×, TLS HTTP/2 ${(ek.h2.rps / nginx.h2.rps).toFixed(2)}×, handshakes ${(ek.handshakes.rps / nginx.handshakes.rps).toFixed(2)}×\n`);
  for (const [kind, label] of [['tls1', 'TLS HTTP/1.1'], ['h2', 'TLS HTTP/2'], ['handshakes', 'handshakes']] as const) {
    const r = ek[kind].rps / nginx[kind].rps;
    process.stdout.write(`goal (${label} ratio ≥ plain ratio ${plainRatio.toFixed(2)}×): ${r >= plainRatio ? 'met' : 'NOT met'} (${r.toFixed(2)}×)\n`);
  }
  const logged = rows[2]?.[1];
  if (logged?.tls1 && logged.plain) {
    process.stdout.write(`access log (JSON to a file) cost: plain ${((1 - logged.plain.rps / ek.plain.rps) * 100).toFixed(1)}% of req/s, TLS HTTP/1.1 ${((1 - logged.tls1.rps / ek.tls1.rps) * 100).toFixed(1)}% of req/s\n`);
  }
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const tools = ensureTools();
  if (!which('h2load')) throw new Error('h2load is missing: apt-get install nghttp2-client');
  const entry = buildEvenkeel();
  const log = openSync(join(out, 'bench.log'), 'w');
  const ports = [await freePort(), await freePort()];
  const backends = await startBackends(tools.nginx, ports, log);
  const rows: [string, Partial<Figures>][] = [];
  try {
    process.stderr.write('nginx…\n');
    rows.push(['nginx (1 worker)', await runNginx(tools.nginx, tools.wrk, ports, log)]);
    process.stderr.write('evenkeel…\n');
    rows.push(['evenkeel (1 worker)', await runEvenkeel(entry, tools.wrk, ports, log, false)]);
    process.stderr.write('evenkeel with accessLog…\n');
    rows.push(['evenkeel + accessLog', await runEvenkeel(entry, tools.wrk, ports, log, true)]);
  } finally {
    await stop(backends);
  }
  print(rows);
}

main().catch((err) => {
  process.stderr.write(`bench:tls failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
