/**
 * `npm run bench`: evenkeel against nginx and HAProxy on this machine, same load generator
 * (wrk, 1 thread, 50 connections), same 4 backends: Debian's nginx answering `return 200`
 * (bench/nginx-backends.ts), so that the proxies, not the backends, are the bottleneck; the
 * direct/nginx ratio is printed as the check (~2.2× here). Prints req/s, p50, p99, RSS under
 * load and the ratios to nginx and to bare HAProxy, and the CPU evenkeel's control process
 * uses while HAProxy serves (the haproxy engine row). Generated configs and logs go to bench/.out/.
 *
 * Goals: evenkeel with 1 worker ≥ 0.6 × nginx req/s, p99 ≤ 2 × nginx's, with health checks and
 * metrics on (issue 3); the haproxy engine ≥ 0.95 × bare HAProxy req/s, p99 ≤ 1.2 × (issue 13).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nginxProxyConf, startNginxReturn200 } from './nginx-backends.js';
import { ensureTools, freePort, start, stop, version, waitForPort, wrk, type LoadResult } from './tools.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '.out');
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = 2;
/** BENCH_ONLY=nginx,evenkeel runs a subset (direct, nginx, haproxy, evenkeel, evenkeel2, evenkeel-haproxy). */
const ONLY = process.env.BENCH_ONLY?.split(',');
/**
 * Bare HAProxy and the haproxy engine are measured in alternation, BENCH_ROUNDS times [3], and
 * each row is the median round: on this shared 2-core machine one target measured twice a
 * minute apart moved by ±30% (req/s) and several × (p99), more than the 5% and 20% the goal
 * is about; adjacent pairs see the same load, and each pair's ratio is printed.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** Node flags for evenkeel: those bin/evenkeel.js runs with, or BENCH_NODE_FLAGS (experiments). */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=4').split(' ').filter(Boolean);

interface Row extends LoadResult {
  name: string;
}

/** Engine/bare ratios of each alternating round. */
let pairs: { rps: number; p99: number }[] = [];

/** The round with the median req/s (its p99 and CPU with it, so a row's figures come from one measurement). */
function median<T extends LoadResult>(runs: T[]): T {
  return [...runs].sort((a, b) => a.rps - b.rps)[Math.floor((runs.length - 1) / 2)];
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const tools = ensureTools();
  buildEvenkeel();
  const log = openSync(join(out, 'bench.log'), 'w');
  const ports = await Promise.all(Array.from({ length: 4 }, freePort));
  // BENCH_NODE_BACKENDS=1: the Node backends of earlier runs (bench/backends.ts), for comparison.
  // BENCH_BACKEND_WORKERS [2]: nginx workers for the backends (unpinned, one run each here: a
  // direct connection did 1.66× nginx's req/s with one worker, 1.84× with two).
  const backends = process.env.BENCH_NODE_BACKENDS === '1'
    ? start(process.execPath, ['--import', 'tsx', join(here, 'backends.ts'), ...ports.map(String)], log, 1)
    : startNginxReturn200({ bin: tools.nginx, ports, dir: out, log, workers: Number(process.env.BENCH_BACKEND_WORKERS ?? 2) });
  const rows: Row[] = [];
  let allDown: { p50: number; p99: number; max: number; n: number } | undefined;
  try {
    await Promise.all(ports.map((p) => waitForPort(p)));
    const want = (t: string) => !ONLY || ONLY.includes(t);
    if (want('direct')) rows.push({ name: 'direct (1 backend)', ...(await measure(tools.wrk, ports[0])) });
    if (want('nginx')) rows.push({ name: 'nginx (1 worker)', ...(await runNginx(tools.nginx, tools.wrk, ports, log)) });
    const bare: LoadResult[] = [];
    const engine: (LoadResult & { controlCpu?: number })[] = [];
    for (let i = 0; i < (want('haproxy') && want('evenkeel-haproxy') ? ROUNDS : 1); i++) {
      if (want('haproxy')) bare.push(await runHaproxy(tools.haproxy, tools.wrk, ports, log));
      if (want('evenkeel-haproxy')) engine.push(await runEvenkeel(tools.wrk, ports, log, 1, tools.haproxy));
    }
    pairs = bare.length === engine.length ? bare.map((b, i) => ({ rps: engine[i].rps / b.rps, p99: engine[i].p99 / b.p99 })) : [];
    if (bare.length) rows.push({ name: 'haproxy (nbthread 1)', ...median(bare) });
    if (want('evenkeel')) rows.push({ name: 'evenkeel (1 worker)', ...(await runEvenkeel(tools.wrk, ports, log, 1)) });
    if (want('evenkeel2')) rows.push({ name: 'evenkeel (--workers 2)', ...(await runEvenkeel(tools.wrk, ports, log, 2)) });
    if (engine.length) rows.push({ name: 'evenkeel (haproxy engine)', ...median(engine) });
    if (want('evenkeel')) allDown = await measureAllDown(log);
  } finally {
    await stop(backends);
  }
  print(rows, tools);
  if (allDown) process.stdout.write(`\nall backends down (after health checks noticed): 503 in p50 ${allDown.p50.toFixed(2)} ms, p99 ${allDown.p99.toFixed(2)} ms, max ${allDown.max.toFixed(2)} ms over ${allDown.n} requests (goal < 50 ms)\n`);
}

