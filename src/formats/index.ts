/**
 * One entry for every config format validate, plan and test read: an evenkeel YAML config, a
 * haproxy.cfg or an nginx.conf, told apart by content (or forced with `--from`), each loaded
 * into a LoadResult whose findings point into the file as written. Foreign configs carry no
 * guardrails or capacities, so those come from a guardrails file (`--guardrails GUARD.yaml`).
 */
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema } from '../config/index.js';
import { loadConfigFile, parseYamlAgainst, readBounded, MAX_CONFIG_BYTES, type LoadResult } from '../config/index.js';
import { finding, type Finding } from '../config/index.js';
import { RecordedLocator } from '../config/index.js';
import { looksLikeHaproxy, readHaproxy, textProblem, type ReadOptions } from './haproxy/index.js';
import { looksLikeNginx, readNginxFile } from './nginx/index.js';
import type { Env } from './haproxy/lexer.js';

export { readHaproxy, readHaproxyFile, looksLikeHaproxy } from './haproxy/index.js';

/** The formats evenkeel reads. */
export const FORMATS = ['evenkeel', 'haproxy', 'nginx'] as const;
export type Format = (typeof FORMATS)[number];

/** How to load a file. */
export interface LoadOptions {
  /** Skip detection. */
  from?: Format;
  /** A guardrails file for a foreign config: evenkeel's guardrails keys plus `capacity:`. */
  guardrailsFile?: string;
  /** Environment for `"${VAR}"` in a haproxy.cfg (default: none). */
  env?: Env;
}

/** A loaded config and the format it was read as; `unknown` carries the one line to print. */
export type Loaded = (LoadResult & { format: Format }) | { format: 'unknown'; file: string; message: string };

