/**
 * HAProxy as evenkeel's data plane (DESIGN.md "Engines and foreign configs"): the same Plane
 * contract as the built-in engine (control/plane.ts), implemented by supervising an HAProxy
 * master. Every version is rendered with the haproxy.cfg writer, checked with `haproxy -c`,
 * and reloaded through the master CLI; a version HAProxy refuses throws, and the old worker
 * keeps serving. A config canary renders the candidate's backends beside the active ones and
 * routes a share of requests to them by a runtime map, so the share changes, and an abort
 * takes effect, with `set map` and no reload. A version's server weights go to the running
 * worker (`set server … weight`) before its reload, so a rollback's weights act at once.
 * `show stat` is read every 250 ms, and whenever the monitors read counters older than 100 ms,
 * into the counters the monitors, /metrics and status use. A master that dies is started again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/index.js';
import { CanaryError, ConfigRefusedError, EngineError } from '../../errors.js';
import { DRAW_RANGE, renderHaproxy, type CertificatePair } from '../../formats/haproxy/index.js';
import { sameListeners, type BoundListener, type SampledRequest, type VersionInfo } from '../../proxy/index.js';
import type { BackendSnapshot, RequestCount } from '../../telemetry/index.js';
import { checkBinary, checkConfig, DEFAULT_BINARY, type HaproxyBinary } from './binary.js';
import { listenerId, ListenerPorts } from './ports.js';
import { HaproxyProcess } from './process.js';
import { CounterBook, parseInfoPid, parseShowStat, type StatRow } from './stats.js';
import { engineMetrics } from './metrics.js';
import { EngineView, isUp } from './view.js';
import { weightChanges, weightCommand, type WeightChange } from './runtime.js';

/** How the engine is set up (`engine:` in the config). */
export interface HaproxyPlaneOptions {
  readonly binary?: string;
  /** Where the rendered config, sockets and map live [a fresh temp folder]. */
  readonly runDir?: string;
  /**
   * Stats poll period [250 ms]. The monitors see HAProxy's responses only this late, so it is
   * shorter than the 1 s the observed-share window ticks at (measured in the outage replay: an
   * all-to-one change fired 4.8 s after it was applied with a 1 s poll).
   */
  readonly pollMs?: number;
  /** HAProxy threads (`nbthread`) [one per core]. */
  readonly threads?: number;
  /** How long an old worker may serve after a reload (`hard-stop-after`) [30s]. */
  readonly hardStopAfter?: string;
  /** Events for the journal: `engine.started`, `engine.exited`, `engine.restarted`, `engine.reload-failed`, `engine.runtime-refused`, `backend.health`. */
  readonly onEvent?: (type: string, data: Record<string, unknown>) => void;
}

/** What `evenkeel status` says about the engine. */
export interface EngineInfo {
  readonly type: 'haproxy';
  readonly version: string;
  readonly binary: string;
  readonly masterPid: number | null;
  readonly workerPid: number | null;
  readonly reloads: number;
  readonly restarts: number;
  /** Where the rendered config and sockets are. */
  readonly runDir: string;
}

/** Unix socket paths must stay under ~107 bytes (sun_path). */
const MAX_SOCKET_PATH = 100;
const RESTART_DELAY_MS = 500;
/** Counters at most this old are read as they are; older ones are polled first. */
const FRESH_MS = 100;

/** The HAProxy engine. */
export class HaproxyPlane {
  readonly binary: HaproxyBinary;
  private readonly dir: string;
  private readonly proc: HaproxyProcess;
  private readonly book = new CounterBook();
  private view: EngineView | undefined;
  private current: { config: Config; info: VersionInfo; appliedAt: number } | undefined;
  private canary: { config: Config; info: VersionInfo; fraction: number } | undefined;
  private readonly ports = new ListenerPorts();
  /** Each server's last up/down as HAProxy's checks said (for the journal). */
  private readonly health = new Map<string, boolean>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private workerPid: number | undefined;
  private lastTick = 0;
  /** When the last poll that read the counters ended (ms since epoch). */
  private lastPollAt = 0;
  /** The rendered text the current worker was started from. */
  private runningText: string | undefined;
  /** Hashes of rendered texts HAProxy has loaded. */
  private readonly loaded = new Set<string>();
  private reloads = 0;
  private restarts = 0;
  private closed = false;
  private readonly paths: { config: string; next: string; map: string; stats: string; master: string; state: string };

