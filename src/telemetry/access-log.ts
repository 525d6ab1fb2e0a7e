/**
 * Access logs per listener (`listeners[].accessLog`): a subscriber of the request channel, so
 * the proxy imports no logger. A finished request is queued (three array slots, no object)
 * and the lines are formatted and written in a setImmediate batch, after the responses of
 * that turn went out, through pino's asynchronous destination (SonicBoom: buffered, written
 * off the event loop's critical path). SIGUSR1 reopens every file, for logrotate.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import type { AccessLog, Listener } from '../config/index.js';
import { requestChannel, type AccessRecord } from './channels.js';

/** The destination pino.destination() returns (SonicBoom), as far as this module uses it. */
interface Destination {
  write(line: string): boolean;
  reopen(): void;
  end(): void;
  flushSync(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}

/** One listener's log: where, in which format, how much of it. */
interface Writer {
  readonly dest: Destination;
  readonly json: boolean;
  readonly sample: number;
}

/**
 * Lines are buffered up to this many bytes before a write, and flushed at least every
 * FLUSH_MS: one syscall per ~20 lines under load instead of one per event-loop turn.
 */
const BUFFER_BYTES = 4096;
const FLUSH_MS = 1000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The access logs of one process. */
export class AccessLogs {
  /** Writer per listener name. */
  private byListener = new Map<string, Writer>();
  /** Open destinations by file path ('-' for standard output), shared by listeners that name the same file. */
  private readonly dests = new Map<string, Destination>();
  private readonly records: AccessRecord[] = [];
  private readonly ends: number[] = [];
  private readonly writers: Writer[] = [];
  private scheduled = false;
  private subscribed = false;
  private readonly onRequest = (m: unknown) => this.record(m as AccessRecord);
  private readonly onReopen = () => this.reopen();
  private readonly flush = () => this.write();

  /** Follows a config version: opens the files it names, closes the ones it no longer does. */
  configure(listeners: readonly Listener[]): void {
    const next = new Map<string, Writer>();
    const used = new Set<string>();
    for (const l of listeners) {
      const a = l.accessLog;
      if (a === undefined || l.protocol !== 'http') continue;
      const id = a.stdout ? '-' : a.path!;
      used.add(id);
      next.set(l.name, { dest: this.open(id, a), json: a.format === 'json', sample: a.sample });
    }
    this.byListener = next;
    for (const [id, d] of this.dests) {
      if (used.has(id)) continue;
      this.dests.delete(id);
      // Lines still queued for it are written first (the batch holds the old writer).
      setImmediate(() => finish(id, d));
    }
    if (next.size > 0 && !this.subscribed) {
      requestChannel.subscribe(this.onRequest);
      process.on('SIGUSR1', this.onReopen);
      this.subscribed = true;
    } else if (next.size === 0 && this.subscribed) {
      requestChannel.unsubscribe(this.onRequest);
      process.off('SIGUSR1', this.onReopen);
      this.subscribed = false;
    }
  }

  /** Reopens every file (after logrotate moved it away, the next line goes to a new file). */
  reopen(): void {
    for (const [id, d] of this.dests) if (id !== '-') d.reopen();
  }

  /** Writes what is queued and closes every file. */
  close(): void {
    this.write();
    this.configure([]);
    for (const [id, d] of this.dests) finish(id, d);
    this.dests.clear();
  }

  private open(id: string, a: AccessLog): Destination {
    let d = this.dests.get(id);
    if (d === undefined) {
      d = pino.destination({ dest: a.stdout ? 1 : id, sync: false, mkdir: true, minLength: BUFFER_BYTES, periodicFlush: FLUSH_MS }) as unknown as Destination;
      // A full disk or a removed folder must cost the log, never the process.
      d.on('error', (err) => process.stderr.write(`evenkeel: access log ${id === '-' ? 'stdout' : id}: ${err.message}\n`));
      this.dests.set(id, d);
    }
    return d;
  }

  private record(r: AccessRecord): void {
    const w = this.byListener.get(r.key.listener);
    if (w === undefined || (w.sample < 1 && Math.random() >= w.sample)) return;
    this.records.push(r);
    this.ends.push(performance.now());
    this.writers.push(w);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private write(): void {
    this.scheduled = false;
    const n = this.records.length;
    for (let i = 0; i < n; i++) {
      const w = this.writers[i];
      w.dest.write(w.json ? jsonLine(this.records[i], this.ends[i]) : combinedLine(this.records[i], this.ends[i]));
    }
    this.records.length = 0;
    this.ends.length = 0;
    this.writers.length = 0;
  }
}

/** Writes out what a destination buffers and closes it; standard output is flushed, never closed. */
function finish(id: string, d: Destination): void {
  try {
    d.flushSync();
  } catch {
    // Not open yet (nothing written), or the disk refused: nothing more to do.
  }
  if (id !== '-') d.end();
}

/** Milliseconds, rounded to microseconds. */
function ms(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** One JSON object a line: every field the issue lists, under stable names. */
export function jsonLine(r: AccessRecord, end: number): string {
  const k = r.key;
  return `${JSON.stringify({
    time: new Date(performance.timeOrigin + end).toISOString(),
    client: r.clientIp,
    method: r.method,
    host: r.host,
    path: r.path,
    status: r.status,
    bytes: r.bytes,
    duration_ms: ms(end - r.start),
    upstream_ms: r.upstreamAt === 0 ? null : ms(r.upstreamAt - r.start),
    listener: k.listener,
    route: k.route || null,
    pool: k.pool || null,
    backend: k.backend || null,
    version: r.snapshot.info.version,
    canary: k.canary,
    retries: r.retries,
  })}\n`;
}

/**
 * The combined log format of Apache and NGINX (`$remote_addr - $remote_user [$time_local]
 * "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`), which log tools
 * read as is. Quotes and control bytes in client-sent fields are escaped as NGINX does (\xHH).
 */
export function combinedLine(r: AccessRecord, end: number): string {
  let referer = '-';
  let agent = '-';
  const raw = r.req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const len = raw[i].length;
    if (len === 7 && raw[i].toLowerCase() === 'referer') referer = raw[i + 1];
    else if (len === 10 && raw[i].toLowerCase() === 'user-agent') agent = raw[i + 1];
  }
  return `${r.clientIp} - - [${clf(new Date(performance.timeOrigin + end))}] "${esc(r.method)} ${esc(r.path)} HTTP/${r.req.httpVersion}" ${r.status} ${r.bytes} "${esc(referer)}" "${esc(agent)}"\n`;
}

/** `10/Oct/2000:13:55:36 +0000` (UTC: a log read across time zones needs no guessing). */
function clf(d: Date): string {
  const p = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /["\\\x00-\x1f\x7f-\xff]/;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /["\\\x00-\x1f\x7f-\xff]/g;

function esc(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s;
}
