/**
 * HAProxy's counters (`show stat`, management.txt §9.1) as evenkeel's per-backend counts. A
 * reload starts a new worker whose counters begin at zero, so the book keeps, per series, what
 * the previous workers counted (`base`) beside what the current one says (`last`): a new
 * worker pid, or a counter that went down, moves `last` into `base`. Requests an old worker
 * answers after the last poll before a reload are not seen (the engine polls just before each
 * reload to keep that gap small).
 */

/** Response classes HAProxy counts (`hrsp_1xx` … `hrsp_5xx`, `hrsp_other`), as one status each. */
export const STATUS_CLASSES = [100, 200, 300, 400, 500, 0] as const;

/** One row of `show stat`. */
export interface StatRow {
  readonly proxy: string;
  /** `FRONTEND`, `BACKEND`, or the server's name. */
  readonly server: string;
  readonly status: string;
  readonly weight: number;
  /** Current sessions. */
  readonly scur: number;
  /** Responses per class, in STATUS_CLASSES order. */
  readonly responses: readonly number[];
  readonly checkStatus: string;
  /** Average response time over the last 1024 requests, ms. */
  readonly rtime: number;
}

const CLASS_FIELDS = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];

/** Parses `show stat` CSV (the header line names the fields). */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.startsWith('# pxname'));
  if (head < 0) return [];
  const fields = lines[head].slice(2).split(',');
  const at = (name: string) => fields.indexOf(name);
  const [px, sv, st, w, scur, chk, rt] = ['pxname', 'svname', 'status', 'weight', 'scur', 'check_status', 'rtime'].map(at);
  const classes = CLASS_FIELDS.map(at);
  const rows: StatRow[] = [];
  for (const line of lines.slice(head + 1)) {
    if (line === '' || line.startsWith('#')) continue;
    const c = line.split(',');
    rows.push({
      proxy: c[px],
      server: c[sv],
      status: c[st] ?? '',
      weight: Number(c[w]) || 0,
      scur: Number(c[scur]) || 0,
      responses: classes.map((i) => Number(c[i]) || 0),
      checkStatus: c[chk] ?? '',
      rtime: Number(c[rt]) || 0,
    });
  }
  return rows;
}

/** `show info`'s `Pid:` line. */
export function parseInfoPid(text: string): number | undefined {
  const m = /^Pid:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

interface Series {
  base: number[];
  last: number[];
}

/** Cumulative response counts per (proxy, server) across reloads. */
export class CounterBook {
  private readonly series = new Map<string, Series>();
  private pid: number | undefined;
  /** The newest rows (status, weight, sessions). */
  rows: readonly StatRow[] = [];

  /** Takes one poll of worker `pid`. */
  update(pid: number, rows: readonly StatRow[]): void {
    if (this.pid !== undefined && pid !== this.pid) {
      // A new worker counts from zero: what the old one counted is kept.
      for (const s of this.series.values()) this.fold(s);
    }
    this.pid = pid;
    this.rows = rows;
    for (const r of rows) {
      if (r.server === 'FRONTEND') continue;
      const id = `${r.proxy}\0${r.server}`;
      let s = this.series.get(id);
      if (!s) this.series.set(id, (s = { base: STATUS_CLASSES.map(() => 0), last: STATUS_CLASSES.map(() => 0) }));
      if (r.responses.some((v, i) => v < s!.last[i])) this.fold(s);
      s.last = [...r.responses];
    }
  }

  private fold(s: Series): void {
    for (let i = 0; i < s.base.length; i++) s.base[i] += s.last[i];
    s.last = s.last.map(() => 0);
  }

  /** Cumulative responses per class for (proxy, server); zeros when never seen. */
  total(proxy: string, server: string): number[] {
    const s = this.series.get(`${proxy}\0${server}`);
    return s ? s.base.map((b, i) => b + s.last[i]) : STATUS_CLASSES.map(() => 0);
  }

  /** Every (proxy, server) seen, servers and BACKEND rows alike. */
  keys(): { proxy: string; server: string }[] {
    return [...this.series.keys()].map((k) => {
      const [proxy, server] = k.split('\0');
      return { proxy, server };
    });
  }
}