/** Issue 3: with every backend down, evenkeel answers 503 at once. Sequential requests on one keep-alive connection. */
/**
 * An empty store folder. A store that already holds an active version is what serve runs (by
 * design: a restart never undoes a rollback), and that version would name an earlier run's ports.
 */
function freshStore(name: string): string {
  const dir = join(out, `store-${name}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

async function measureAllDown(log: number): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const [port, admin, dead1, dead2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = join(out, 'evenkeel-down.yaml');
  writeFileSync(conf, `listeners:
  - { name: down, address: 127.0.0.1:${port}, routes: [{ name: all, pool: gone }] }
pools:
  gone:
    backends: [{ address: 127.0.0.1:${dead1} }, { address: 127.0.0.1:${dead2} }]
    healthCheck: { path: /healthz, interval: 200ms, timeout: 100ms, unhealthyThreshold: 1 }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${freshStore('down')} }
`);
  const child = start(process.execPath, [join(out, 'dist', 'evenkeel.js'), 'serve', '-c', conf, '--no-log'], log);
  try {
    await waitForPort(port);
    await new Promise((r) => setTimeout(r, 1000));
    const times: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.arrayBuffer();
      if (res.status !== 503) throw new Error(`expected 503 with every backend down, got ${res.status}`);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)], max: times[times.length - 1], n: times.length };
  } finally {
    await stop(child);
  }
}

/**
 * Compiles evenkeel to bench/.out/dist and writes an entry there: the benchmark measures the
 * JavaScript that ships (bin/ runs dist/), not the tsx loader, whose esbuild thread adds ~100 MiB RSS.
 */
function buildEvenkeel(): void {
  const dist = join(out, 'dist');
  const tsc = spawnSync(process.execPath, [join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, '..', 'tsconfig.build.json'), '--outDir', join(dist, 'src'), '--sourceMap', 'false'], { encoding: 'utf8' });
  if (tsc.status !== 0) process.stderr.write(`tsc reported errors (output was still emitted):\n${tsc.stdout}`);
  writeFileSync(join(dist, 'package.json'), '{ "type": "module", "version": "0.0.0-bench" }\n');
  writeFileSync(join(dist, 'evenkeel.js'), "import { main } from './src/cli/main.js';\nmain(process.argv).then((code) => { process.exitCode = code; });\n");
}

async function measure(wrkBin: string, port: number, pid?: number): Promise<LoadResult> {
  const url = `http://127.0.0.1:${port}/`;
  await wrk(wrkBin, url, CONNECTIONS, WARMUP);
  return wrk(wrkBin, url, CONNECTIONS, SECONDS, pid);
}

async function runNginx(bin: string, wrkBin: string, ports: number[], log: number): Promise<LoadResult> {
  const port = await freePort();
  const conf = join(out, 'nginx.conf');
  writeFileSync(conf, nginxProxyConf({ dir: out, name: 'nginx', ports, listen: port }));
  mkdirSync(join(out, 'nginx-tmp'), { recursive: true });
  const child = start(bin, ['-c', conf, '-p', out], log, 0);
  try {
    await waitForPort(port);
    return await measure(wrkBin, port, child.pid);
  } finally {
    await stop(child);
  }
}

async function runHaproxy(bin: string, wrkBin: string, ports: number[], log: number): Promise<LoadResult> {
  const port = await freePort();
  const conf = join(out, 'haproxy.cfg');
  writeFileSync(conf, `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  option forwardfor
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:${port}
  default_backend app
backend app
  balance roundrobin
${ports.map((p, i) => `  server b${i} 127.0.0.1:${p}`).join('\n')}
`);
  const child = start(bin, ['-f', conf, '-db'], log, 0);
  try {
    await waitForPort(port);
    return await measure(wrkBin, port, child.pid);
  } finally {
    await stop(child);
  }
}

/**
 * evenkeel serving with `workers` Node workers, or, given `haproxy`, on the HAProxy engine
 * (`workers: 1` is `nbthread 1` there, as the bare HAProxy row runs), with its monitors and
 * stats polling on. The control process's CPU time under load is reported beside the row.
 */
