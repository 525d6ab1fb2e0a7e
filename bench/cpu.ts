/**
 * `node --import tsx bench/cpu.ts [DIST] [LISTENER_YAML] [ROUTE_YAML] [POOL_YAML]`: CPU time one evenkeel process
 * spends per request, for before/after figures on a shared, noisy machine where req/s swings
 * by 5× between runs. Fixed work (N requests over 20 keep-alive connections, autocannon) and
 * the process's own user+system time from /proc, so other load moves the figure much less.
 * DIST: a folder with evenkeel.js (bench/.out/dist after `npm run bench`); default that one.
 * The YAML arguments are added to the listener (`    accessLog: { path: $OUT/access.log }`),
 * to its one route (`, rateLimit: { rps: 1000000 }`) and to its one pool
 * (`, stickiness: { cookie: SRV }`); $OUT is the run's output folder.
 */
import { readFileSync, writeFileSync, mkdirSync, rmSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, start, stop, waitForPort } from './tools.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = process.argv[2] ?? join(here, '.out', 'dist');
const [extra = '', routeExtra = '', poolExtra = ''] = process.argv.slice(3);
const N = Number(process.env.CPU_REQUESTS ?? 30000);
const TICK = 100; // USER_HZ

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

async function main(): Promise<void> {
  const out = join(here, '.out', 'cpu');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const log = openSync(join(out, 'log'), 'w');
  const bport = await freePort();
  const backend = start(process.execPath, ['--import', 'tsx', join(here, 'backends.ts'), String(bport)], log);
  const [port, admin] = [await freePort(), await freePort()];
  const conf = join(out, 'evenkeel.yaml');
  writeFileSync(conf, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app${routeExtra} }]
${extra.replaceAll('$OUT', out)}
pools:
  app: { backends: [{ address: 127.0.0.1:${bport} }]${poolExtra} }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(out, 'store')} }
`);
  const ek = start(process.execPath, ['--max-semi-space-size=4', join(dist, 'evenkeel.js'), 'serve', '-c', conf, '--no-log'], log);
  try {
    await Promise.all([waitForPort(bport), waitForPort(port)]);
    await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, amount: 5000 } as never);
    const c0 = cpuMs(ek.pid!);
    const t0 = performance.now();
    const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, amount: N } as never);
    const cpu = cpuMs(ek.pid!) - c0;
    const s = (performance.now() - t0) / 1000;
    process.stdout.write(`${N} requests (${r.non2xx} non-2xx) in ${s.toFixed(1)} s: ${((cpu * 1000) / N).toFixed(1)} µs CPU per request (${(N / s).toFixed(0)} req/s on this machine now)\n`);
  } finally {
    await stop(ek);
    await stop(backend);
  }
}

await main();
