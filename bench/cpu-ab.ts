/**
 * `node --import tsx bench/cpu-ab.ts DIST_A DIST_B [LISTENER_YAML] [ROUTE_YAML] [POOL_YAML]`:
 * two evenkeel builds side by side, loaded at the same time with the same fixed work, so both
 * see the same contention on a shared machine; prints each one's CPU time per request and the
 * ratio B/A, three rounds. The YAML arguments (as in bench/cpu.ts) configure B only.
 * Sequential runs of bench/cpu.ts moved by ±20% with the machine's load; side by side, the
 * ratio is what to quote.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, start, stop, waitForPort } from './tools.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const [distA, distB, extra = '', routeExtra = '', poolExtra = ''] = process.argv.slice(2);
const N = Number(process.env.CPU_REQUESTS ?? 20000);
const ROUNDS = Number(process.env.CPU_ROUNDS ?? 3);

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function serve(name: string, dist: string, bport: number, log: number, yaml: { l: string; r: string; p: string }) {
  const out = join(here, '.out', 'cpu-ab', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const [port, admin] = [await freePort(), await freePort()];
  const conf = join(out, 'evenkeel.yaml');
  writeFileSync(conf, `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app${yaml.r} }]
${yaml.l.replaceAll('$OUT', out)}
pools:
  app: { backends: [{ address: 127.0.0.1:${bport} }]${yaml.p} }
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(out, 'store')} }
`);
  const child = start(process.execPath, ['--max-semi-space-size=4', join(dist, 'evenkeel.js'), 'serve', '-c', conf, '--no-log'], log);
  await waitForPort(port);
  return { child, port };
}

async function main(): Promise<void> {
  mkdirSync(join(here, '.out'), { recursive: true });
  const log = openSync(join(here, '.out', 'cpu-ab.log'), 'w');
  const bport = await freePort();
  const backend = start(process.execPath, ['--import', 'tsx', join(here, 'backends.ts'), String(bport)], log);
  await waitForPort(bport);
  const a = await serve('a', distA, bport, log, { l: '', r: '', p: '' });
  const b = await serve('b', distB, bport, log, { l: extra, r: routeExtra, p: poolExtra });
  try {
    const load = (port: number, amount: number) => autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, amount } as never);
    await Promise.all([load(a.port, 3000), load(b.port, 3000)]);
    for (let round = 1; round <= ROUNDS; round++) {
      const [a0, b0] = [cpuMs(a.child.pid!), cpuMs(b.child.pid!)];
      await Promise.all([load(a.port, N), load(b.port, N)]);
      const ua = ((cpuMs(a.child.pid!) - a0) * 1000) / N;
      const ub = ((cpuMs(b.child.pid!) - b0) * 1000) / N;
      process.stdout.write(`round ${round}: A ${ua.toFixed(1)} µs/request, B ${ub.toFixed(1)} µs/request, B/A ${(ub / ua).toFixed(3)}\n`);
    }
  } finally {
    await stop(a.child);
    await stop(b.child);
    await stop(backend);
  }
}

await main();