  /** Checks the binary (throws EngineError naming the package when missing or too old). */
  constructor(private readonly options: HaproxyPlaneOptions = {}) {
    this.binary = checkBinary(options.binary ?? DEFAULT_BINARY);
    let dir = options.runDir ?? mkdtempSync(join(tmpdir(), 'evenkeel-haproxy-'));
    mkdirSync(dir, { recursive: true });
    if (join(dir, 'master.sock').length > MAX_SOCKET_PATH) dir = mkdtempSync(join(tmpdir(), 'evenkeel-haproxy-'));
    this.dir = dir;
    this.paths = { config: join(dir, 'haproxy.cfg'), next: join(dir, 'haproxy.next.cfg'), map: join(dir, 'canary.map'), stats: join(dir, 'stats.sock'), master: join(dir, 'master.sock'), state: join(dir, 'server-state') };
    this.proc = new HaproxyProcess({ binary: this.binary.path, config: this.paths.config, masterSocket: this.paths.master, pidFile: join(dir, 'haproxy.pid') }, (code, out) => this.onExit(code, out));
  }

  /** Serializes changes to the running HAProxy. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  async apply(config: Config, info: VersionInfo): Promise<BoundListener[]> {
    return this.serial(async () => {
      await this.serve(config, undefined);
      this.current = { config, info, appliedAt: Date.now() };
      this.canary = undefined;
      return this.ports.bound(config);
    });
  }

  async startCanary(config: Config, info: VersionInfo, fraction: number): Promise<void> {
    return this.serial(async () => {
      const active = this.current;
      if (!active) throw new CanaryError('nothing is served yet');
      if (!sameListeners(config, active.config)) throw new CanaryError("its listeners differ from the active version's (a canary serves a slice of the same sockets)");
      try {
        await this.serve(active.config, config);
      } catch (err) {
        throw new CanaryError(`haproxy could not load the candidate beside the active version: ${(err as Error).message}`);
      }
      this.canary = { config, info, fraction };
      await this.setCanaryFraction(fraction);
    });
  }

  /** Changes the canary's share of requests at run time (`set map`, no reload). */
  async setCanaryFraction(fraction: number): Promise<void> {
    const ppm = Math.round(Math.min(1, Math.max(0, fraction)) * DRAW_RANGE);
    const answer = await this.proc.worker(`set map ${this.paths.map} canary ${ppm}`);
    if (answer.trim() !== '') throw new EngineError(`haproxy did not take the canary share: ${answer.trim()}`);
    if (this.canary) this.canary = { ...this.canary, fraction };
  }

  async stopCanary(): Promise<void> {
    if (!this.canary) return;
    // The harm stops at once (the map), then the candidate's backends go away (a reload).
    await this.setCanaryFraction(0).catch(() => undefined);
    return this.serial(async () => {
      if (!this.canary || !this.current) return;
      this.canary = undefined;
      await this.serve(this.current.config, undefined);
    });
  }

  canaryBackends(): BackendSnapshot[] {
    return this.canary && this.view ? this.view.backends(this.book.rows, 'canary') : [];
  }

  /** HAProxy keeps no request sample evenkeel can read: plan and apply judge by the config's traffic model. */
  async sample(): Promise<SampledRequest[]> {
    return [];
  }

  /** HAProxy's own active checks decide health (rendered from healthCheck); evenkeel's verdicts are not pushed. */
  setHealth(_key: string, _up: boolean): void {}

