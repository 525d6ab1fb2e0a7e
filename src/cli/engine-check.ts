/**
 * The engine's own check, when its binary is installed: `haproxy -c -f FILE`, its alerts and
 * warnings turned into findings at their file:line. Never required: without the binary (or
 * when it cannot run) it returns nothing. This is the CLI's impure edge; formats/ stays pure.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { finding, type Finding } from '../config/findings.js';

/** Where Debian installs HAProxy; EVENKEEL_HAPROXY overrides it (an empty value turns the check off). */
export function haproxyBinary(): string | undefined {
  const bin = process.env.EVENKEEL_HAPROXY ?? '/usr/sbin/haproxy';
  return bin && existsSync(bin) ? bin : undefined;
}

/** Runs `haproxy -c -f file`; EK511 for each alert, EK512 for each warning, at their line. */
export function haproxyCheck(file: string): Finding[] {
  const bin = haproxyBinary();
  if (!bin) return [];
  const r = spawnSync(bin, ['-c', '-f', file], { encoding: 'utf8', timeout: 15_000, env: { ...process.env } });
  if (r.error || r.status === null) return [];
  const out: Finding[] = [];
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  for (const line of lines) {
    const m = /^\[(ALERT|WARNING)\]\s*(?:\(\d+\))?\s*:\s*(?:config\s*:\s*)?(.*)$/.exec(line.trim());
    if (!m) continue;
    const text = m[2];
    const at = /\[([^\]]+):(\d+)\]\s*:?\s*/.exec(text);
    if (!at && /^(Fatal errors found|Error\(s\) found in configuration file)/.test(text)) continue;
    const message = text.replace(/^parsing\s+/, '').replace(at?.[0] ?? '', '').replace(/\.+$/, '').trim();
    const alert = m[1] === 'ALERT';
    out.push({
      ...finding(alert ? 'EK511' : 'EK512', {
        message: `haproxy -c: ${message}`,
        hint: alert ? 'HAProxy would refuse to start with this file: fix the line it names' : 'HAProxy starts, but says this is likely a mistake',
        path: [],
      }),
      line: at ? Number(at[2]) : 1,
      column: 1,
      ...(at && basename(at[1]) !== basename(file) ? { file: at[1] } : {}),
    });
  }
  if (r.status !== 0 && !out.some((f) => f.code === 'EK511')) {
    out.push({ ...finding('EK511', { message: `haproxy -c exited with status ${r.status}`, hint: `run haproxy -c -f ${file} to see why`, path: [] }), line: 1, column: 1 });
  }
  return out;
}
