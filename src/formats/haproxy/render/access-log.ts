/**
 * A listener's `accessLog` as HAProxy's `log` and `log-format` (configuration.txt 4.2 `log`,
 * 8.2.6). HAProxy writes to syslog or to its standard output, never to a file: `stdout: true`
 * is `log stdout format raw`, and `path:` is the local syslog socket with a note saying where
 * syslog should write. The fields are evenkeel's where HAProxy has them; the host and the
 * request target are saved in variables when the request arrives and JSON-escaped when logged.
 */
import type { AccessLog, Listener } from '../../../config/index.js';
import type { Notes } from './notes.js';
import { arg } from './text.js';

/** The same fields as evenkeel's JSON line (telemetry/access-log.ts), in the same order. */
function jsonFormat(listener: string): string {
  return `{${[
    '"time":"%[date,utime(%Y-%m-%dT%H:%M:%SZ)]"',
    '"client":"%ci"',
    '"method":"%HM"',
    '"host":"%[var(txn.ek_host),json(utf8s)]"',
    '"path":"%[var(txn.ek_path),json(utf8s)]"',
    '"status":%ST',
    '"bytes":%B',
    '"duration_ms":%Ta',
    '"upstream_ms":%Tr',
    `"listener":${JSON.stringify(listener)}`,
    '"route":"%[var(txn.ek_route)]"',
    '"pool":"%b"',
    '"backend":"%s"',
    '"version":null',
    '"canary":false',
    '"retries":"%rc"',
  ].join(',')}}`;
}

/** Combined log format: the client, GMT time, request line, status, bytes, referer and agent. */
const COMBINED = '%ci - - [%trg] "%HM %[var(txn.ek_path)] %HV" %ST %B "%[var(txn.ek_referer)]" "%[var(txn.ek_agent)]"';

/** A sample fraction as HAProxy's `sample <ranges>:<size>`: one in N, or k in 100. */
function sampleArg(sample: number): { arg: string; exact: boolean } | undefined {
  if (sample >= 1) return undefined;
  const n = Math.round(1 / sample);
  if (Math.abs(1 / n - sample) < 1e-9) return { arg: `sample 1:${n}`, exact: true };
  const k = Math.max(1, Math.round(sample * 100));
  return { arg: `sample ${k === 1 ? '1' : `1-${k}`}:100`, exact: Math.abs(k / 100 - sample) < 1e-9 };
}

/** The `log` and `log-format` lines, and the rules that save what they print. */
export function accessLogLines(l: Listener, section: string, notes: Notes): string[] {
  const a: AccessLog = l.accessLog!;
  const sample = sampleArg(a.sample);
  const sampled = sample ? ` ${sample.arg}` : '';
  const lines = a.stdout ? [`  log stdout format raw${sampled} local0`] : [`  log /dev/log${sampled} local0`, notes.add(section, `accessLog.path ${a.path}: HAProxy logs to syslog, not to a file; have syslog write facility local0 to ${a.path}`)];
  if (sample && !sample.exact) lines.push(notes.add(section, `accessLog.sample ${a.sample} is ${sample.arg.slice(7)} in HAProxy`));
  const json = a.format === 'json';
  lines.push(
    '  http-request set-var(txn.ek_host) req.hdr(host)',
    '  http-request set-var(txn.ek_path) pathq',
    ...(json ? [] : ['  http-request set-var(txn.ek_referer) req.hdr(referer)', '  http-request set-var(txn.ek_agent) req.hdr(user-agent)']),
    `  log-format ${arg(json ? jsonFormat(l.name) : COMBINED)}`,
  );
  if (json) lines.push(notes.add(section, 'access log: time is to the second, version is null and canary false (a canary shows as the canary: prefix of pool), pool is ek:no-route where evenkeel writes null, backend <NOSRV> where it writes null, upstream_ms -1 where it writes null, and retries a string (HAProxy writes +N when it redispatched)'));
  else lines.push(notes.add(section, 'access log: the referer and user agent are written as HAProxy logs them (non-printable bytes as #XX), not escaped as \\xHH'));
  return lines;
}
