/**
 * Loading a config: bytes → YAML document (with positions) → zod → a frozen Config.
 * Never throws for anything wrong inside the file: every problem becomes a finding with its
 * line and column. Only a file that cannot be read at all throws (FileReadError, exit 2).
 */
import { closeSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { FileReadError } from '../errors.js';
import { didYouMean } from '../core/index.js';
import { configSchema, type Config } from './schema.js';
import { finding, type Finding, type Vocabulary } from './findings.js';
import { SourceLocator, formatPath, type PathLocator } from './source.js';

/** Configs larger than this are refused before parsing (a config is text a human reviews). */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** The outcome of loading: a config when the shape is valid, and every finding so far. */
export interface LoadResult {
  file: string;
  text: string;
  config?: Config;
  /**
   * When the schema refused some keys: the config without them, if the rest still loads. It is
   * never served; validate judges it so one bad key does not hide every other finding.
   */
  partial?: Config;
  findings: Finding[];
  locator: PathLocator;
  /** How the file names pools and backends (a haproxy.cfg's backends and servers); evenkeel's when absent. */
  vocabulary?: Vocabulary;
}

/** Reads and parses a config file. Throws FileReadError only when the file cannot be read. */
export function loadConfigFile(file: string): LoadResult {
  const buf = readBounded(file, MAX_CONFIG_BYTES);
  if (buf === undefined) {
    // A pipe or a device has no size: it was read until the limit.
    const size = statSync(file).size;
    const what = size > MAX_CONFIG_BYTES ? `${(size / 1048576).toFixed(1)} MiB` : `over ${MAX_CONFIG_BYTES / 1048576} MiB`;
    return failed(file, '', finding('EK100', {
      message: `${file} is ${what}; a config may be at most ${MAX_CONFIG_BYTES / 1048576} MiB`,
      hint: 'check that this is the config file and not a log or a traffic sample',
      path: [],
    }), { line: 1, column: 1 });
  }
  return parseConfigBuffer(buf, file);
}

/** Parses config bytes that came from somewhere other than a file (the admin API, a test). */
export function parseConfigBuffer(buf: Buffer, file = '<input>'): LoadResult {
  const nul = buf.indexOf(0);
  const badLine = nul >= 0 ? lineOfOffset(buf, nul) : firstInvalidUtf8Line(buf);
  if (badLine !== undefined) {
    return failed(file, '', finding('EK100', {
      message: `${file} is not text: ${nul >= 0 ? 'it contains a NUL byte' : 'it is not valid UTF-8'}`,
      hint: 'a config is UTF-8 YAML text; check that the right file was given',
      path: [],
    }), { line: badLine, column: 1 });
  }
  return parseConfigText(buf.toString('utf8'), file);
}

/** Parses config text. Pure: no file system access except resolving relative paths by name. */
export function parseConfigText(text: string, file = '<input>'): LoadResult {
  const r = parseYamlAgainst(configSchema, text, file, 'a config needs at least `listeners:` and `pools:`; see examples/website.yaml');
  if (r.value === undefined) return { file, text, findings: r.findings, locator: r.locator, ...(r.partial ? { partial: deepFreeze(resolvePaths(r.partial, file)) } : {}) };
  return { file, text, config: deepFreeze(resolvePaths(r.value, file)), findings: r.findings, locator: r.locator };
}

/** The outcome of parsing a YAML document against any schema (configs, test suites). */
export interface ParsedYaml<T> {
  value?: T;
  /** The value without the keys the schema refused, when the rest parses (see LoadResult.partial). */
  partial?: T;
  findings: Finding[];
  locator: SourceLocator;
}

/**
 * YAML text → a value of `schema`, with every syntax, duplicate-key, type and unknown-key
 * problem as a positioned finding (EK100–EK103). `shapeHint` says what the top level should be.
 */
export function parseYamlAgainst<S extends z.ZodType>(schema: S, text: string, file: string, shapeHint: string): ParsedYaml<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, stringKeys: false });
  const locator = new SourceLocator(doc, lineCounter);
  const findings: Finding[] = [];
  const fail = (f: Finding): ParsedYaml<z.output<S>> => ({ findings: [{ ...f, line: 1, column: 1 }], locator });
  for (const err of doc.errors) {
    const pos = locator.at(err.pos[0]);
    const duplicate = err.code === 'DUPLICATE_KEY';
    findings.push({
      ...finding(duplicate ? 'EK103' : 'EK100', {
        message: duplicate ? `duplicate key "${keyAt(text, err.pos[0])}": it is already set above in the same mapping` : `YAML syntax error: ${firstLine(err.message)}`,
        hint: duplicate
          ? 'YAML keeps only one of two equal keys, so one of them would be silently ignored; remove or rename one'
          : 'fix the YAML at this position (indentation, a missing colon or quote are the usual causes)',
        path: [],
      }),
      ...pos,
    });
  }
  if (findings.length > 0) return { findings, locator };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return fail(finding('EK100', { message: `YAML cannot be expanded: ${(err as Error).message}`, hint: 'reduce the use of aliases (*name); each alias may expand at most 1000 nodes', path: [] }));
  }
  if (raw === null || raw === undefined) {
    return fail(finding('EK101', { message: `${file} is empty`, hint: shapeHint, path: [] }));
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(finding('EK101', { message: `the top level of ${file} must be a mapping, not ${Array.isArray(raw) ? 'a list' : typeof raw}`, hint: shapeHint, path: [] }));
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) findings.push(...issueFindings(schema, issue, raw));
    for (const f of findings) Object.assign(f, locator.locate(f.path));
    const partial = withoutRefusedKeys(raw, parsed.error.issues);
    const retry = partial === undefined ? undefined : schema.safeParse(partial);
    return { findings, locator, ...(retry?.success ? { partial: retry.data as z.output<S> } : {}) };
  }
  return { value: parsed.data as z.output<S>, findings, locator };
}

