/**
 * `npm run bench:sighup`: 100 SIGHUPs at 2,000 req/s with the default canary (10%, 30 s). The
 * first SIGHUP applies a changed file and starts its canary; the other 99 arrive while it runs
 * and are refused. Prints the requests sent, the failed ones, and whether serve lived.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, waitForPort } from './tools.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 2000;
const HUPS = 100;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'evenkeel-sighup-'));
  const backends = await Promise.all([0, 1].map(() => backend()));
  const [port, admin] = [await freePort(), await freePort()];
  const text = (w: number) => `listeners:
  - name: web
    address: 127.0.0.1:${port}
    routes: [{ name: all, pool: app }]
pools:
  app:
    backends:
${backends.map((b, i) => `      - { name: b${i}, address: 127.0.0.1:${b.port}, weight: ${w} }`).join('\n')}
admin: { address: 127.0.0.1:${admin} }
store: { path: ${join(dir, 'store')} }
`;
  const file = join(dir, 'evenkeel.yaml');
  writeFileSync(file, text(1));
  const serve = spawn(process.execPath, ['--max-semi-space-size=4', join(root, 'bin', 'evenkeel.js'), 'serve', '-c', file, '--no-log'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  serve.stderr.on('data', (d) => (stderr += d));
  await waitForPort(port);
  const load = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, overallRate: RATE, duration: 15 });
  await new Promise((r) => setTimeout(r, 1000));
  writeFileSync(file, text(2));
  for (let i = 0; i < HUPS; i++) {
    serve.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
  }
  const result = await load;
  const alive = serve.exitCode === null && serve.signalCode === null;
  const failed = result.errors + result.timeouts + result.non2xx;
  const refused = (stderr.match(/reload refused/g) ?? []).length;
  process.stdout.write(`${HUPS} SIGHUPs during ~15 s at ${RATE} req/s: ${result.requests.total} requests, ${failed} failed (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}); canary started: ${/as canary version 2/.test(stderr)}; refused while it ran: ${refused}; serve alive: ${alive}\n`);
  serve.kill('SIGTERM');
  for (const b of backends) b.server.close();
  process.exitCode = alive && failed === 0 ? 0 : 1;
}

function backend(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end('ok'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

void main();
