/**
 * The state of one nginx.conf reading: findings placed at their nginx.conf position, the
 * locator that maps config paths back to nginx.conf, and the `# evenkeel:` comments.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { finding, type Code, type Finding } from '../../config/index.js';
import type { ConfigInput } from '../../config/index.js';
import type { PathLocator } from '../../config/index.js';
import type { Directive, FreeComment, Pos } from './lexer.js';

type Path = readonly (string | number)[];

/** Maps config paths (['pools','app','backends',1]) to nginx.conf file:line:column. */
export class NginxLocator implements PathLocator {
  private readonly places = new Map<string, Pos>();

  /** `mainFile` is the file findings name by default; positions elsewhere carry their file. */
  constructor(private readonly mainFile: string, private readonly root: Pos = { file: mainFile, line: 1, column: 1 }) {}

  /** Records where `path` is written (the first record wins). */
  set(path: Path, pos: Pos): void {
    const k = JSON.stringify(path);
    if (!this.places.has(k)) this.places.set(k, pos);
  }

  /** The position of `path`, else of its nearest recorded parent, else the top of the main file. */
  locate(path: Path): { line: number; column: number; file?: string } {
    for (let k = path.length; k >= 0; k--) {
      const pos = this.places.get(JSON.stringify(path.slice(0, k)));
      if (pos) return this.position(pos);
    }
    return this.position(this.root);
  }

  /** A Pos as a finding's line/column, with `file` only when it is not the main file. */
  position(pos: Pos): { line: number; column: number; file?: string } {
    return pos.file === this.mainFile ? { line: pos.line, column: pos.column } : { line: pos.line, column: pos.column, file: pos.file };
  }
}

/** Findings and positions collected while reading one configuration. */
export class Reading {
  readonly findings: Finding[] = [];

  constructor(readonly locator: NginxLocator) {}

  private readonly seen = new Set<string>();
  private readonly places = new Set<string>();

  /**
   * A finding at an nginx.conf position. A construct read once per route (a location of a
   * server with several names) reports each finding once.
   */
  add(code: Code, pos: Pos, f: { message: string; hint: string; pool?: string; backend?: string; path?: (string | number)[] }): void {
    const key = `${code}\u0000${pos.file}:${pos.line}:${pos.column}\u0000${f.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.places.add(`${pos.file}:${pos.line}:${pos.column}`);
    const subject = { ...(f.pool ? { pool: f.pool } : {}), ...(f.backend ? { backend: f.backend } : {}) };
    this.findings.push({ ...finding(code, { message: f.message, hint: f.hint, path: f.path ?? [], subject }), ...this.locator.position(pos) });
  }

  /** True when some finding is already reported at `pos`. */
  reportedAt(pos: Pos): boolean {
    return this.places.has(`${pos.file}:${pos.line}:${pos.column}`);
  }

  /** EK529: a construct evenkeel does not model; the prediction around it is partial. */
  partial(pos: Pos, message: string, pool?: string): void {
    this.add('EK529', pos, { message, hint: 'the prediction is partial here: check this part by hand, or express it with prefix locations and upstreams', pool });
  }

  /** EK533: something nginx itself would refuse to load. */
  invalid(pos: Pos, message: string, hint: string, pool?: string, backend?: string): void {
    this.add('EK533', pos, { message, hint, pool, backend });
  }

  /** EK525 for a construct with the wrong shape (nginx -t fails the same way). */
  syntaxLike(pos: Pos, message: string, hint: string): void {
    this.add('EK525', pos, { message, hint });
  }

  /** `capacity=N` from the `# evenkeel:` comment on a directive's line. */
  capacityOf(d: Directive): number | undefined {
    if (!d.evenkeel) return undefined;
    const values = this.comment(d.evenkeel, ['capacity']);
    return values.capacity;
  }

  /** Parses `key=value …` from an evenkeel comment; unknown keys and bad numbers are EK536. */
  comment(c: FreeComment, allowed: readonly string[]): Record<string, number> & { sample?: string } {
    const out: Record<string, number> & { sample?: string } = {};
    // A `#` ends the keys: what follows is a remark (the export writes `# evenkeel: capacity=400  # api-1`).
    const keys = c.text.split('#')[0];
    for (const part of keys.split(/\s+/).filter(Boolean)) {
      const m = /^([A-Za-z]+)=(.+)$/.exec(part);
      if (!m || !allowed.includes(m[1])) {
        this.add('EK536', c.pos, { message: `"${part}" in an evenkeel comment is not understood here`, hint: `write # evenkeel: ${allowed.map((k) => `${k}=…`).join(' ')} (capacity= goes on a server or upstream line, the others on a line of their own)` });
        continue;
      }
      if (m[1] === 'sample') {
        out.sample = m[2];
        continue;
      }
      const n = Number(m[2]);
      if (!Number.isFinite(n) || n < 0) {
        this.add('EK536', c.pos, { message: `"${part}" in an evenkeel comment is not a number`, hint: `write ${m[1]}=500` });
        continue;
      }
      out[m[1]] = n;
    }
    return out;
  }
}

const GUARDRAIL_KEYS = ['peakRps', 'maxBackendShare', 'headroom', 'tolerateFailures', 'maxShift', 'sample'] as const;

/** `# evenkeel: peakRps=2000 maxBackendShare=0.5 sample=./traffic.jsonl` on lines of their own. */
export function readGuardrails(comments: readonly FreeComment[], r: Reading, mainFile: string): ConfigInput['guardrails'] | undefined {
  const g: Record<string, unknown> = {};
  const traffic: Record<string, unknown> = {};
  for (const c of comments) {
    const v = r.comment(c, GUARDRAIL_KEYS);
    if (v.peakRps !== undefined) traffic.peakRps = v.peakRps;
    if (v.sample !== undefined) traffic.sample = isAbsolute(v.sample) ? v.sample : resolve(dirname(mainFile), v.sample);
    for (const k of ['maxBackendShare', 'headroom', 'tolerateFailures', 'maxShift'] as const) if (v[k] !== undefined) g[k] = v[k];
    r.locator.set(['guardrails'], c.pos);
  }
  if (Object.keys(traffic).length) g.traffic = traffic;
  return Object.keys(g).length ? (g as ConfigInput['guardrails']) : undefined;
}
