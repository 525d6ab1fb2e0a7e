/**
 * `serve --pid-file FILE`: the pid is written when serve has started and removed when it
 * stops, so `kill -HUP $(cat FILE)` reloads and `kill -USR1 $(cat FILE)` reopens the access
 * logs without `pkill -f` (which also hits the npx wrapper and orphans the server). A file
 * naming a live process refuses the start; a stale one (its process is gone) is replaced.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PidFileError } from '../errors.js';

/** The pid in `file`, or undefined when there is no file or it holds no number. */
function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throws PidFileError when `file` names another live process (checked before anything starts). */
export function checkPidFile(file: string): void {
  const pid = readPid(file);
  if (pid !== undefined && pid !== process.pid && alive(pid)) {
    throw new PidFileError(`${file} names process ${pid}, which is running: is evenkeel already serving? Stop it (kill -TERM ${pid}) or choose another --pid-file`);
  }
}

/** Writes this process's pid into `file` (after checking again). */
export function writePidFile(file: string): void {
  checkPidFile(file);
  try {
    writeFileSync(file, `${process.pid}\n`, { mode: 0o644 });
  } catch (err) {
    throw new PidFileError(`cannot write --pid-file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Removes `file` if it still names this process (another instance may have taken it over). */
export function removePidFile(file: string): void {
  if (readPid(file) === process.pid) rmSync(file, { force: true });
}
