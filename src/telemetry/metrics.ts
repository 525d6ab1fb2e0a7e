/**
 * Prometheus metrics (names from DESIGN.md) fed by the diagnostics channels. The request hot
 * path costs one WeakMap lookup and a few additions into per-series arrays; prom-client sees
 * the totals only at scrape time (its label hashing per update was measurable in the bench).
 * Shares and utilization come from per-second snapshots of the counters (a 10 s window).
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { configChannel, connectionChannel, endpointChannel, healthCheckChannel, requestChannel, tlsChannel, type ConfigEvent, type ConnectionEvent, type EndpointEvent, type HealthCheckEvent, type MetricKey, type RequestRecord, type TlsEvent } from './channels.js';
import type { StateProvider } from './state.js';
import { FastHistogram, type HistogramCell } from './histogram.js';

/** Observed share and utilization are measured over this many seconds. */
export const SHARE_WINDOW_S = 10;

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Counts of one (listener, route, pool, backend) series, by status code. */
interface Series {
  readonly key: MetricKey;
  readonly byStatus: Float64Array;
  /** Retries of this series' requests (each one sent again to another backend). */
  retries: number;
  readonly latency: HistogramCell | undefined;
  readonly pb: { count: number } | undefined;
}

/** Requests one backend of one pool received over the share window. */
export interface WindowCount {
  readonly pool: string;
  readonly backend: string;
  readonly requests: number;
}

/**
 * Responses of one series (listener, route, pool, backend, status, canary slice) counted since
 * the counting process started: what a plane reports to the monitors' feed as data. `source`
 * names the process that counts (a cluster worker), so a replacement starting from zero is a
 * new series rather than a counter reset.
 */
export interface RequestCount {
  readonly listener: string;
  readonly route: string;
  readonly pool: string;
  /** '' when evenkeel answered without a backend (503: nothing usable). */
  readonly backend: string;
  readonly code: number;
  readonly canary: boolean;
  readonly requests: number;
  readonly source?: string;
  /** The backend's recent average response time, where the plane knows only that (HAProxy's rtime). */
  readonly latencyMs?: number;
}

/** Sums window counts (of one process or of every worker) into each backend's share of its pool and requests/s. */
export function windowShares(counts: Iterable<WindowCount>): { pool: string; backend: string; share: number; rps: number }[] {
  const perBackend = new Map<string, { pool: string; backend: string; requests: number }>();
  const poolTotals = new Map<string, number>();
  for (const c of counts) {
    const id = `${c.pool}\0${c.backend}`;
    const row = perBackend.get(id) ?? { pool: c.pool, backend: c.backend, requests: 0 };
    row.requests += c.requests;
    perBackend.set(id, row);
    poolTotals.set(c.pool, (poolTotals.get(c.pool) ?? 0) + c.requests);
  }
  return [...perBackend.values()].map((r) => {
    const total = poolTotals.get(r.pool) ?? 0;
    return { pool: r.pool, backend: r.backend, share: total > 0 ? r.requests / total : 0, rps: r.requests / SHARE_WINDOW_S };
  });
}

/** Metrics for one process, in their own registry. */
export class Metrics {
  readonly registry: Registry;
  private readonly duration: FastHistogram;
  private readonly all: Series[] = [];
  private readonly connections: Gauge<'listener'>;
  private readonly handshakes: Counter<'listener' | 'result' | 'reason'>;
  private readonly version: Gauge;
  private readonly info: Gauge<'version' | 'hash'>;
  private readonly lastApply: Gauge;
  private readonly series = new WeakMap<MetricKey, Series>();
  /** Cumulative per pool/backend counts, and per-second snapshots of them. */
  private readonly perBackend = new Map<string, { pool: string; backend: string; count: number; ring: Float64Array }>();
  private ringPos = 0;
  private readonly timer: NodeJS.Timeout;
  private provider: StateProvider = () => [];
  private readonly onRequest = (m: unknown) => this.record(m as RequestRecord);
  private readonly onTls = (m: unknown) => {
    const e = m as TlsEvent;
    this.handshakes.inc({ listener: e.listener, result: e.ok ? 'ok' : 'failed', reason: e.reason });
  };
  private readonly onConnection = (m: unknown) => this.connections.inc({ listener: (m as ConnectionEvent).listener }, (m as ConnectionEvent).delta);
  private readonly onConfig = (m: unknown) => this.config(m as ConfigEvent);
  private readonly ejections: Counter<'address'>;
  private readonly onEndpoint = (m: unknown) => {
    const e = m as EndpointEvent;
    if (!e.usable && e.reason === 'ejected') this.ejections.inc({ address: e.key });
  };

