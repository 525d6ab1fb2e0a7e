/**
 * The master CLI of HAProxy in master-worker mode (management.txt §9.4): one command per
 * connection on a unix socket, answered until the master closes it. `@1 CMD` sends CMD to the
 * current worker; `reload` re-executes the master, which may reset the connection.
 */
import net from 'node:net';

/** Sends `command` and resolves with the whole answer (rejects on a socket error or after `timeoutMs`). */
export function masterCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the haproxy master did not answer "${command}" within ${timeoutMs}ms`));
    }, timeoutMs);
    s.on('connect', () => {
      // Half-close: in non-interactive mode the master answers and closes once input ends.
      s.end(`${command}\n`);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** What `show proc` says (2.6 format). */
export interface ProcInfo {
  readonly masterPid: number;
  readonly reloads: number;
  /** Failed reloads since the last successful one. */
  readonly failed: number;
  /** Current workers (the newest first), then old workers still draining. */
  readonly workers: readonly number[];
  readonly oldWorkers: readonly number[];
}

/**
 * Parses `show proc`:
 * `4926  master  5 [failed: 2]  0d00h00m31s  2.6.12`, then `# workers`, `# old workers`.
 * Returns undefined for an empty or partial answer (the master is re-executing).
 */
export function parseShowProc(text: string): ProcInfo | undefined {
  let section = '';
  let master: { pid: number; reloads: number; failed: number } | undefined;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      section = /old workers/.test(line) ? 'old' : /workers/.test(line) ? 'workers' : /programs/.test(line) ? 'programs' : section;
      continue;
    }
    const cols = line.trim().split(/\s+/);
    if (cols.length < 2 || !/^\d+$/.test(cols[0])) continue;
    if (cols[1] === 'master') {
      const m = /^(\d+)\s*\[failed:\s*(\d+)\]/.exec(line.trim().split(/\s+/).slice(2).join(' '));
      master = { pid: Number(cols[0]), reloads: Number(m?.[1] ?? cols[2]), failed: Number(m?.[2] ?? 0) };
    } else if (cols[1] === 'worker') {
      (section === 'old' ? oldWorkers : workers).push(Number(cols[0]));
    }
  }
  if (!master || (workers.length === 0 && oldWorkers.length === 0)) return undefined;
  return { masterPid: master.pid, reloads: master.reloads, failed: master.failed, workers, oldWorkers };
}