/**
 * A copy of `raw` without the mapping keys the schema refused (unknown keys, wrong types and
 * values), so defaults apply there; undefined when an issue is not about one key of a mapping
 * (a whole list entry, a missing required key): removing list entries would shift the
 * positions of the ones after them.
 */
function withoutRefusedKeys(raw: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(raw) as Record<string, unknown>;
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...path, k]) : [path];
    for (const at of keys) {
      const last = at[at.length - 1];
      if (typeof last !== 'string') return undefined;
      const parent = valueAt(copy, at.slice(0, -1));
      if (typeof parent !== 'object' || parent === null || Array.isArray(parent) || !(last in parent)) return undefined;
      delete (parent as Record<string, unknown>)[last];
    }
  }
  return copy;
}

function failed(file: string, text: string, f: Finding, pos: { line: number; column: number }, locator?: SourceLocator): LoadResult {
  return { file, text, findings: [{ ...f, ...pos }], locator: locator ?? new SourceLocator(undefined, new LineCounter()) };
}

/** Turns one zod issue into findings that say what, where, and how to fix it. */
function issueFindings(schema: z.ZodType, issue: z.core.$ZodIssue, raw: unknown): Finding[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
  const where = formatPath(path);
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, path);
    return issue.keys.map((key) => {
      const guess = didYouMean(key, known);
      return finding('EK102', {
        message: `unknown key "${key}" in ${where}${guess ? ` (did you mean "${guess}"?)` : ''}`,
        hint: guess ? `rename it to "${guess}"` : known.length ? `keys allowed here: ${known.join(', ')}` : 'remove it',
        path: [...path, key],
      });
    });
  }
  const value = valueAt(raw, path);
  if (issue.code === 'invalid_type') {
    if (value === undefined) {
      const key = path[path.length - 1];
      return [finding('EK101', {
        message: `${formatPath(path.slice(0, -1))} is missing the required key "${String(key)}"`,
        hint: `add the key "${String(key)}": ${hintFor(path, issue.expected)}`,
        path: path.slice(0, -1),
      })];
    }
    return [finding('EK101', {
      message: `${where} must be ${article(issue.expected)}, not ${describe(value)}`,
      hint: hintFor(path, issue.expected),
      path,
    })];
  }
  if (issue.code === 'invalid_value') {
    const options = issue.values.map(String);
    const guess = typeof value === 'string' ? didYouMean(value, options) : undefined;
    return [finding('EK101', {
      message: `${where} is ${describe(value)}${guess ? ` (did you mean "${guess}"?)` : ''}`,
      hint: `use one of: ${options.join(', ')}`,
      path,
    })];
  }
  if ((issue.code === 'too_big' || issue.code === 'too_small') && typeof value === 'number') {
    const big = issue.code === 'too_big';
    const bound = big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum;
    const op = big ? (issue.inclusive ? '<=' : '<') : issue.inclusive ? '>=' : '>';
    return [finding('EK101', { message: `${where} must be ${op} ${bound} (got ${value})`, hint: hintFor(path, `a number ${op} ${bound}`), path })];
  }
  if (issue.code === 'invalid_union') {
    return [finding('EK101', { message: `${where} is ${describe(value)}, which is not allowed here`, hint: hintFor(path, 'a valid value'), path })];
  }
  return [finding('EK101', { message: `${where}: ${issue.message}${value !== undefined && typeof value !== 'object' ? ` (got ${describe(value)})` : ''}`, hint: hintFor(path, issue.message), path })];
}