  constructor(registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    const self = this;
    // A series of a canary's requests adds to both counters (same labels: prom-client sums them).
    const requestCounter = (name: string, help: string, canaryOnly: boolean) => new Counter({ name, help, labelNames: ['listener', 'route', 'pool', 'backend', 'code'], registers,
      collect() {
        this.reset();
        for (const s of self.all) {
          const k = s.key;
          if (canaryOnly && !k.canary) continue;
          for (let code = 0; code < s.byStatus.length; code++) if (s.byStatus[code] > 0) this.inc({ listener: k.listener, route: k.route, pool: k.pool, backend: k.backend, code: String(code) }, s.byStatus[code]);
        }
      } });
    requestCounter('evenkeel_requests_total', 'Requests by listener, route, pool, backend and status sent to the client', false);
    requestCounter('evenkeel_canary_requests_total', 'Requests served by a config canary (also counted in evenkeel_requests_total)', true);
    // Our own 429s carry a key with a route and no pool (proxy/snapshot.ts `limited`).
    new Counter({ name: 'evenkeel_rate_limited_total', help: 'Requests a route\'s rateLimit answered 429 (per process buckets; summed over workers)', labelNames: ['listener', 'route'], registers,
      collect() {
        this.reset();
        for (const s of self.all) {
          const k = s.key;
          if (k.pool === '' && k.route !== '' && s.byStatus[429] > 0) this.inc({ listener: k.listener, route: k.route }, s.byStatus[429]);
        }
      } });
    new Counter({ name: 'evenkeel_retries_total', help: 'Requests sent again to another backend after a failure (connect failure, reset, or a retried 502/503/504)', labelNames: ['listener', 'route', 'pool'], registers,
      collect() {
        this.reset();
        for (const s of self.all) if (s.retries > 0) this.inc({ listener: s.key.listener, route: s.key.route, pool: s.key.pool }, s.retries);
      } });
    this.ejections = new Counter({ name: 'evenkeel_ejections_total', help: 'Backends taken out by passive outlier detection (consecutive failures), by address', labelNames: ['address'], registers });
    new Gauge({ name: 'evenkeel_build_info', help: 'evenkeel version and Node.js version (value 1)', labelNames: ['version', 'node'], registers, aggregator: 'max' }).set({ version: VERSION, node: process.version }, 1);
    // prom-client's process and Node.js metrics (CPU, memory, event loop lag, GC, handles).
    collectDefaultMetrics({ register: registry });
    this.duration = new FastHistogram('evenkeel_request_duration_seconds', 'Time from request to the end of the response', BUCKETS, registry);
    this.handshakes = new Counter({ name: 'evenkeel_tls_handshakes_total', help: 'TLS handshakes per listener: result ok (reason: the ALPN protocol) or failed (reason: why)', labelNames: ['listener', 'result', 'reason'], registers });
    this.connections = new Gauge({ name: 'evenkeel_active_connections', help: 'Open client connections per listener', labelNames: ['listener'], registers, aggregator: 'sum' });
    new Gauge({ name: 'evenkeel_backend_up', help: '1 when the backend is usable (healthy, not ejected)', labelNames: ['pool', 'backend'], registers, aggregator: 'min',
      collect() { this.reset(); for (const b of self.provider()) this.set({ pool: b.pool, backend: b.backend }, b.up ? 1 : 0); } });
    new Gauge({ name: 'evenkeel_backend_expected_share', help: "Share of its pool's requests the weights and health assign to the backend", labelNames: ['pool', 'backend'], registers, aggregator: 'average',
      collect() { this.reset(); for (const b of self.provider()) this.set({ pool: b.pool, backend: b.backend }, b.expectedShare); } });
    new Gauge({ name: 'evenkeel_backend_capacity', help: 'Declared capacity of the backend in requests/s (absent when none is declared)', labelNames: ['pool', 'backend'], registers, aggregator: 'max',
      collect() { this.reset(); for (const b of self.provider()) if (b.capacity) this.set({ pool: b.pool, backend: b.backend }, b.capacity); } });
    new Gauge({ name: 'evenkeel_backend_observed_share', help: `Share of its pool's requests the backend received over the last ${SHARE_WINDOW_S}s`, labelNames: ['pool', 'backend'], registers, aggregator: 'average',
      collect() { this.reset(); for (const [k, v] of self.window()) this.set(k, v.share); } });
    new Gauge({ name: 'evenkeel_backend_utilization', help: `Observed requests/s over declared capacity, last ${SHARE_WINDOW_S}s`, labelNames: ['pool', 'backend'], registers, aggregator: 'sum',
      collect() {
        this.reset();
        const caps = new Map(self.provider().map((b) => [`${b.pool}\0${b.backend}`, b.capacity]));
        for (const [k, v] of self.window()) { const c = caps.get(`${k.pool}\0${k.backend}`); if (c) this.set(k, v.rps / c); }
      } });
    this.version = new Gauge({ name: 'evenkeel_config_version', help: 'Config version being served', registers, aggregator: 'max' });
    this.info = new Gauge({ name: 'evenkeel_config_info', help: 'Config version and hash being served (value 1)', labelNames: ['version', 'hash'], registers, aggregator: 'max' });
    this.lastApply = new Gauge({ name: 'evenkeel_config_last_apply_timestamp_seconds', help: 'When the served config was applied', registers, aggregator: 'max' });
    this.timer = setInterval(() => this.snapshot(), 1000);
    this.timer.unref();
    requestChannel.subscribe(this.onRequest);
    connectionChannel.subscribe(this.onConnection);
    tlsChannel.subscribe(this.onTls);
    configChannel.subscribe(this.onConfig);
    endpointChannel.subscribe(this.onEndpoint);
  }

