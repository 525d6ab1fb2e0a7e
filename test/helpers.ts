/** Shared test helpers: temp folders, running the built CLI, small configs. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A fresh temp folder. */
export function tempDir(prefix = 'evenkeel-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` (name → content) into a fresh temp folder and returns its path. */
export function withFiles(files: Record<string, string | Buffer>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Runs `node bin/evenkeel.js ARGS` (the compiled CLI, as a user would). */
export function cli(args: string[], options: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'evenkeel.js'), ...args], { cwd: options.cwd ?? ROOT, encoding: 'utf8', input: options.input, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A minimal valid config: one listener, one pool of `n` backends. Extra YAML is appended. */
export function smallConfig(opts: { weights?: number[]; capacity?: number; peakRps?: number; extra?: string } = {}): string {
  const weights = opts.weights ?? [1, 1, 1, 1];
  const backends = weights.map((w, i) => `      - { name: web-${i + 1}, address: 10.0.0.${i + 1}:8080, weight: ${w} }`).join('\n');
  return `listeners:
  - name: public
    address: 127.0.0.1:8080
    routes:
      - name: site
        pool: web
pools:
  web:
${opts.capacity ? `    capacity: ${opts.capacity}\n` : ''}    healthCheck: { path: /healthz }
    backends:
${backends}
guardrails:
${opts.peakRps ? `  traffic: { peakRps: ${opts.peakRps} }\n` : '  maxShift: 0.5\n'}${opts.extra ?? ''}`;
}