function hintFor(path: (string | number)[], expected: string): string {
  const key = [...path].reverse().find((p) => typeof p === 'string') as string | undefined;
  const examples: Record<string, string> = {
    address: 'write it as host:port, e.g. 10.0.0.11:8080',
    weight: 'use a number >= 0, e.g. weight: 1 (0 drains the backend)',
    capacity: 'use the sustainable requests per second, e.g. capacity: 500',
    interval: 'use a duration such as 2s', timeout: 'use a duration such as 1s',
    connect: 'use a duration such as 2s', request: 'use a duration such as 30s', idle: 'use a duration such as 60s',
    peakRps: 'use the expected peak requests per second, e.g. peakRps: 2000',
  };
  return (key && examples[key]) || `expected ${expected}; see docs/config.md for ${formatPath(path)}`;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

type JsonSchemaNode = { properties?: Record<string, JsonSchemaNode>; additionalProperties?: JsonSchemaNode | boolean; items?: JsonSchemaNode; anyOf?: JsonSchemaNode[] };
const jsonSchemaCache = new WeakMap<z.ZodType, JsonSchemaNode>();

/** The keys the schema allows at `path`, for did-you-mean. Walks the generated JSON Schema. */
function keysAt(schema: z.ZodType, path: (string | number)[]): string[] {
  let root = jsonSchemaCache.get(schema);
  if (!root) {
    root = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as JsonSchemaNode;
    jsonSchemaCache.set(schema, root);
  }
  let nodes: JsonSchemaNode[] = [root];
  for (const seg of path) {
    const next: JsonSchemaNode[] = [];
    for (const n of nodes.flatMap((x) => [x, ...(x.anyOf ?? [])])) {
      if (typeof seg === 'number' && n.items) next.push(n.items);
      else if (typeof seg === 'string' && n.properties?.[seg]) next.push(n.properties[seg]);
      else if (typeof seg === 'string' && typeof n.additionalProperties === 'object') next.push(n.additionalProperties);
    }
    nodes = next;
  }
  return [...new Set(nodes.flatMap((n) => [n, ...(n.anyOf ?? [])]).flatMap((n) => Object.keys(n.properties ?? {})))];
}

/** Relative file paths in a config resolve against the config file's folder. */
function resolvePaths(config: Config, file: string): Config {
  const base = file.startsWith('<') ? process.cwd() : dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const traffic = config.guardrails.traffic;
  return {
    ...config,
    guardrails: { ...config.guardrails, traffic: traffic?.sample ? { ...traffic, sample: abs(traffic.sample) } : traffic },
    admin: { ...config.admin, tokenFile: config.admin.tokenFile ? abs(config.admin.tokenFile) : undefined },
    store: { ...config.store, path: abs(config.store.path) },
    listeners: config.listeners.map((l) => ({
      ...l,
      ...(l.accessLog?.path ? { accessLog: { ...l.accessLog, path: abs(l.accessLog.path) } } : {}),
      ...(l.tls ? { tls: { ...l.tls, certificates: l.tls.certificates.map((c) => ({ cert: abs(c.cert), key: abs(c.key) })) } } : {}),
    })),
    engine: 'runDir' in config.engine && config.engine.runDir ? { ...config.engine, runDir: abs(config.engine.runDir) } : config.engine,
  };
}

/** Config is validated once and then frozen (Fastify's habit): nothing downstream may mutate it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads at most `limit` bytes; undefined when the file is larger. Throws FileReadError when
 * unreadable. A device or a pipe (`/dev/zero`, `<(zcat …)`) has no size to check first: it is
 * read until the limit, so an endless one is refused instead of filling memory.
 */
export function readBounded(file: string, limit: number): Buffer | undefined {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    throw new FileReadError(file, reasonOf(err), { cause: err });
  }
  if (st.isDirectory()) throw new FileReadError(file, 'it is a directory');
  if (st.isFile() && st.size > limit) return undefined;
  try {
    return st.isFile() ? readFileSync(file) : readStreamBounded(file, limit);
  } catch (err) {
    throw new FileReadError(file, reasonOf(err), { cause: err });
  }
}

function readStreamBounded(file: string, limit: number): Buffer | undefined {
  const fd = openSync(file, 'r');
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const part = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, part, 0, part.length, null);
      if (n === 0) return Buffer.concat(parts, total);
      total += n;
      if (total > limit) return undefined;
      parts.push(part.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (err as Error).message;
}

/** The key written at `offset` (plain or quoted), for the duplicate-key message. */
function keyAt(text: string, offset: number): string {
  const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:\n]*?)\s*:/.exec(text.slice(offset, offset + 200));
  return (m ? m[1] : text.slice(offset, offset + 20)).replace(/^["']|["']$/g, '').trim();
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

function lineOfOffset(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (buf[i] === 10) line++;
  return line;
}

function firstInvalidUtf8Line(buf: Buffer): number | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(buf);
    return undefined;
  } catch {
    let start = 0;
    let line = 1;
    while (start < buf.length) {
      let end = buf.indexOf(10, start);
      if (end < 0) end = buf.length;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(start, end));
      } catch {
        return line;
      }
      start = end + 1;
      line++;
    }
    return 1;
  }
}
