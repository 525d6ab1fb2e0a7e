/**
 * One HAProxy master in master-worker mode (`-W -S master.sock`), started in the foreground
 * as a child of evenkeel. A reload is `reload` on the master CLI, confirmed by polling `show
 * proc` (2.6 has no reload status reply): success is a new current worker and no failed
 * reload; on failure the master keeps the old worker serving and says `[failed: N]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError } from '../../errors.js';
import { alerts } from './binary.js';
import { masterCommand, parseShowProc, type ProcInfo } from './master-cli.js';

/** How long a start or reload may take before it counts as failed. */
const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 50;

/** Where the process lives on disk. */
export interface ProcessPaths {
  readonly binary: string;
  readonly config: string;
  readonly masterSocket: string;
  readonly pidFile: string;
}

/** A running master (and its workers). */
export class HaproxyProcess {
  private child: ChildProcess | undefined;
  private stderr = '';
  private exited = false;
  private stopping = false;
  /** Resolves when the master exits. */
  private exit: Promise<number | null> = Promise.resolve(null);

  /** `onExit` is called when the master exits without stop() being asked. */
  constructor(private readonly paths: ProcessPaths, private readonly onExit: (code: number | null, stderr: string) => void) {}

  /** The master's pid, while it runs. */
  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  /** The last lines HAProxy wrote on stderr (alerts and notices). */
  recentOutput(lines = 12): string {
    return this.stderr.split('\n').filter(Boolean).slice(-lines).join('\n');
  }

  /** Starts the master; resolves when its first worker runs, throws EngineError with HAProxy's alerts otherwise. */
  async start(): Promise<ProcInfo> {
    const p = this.paths;
    await stopStale(p);
    this.exited = false;
    this.stderr = '';
    const child = spawn(p.binary, ['-W', '-S', `${p.masterSocket},mode,600`, '-f', p.config, '-p', p.pidFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-16_384);
    });
    this.exit = new Promise((resolve) => child.once('exit', (code) => {
      this.exited = true;
      resolve(code);
      if (!this.stopping) this.onExit(code, this.recentOutput());
    }));
    child.once('error', () => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) throw new EngineError(`haproxy did not start: ${alerts(this.recentOutput()) || 'it exited at once'}`);
      const proc = await this.proc();
      if (proc && proc.workers.length > 0) return proc;
      await sleep(POLL_MS);
    }
    await this.kill();
    throw new EngineError(`haproxy did not start within ${READY_TIMEOUT_MS / 1000}s: ${alerts(this.recentOutput())}`);
  }

  /** `show proc`, or undefined while the master cannot answer. */
  async proc(): Promise<ProcInfo | undefined> {
    try {
      return parseShowProc(await masterCommand(this.paths.masterSocket, 'show proc', 2000));
    } catch {
      return undefined;
    }
  }

  /** A command for the current worker (`@1 …`). */
  worker(command: string, timeoutMs = 3000): Promise<string> {
    return masterCommand(this.paths.masterSocket, `@1 ${command}`, timeoutMs);
  }

  /**
   * Reloads the master (it re-reads the config file). Resolves with the new `show proc`;
   * rejects with HAProxy's alerts when the reload failed (the old worker keeps serving).
   */
  async reload(): Promise<ProcInfo> {
    const before = await this.proc();
    if (!before) throw new EngineError('the haproxy master does not answer on its CLI');
    const mark = this.stderr.length;
    // The master re-executes itself and may reset the connection: that is not a failure.
    await masterCommand(this.paths.masterSocket, 'reload', 5000).catch(() => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      if (this.exited) throw new EngineError(`haproxy exited during a reload: ${alerts(this.recentOutput())}`);
      const now = await this.proc();
      if (!now || now.reloads <= before.reloads) continue;
      const worker = now.workers[0];
      if (now.failed > 0 || worker === undefined || worker === before.workers[0]) {
        throw new EngineError(`haproxy refused the reload; the previous version keeps serving: ${alerts(this.stderr.slice(mark)) || 'see its log'}`);
      }
      return now;
    }
    throw new EngineError(`haproxy did not confirm the reload within ${READY_TIMEOUT_MS / 1000}s`);
  }

  /**
   * Soft stop (SIGUSR1: workers stop accepting and finish what is in flight), then SIGTERM
   * after `deadlineMs`, then SIGKILL.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    if (!this.child || this.exited) return;
    this.child.kill('SIGUSR1');
    if (await within(this.exit, deadlineMs)) return;
    this.child.kill('SIGTERM');
    if (await within(this.exit, 2000)) return;
    await this.kill();
  }

  private async kill(): Promise<void> {
    this.stopping = true;
    if (!this.child || this.exited) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }
}

/**
 * A master an earlier evenkeel started here and did not stop (it was killed) still holds the
 * ports: stop it, if the pid file names a haproxy running on this master socket.
 */
async function stopStale(p: ProcessPaths): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(p.pidFile, 'utf8').trim());
    if (!(pid > 0) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(p.masterSocket))) return;
  } catch {
    return;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    await sleep(POLL_MS);
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  process.kill(pid, 'SIGKILL');
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const done = await Promise.race([p.then(() => true), t]);
  clearTimeout(timer);
  return done;
}
