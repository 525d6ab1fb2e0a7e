/**
 * Config diffs for people: a unified line diff of the YAML text (the report's root cause), and
 * a one-line summary of what changed key by key (an alert's "what changed").
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { parse } from 'yaml';

/**
 * A unified diff (`--- a`, `+++ b`, hunks with `context` lines around each change); '' when
 * equal. jsdiff (Myers' O(ND) algorithm) replaces a hand-written LCS table, which past 4M cells
 * reported every line as changed and numbered an empty side `-1,0` where diff(1) prints `-0,0`.
 */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string, context = 3): string {
  if (a === b) return '';
  const patch = createTwoFilesPatch(labelA, labelB, a, b, undefined, undefined, { context, headerOptions: FILE_HEADERS_ONLY });
  // diff(1) leaves out a count of 1 (`@@ -13 +13 @@`); print hunk headers the way it does.
  return patch.replace(/^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@$/gm, (_, a1: string, n1 = '', b1: string, n2 = '') => `@@ -${a1}${n1 === ',1' ? '' : n1} +${b1}${n2 === ',1' ? '' : n2} @@`);
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
