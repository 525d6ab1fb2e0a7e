/**
 * Benchmark: how long evenkeel's pre-deploy checks take on a large config, next to haproxy's.
 *
 * Issue 2 promises that `validate` + `plan` of a config with 1,000 backends in 100 pools and
 * 200 routes, against a 100,000-request traffic sample, finish in under 1 s. This generates
 * such a config (plus a slightly changed copy for `plan --against`), the sample, and an
 * equivalent haproxy.cfg under bench/.out/, then times whole commands the way CI runs them —
 * a fresh process each, wall clock, median and min of 5 after one warm-up:
 *
 *   node -e 0                                   bare Node start-up (the floor for any CLI)
 *   node bin/evenkeel.js --version              start-up plus loading evenkeel's modules
 *   node bin/evenkeel.js validate … --format json
 *   node bin/evenkeel.js plan … --against …
 *   haproxy -c -f haproxy.cfg                   what existing load balancers check (syntax only)
 *
 * It also prints what validate found, to show the config was really analysed (a generated
 * config is sized with headroom, so any error finding means the generator or evenkeel is wrong),
 * and when validate + plan miss the goal (or with --profile) where their CPU time went.
 *
 * Run: npm run bench:validate   (add `-- --profile` to profile even when under the goal)
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTopology, withSmallChange, BACKENDS_PER_POOL, POOLS } from './validate/topology.js';
import { evenkeelYaml } from './validate/evenkeel-config.js';
import { trafficSampleJsonl } from './validate/traffic-sample.js';
import { haproxyCfg } from './validate/haproxy-config.js';
import { formatTable, runOnce, timeCommand, type Timed } from './validate/timing.js';
import { hotFiles, hotSpots } from './validate/profile.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', '.out');
const RUNS = 5;
const SAMPLE_LINES = 100_000;
const GOAL_MS = 1000;
const HOT_SPOTS = 12;

interface Files {
  config: string;
  candidate: string;
  sample: string;
  haproxy: string;
}

interface Finding {
  code: string;
  severity: string;
  message: string;
}

interface ValidateJson {
  valid: boolean;
  findings: Finding[];
  prediction?: { pools?: Record<string, { backends?: Record<string, { utilization?: number; share?: number }> }> };
}

/** Writes the four inputs; returns their paths relative to the repo root. */
function generate(): Files {
  mkdirSync(OUT, { recursive: true });
  const topology = buildTopology();
  const files: Files = {
    config: join(OUT, 'evenkeel.yaml'),
    candidate: join(OUT, 'evenkeel-candidate.yaml'),
    sample: join(OUT, 'traffic.jsonl'),
    haproxy: join(OUT, 'haproxy.cfg'),
  };
  writeFileSync(files.sample, trafficSampleJsonl(topology, SAMPLE_LINES));
  writeFileSync(files.config, evenkeelYaml(topology, './traffic.jsonl'));
  writeFileSync(files.candidate, evenkeelYaml(withSmallChange(topology), './traffic.jsonl'));
  writeFileSync(files.haproxy, haproxyCfg(topology));
  const rel = (p: string): string => relative(ROOT, p);
  return { config: rel(files.config), candidate: rel(files.candidate), sample: rel(files.sample), haproxy: rel(files.haproxy) };
}

/** Installs Debian's haproxy when it is missing (apt-get update only if the install fails). */
function ensureHaproxy(): void {
  if (runOnce(['sh', '-c', 'command -v haproxy'], ROOT).status === 0) return;
  console.log('haproxy not found; installing it with apt-get …');
  const install = (): number | null => runOnce(['apt-get', 'install', '-y', 'haproxy'], ROOT).status;
  if (install() !== 0 && (runOnce(['apt-get', 'update'], ROOT).status !== 0 || install() !== 0)) {
    throw new Error('could not install haproxy with apt-get');
  }
}

/** `haproxy -c` must accept the generated file without a single warning, or the comparison is unfair. */
function checkHaproxy(cfg: string): void {
  const r = runOnce(['haproxy', '-c', '-f', cfg], ROOT);
  const noise = (r.stdout + r.stderr).split('\n').filter((l) => /\[(WARNING|ALERT|NOTICE)\]/.test(l));
  if (r.status !== 0 || noise.length > 0) {
    throw new Error(`haproxy -c rejected or warned about ${cfg} (exit ${r.status}):\n${noise.join('\n') || r.stderr}`);
  }
  console.log(`haproxy -c: ${cfg} is valid, no warnings`);
}

function build(): void {
  const r = runOnce(['npm', 'run', 'build', '--silent'], ROOT);
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  console.log(`built dist/ in ${(r.ms / 1000).toFixed(1)} s`);
}

/** Runs validate once and prints what it found; returns the number of error findings. */
function reportValidate(config: string): number {
  const r = runOnce(['node', 'bin/evenkeel.js', 'validate', config, '--format', 'json'], ROOT);
  let json: ValidateJson;
  try {
    json = JSON.parse(r.stdout) as ValidateJson;
  } catch {
    throw new Error(`validate did not print one JSON object (exit ${r.status}):\n${r.stdout.slice(0, 2000)}${r.stderr.slice(0, 2000)}`);
  }
  console.log(`validate: exit ${r.status}, valid ${json.valid}, ${countBy(json.findings)}`);
  console.log(`  prediction: ${describePrediction(json)}`);
  const errors = json.findings.filter((f) => f.severity === 'error');
  for (const f of errors.slice(0, 10)) console.log(`  ${f.code} ${f.message}`);
  for (const f of json.findings.filter((x) => x.severity !== 'error').slice(0, 5)) console.log(`  (${f.severity}) ${f.code} ${f.message}`);
  return errors.length;
}

