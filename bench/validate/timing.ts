/**
 * Wall-clock timing of whole commands, each run as a fresh process, the way CI runs them.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Timed {
  label: string;
  medianMs: number;
  minMs: number;
  runs: number[];
}

export interface RunOutput {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command once, capturing its output. Throws if it could not be started at all. */
export function runOnce(argv: string[], cwd: string): RunOutput {
  const start = performance.now();
  const r: SpawnSyncReturns<string> = spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (r.error) throw new Error(`cannot run ${argv.join(' ')}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms };
}

/** Times `runs` fresh runs after one untimed warm-up run (which fills the page cache). */
export function timeCommand(label: string, argv: string[], cwd: string, runs: number): Timed {
  runOnce(argv, cwd);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(runOnce(argv, cwd).ms);
  return { label, medianMs: median(times), minMs: Math.min(...times), runs: times };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A plain-text table: command, median, min, ratio to the reference median. */
export function formatTable(rows: Timed[], referenceMs: number): string {
  const header = ['command', 'median ms', 'min ms', 'vs haproxy -c'];
  const body = rows.map((r) => [r.label, r.medianMs.toFixed(0), r.minMs.toFixed(0), `${(r.medianMs / referenceMs).toFixed(1)}×`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
