/**
 * Traffic samples: JSON Lines, one request a line
 * (`{"method":"GET","host":"example.com","path":"/api/x","headers":{…},"clientIp":"…"}`).
 * Bounded in size; every malformed line becomes a finding with its file:line, and a sample
 * with problems is never half-used silently.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import type { RequestInfo } from '../balancer/index.js';
import { finding, readBounded, type Finding } from '../config/index.js';

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
  const unreadable = (err: unknown): Sample => {
    const code = (err as NodeJS.ErrnoException).code;
    return whole(`traffic sample ${file} cannot be read: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 'fix the path in guardrails.traffic.sample (relative paths resolve against the config file\'s folder) or remove the key');
  };
  const tooBig = (bytes: string) => whole(`traffic sample ${file} is ${bytes}; at most ${MAX_SAMPLE_BYTES / 1048576} MiB`, 'record or cut a shorter window of traffic (100,000 requests are plenty)');
  let regular: boolean;
  try {
    const st = statSync(file);
    if (st.isDirectory()) return whole(`traffic sample ${file} is a directory`, 'point guardrails.traffic.sample at a .jsonl file');
    if (st.size > MAX_SAMPLE_BYTES) return tooBig(`${(st.size / 1048576).toFixed(0)} MiB`);
    regular = st.isFile();
  } catch (err) {
    return unreadable(err);
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
  // A pipe or a device can be read only once: it takes the line-by-line path straight away.
  let read: 'done' | 'by-line' | 'too-big';
  try {
    read = regular ? parseInChunks(file, requests) : 'by-line';
  } catch (err) {
    return unreadable(err);
  }
  if (read === 'too-big') return tooBig(`over ${MAX_SAMPLE_BYTES / 1048576} MiB`);
  // Anything unusual (a blank line, a broken or non-object line) is read again line by line,
  // which knows each line's number.
  if (read === 'by-line') {
    requests.length = 0;
    let buf: Buffer | undefined;
    try {
      buf = readBounded(file, MAX_SAMPLE_BYTES);
    } catch (err) {
      return unreadable((err as Error).cause ?? err);
    }
    if (!buf) return tooBig(`over ${MAX_SAMPLE_BYTES / 1048576} MiB`);
    const lines = decode(buf).split('\n');
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

/** A sample is nearly always ASCII: then latin1 is the same text and costs no decoding. */
function decode(buf: Buffer): string {
  return buf.toString(isAscii(buf) ? 'latin1' : 'utf8');
}

/** Bytes read at a time by the fast path (it grows for a longer line). */
const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * The fast path: the file read in chunks of whole lines, each chunk parsed as one JSON array
 * (its newlines turned into commas in the buffer, between a `[` and a `]`): one JSON.parse per
 * chunk rather than one per line, into a buffer used again and again. Reading the whole file
 * into one fresh buffer and string cost more than the parse on this machine (first touches of
 * fresh memory): 100,000 lines (13.8 MB) took 350 ms that way and 220–250 ms in chunks.
 * 'by-line' when any line would need its own line number: a blank, broken or non-object line,
 * or a line holding more than one value. (Exported for its test.)
 */
export function parseInChunks(file: string, out: SampleRequest[]): 'done' | 'by-line' | 'too-big' {
  const fd = openSync(file, 'r');
  try {
    // buf[0] holds the `[`, and the `carry` bytes of an unfinished line wait from buf[1] on.
    let buf = Buffer.allocUnsafe(CHUNK_BYTES + 1);
    let carry = 0;
    let pos = 0;
    for (;;) {
      // A line as long as the buffer: double it (there is always room for one more byte).
      if (carry >= buf.length - 2) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, 1 + carry);
        buf = bigger;
      }
      buf[0] = 0x5b; // [
      const n = readSync(fd, buf, 1 + carry, buf.length - 2 - carry, pos);
      pos += n;
      // The file grew past the limit since it was measured.
      if (pos > MAX_SAMPLE_BYTES) return 'too-big';
      const end = 1 + carry + n;
      if (end === 1) return 'done';
      // The chunk is the lines up to its last newline; at the end of the file, all of it.
      const cut = n === 0 ? end : buf.lastIndexOf(NEWLINE, end - 1);
      if (cut < 1) {
        carry = end - 1;
        continue;
      }
      let lines = 1;
      for (let i = buf.indexOf(NEWLINE, 1); i !== -1 && i < cut; i = buf.indexOf(NEWLINE, i + 1)) {
        buf[i] = 0x2c; // ,
        lines++;
      }
      buf[cut] = 0x5d; // ] (over the chunk's last newline, which the next chunk does not need)
      let values: unknown;
      try {
        values = JSON.parse(decode(buf.subarray(0, cut + 1)));
      } catch {
        return 'by-line';
      }
      const list = values as unknown[];
      if (list.length !== lines) return 'by-line';
      for (let i = 0; i < list.length; i++) if (parseValue(list[i], out) !== undefined) return 'by-line';
      if (n === 0) return 'done';
      buf.copy(buf, 1, cut + 1, end);
      carry = end - cut - 1;
    }
  } finally {
    closeSync(fd);
  }
}
