/**
 * What evenkeel sees of HAProxy: the rendered config's proxies mapped back to pools and
 * backends, each backend's health and expected share from `show stat`, the observed shares
 * over the metrics window, and the per-series response counts the monitors' feed reads as data
 * (rendered for /metrics under the built-in engine's series names, so both read alike).
 */
import type { Config } from '../../config/index.js';
import { haName } from '../../formats/haproxy/index.js';
import { CANARY_PREFIX } from '../../formats/haproxy/index.js';
import { SHARE_WINDOW_S, type BackendSnapshot, type RequestCount } from '../../telemetry/index.js';
import { counter, esc, gauge } from './exposition.js';
import { STATUS_CLASSES, type CounterBook, type StatRow } from './stats.js';

/** One HAProxy server as evenkeel names it. */
interface ServerName {
  readonly pool: string;
  readonly backend: string;
  readonly server: string;
  readonly canary: boolean;
  /** The only (listener, route) sending to the pool, or empty when several or none do. */
  readonly listener: string;
  readonly route: string;
}

/** The pools and backends of one rendered version (and its canary). */
export class EngineView {
  readonly servers: ServerName[] = [];
  private readonly ring: Map<string, Float64Array> = new Map();
  private ringPos = 0;

  constructor(readonly config: Config, readonly canary: Config | undefined) {
    this.add(config, false);
    if (canary) this.add(canary, true);
  }

  private add(config: Config, canary: boolean): void {
    const users = new Map<string, { listener: string; route: string }[]>();
    for (const l of config.listeners) {
      if (l.pool) users.set(l.pool, [...(users.get(l.pool) ?? []), { listener: l.name, route: '' }]);
      for (const r of l.routes ?? []) for (const p of r.split ? r.split.map((s) => s.pool) : r.pool ? [r.pool] : []) users.set(p, [...(users.get(p) ?? []), { listener: l.name, route: r.name }]);
    }
    for (const [pool, p] of Object.entries(config.pools)) {
      const only = users.get(pool)?.length === 1 ? users.get(pool)![0] : { listener: '', route: '' };
      for (const b of p.backends) this.servers.push({ pool, backend: b.name ?? b.address, server: haName(b.name ?? b.address), canary, ...only });
    }
  }

  /** The HAProxy proxy of a pool (the http one; `tcp:POOL` too when both kinds use it). */
  static proxies(pool: string, canary: boolean): string[] {
    const base = `${canary ? CANARY_PREFIX : ''}${haName(pool)}`;
    return [base, `${canary ? CANARY_PREFIX : ''}tcp:${haName(pool)}`];
  }

  /** The pool and backend of one HAProxy server row, and whether it is the canary's. */
  nameOf(proxy: string, server: string): { pool: string; backend: string; canary: boolean } | undefined {
    const s = this.servers.find((x) => x.server === server && EngineView.proxies(x.pool, x.canary).includes(proxy));
    return s ? { pool: s.pool, backend: s.backend, canary: s.canary } : undefined;
  }

  /** Cumulative responses per class of one server (both of its proxies). */
  private counts(book: CounterBook, s: ServerName, server = s.server): number[] {
    const out = STATUS_CLASSES.map(() => 0);
    for (const px of EngineView.proxies(s.pool, s.canary)) book.total(px, server).forEach((v, i) => (out[i] += v));
    return out;
  }

  /** Keeps the observed-share window of the version before (a reload does not blank status). */
  carry(previous: EngineView | undefined): void {
    if (!previous) return;
    this.ringPos = previous.ringPos;
    for (const [id, r] of previous.ring) this.ring.set(id, r.slice());
  }

  /** Takes a per-second snapshot of every backend's request count (the observed-share window). */
  tick(book: CounterBook): void {
    this.ringPos = (this.ringPos + 1) % (SHARE_WINDOW_S + 1);
    const totals = new Map<string, number>();
    for (const s of this.servers) {
      const id = `${s.pool}\0${s.backend}`;
      totals.set(id, (totals.get(id) ?? 0) + this.counts(book, s).reduce((a, b) => a + b, 0));
    }
    for (const [id, n] of totals) {
      let r = this.ring.get(id);
      // Counts start at zero when the plane starts, so a new series' history begins at 0 (and
      // rings are carried from version to version).
      if (!r) this.ring.set(id, (r = new Float64Array(SHARE_WINDOW_S + 1)));
      r[this.ringPos] = n;
    }
  }

  /** Observed share of its pool and requests/s per backend over the window (both slices). */
  observed(): { pool: string; backend: string; share: number; rps: number }[] {
    const oldest = (this.ringPos + 1) % (SHARE_WINDOW_S + 1);
    const deltas: { pool: string; backend: string; d: number }[] = [];
    const poolTotals = new Map<string, number>();
    for (const [id, r] of this.ring) {
      const [pool, backend] = id.split('\0');
      const d = r[this.ringPos] - r[oldest];
      deltas.push({ pool, backend, d });
      poolTotals.set(pool, (poolTotals.get(pool) ?? 0) + d);
    }
    return deltas.map(({ pool, backend, d }) => ({ pool, backend, share: (poolTotals.get(pool) ?? 0) > 0 ? d / poolTotals.get(pool)! : 0, rps: d / SHARE_WINDOW_S }));
  }

