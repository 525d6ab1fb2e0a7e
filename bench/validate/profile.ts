/**
 * Summarises a V8 .cpuprofile (written by `node --cpu-prof`) as the functions that took the
 * most time, self and inclusive, named file:line function, so a slow run says where it went.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  label: string;
  selfMs: number;
  totalMs: number;
}

/** The `top` functions by self time, with their inclusive time. */
export function hotSpots(file: string, root: string, top: number): HotSpot[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const sampled = sampledMs(prof);
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const n of prof.nodes) {
    const ms = sampled.get(n.id) ?? 0;
    if (ms === 0) continue;
    add(self, label(n.callFrame, root), ms);
    // Inclusive: once per distinct function on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!.callFrame, root);
      if (!seen.has(l)) add(total, l, ms);
      seen.add(l);
    }
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([l, ms]) => ({ label: l, selfMs: ms, totalMs: total.get(l) ?? ms }));
}

/** Self time summed per file (a package's files count as the package), the `top` largest. */
export function hotFiles(file: string, root: string, top: number): { file: string; selfMs: number }[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const sampled = sampledMs(prof);
  const perFile = new Map<string, number>();
  for (const n of prof.nodes) {
    const ms = sampled.get(n.id) ?? 0;
    if (ms > 0) add(perFile, fileOf(n.callFrame, root), ms);
  }
  return [...perFile].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, ms]) => ({ file: f, selfMs: ms }));
}

function fileOf(cf: CallFrame, root: string): string {
  if (cf.url === '') return cf.functionName === '(garbage collector)' ? '(garbage collector)' : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(cf.url);
  if (pkg) return `package ${pkg[1]}`;
  if (cf.url.startsWith('node:')) return '(node internals)';
  return cf.url.replace(`file://${root}/`, '');
}

function sampledMs(prof: CpuProfile): Map<number, number> {
  const out = new Map<number, number>();
  prof.samples.forEach((id, i) => add(out, id, (prof.timeDeltas[i] ?? 0) / 1000));
  return out;
}

function add<K>(m: Map<K, number>, k: K, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

function label(cf: CallFrame, root: string): string {
  const url = cf.url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, '');
  return `${url || '(native)'}:${cf.lineNumber + 1} ${cf.functionName || '(anonymous)'}`;
}
