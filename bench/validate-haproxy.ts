/**
 * Benchmark: `evenkeel validate` of a large haproxy.cfg, printed beside `haproxy -c` on the same
 * file. Issue 12 asks for validate of a generated haproxy.cfg with 1,000 servers in 100 backends
 * and 200 use_backend rules against a 100,000-line traffic sample in under 1 s.
 *
 * The haproxy.cfg, the sample and a guardrails file (peak and every server's capacity) come from
 * the same topology as bench/validate.ts (so the prediction has something to check), written
 * under bench/.out/. Whole commands are timed as CI runs them — a fresh process each, wall
 * clock, median and min of 5 after one warm-up:
 *
 *   haproxy -c -f haproxy.cfg                          HAProxy's own check (syntax only)
 *   evenkeel validate haproxy.cfg … (EVENKEEL_HAPROXY= ) evenkeel's reader + prediction alone
 *   evenkeel validate haproxy.cfg …                    the same plus its run of haproxy -c
 *
 * Run: node --import tsx bench/validate-haproxy.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTopology, BACKENDS_PER_POOL, POOLS } from './validate/topology.js';
import { trafficSampleJsonl } from './validate/traffic-sample.js';
import { haproxyCfg } from './validate/haproxy-config.js';
import { formatTable, runOnce, timeCommand, type Timed } from './validate/timing.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', '.out');
const RUNS = 5;
const SAMPLE_LINES = 100_000;
const GOAL_MS = 1000;

interface ValidateJson {
  valid: boolean;
  findings: { code: string; severity: string; message: string }[];
  prediction?: { pools?: Record<string, { backends?: Record<string, { share?: number; utilization?: number | null }> }> };
}

function generate(): { cfg: string; sample: string; guard: string } {
  mkdirSync(OUT, { recursive: true });
  const t = buildTopology();
  const cfg = join(OUT, 'haproxy-big.cfg');
  const sample = join(OUT, 'traffic.jsonl');
  const guard = join(OUT, 'haproxy-guardrails.yaml');
  writeFileSync(cfg, haproxyCfg(t));
  writeFileSync(sample, trafficSampleJsonl(t, SAMPLE_LINES));
  const capacity = t.pools.map((p) => `  ${p.name}: { ${p.backends.map((b) => `${b.name}: ${b.capacity}`).join(', ')} }`).join('\n');
  writeFileSync(guard, `traffic:\n  peakRps: ${t.peakRps}\ncapacity:\n${capacity}\n`);
  const rules = haproxyCfg(t).split('\n').filter((l) => l.trim().startsWith('use_backend')).length;
  console.log(`generated ${relative(ROOT, cfg)}: ${t.pools.length} backends, ${t.pools.reduce((n, p) => n + p.backends.length, 0)} servers, ${rules} use_backend rules; ${relative(ROOT, sample)} (${SAMPLE_LINES} lines); ${relative(ROOT, guard)}`);
  return { cfg: relative(ROOT, cfg), sample: relative(ROOT, sample), guard: relative(ROOT, guard) };
}

function report(args: string[]): void {
  const r = runOnce(['node', 'bin/evenkeel.js', ...args, '--format', 'json'], ROOT);
  const json = JSON.parse(r.stdout) as ValidateJson;
  const counts = new Map<string, number>();
  for (const f of json.findings) counts.set(`${f.severity} ${f.code}`, (counts.get(`${f.severity} ${f.code}`) ?? 0) + 1);
  const pools = Object.values(json.prediction?.pools ?? {});
  const backends = pools.flatMap((p) => Object.values(p.backends ?? {}));
  const maxUtil = Math.max(0, ...backends.map((b) => b.utilization ?? 0));
  console.log(`validate: exit ${r.status}, valid ${json.valid}, ${json.findings.length} findings (${[...counts].map(([k, n]) => `${n}× ${k}`).join(', ')})`);
  console.log(`  prediction: ${pools.length}/${POOLS} backends, ${backends.length}/${POOLS * BACKENDS_PER_POOL} servers; highest utilization ${(maxUtil * 100).toFixed(0)}%`);
  for (const f of json.findings.filter((x) => x.severity !== 'info').slice(0, 5)) console.log(`  (${f.severity}) ${f.code} ${f.message}`);
}

/**
 * The same work in this process, phase by phase, as CPU time (user + system) beside wall clock:
 * on a machine shared with other jobs wall clock mostly measures the wait for a core.
 */
async function phases(files: { cfg: string; sample: string; guard: string }): Promise<void> {
  const dist = (p: string) => import(join(ROOT, 'dist', p));
  const { loadAnyFile } = await dist('formats/index.js');
  const { analyzeLoaded, loadSample } = await dist('analysis/index.js');
  const rows: string[] = [];
  const phase = <T>(label: string, fn: () => T): T => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const out = fn();
    const used = process.cpuUsage(cpu);
    rows.push(`  ${label.padEnd(34)} ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms CPU ${(performance.now() - wall).toFixed(0).padStart(6)} ms wall`);
    return out;
  };
  for (let run = 0; run < 3; run++) {
    rows.length = 0;
    const load = phase('read haproxy.cfg + guardrails', () => loadAnyFile(join(ROOT, files.cfg), { guardrailsFile: join(ROOT, files.guard) }));
    const sample = phase(`read the sample (${SAMPLE_LINES} lines)`, () => loadSample(join(ROOT, files.sample)));
    phase('route, predict and judge', () => analyzeLoaded(load, { sampleRequests: sample.requests }));
  }
  console.log(`\nin one process (third run), by phase:\n${rows.join('\n')}`);
}

async function main(): Promise<void> {
  const files = generate();
  const build = runOnce(['npm', 'run', 'build', '--silent'], ROOT);
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  const args = ['validate', files.cfg, '--traffic', files.sample, '--guardrails', files.guard];
  report(args);
  const rows: Timed[] = [];
  const haproxy = timeCommand('haproxy -c -f haproxy-big.cfg', ['haproxy', '-c', '-f', files.cfg], ROOT, RUNS);
  rows.push(haproxy);
  rows.push(timeCommand('node -e 0', ['node', '-e', '0'], ROOT, RUNS));
  const alone = timeCommand('evenkeel validate (no haproxy -c)', ['env', 'EVENKEEL_HAPROXY=', 'bin/evenkeel.js', ...args, '--format', 'json'], ROOT, RUNS);
  rows.push(alone);
  const withCheck = timeCommand('evenkeel validate (with haproxy -c)', ['bin/evenkeel.js', ...args, '--format', 'json'], ROOT, RUNS);
  rows.push(withCheck);
  console.log(`\nwall clock, fresh process per run, median/min of ${RUNS} after one warm-up:\n`);
  console.log(formatTable(rows, haproxy.medianMs));
  console.log(`\nevenkeel validate of the haproxy.cfg: ${alone.medianMs.toFixed(0)} ms alone, ${withCheck.medianMs.toFixed(0)} ms with haproxy -c — ${alone.medianMs < GOAL_MS ? 'under' : 'NOT under'} the 1 s goal of issue 12`);
  await phases(files);
  console.log(`(load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores while this ran)`);
}

await main();
