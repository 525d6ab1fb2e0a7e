/** Benchmark plumbing: installing the rivals, free ports, child processes, wrk and RSS sampling. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Finds a binary in PATH or the sbin folders Debian puts nginx and haproxy in. */
export function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const p = `${dir}/${name}`;
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return undefined;
}

/** Installs nginx, haproxy and wrk with apt-get when missing (apt-get update once if the first try fails). */
export function ensureTools(): { nginx: string; haproxy: string; wrk: string } {
  const missing = ['nginx', 'haproxy', 'wrk'].filter((n) => !which(n));
  if (missing.length > 0) {
    process.stderr.write(`installing ${missing.join(', ')} with apt-get…\n`);
    const install = () => spawnSync('apt-get', ['install', '-y', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
    if (!install()) {
      spawnSync('apt-get', ['update'], { stdio: 'ignore' });
      if (!install()) throw new Error(`apt-get install ${missing.join(' ')} failed; install them and run again`);
    }
  }
  return { nginx: which('nginx')!, haproxy: which('haproxy')!, wrk: which('wrk')! };
}

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * CPU pinning (BENCH_PIN=1 and taskset present): the proxy under test gets CPU 0, the load
 * generator and the backends share CPU 1. On a 2-core machine this removes most run-to-run
 * noise from the scheduler placing three busy processes on two cores differently each time.
 */
const PIN = process.env.BENCH_PIN === '1' && which('taskset') !== undefined;

/** Wraps a command with taskset when pinning is on. */
export function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Starts a child process (on `cpu` when pinning is on); its output goes to `log`. */
export function start(cmd: string, args: string[], log: number, cpu?: number): ChildProcess {
  const [c, a] = cpu === undefined ? [cmd, args] : pinned(cpu, cmd, args);
  return spawn(c, a, { stdio: ['ignore', log, log], detached: false });
}

/** Stops a child process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(t);
}

/** Resident memory (KiB) of a process and all its descendants. */
export function treeRss(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      for (const c of children ? children.split(/\s+/) : []) visit(Number(c));
    } catch {
      /* the process is gone */
    }
  };
  visit(pid);
  return total;
}

/** One wrk result. */
export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssKiB: number;
}

/** Runs wrk at `connections` for `seconds` against `url`, sampling the RSS of `pid`'s tree. */
export async function wrk(bin: string, url: string, connections: number, seconds: number, pid?: number): Promise<LoadResult> {
  let rss = 0;
  const timer = pid ? setInterval(() => { rss = Math.max(rss, treeRss(pid)); }, 500) : undefined;
  const out = await new Promise<string>((resolve, reject) => {
    const [c, a] = pinned(1, bin, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url]);
    const child = spawn(c, a);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  if (timer) clearInterval(timer);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = (Number.isNaN(non2xx) ? 0 : non2xx) + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps: num(/Requests\/sec:\s+([\d.]+)/), p50: ms(/50%\s+([\d.]+)(us|ms|s)/), p99: ms(/99%\s+([\d.]+)(us|ms|s)/), errors, rssKiB: rss };
}

/** Runs a command and returns its stdout (for version strings). */
export function version(cmd: string, args: string[]): string {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? '').split('\n')[0];
  }
}
