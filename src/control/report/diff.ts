/**
 * Config diffs for people: a unified line diff of the YAML text (the report's root cause), and
 * a one-line summary of what changed key by key (an alert's "what changed").
 */
import { parse } from 'yaml';

/** One line of a diff: ' ' kept, '-' removed, '+' added. */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

// LCS over lines is O(n·m); configs are reviewed by humans and stay far below this.
const MAX_CELLS = 4_000_000;

/** The line diff of two texts (longest common subsequence). */
export function diffLines(a: string, b: string): DiffLine[] {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.at(-1) === '') x.pop();
  if (y.at(-1) === '') y.pop();
  if (x.length * y.length > MAX_CELLS) return [...x.map((text) => ({ op: '-' as const, text })), ...y.map((text) => ({ op: '+' as const, text }))];
  const w = y.length + 1;
  const lcs = new Uint32Array((x.length + 1) * w);
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) (out.push({ op: ' ', text: x[i] }), i++, j++);
    // Removals before additions, as diff(1) prints them.
    else if (i < x.length && (j === y.length || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) (out.push({ op: '-', text: x[i] }), i++);
    else (out.push({ op: '+', text: y[j] }), j++);
  }
  return out;
}

/** A unified diff (`--- a`, `+++ b`, hunks with `context` lines around each change); '' when equal. */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string, context = 3): string {
  const lines = diffLines(a, b);
  const changed = lines.map((l) => l.op !== ' ');
  if (!changed.includes(true)) return '';
  const keep = lines.map((_, k) => changed.slice(Math.max(0, k - context), k + context + 1).includes(true));
  let out = `--- ${labelA}\n+++ ${labelB}\n`;
  let ai = 1;
  let bi = 1;
  for (let k = 0; k < lines.length; ) {
    if (!keep[k]) {
      if (lines[k].op !== '+') ai++;
      if (lines[k].op !== '-') bi++;
      k++;
      continue;
    }
    let end = k;
    while (end < lines.length && keep[end]) end++;
    const hunk = lines.slice(k, end);
    const na = hunk.filter((l) => l.op !== '+').length;
    const nb = hunk.filter((l) => l.op !== '-').length;
    out += `@@ -${ai},${na} +${bi},${nb} @@\n${hunk.map((l) => `${l.op}${l.text}`).join('\n')}\n`;
    ai += na;
    bi += nb;
    k = end;
  }
  return out;
}

/** Key-by-key changes between two YAML texts, e.g. `pools.web.backends[1].weight: 1 → 0`. */
export function changedKeys(a: string, b: string): string[] {
  let x: unknown;
  let y: unknown;
  try {
    x = parse(a);
    y = parse(b);
  } catch {
    return ['the config text changed (one side is not parseable YAML)'];
  }
  const out: string[] = [];
  walk(x, y, '', out);
  return out;
}

/** At most `max` key changes joined for a one-line summary, with a count of the rest. */
export function summarizeDiff(a: string, b: string, max = 5): string {
  const keys = changedKeys(a, b);
  if (keys.length === 0) return 'no change';
  const more = keys.length > max ? `; and ${keys.length - max} more` : '';
  return keys.slice(0, max).join('; ') + more;
}

function walk(x: unknown, y: unknown, path: string, out: string[]): void {
  if (isObject(x) && isObject(y)) {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`, out);
    return;
  }
  if (JSON.stringify(x) === JSON.stringify(y)) return;
  if (x === undefined) out.push(`${path} added: ${show(y)}`);
  else if (y === undefined) out.push(`${path} removed (was ${show(x)})`);
  else out.push(`${path}: ${show(x)} → ${show(y)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