async function runEvenkeel(wrkBin: string, ports: number[], log: number, workers: number, haproxy?: string): Promise<LoadResult & { controlCpu?: number }> {
  const [port, admin] = [await freePort(), await freePort()];
  const name = haproxy ? 'haproxy-engine' : `workers-${workers}`;
  const conf = join(out, `evenkeel-${name}.yaml`);
  const store = freshStore(name);
  writeFileSync(conf, `listeners:
  - name: bench
    address: 127.0.0.1:${port}
    routes:
      - { name: all, match: { pathPrefix: / }, pool: app }
pools:
  app:
    algorithm: round-robin
    backends:
${ports.map((p, i) => `      - { name: b${i}, address: 127.0.0.1:${p} }`).join('\n')}
    healthCheck: { path: /healthz, interval: 2s, timeout: 1s }
admin:
  address: 127.0.0.1:${admin}
store:
  path: ${store}
${haproxy ? `engine: { type: haproxy, binary: ${haproxy}, runDir: ${join(out, 'haproxy-engine-run')} }\n` : ''}`);
  // On the haproxy engine HAProxy serves, not evenkeel's process: with BENCH_PIN=1 HAProxy gets
  // the proxy's CPU and the control process the load generator's, as a deployment would keep
  // the control plane off HAProxy's busiest core.
  const child = start(process.execPath, [...NODE_FLAGS, join(out, 'dist', 'evenkeel.js'), 'serve', '-c', conf, '--workers', String(workers), '--no-log'], log, workers > 1 ? undefined : haproxy ? 1 : 0);
  try {
    await waitForPort(port);
    await waitForPort(admin);
    if (haproxy) for (const pid of descendants(child.pid!)) pinPid(0, pid);
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    const r = await measure(wrkBin, port, child.pid);
    const controlCpu = haproxy ? (cpuSeconds(child.pid!) - cpu0) / ((performance.now() - t0) / 1000) : undefined;
    // Metrics are on: scrape once so a broken /metrics shows up here.
    const metrics = await fetch(`http://127.0.0.1:${admin}/metrics`).then((res) => res.text());
    if (!metrics.includes('evenkeel_requests_total')) throw new Error('evenkeel /metrics has no evenkeel_requests_total');
    return { ...r, controlCpu };
  } finally {
    await stop(child);
  }
}

/** Every process below `pid`, children first. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** Moves a running process (all its threads) to `cpu` when pinning is on. */
function pinPid(cpu: number, pid: number): void {
  if (process.env.BENCH_PIN === '1') spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** User + system CPU seconds of one process (/proc/PID/stat utime and stime, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function print(rows: Row[], tools: { nginx: string; haproxy: string; wrk: string }): void {
  const nginx = rows.find((r) => r.name.startsWith('nginx'));
  const bare = rows.find((r) => r.name.startsWith('haproxy'));
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '-');
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'errors', 'req/s vs nginx', 'p99 vs nginx', 'req/s vs haproxy', 'p99 vs haproxy'];
  const lines = rows.map((r) => [
    r.name,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.rssKiB ? (r.rssKiB / 1024).toFixed(0) : '-',
    String(r.errors),
    ratio(r.rps, nginx?.rps),
    ratio(r.p99, nginx?.p99),
    ratio(r.rps, bare?.rps),
    ratio(r.p99, bare?.p99),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const backends = process.env.BENCH_NODE_BACKENDS === '1' ? 'Node backends (bench/backends.ts)' : 'nginx return 200 backends';
  process.stdout.write(`\nwrk -t1 -c${CONNECTIONS} -d${SECONDS}s (after ${WARMUP}s warm-up), 4 ${backends}, ${process.version}, ${version(tools.nginx, ['-v'])}, ${version(tools.haproxy, ['-v'])}\n\n`);
  process.stdout.write(`${fmt(header)}\n${fmt(widths.map((w) => '-'.repeat(w)))}\n${lines.map(fmt).join('\n')}\n`);
  const direct = rows.find((r) => r.name.startsWith('direct'));
  if (direct && nginx) process.stdout.write(`\ncheck: direct / nginx = ${(direct.rps / nginx.rps).toFixed(2)}× req/s (~2.2× here when the backends are not the bottleneck)\n`);
  const engine = rows.find((r) => r.name === 'evenkeel (haproxy engine)') as (Row & { controlCpu?: number }) | undefined;
  if (engine && bare) {
    const ok = engine.rps >= 0.95 * bare.rps && engine.p99 <= 1.2 * bare.p99;
    process.stdout.write(`\nhaproxy engine vs bare haproxy (median rounds): ${(engine.rps / bare.rps).toFixed(2)}× req/s, ${(engine.p99 / bare.p99).toFixed(2)}× p99 (goal ≥ 0.95×, ≤ 1.2×: ${ok ? 'met' : 'NOT met'}); evenkeel's control process used ${((engine.controlCpu ?? 0) * 100).toFixed(1)}% of a core meanwhile\n`);
    if (pairs.length > 1) process.stdout.write(`  each round (engine / bare, measured one after the other): ${pairs.map((p) => `${p.rps.toFixed(2)}× req/s, ${p.p99.toFixed(2)}× p99`).join('; ')}\n`);
  }
  const ek = rows.find((r) => r.name === 'evenkeel (1 worker)');
  if (ek && nginx) {
    const ok = ek.rps >= 0.6 * nginx.rps && ek.p99 <= 2 * nginx.p99;
    process.stdout.write(`\ngoal (1 worker ≥ 0.6× nginx req/s, p99 ≤ 2× nginx): ${ok ? 'met' : 'NOT met'}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