  /** Health and expected shares of the active version's backends, or the canary's. */
  backends(rows: readonly StatRow[], which: 'active' | 'canary'): BackendSnapshot[] {
    const config = which === 'canary' ? this.canary : this.config;
    if (!config) return [];
    const status = new Map(rows.map((r) => [`${r.proxy}\0${r.server}`, r.status]));
    const out: BackendSnapshot[] = [];
    for (const [pool, p] of Object.entries(config.pools)) {
      const px = EngineView.proxies(pool, which === 'canary');
      const up = p.backends.map((b) => {
        const st = px.map((x) => status.get(`${x}\0${haName(b.name ?? b.address)}`)).find((v) => v !== undefined);
        // Before the first poll, and for servers without checks ("no check"), a server is up.
        return st === undefined || isUp(st);
      });
      const primaryUp = p.backends.some((b, i) => up[i] && !b.backup && b.weight > 0);
      // Backups serve only while no primary can (HAProxy: the first backup, or all with allbackups).
      const serving = p.backends.map((b, i) => up[i] && (primaryUp ? !b.backup : b.backup));
      const total = p.backends.reduce((s, b, i) => s + (serving[i] ? b.weight : 0), 0);
      p.backends.forEach((b, i) => out.push({ pool, backend: b.name ?? b.address, up: up[i], expectedShare: total > 0 && serving[i] ? b.weight / total : 0, capacity: b.capacity ?? p.capacity }));
    }
    return out;
  }

  /**
   * HAProxy's `rtime` per server: the average response time of its last 1024 requests
   * (management.txt §9.1 field 60), for the active version's backends and the canary's. It is
   * what HAProxy's stats give instead of a histogram: an average, so a tail (a few slow
   * requests among fast ones) shows only as far as it moves the mean.
   */
  private latencies(rows: readonly StatRow[]): Map<ServerName, number> {
    const rtime = new Map(rows.map((r) => [`${r.proxy}\0${r.server}`, r.rtime]));
    const out = new Map<ServerName, number>();
    for (const s of this.servers) {
      const ms = EngineView.proxies(s.pool, s.canary).map((px) => rtime.get(`${px}\0${s.server}`)).find((v) => v !== undefined);
      if (ms !== undefined) out.set(s, ms);
    }
    return out;
  }

  /** `evenkeel_backend_response_seconds{pool,backend,slice}`: the rtime of each backend, for /metrics. */
  responseTimes(rows: readonly StatRow[]): string {
    const out: [string, number][] = [];
    for (const [s, ms] of this.latencies(rows)) out.push([`pool="${esc(s.pool)}",backend="${esc(s.backend)}",slice="${s.canary ? 'canary' : 'active'}"`, ms / 1000]);
    return gauge('evenkeel_backend_response_seconds', "HAProxy's average response time of the backend's last 1024 requests (rtime)", out);
  }

  /**
   * Responses per series from the counters, as data (what the monitors' feed reads): one row
   * per server and status class, and the BACKEND row's surplus as the no-backend series.
   */
  requestCounts(book: CounterBook): RequestCount[] {
    const out: RequestCount[] = [];
    const latency = this.latencies(book.rows);
    const add = (s: ServerName, backend: string, i: number, n: number) => {
      if (n <= 0) return;
      const latencyMs = backend === '' ? undefined : latency.get(s);
      out.push({ listener: s.listener, route: s.route, pool: s.pool, backend, code: STATUS_CLASSES[i], canary: s.canary, requests: n, ...(latencyMs === undefined ? {} : { latencyMs }) });
    };
    const pools = new Map<string, { s: ServerName; sum: number[] }>();
    for (const s of this.servers) {
      const c = this.counts(book, s);
      const pk = `${s.pool}\0${s.canary}`;
      const agg = pools.get(pk) ?? { s, sum: STATUS_CLASSES.map(() => 0) };
      c.forEach((v, i) => (agg.sum[i] += v));
      pools.set(pk, agg);
      c.forEach((v, i) => add(s, s.backend, i, v));
    }
    // Responses a backend gave with no server (503: none usable) are the BACKEND row's surplus.
    for (const { s, sum } of pools.values()) this.counts(book, s, 'BACKEND').forEach((v, i) => add(s, '', i, Math.max(0, v - sum[i])));
    return out;
  }

  /** `evenkeel_requests_total` and `evenkeel_canary_requests_total` from the counters. */
  requestSeries(book: CounterBook): string {
    const all = new Map<string, number>();
    const canary = new Map<string, number>();
    for (const c of this.requestCounts(book)) {
      const labels = `listener="${esc(c.listener)}",route="${esc(c.route)}",pool="${esc(c.pool)}",backend="${esc(c.backend)}",code="${c.code}"`;
      all.set(labels, (all.get(labels) ?? 0) + c.requests);
      if (c.canary) canary.set(labels, (canary.get(labels) ?? 0) + c.requests);
    }
    return counter('evenkeel_requests_total', 'Requests by listener, route, pool, backend and status class (HAProxy counts 2xx as 200, 5xx as 500, …)', all)
      + counter('evenkeel_canary_requests_total', 'Requests served by a config canary (also counted in evenkeel_requests_total)', canary);
  }
}

/** HAProxy server statuses that serve (`UP 1/3` is up and going down). */
export function isUp(status: string): boolean {
  return /^(UP|no check|DRAIN|NOLB)/.test(status);
}