  /**
   * HAProxy reads its certificates when it loads its config: the combined PEMs are written
   * again from the files the config names, and HAProxy reloads (hitless). A certificate that
   * cannot be read keeps the running worker and its certificates, and is said.
   */
  async reloadCertificates(): Promise<string[]> {
    const current = this.current;
    if (!current || !current.config.listeners.some((l) => l.tls)) return [];
    // A reload renders the canary's map at 0: re-read them once its verdict is in.
    if (this.canary) return ['certificates not re-read: a config canary is running on HAProxy; send SIGHUP again after its verdict'];
    try {
      await this.serial(() => this.serve(current.config, undefined));
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  }

  /**
   * The PEM HAProxy loads for a certificate: HAProxy takes the key from the same file or from
   * `<crt>.key` beside it only, so the engine writes both into one file in its run folder
   * (mode 0600, like the key), named by the pair so each render overwrites its own.
   */
  private readonly pemFor = (pair: CertificatePair): string => {
    const file = join(this.dir, 'certs', `${createHash('sha256').update(`${pair.cert}\0${pair.key}`).digest('hex').slice(0, 16)}.pem`);
    let pem: string;
    try {
      const cert = readFileSync(pair.cert, 'utf8');
      pem = pair.key === pair.cert ? cert : `${cert}${cert.endsWith('\n') ? '' : '\n'}${readFileSync(pair.key, 'utf8')}`;
    } catch (err) {
      throw new EngineError(`cannot read the certificate ${pair.cert} or its key ${pair.key} for HAProxy: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    mkdirSync(join(this.dir, 'certs'), { recursive: true, mode: 0o700 });
    writeFileSync(file, pem, { mode: 0o600 });
    return file;
  };

  backends(): BackendSnapshot[] {
    return this.view ? this.view.backends(this.book.rows, 'active') : [];
  }

  async observed(): Promise<{ pool: string; backend: string; share: number; rps: number }[]> {
    return this.view?.observed() ?? [];
  }

  async requestCounts(): Promise<RequestCount[]> {
    if (!this.view) return [];
    // The monitors read this every tick: counters older than a fraction of a tick would add
    // a poll period to every detection (measured in the outage replay: the alert came 0.73 s
    // after the all-to-one change with two 250 ms timers in a row, 0.37 s on the built-in engine).
    if (Date.now() - this.lastPollAt > FRESH_MS) await this.poll();
    return this.view.requestCounts(this.book);
  }

  async metricsText(): Promise<string> {
    if (!this.view) return '';
    return engineMetrics({ view: this.view, book: this.book, backends: this.backends(), current: this.current, version: this.binary.version, reloads: this.reloads });
  }

  /** Which HAProxy serves, for `evenkeel status`. */
  engineInfo(): EngineInfo {
    return { type: 'haproxy', version: this.binary.version, binary: this.binary.path, masterPid: this.proc.pid ?? null, workerPid: this.workerPid ?? null, reloads: this.reloads, restarts: this.restarts, runDir: this.dir };
  }

  /** Soft-stops HAProxy: listeners close, requests in flight finish, at most `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    this.closed = true;
    this.stopPolling();
    await this.proc.stop(deadlineMs);
  }

  async close(): Promise<void> {
    await this.drain(1000);
  }

  /** Renders `config` (with `candidate` beside it), checks it, and starts or reloads HAProxy. */
  private async serve(config: Config, candidate: Config | undefined): Promise<void> {
    if (this.closed) throw new EngineError('the haproxy engine is closed');
    const ports = await this.ports.choose(config);
    const { text } = renderHaproxy(config, { source: 'evenkeel', engine: { statsSocket: this.paths.stats, mapFile: this.paths.map, canary: candidate, portFor: (l) => ports.get(listenerId(l))!, hardStopAfter: this.options.hardStopAfter, threads: this.options.threads, serverStateFile: this.paths.state, pemFor: this.pemFor } });
    writeFileSync(this.paths.next, text);
    writeFileSync(this.paths.map, 'canary 0\n');
    // A text HAProxy already loaded (a rollback, an abort) needs no second `haproxy -c` (~0.2 s here).
    const hash = createHash('sha256').update(text).digest('hex');
    if (!this.loaded.has(hash)) {
      const refused = await checkConfig(this.binary.path, this.paths.next);
      if (refused) throw new ConfigRefusedError(`haproxy -c refused the rendered config: ${refused}`);
    }
    const view = new EngineView(config, candidate);
    if (this.proc.pid === undefined) {
      renameSync(this.paths.next, this.paths.config);
      const info = await this.proc.start();
      this.workerPid = info.workers[0];
      this.options.onEvent?.('engine.started', { engine: 'haproxy', version: this.binary.version, masterPid: info.masterPid, workerPid: this.workerPid });
      this.startPolling();
    } else {
      // The weights first, at run time: they take effect at once, where the reload takes a
      // new worker's start (a rollback of an all-to-one change stops the overload here).
      const moved = this.runningText ? weightChanges(this.runningText, text) : [];
      await this.setWeights(moved);
      // Count what the old worker answered up to now: its counters end with it. Save its
      // servers' state, so a server HAProxy's checks took out stays out in the new worker.
      await this.poll();
      await this.saveServerState();
      const previous = `${this.paths.config}.previous`;
      renameSync(this.paths.config, previous);
      renameSync(this.paths.next, this.paths.config);
      try {
        const info = await this.proc.reload();
        this.workerPid = info.workers[0];
        this.reloads++;
      } catch (err) {
        // Keep the file the running worker was started from, so a restart serves it too, and
        // its weights: the version it serves did not change.
        renameSync(previous, this.paths.config);
        if (this.runningText) await this.setWeights(weightChanges(text, this.runningText));
        this.options.onEvent?.('engine.reload-failed', { engine: 'haproxy', error: (err as Error).message });
        throw err;
      }
    }
    this.loaded.add(hash);
    this.runningText = text;
    view.carry(this.view);
    this.view = view;
    this.ports.commit(ports);
  }

  /** Sends runtime weight changes to the current worker (one connection); a refusal is journalled, the reload still follows. */
  private async setWeights(changes: readonly WeightChange[]): Promise<void> {
    if (changes.length === 0) return;
    const answer = await this.proc.worker(changes.map(weightCommand).join('; @1 ')).catch((err: Error) => err.message);
    if (answer.trim() !== '') this.options.onEvent?.('engine.runtime-refused', { engine: 'haproxy', commands: changes.map(weightCommand), answer: answer.trim() });
  }

  private async saveServerState(): Promise<void> {
    const state = await this.proc.worker('show servers state').catch(() => '');
    if (/^\d+\n/.test(state)) writeFileSync(this.paths.state, state);
  }

  private startPolling(): void {
    if (this.timer) return;
    const period = this.options.pollMs ?? 250;
    // The monitors' reads poll too (metricsText): a poll they just made is not repeated.
    this.timer = setInterval(() => void (Date.now() - this.lastPollAt < period / 2 ? undefined : this.poll().catch(() => undefined)), period);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads `show info` (the worker's pid) and `show stat` of the current worker into the counters. */
  private poll(): Promise<void> {
    if (this.polling) return this.polling;
    this.polling = (async () => {
      try {
        const text = await this.proc.worker('show info; @1 show stat', 3000).catch(() => '');
        const pid = parseInfoPid(text);
        const rows = parseShowStat(text);
        if (pid === undefined || rows.length === 0) return;
        this.book.update(pid, rows);
        this.lastPollAt = Date.now();
        // The observed-share window is in seconds, whatever the poll period.
        const now = Date.now();
        if (now - this.lastTick >= 1000) {
          this.lastTick = now;
          this.view?.tick(this.book);
        }
        this.journalHealth(rows);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  /** HAProxy's checks took a server out or put it back: journalled as `backend.health`. */
  private journalHealth(rows: readonly StatRow[]): void {
    for (const r of rows) {
      if (r.server === 'FRONTEND' || r.server === 'BACKEND') continue;
      const id = `${r.proxy}\0${r.server}`;
      const up = isUp(r.status);
      const before = this.health.get(id);
      this.health.set(id, up);
      if (before === undefined || before === up) continue;
      const name = this.view?.nameOf(r.proxy, r.server);
      if (name) this.options.onEvent?.('backend.health', { engine: 'haproxy', ...name, up, status: r.status, check: r.checkStatus });
    }
  }

  /** The master died (not asked to): journal it and start it again with the version it served. */
  private onExit(code: number | null, output: string): void {
    this.stopPolling();
    this.options.onEvent?.('engine.exited', { engine: 'haproxy', code, output });
    if (this.closed) return;
    const restart = () => {
      if (this.closed || this.proc.pid !== undefined) return;
      this.serial(async () => {
        const info = await this.proc.start();
        this.workerPid = info.workers[0];
        this.restarts++;
        this.startPolling();
        // The map file says 0: a canary that was running gets its share back.
        if (this.canary) await this.setCanaryFraction(this.canary.fraction);
        this.options.onEvent?.('engine.restarted', { engine: 'haproxy', masterPid: info.masterPid, workerPid: this.workerPid, restarts: this.restarts, version: this.current?.info.version ?? null });
      }).catch((err: Error) => {
        this.options.onEvent?.('engine.restart-failed', { engine: 'haproxy', error: err.message });
        setTimeout(restart, RESTART_DELAY_MS * 4).unref();
      });
    };
    setTimeout(restart, RESTART_DELAY_MS).unref();
  }
}