/** Which format a text is in, or undefined when it is none of them. */
export function detectFormat(text: string, file: string): Format | undefined {
  if (/\.(ya?ml|json)$/i.test(file)) return 'evenkeel';
  if (looksLikeHaproxy(text)) return 'haproxy';
  if (looksLikeNginx(text)) return 'nginx';
  try {
    const v: unknown = parseYaml(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return 'evenkeel';
  } catch {
    // A YAML file with a syntax error is still YAML when it has `key:` lines: report its error.
    if (/^[A-Za-z_][\w-]*:(\s|$)/m.test(text)) return 'evenkeel';
  }
  return undefined;
}

/**
 * Loads a config file in whatever format it is. Throws FileReadError (exit 2) only when the
 * file cannot be read; everything else is findings, or `unknown` with one line to print.
 */
export function loadAnyFile(file: string, options: LoadOptions = {}): Loaded {
  const ext = extname(file).toLowerCase();
  if (options.from === 'evenkeel' || (!options.from && ['.yaml', '.yml', '.json'].includes(ext))) {
    if (options.guardrailsFile) return { format: 'unknown', file, message: `${file}: --guardrails is for haproxy.cfg and nginx.conf files; an evenkeel config sets guardrails: itself` };
    return { ...loadConfigFile(file), format: 'evenkeel' };
  }
  const buf = readBounded(file, MAX_CONFIG_BYTES);
  const foreignName = options.from ?? (/haproxy|\.cfg$/i.test(file) ? 'haproxy' : /nginx|\.conf$/i.test(file) ? 'nginx' : undefined);
  const problem = buf === undefined ? { what: `it is larger than ${MAX_CONFIG_BYTES / 1048576} MiB, more than any config a human reviews`, line: 1 } : textProblem(buf);
  if (problem) {
    if (!foreignName) return { ...loadConfigFile(file), format: 'evenkeel' };
    return { ...notText(file, `${file} cannot be read as a ${foreignName} config: ${problem.what}`, problem.line), format: foreignName };
  }
  const text = buf!.toString('utf8');
  const format = options.from ?? detectFormat(text, file);
  if (!format) {
    return { format: 'unknown', file, message: `${file} is not a config evenkeel reads: expected an evenkeel YAML config (listeners: and pools:), a haproxy.cfg (global, defaults, frontend, backend or listen sections) or an nginx.conf (http { … } with upstream and server blocks); --from haproxy|nginx|evenkeel forces one` };
  }
  if (format === 'evenkeel') {
    if (options.guardrailsFile) return { format: 'unknown', file, message: `${file}: --guardrails is for haproxy.cfg and nginx.conf files; an evenkeel config sets guardrails: itself` };
    return { ...loadConfigFile(file), format };
  }
  const guard = options.guardrailsFile ? loadGuardrails(options.guardrailsFile) : undefined;
  if (guard && guard.findings.some((f) => f.severity === 'error')) {
    return { file, text, findings: guard.findings, locator: new RecordedLocator(), format };
  }
  const readOptions: ReadOptions = { env: options.env, guardrails: guard?.guardrails, capacity: guard?.capacity };
  switch (format) {
    case 'haproxy':
      return { ...withGuardFindings(readHaproxy(text, file, readOptions), guard), format };
    case 'nginx':
      // Read again from disk: includes are resolved against the file's folder.
      return { ...withGuardFindings(readNginxFile(file, { guardrails: guard?.guardrails, capacity: guard?.capacity }), guard), format };
  }
}

/** One EK500 finding (the file cannot be read as that format) and no config. */
function notText(file: string, message: string, line: number, hint = 'check that this is the config and not a log, a dump or a binary'): LoadResult {
  const f = finding('EK500', { message, hint, path: [] });
  return { file, text: '', findings: [{ ...f, line, column: 1 }], locator: new RecordedLocator() };
}

function withGuardFindings(r: LoadResult, guard: Guard | undefined): LoadResult {
  if (!guard) return r;
  return { ...r, findings: [...r.findings, ...guard.findings, ...unknownCapacity(r, guard)] };
}

// ---- guardrails files --------------------------------------------------------------------

const capacityValue = z.union([z.number().positive(), z.record(z.string(), z.number().positive())]);
/** The guardrails file: evenkeel's `guardrails:` keys at the top level, plus `capacity:`. */
const guardFileSchema = configSchema.shape.guardrails.unwrap().extend({ capacity: z.record(z.string(), capacityValue).optional() });

interface Guard {
  file: string;
  guardrails: Record<string, unknown>;
  capacity?: Record<string, number | Record<string, number>>;
  findings: Finding[];
  locate: (path: (string | number)[]) => { line: number; column: number } | undefined;
}

/** Reads a guardrails file; its findings point into it (`file` is set). */
export function loadGuardrails(file: string): Guard {
  const buf = readBounded(file, MAX_CONFIG_BYTES);
  if (!buf) return { file, guardrails: {}, findings: [{ ...finding('EK100', { message: `${file} is larger than ${MAX_CONFIG_BYTES / 1048576} MiB`, hint: 'a guardrails file is a short YAML file', path: [] }), file, line: 1, column: 1 }], locate: () => undefined };
  const text = buf.toString('utf8');
  // Positions cost a second parse, so they are built only when a finding needs one.
  let positioned: ReturnType<typeof parse> | undefined;
  const parse = () => parseYamlAgainst(guardFileSchema, text, file, 'a guardrails file has evenkeel guardrails keys (traffic:, maxBackendShare: …) and capacity: {BACKEND: N}');
  const locate = (path: (string | number)[]) => (positioned ??= parse()).locator.locate(path);
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true }) ?? {};
  } catch {
    raw = undefined;
  }
  if (raw === undefined || !guardFileSchema.safeParse(raw).success) {
    positioned = parse();
    return { file, guardrails: {}, findings: positioned.findings.map((f) => ({ ...f, file })), locate };
  }
  const { capacity, ...guardrails } = raw as Record<string, unknown>;
  const traffic = guardrails.traffic as Record<string, unknown> | undefined;
  if (traffic && typeof traffic.sample === 'string' && !isAbsolute(traffic.sample)) {
    guardrails.traffic = { ...traffic, sample: resolve(dirname(resolve(file)), traffic.sample) };
  }
  return { file, guardrails, capacity: capacity as Guard['capacity'], findings: [], locate };
}

/** `capacity:` keys that name no pool or server of the config: a typo would silently drop a check. */
function unknownCapacity(r: LoadResult, guard: Guard): Finding[] {
  if (!r.config || !guard.capacity) return [];
  const out: Finding[] = [];
  for (const [pool, value] of Object.entries(guard.capacity)) {
    const p = r.config.pools[pool];
    // A backend's name: the HAProxy server name, or for NGINX the address as written.
    const names = typeof value === 'number' || !p ? [] : Object.keys(value).filter((b) => !p.backends.some((x) => (x.name ?? x.address) === b));
    const bad = !p ? [[pool]] : names.map((b) => [pool, b]);
    for (const path of bad) {
      out.push({
        ...finding('EK102', { message: `capacity names ${path.length === 1 ? `backend ${pool}, which is not in ${r.file}` : `server ${path[1]} of ${pool}, which has no such server`}`, hint: `use the names in ${r.file}: ${path.length === 1 ? Object.keys(r.config.pools).join(', ') : p!.backends.map((b) => b.name ?? b.address).join(', ')}`, path: ['capacity', ...path] }),
        file: guard.file,
        ...(guard.locate(['capacity', ...path]) ?? {}),
      });
    }
  }
  return out;
}
