/**
 * Traffic samples: JSON Lines, one request a line
 * (`{"method":"GET","host":"example.com","path":"/api/x","headers":{…},"clientIp":"…"}`).
 * Bounded in size; every malformed line becomes a finding with its file:line, and a sample
 * with problems is never half-used silently.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import type { RequestInfo } from '../balancer/index.js';
import { finding, type Finding } from '../config/index.js';

/** A sampled request; `listener` optionally pins it to one listener. */
export interface SampleRequest extends RequestInfo {
  listener?: string;
}

/** A loaded sample and the problems found in it. */
export interface Sample {
  file: string;
  requests: SampleRequest[];
  findings: Finding[];
}

/** Samples above this size are refused: record a shorter window instead. */
export const MAX_SAMPLE_BYTES = 256 * 1024 * 1024;
const MAX_REPORTED_LINES = 5;

/**
 * Loads a sample. `configPath` is where the config names the sample (for the location of a
 * finding about the file as a whole).
 */
export function loadSample(file: string, configPath: (string | number)[] = ['guardrails', 'traffic', 'sample']): Sample {
  const whole = (message: string, hint: string): Sample => ({ file, requests: [], findings: [finding('EK119', { message, hint, path: configPath })] });
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) return whole(`traffic sample ${file} is a directory`, 'point guardrails.traffic.sample at a .jsonl file');
    if (st.size > MAX_SAMPLE_BYTES) return whole(`traffic sample ${file} is ${(st.size / 1048576).toFixed(0)} MiB; at most ${MAX_SAMPLE_BYTES / 1048576} MiB`, 'record or cut a shorter window of traffic (100,000 requests are plenty)');
    // A sample is nearly always ASCII: then latin1 is the same text and costs no decoding
    // (utf8 decoding was a fifth of validate with a 100,000-line sample).
    const buf = readFileSync(file);
    text = isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return whole(`traffic sample ${file} cannot be read: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'fix the path in guardrails.traffic.sample (relative paths resolve against the config file\'s folder) or remove the key');
  }
  const requests: SampleRequest[] = [];
  const findings: Finding[] = [];
  let bad = 0;
  const report = (lineNo: number, problem: string) => {
    bad++;
    if (bad <= MAX_REPORTED_LINES) {
      findings.push({ ...finding('EK119', { message: `traffic sample line ${lineNo}: ${problem}`, hint: 'each line is one JSON object such as {"method":"GET","host":"example.com","path":"/"}', path: configPath }), file, line: lineNo, column: 1 });
    }
  };
  // Fast path: the lines joined into one JSON array and parsed in one call, about 3× quicker
  // than a parse per line. Anything unusual (a blank line, a broken or non-object line) falls
  // back to the line-by-line path, which knows each line's number.
  if (!parseWhole(text, requests)) {
    requests.length = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '') continue;
      const problem = parseLine(line, requests);
      if (problem) report(i + 1, problem);
    }
  }
  if (bad > MAX_REPORTED_LINES) {
    findings.push({ ...finding('EK119', { message: `traffic sample ${file}: ${bad} malformed lines in all (the first ${MAX_REPORTED_LINES} are listed)`, hint: 'regenerate the sample; a predicted distribution from a partly unreadable sample would mislead', path: configPath }), file });
  }
  if (bad === 0 && requests.length === 0) {
    findings.push(finding('EK119', { message: `traffic sample ${file} has no requests`, hint: 'record traffic into it, or remove guardrails.traffic.sample to spread traffic evenly across routes', path: configPath }));
  }
  return { file, requests, findings };
}

const cache = new Map<string, Sample>();

/**
 * `loadSample`, once per path and process: plan reads one sample for both versions, and a
 * test suite for its config and its distribution assertions.
 */
export function loadSampleCached(file: string): Sample {
  let s = cache.get(file);
  if (!s) {
    s = loadSample(file);
    cache.set(file, s);
  }
  return s;
}

/** Parses one line into `out`; returns a problem description, or undefined when it was fine. */
function parseLine(line: string, out: SampleRequest[]): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  return parseValue(v, out);
}

/** Checks one parsed line and appends it to `out`; returns a problem description, or undefined. */
function parseValue(v: unknown, out: SampleRequest[]): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'expected a JSON object';
  const o = v as Record<string, unknown>;
  if (o.path !== undefined && (typeof o.path !== 'string' || !o.path.startsWith('/'))) return '"path" must be a string starting with /';
  if (o.host !== undefined && typeof o.host !== 'string') return '"host" must be a string';
  if (o.method !== undefined && typeof o.method !== 'string') return '"method" must be a string';
  if (o.clientIp !== undefined && typeof o.clientIp !== 'string') return '"clientIp" must be a string';
  if (o.listener !== undefined && typeof o.listener !== 'string') return '"listener" must be a string';
  // Normalised in place: the parsed object becomes the SampleRequest, so 100,000 lines cost
  // 100,000 objects rather than twice that (garbage collection was a fifth of validate).
  const EMPTY: Record<string, string> = {};
  let headers = EMPTY;
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) return '"headers" must be an object of strings';
    const h = o.headers as Record<string, unknown>;
    let lower = true;
    for (const k in h) {
      if (typeof h[k] !== 'string') return `header "${k}" must be a string`;
      if (k !== k.toLowerCase()) lower = false;
    }
    headers = lower ? (h as Record<string, string>) : Object.fromEntries(Object.entries(h).map(([k, hv]) => [k.toLowerCase(), hv as string]));
  }
  o.headers = headers;
  o.method = typeof o.method === 'string' ? o.method.toUpperCase() : 'GET';
  if (typeof o.host !== 'string') o.host = '';
  if (typeof o.path !== 'string') o.path = '/';
  out.push(o as unknown as SampleRequest);
  return undefined;
}

/** Parses the whole file as one array; false when any line would need a line number to report. */
function parseWhole(text: string, out: SampleRequest[]): boolean {
  let values: unknown;
  try {
    values = JSON.parse(`[${text.trim().replaceAll('\n', ',')}]`);
  } catch {
    return false;
  }
  const list = values as unknown[];
  for (let i = 0; i < list.length; i++) if (parseValue(list[i], out) !== undefined) return false;
  return true;
}
