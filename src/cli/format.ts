/** Terminal output shared by validate, plan and test: compiler-style findings and tables. */
import { relative } from 'node:path';
import { EVENKEEL_WORDS, type Finding, type Vocabulary } from '../config/index.js';
import { pct } from '../core/index.js';
import type { TrafficModel } from '../analysis/index.js';

/** A path as the user would type it: relative to the working directory when shorter. */
export function displayPath(file: string): string {
  if (file.startsWith('<')) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

/** `file:line:col: error EK201: message` then the hint, like a compiler. */
export function formatFinding(f: Finding, configFile: string): string {
  const file = displayPath(f.file ?? configFile);
  const where = f.line !== undefined ? `${file}:${f.line}:${f.column ?? 1}` : file;
  return `${where}: ${f.severity} ${f.code}: ${f.message}\n    hint: ${f.hint}\n`;
}

/** The closing line: `x.yaml: invalid — 2 errors, 1 warning, 3 notes`. */
export function summaryLine(file: string, findings: Finding[], verdictOk: string, verdictBad: string): string {
  const n = (s: string) => findings.filter((f) => f.severity === s).length;
  const errors = n('error');
  const parts = [`${errors} ${errors === 1 ? 'error' : 'errors'}`, `${n('warning')} ${n('warning') === 1 ? 'warning' : 'warnings'}`, `${n('info')} info`];
  return `${displayPath(file)}: ${errors ? verdictBad : verdictOk} (${parts.join(', ')})\n`;
}

/** Renders rows as aligned columns; the first row is the header. */
export function table(rows: string[][], indent = '  '): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Requests per second for tables. */
export function fmtRps(x: number | null | undefined): string {
  if (x === null || x === undefined) return '-';
  return x >= 100 ? String(Math.round(x)) : x.toFixed(1);
}

/** A status word for a utilization, against the headroom limit. */
export function loadWord(util: number | null, headroom: number): string {
  if (util === null) return '';
  if (util > 1) return 'OVERLOAD';
  if (util > 1 - headroom) return 'no headroom';
  return '';
}

/** The predicted-distribution tables of `validate`: one per pool. */
export function distributionTables(model: TrafficModel, headroom: number, algorithms: Record<string, string>, words: Vocabulary = EVENKEEL_WORDS): string {
  const known = model.peakRps !== null;
  let out = known ? `predicted distribution at peak (${fmtRps(model.peakRps)} req/s in all):\n` : 'predicted distribution (shares only; no guardrails.traffic.peakRps):\n';
  for (const [name, pl] of model.pools) {
    out += `\n${words.pool} ${name} (${algorithms[name]}${known ? `, ${fmtRps(pl.rps)} req/s` : ''})\n`;
    const rows = [[words.backend, 'address', 'weight', 'share', 'peak req/s', 'capacity', 'utilization', '']];
    for (const b of pl.backends) {
      const server = model.servers.get(b.server);
      const util = known && server?.capacity ? server.rps / server.capacity : null;
      rows.push([b.name, b.address, `${b.weight}${b.backup ? ' backup' : ''}`, pct(b.share), known ? fmtRps(b.rps) : '-', b.capacity === undefined ? '-' : fmtRps(b.capacity), util === null ? '-' : pct(util), loadWord(util, headroom)]);
    }
    out += table(rows);
  }
  return out;
}
