/**
 * The engine's own check, when its binary is installed: `haproxy -c -f FILE`, its alerts and
 * warnings turned into findings at their file:line. Never required: without the binary (or
 * when it cannot run) it returns nothing. This is the CLI's impure edge; formats/ stays pure.
 */
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { finding, type Finding } from '../config/index.js';

/** Where Debian installs HAProxy; EVENKEEL_HAPROXY overrides it (an empty value turns the check off). */
export function haproxyBinary(): string | undefined {
  const bin = process.env.EVENKEEL_HAPROXY ?? '/usr/sbin/haproxy';
  return bin && existsSync(bin) ? bin : undefined;
}

/**
 * Runs `haproxy -c -f file`; EK511 for each alert, EK512 for each warning, at their line.
 * Asynchronous so that HAProxy checks the file while evenkeel reads and judges it (on two cores
 * its ~120 ms of a 1,000-server check cost nothing): start it first, await it last.
 */
export function haproxyCheck(file: string): Promise<Finding[]> {
  const bin = haproxyBinary();
  if (!bin) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile(bin, ['-c', '-f', file], { encoding: 'utf8', timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      // A non-zero exit carries its status in err.code; a spawn failure (a string code) or a
      // kill by the timeout is no verdict of HAProxy's, so it says nothing.
      const status: unknown = err ? err.code : 0;
      resolve(typeof status === 'number' ? checkFindings(file, `${stdout}\n${stderr}`, status) : []);
    });
  });
}

/** HAProxy's output of `-c` turned into findings. */
function checkFindings(file: string, output: string, status: number): Finding[] {
  const out: Finding[] = [];
  const lines = output.split('\n');
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
  if (status !== 0 && !out.some((f) => f.code === 'EK511')) {
    out.push({ ...finding('EK511', { message: `haproxy -c exited with status ${status}`, hint: `run haproxy -c -f ${file} to see why`, path: [] }), line: 1, column: 1 });
  }
  return out;
}
