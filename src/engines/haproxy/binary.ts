/**
 * Finding the haproxy binary and checking its version before anything starts: `serve` with
 * `engine: haproxy` fails with one line naming the Debian package when it is missing or older
 * than 2.6 (`option idle-close-on-response`, which hitless reloads need, arrived in 2.6).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { EngineError } from '../../errors.js';

const run = promisify(execFile);

/** The oldest HAProxy the engine drives. */
export const MIN_VERSION = [2, 6] as const;

/** Where Debian installs it. */
export const DEFAULT_BINARY = '/usr/sbin/haproxy';

const INSTALL = 'install Debian\'s "haproxy" package (apt-get install haproxy)';

/** A usable binary. */
export interface HaproxyBinary {
  readonly path: string;
  /** As `haproxy -v` prints it, e.g. `2.6.12-1+deb12u4`. */
  readonly version: string;
}

/** Runs `binary -v`; throws EngineError when it cannot run or is older than MIN_VERSION. */
export function checkBinary(binary = DEFAULT_BINARY): HaproxyBinary {
  const r = spawnSync(binary, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    const why = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'not found' : `does not run (${r.error?.message ?? r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`})`;
    throw new EngineError(`engine haproxy: ${binary} ${why}: ${INSTALL}, version ${MIN_VERSION.join('.')} or newer, or set engine.binary`);
  }
  const m = /version (\d+)\.(\d+)(\S*)/i.exec(r.stdout);
  if (!m) throw new EngineError(`engine haproxy: ${binary} -v does not say its version: ${INSTALL}`);
  const version = `${m[1]}.${m[2]}${m[3]}`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
    throw new EngineError(`engine haproxy: ${binary} is version ${version}, older than ${MIN_VERSION.join('.')}: ${INSTALL} from a newer release (Debian 12 ships 2.6)`);
  }
  return { path: binary, version };
}

/** `haproxy -c -q -f file`: undefined when HAProxy would load it, else its ALERT lines. */
export async function checkConfig(binary: string, file: string): Promise<string | undefined> {
  try {
    await run(binary, ['-c', '-q', '-f', file], { timeout: 30_000 });
    return undefined;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return alerts(`${e.stdout ?? ''}\n${e.stderr ?? ''}`) || e.message;
  }
}

/** HAProxy's ALERT lines, without their prefixes, on one line. */
export function alerts(output: string): string {
  return output.split('\n').filter((l) => l.includes('[ALERT]')).map((l) => l.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, '').trim()).join('; ');
}