/** "3 findings (2× error EK202, 1× warning EK109)". */
function countBy(findings: Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(`${f.severity} ${f.code}`, (counts.get(`${f.severity} ${f.code}`) ?? 0) + 1);
  const detail = [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
  return `${findings.length} findings${detail ? ` (${detail})` : ''}`;
}

/** How many pools/backends got a predicted share, and the highest predicted utilization. */
function describePrediction(json: ValidateJson): string {
  const pools = Object.values(json.prediction?.pools ?? {});
  const backends = pools.flatMap((p) => Object.values(p.backends ?? {}));
  const maxUtil = Math.max(0, ...backends.map((b) => b.utilization ?? 0));
  return `${pools.length}/${POOLS} pools, ${backends.length}/${POOLS * BACKENDS_PER_POOL} backends predicted; highest utilization ${(maxUtil * 100).toFixed(0)}%`;
}

interface PlanJson {
  valid: boolean;
  moved: number | null;
  rows: unknown[];
  findings: Finding[];
}

/** Runs plan once (JSON output, to read it reliably) and prints what it found. */
function reportPlan(candidate: string, config: string): void {
  const r = runOnce(['node', 'bin/evenkeel.js', 'plan', candidate, '--against', config, '--format', 'json'], ROOT);
  let json: PlanJson;
  try {
    json = JSON.parse(r.stdout) as PlanJson;
  } catch {
    throw new Error(`plan --format json did not print one JSON object (exit ${r.status}):\n${r.stdout.slice(0, 2000)}${r.stderr.slice(0, 2000)}`);
  }
  const moved = json.moved === null ? 'n/a' : `${(json.moved * 100).toFixed(2)}%`;
  console.log(`plan: exit ${r.status}, valid ${json.valid}, ${json.rows.length} backend rows, traffic moved ${moved}, ${countBy(json.findings)}`);
  for (const f of json.findings.slice(0, 8)) console.log(`  (${f.severity}) ${f.code} ${f.message}`);
}

function timeAll(files: Files): { rows: Timed[]; haproxy: Timed; validate: Timed; plan: Timed } {
  const evenkeel = (args: string[]): string[] => ['node', 'bin/evenkeel.js', ...args];
  const node = timeCommand('node -e 0', ['node', '-e', '0'], ROOT, RUNS);
  const version = timeCommand('evenkeel --version', evenkeel(['--version']), ROOT, RUNS);
  const validate = timeCommand('evenkeel validate --format json', evenkeel(['validate', files.config, '--format', 'json']), ROOT, RUNS);
  const plan = timeCommand('evenkeel plan --against', evenkeel(['plan', files.candidate, '--against', files.config]), ROOT, RUNS);
  const haproxy = timeCommand('haproxy -c', ['haproxy', '-c', '-f', files.haproxy], ROOT, RUNS);
  return { rows: [node, version, validate, plan, haproxy], haproxy, validate, plan };
}

/** Runs one evenkeel command under `node --cpu-prof` and prints its hottest functions. */
function profile(name: string, args: string[]): void {
  const dir = join(OUT, `profile-${name}`);
  rmSync(dir, { recursive: true, force: true });
  runOnce(['node', '--cpu-prof', `--cpu-prof-dir=${dir}`, 'bin/evenkeel.js', ...args], ROOT);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return;
  console.log(`\n${name}: top ${HOT_SPOTS} functions by self time (ms self / ms inclusive), profile in ${relative(ROOT, dir)}/`);
  for (const h of hotSpots(join(dir, file), ROOT, HOT_SPOTS)) console.log(`${h.selfMs.toFixed(0).padStart(6)} ${h.totalMs.toFixed(0).padStart(6)}  ${h.label}`);
  const files = hotFiles(join(dir, file), ROOT, HOT_SPOTS).map((f) => `${f.file} ${f.selfMs.toFixed(0)}`);
  console.log(`  self time by file (ms): ${files.join(', ')}`);
}

function main(): void {
  const started = Date.now();
  const files = generate();
  console.log(`generated ${files.config}, ${files.candidate}, ${files.sample} (${SAMPLE_LINES} lines), ${files.haproxy}`);
  ensureHaproxy();
  checkHaproxy(files.haproxy);
  build();
  const errors = reportValidate(files.config);
  reportPlan(files.candidate, files.config);
  const { rows, haproxy, validate, plan } = timeAll(files);
  console.log(`\nwall clock, fresh process per run, median/min of ${RUNS} after one warm-up:\n`);
  console.log(formatTable(rows, haproxy.medianMs));
  const both = validate.medianMs + plan.medianMs;
  const each = `validate ${validate.medianMs.toFixed(0)} ms, plan ${plan.medianMs.toFixed(0)} ms`;
  console.log(`\nvalidate + plan: ${both.toFixed(0)} ms (${each}) — ${both < GOAL_MS ? 'under' : 'NOT under'} the 1 s goal of issue 2`);
  if (errors > 0) console.log(`WARNING: validate reported ${errors} error finding(s) on a config generated to be valid`);
  if (both >= GOAL_MS || process.argv.includes('--profile')) {
    profile('validate', ['validate', files.config, '--format', 'json']);
    profile('plan', ['plan', files.candidate, '--against', files.config]);
  }
  console.log(`(whole benchmark: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

try {
  main();
} catch (err) {
  console.error(`bench:validate: ${(err as Error).message}`);
  process.exitCode = 1;
}
