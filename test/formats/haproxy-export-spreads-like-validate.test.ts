/**
 * The differential test of the HAProxy writer: a config exported with `renderHaproxy`, served
 * by the real haproxy on loopback in front of small backends, spreads N sequential requests by
 * the shares `validate` predicts for the original config, within 0.03 for every server.
 * least-request is left out on purpose: HAProxy's leastconn sees no open connection between
 * sequential requests and turns round-robin regardless of weight (an approximation the export
 * says), and consistent-hash because its ring is not evenkeel's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Agent, request } from 'undici';
import { analyzeLoaded, validateText } from '../../src/analysis/index.js';
import { readHaproxy } from '../../src/formats/haproxy/index.js';
import { renderHaproxy } from '../../src/formats/haproxy/write.js';
import { cleanup, eventually, freePort, onCleanup, startBackend, tempDir, type Backend } from '../dataplane/helpers/harness.js';

const HAPROXY = '/usr/sbin/haproxy';
const N = 2000;

after(cleanup);

/** Starts haproxy in the foreground on `cfg`; stopped at cleanup. */
async function runHaproxy(dir: string, text: string): Promise<void> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, text);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  onCleanup(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  child.once('exit', (code) => code && code !== 0 && process.stderr.write(`haproxy exited ${code}: ${stderr}\n`));
}

test('an exported config spreads traffic as validate predicts for the original', { skip: !existsSync(HAPROXY) && 'haproxy is not installed' }, async () => {
  const b: Backend[] = [];
  for (let i = 0; i < 11; i++) b.push(await startBackend());
  const port = await freePort();
  const yaml = `listeners:
  - name: public
    address: 127.0.0.1:${port}
    routes:
      - { name: api, match: { host: api.example.com, pathPrefix: /v1/ }, pool: api }
      - { name: beta, match: { headers: { x-beta: "1" } }, pool: rand }
      - { name: writes, match: { methods: [POST, PUT] }, pool: fractional }
      - name: site
        match: { pathPrefix: / }
        split:
          - { pool: web, weight: 70 }
          - { pool: web-next, weight: 30 }
pools:
  api:
    backends:
      - { name: api-1, address: ${b[0].address}, weight: 3 }
      - { name: api-2, address: ${b[1].address}, weight: 1 }
      - { name: api-3, address: ${b[2].address}, weight: 0 }
  rand:
    algorithm: random
    backends:
      - { name: rand-1, address: ${b[3].address}, weight: 3 }
      - { name: rand-2, address: ${b[4].address}, weight: 1 }
  fractional:
    backends:
      - { name: frac-1, address: ${b[5].address}, weight: 0.5 }
      - { name: frac-2, address: ${b[6].address}, weight: 1.5 }
      - { name: frac-3, address: ${b[7].address}, weight: 1000 }
  web:
    healthCheck: { path: /healthz, interval: 1s }
    backends:
      - { name: web-1, address: ${b[8].address} }
      - { name: web-2, address: ${b[9].address} }
  web-next:
    backends:
      - { name: web-next-1, address: ${b[10].address} }
guardrails: { maxBackendShare: 1 }
`;
  const report = validateText(yaml, 'diff.yaml');
  assert.ok(report.config, report.findings.map((f) => f.message).join('\n'));
  const { text } = renderHaproxy(report.config);
  await runHaproxy(tempDir(), text);
  const agent = new Agent({ connections: 4 });
  onCleanup(() => agent.close());
  const get = async (path: string, method = 'GET', headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${port}${path}`, { method, headers, dispatcher: agent });
    const body = (await r.body.json()) as { port: number };
    return body.port;
  };
  await eventually(async () => (await get('/').catch(() => 0)) > 0, 5000, 'haproxy answers');
  for (const x of b) x.hits = 0;

  const byPort = new Map(b.map((x) => [x.port, x]));
  const kinds: [string, () => Promise<number>][] = [
    ['api', () => get('/v1/users', 'GET', { host: 'API.example.com:8080' })],
    ['rand', () => get('/anything', 'GET', { 'x-beta': '1' })],
    ['fractional', () => get('/form', 'POST')],
    ['site', () => get('/index.html')],
  ];
  for (const [, send] of kinds) for (let i = 0; i < N; i++) assert.ok(byPort.has(await send()));

  // Measured share of each server in its pool vs. validate's prediction for the original.
  const pools = report.prediction!.pools as Record<string, { backends: Record<string, { share: number }> }>;
  const addressOf = new Map(Object.entries(report.config.pools).flatMap(([, p]) => p.backends.map((x) => [x.name!, x.address] as const)));
  const rows: string[] = [];
  for (const [pool, p] of Object.entries(pools)) {
    const hits = Object.keys(p.backends).map((name) => b.find((x) => x.address === addressOf.get(name))!.hits);
    const total = hits.reduce((s, h) => s + h, 0);
    Object.entries(p.backends).forEach(([name, pred], i) => {
      const measured = hits[i] / total;
      rows.push(`${pool}/${name}: predicted ${pred.share.toFixed(3)} measured ${measured.toFixed(3)}`);
      assert.ok(Math.abs(measured - pred.share) <= 0.03, `${pool}/${name}: predicted ${pred.share}, measured ${measured} (${hits[i]}/${total})`);
    });
  }
  // The split's pools: 70/30 of the site route.
  const site = b[8].hits + b[9].hits + b[10].hits;
  rows.push(`site split web ${((b[8].hits + b[9].hits) / site).toFixed(3)} (0.700) web-next ${(b[10].hits / site).toFixed(3)} (0.300)`);
  assert.ok(Math.abs((b[8].hits + b[9].hits) / site - 0.7) <= 0.03);
  // The reader, given the export itself, predicts what HAProxy did too: every server's share,
  // and the split the export draws once into txn.ek_split.
  const back = analyzeLoaded(readHaproxy(text, 'haproxy.cfg', { guardrails: { maxBackendShare: 1 } }));
  const backPools = back.prediction!.pools as Record<string, { backends: Record<string, { share: number }> }>;
  for (const [pool, p] of Object.entries(pools)) {
    const hits = Object.keys(p.backends).map((name) => b.find((x) => x.address === addressOf.get(name))!.hits);
    const total = hits.reduce((s, h) => s + h, 0);
    Object.keys(p.backends).forEach((name, i) => {
      const read = backPools[pool]?.backends[name]?.share;
      rows.push(`read back ${pool}/${name}: predicted ${read?.toFixed(3)} measured ${(hits[i] / total).toFixed(3)}`);
      assert.ok(read !== undefined && Math.abs(hits[i] / total - read) <= 0.03, `read back ${pool}/${name}: predicted ${read}, measured ${hits[i] / total}`);
    });
  }
  const split = back.config!.listeners[0].routes!.find((r) => r.split)!.split!;
  const webWeight = split.find((t) => t.pool === 'web')!.weight / split.reduce((n, t) => n + t.weight, 0);
  rows.push(`read back split web ${webWeight.toFixed(3)} measured ${((b[8].hits + b[9].hits) / site).toFixed(3)}`);
  assert.ok(Math.abs((b[8].hits + b[9].hits) / site - webWeight) <= 0.03);
  process.stderr.write(`${rows.join('\n')}\n`);
});