  /** Sets where backend state (up, expected share, capacity) is read from. */
  setStateProvider(provider: StateProvider): void {
    this.provider = provider;
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private record(r: RequestRecord): void {
    let s = this.series.get(r.key);
    if (s === undefined) {
      const k = r.key;
      let pb: { pool: string; backend: string; count: number; ring: Float64Array } | undefined;
      if (k.backend !== '') {
        const id = `${k.pool}\0${k.backend}`;
        pb = this.perBackend.get(id);
        if (!pb) this.perBackend.set(id, (pb = { pool: k.pool, backend: k.backend, count: 0, ring: new Float64Array(SHARE_WINDOW_S + 1) }));
      }
      s = { key: k, byStatus: new Float64Array(600), retries: 0, latency: k.backend !== '' ? this.duration.cell({ pool: k.pool, backend: k.backend }) : undefined, pb };
      this.series.set(k, s);
      this.all.push(s);
    }
    const status = r.status;
    if (status >= 0 && status < 600) s.byStatus[status]++;
    if (s.latency !== undefined) s.latency.observe((performance.now() - r.start) / 1000);
    if (s.pb !== undefined) s.pb.count++;
    if (r.retries !== 0) s.retries += r.retries;
  }

  private snapshot(): void {
    this.ringPos = (this.ringPos + 1) % (SHARE_WINDOW_S + 1);
    for (const pb of this.perBackend.values()) pb.ring[this.ringPos] = pb.count;
  }

  /** Every series' responses since this process started, by status code, as data (nothing rendered). */
  requestCounts(): RequestCount[] {
    const out: RequestCount[] = [];
    for (const s of this.all) {
      const k = s.key;
      const by = s.byStatus;
      for (let code = 0; code < by.length; code++) if (by[code] > 0) out.push({ listener: k.listener, route: k.route, pool: k.pool, backend: k.backend, code, canary: k.canary, requests: by[code] });
    }
    return out;
  }

  /** Per pool/backend over the last SHARE_WINDOW_S seconds: share of its pool and requests/s. */
  observed(): { pool: string; backend: string; share: number; rps: number }[] {
    return [...this.window()].map(([k, v]) => ({ pool: k.pool, backend: k.backend, share: v.share, rps: v.rps }));
  }

  /**
   * Requests per pool/backend over the last SHARE_WINDOW_S seconds, as data: what a worker sends
   * its primary, which adds the workers' counts and derives shares with `windowShares`.
   */
  windowCounts(): WindowCount[] {
    const oldest = (this.ringPos + 1) % (SHARE_WINDOW_S + 1);
    const out: WindowCount[] = [];
    for (const pb of this.perBackend.values()) out.push({ pool: pb.pool, backend: pb.backend, requests: pb.count - pb.ring[oldest] });
    return out;
  }

  /** Per pool/backend: its share of the pool over the window, and requests/s. */
  private window(): Map<{ pool: string; backend: string }, { share: number; rps: number }> {
    return new Map(windowShares(this.windowCounts()).map((o) => [{ pool: o.pool, backend: o.backend }, o]));
  }

  private config(e: ConfigEvent): void {
    if (!e.applied) return;
    this.version.set(e.version);
    this.info.reset();
    this.info.set({ version: String(e.version), hash: e.hash }, 1);
    this.lastApply.set(Date.now() / 1000);
  }

  /** Stops listening to the channels. */
  close(): void {
    clearInterval(this.timer);
    requestChannel.unsubscribe(this.onRequest);
    connectionChannel.unsubscribe(this.onConnection);
    tlsChannel.unsubscribe(this.onTls);
    configChannel.unsubscribe(this.onConfig);
    endpointChannel.unsubscribe(this.onEndpoint);
  }
}

/** evenkeel's version, from package.json (two folders up from src/telemetry and dist/telemetry). */
const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Active health-check results. The checker runs where the admin API does (the primary with
 * workers), so these live in their own registry beside the data plane's (aggregated) one.
 */
export class HealthCheckMetrics {
  readonly registry = new Registry();
  private readonly checks = new Counter({ name: 'evenkeel_health_checks_total', help: 'Active health checks by backend address and result (pass | fail)', labelNames: ['address', 'result'], registers: [this.registry] });
  private readonly onCheck = (m: unknown) => {
    const e = m as HealthCheckEvent;
    this.checks.inc({ address: e.key, result: e.pass ? 'pass' : 'fail' });
  };

  constructor() {
    healthCheckChannel.subscribe(this.onCheck);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops listening. */
  close(): void {
    healthCheckChannel.unsubscribe(this.onCheck);
  }
}
