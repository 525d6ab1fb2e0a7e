/**
 * The data plane of one process: the endpoint registry, the listeners, and the config
 * snapshot they serve. `apply` compiles a config and swaps it in; listeners whose address is
 * unchanged keep their sockets, so a reload drops nothing. It never imports control or cli.
 */
import { parseAddress, addressKey } from '../core/index.js';
import type { Config, Listener } from '../config/index.js';
import { CanaryError, ListenError } from '../errors.js';
import { endpointChannel } from '../telemetry/channels.js';
import type { BackendSnapshot } from '../telemetry/state.js';
import { EndpointRegistry, loadStickyKey, type EndpointState } from '../upstream/index.js';
import { HttpListener } from './listener.js';
import type { RateLimiter } from './rate-limit.js';
import { Snapshot, type SnapshotShared, type VersionInfo } from './snapshot.js';
import { TcpListener } from './tcp.js';
import { CertificateSet } from './tls.js';

/** Where a listener listens. */
export interface BoundListener {
  readonly name: string;
  readonly protocol: 'http' | 'tcp';
  /** TLS is terminated here (`tls:` on the listener). */
  readonly tls: boolean;
  readonly address: string;
  readonly port: number;
}

type AnyListener = HttpListener | TcpListener;

/** The data plane: registry + listeners + current snapshot. */
export class DataPlane {
  readonly registry: EndpointRegistry;
  private snap: Snapshot | undefined;
  /** The config canary serving beside `snap`, if one runs. */
  private canarySnap: Snapshot | undefined;
  /** Listeners by `protocol|address`, so a renamed listener on the same address keeps its socket. */
  private readonly listeners = new Map<string, { config: Listener; l: AnyListener }>();
  /** Rate limiters by route and settings; outlive versions, so a reload keeps every bucket. */
  private readonly limiters = new Map<string, RateLimiter>();

  constructor() {
    this.registry = new EndpointRegistry(publishEndpoint);
  }

  /** The state a new snapshot shares with the others; the stickiness key is read once, when a pool first needs it. */
  private shared(config: Config): SnapshotShared {
    if (this.stickyKey === undefined && Object.values(config.pools).some((p) => p.stickiness)) this.stickyKey = loadStickyKey(config.store.path);
    return { limiters: this.limiters, stickyKey: this.stickyKey };
  }

  private stickyKey: Buffer | undefined;

  /** The snapshot being served. */
  get current(): Snapshot | undefined {
    return this.snap;
  }

  /**
   * Re-reads the certificate files of every TLS listener (SIGHUP, like nginx's reload, even when
   * the config text is unchanged): new handshakes get the renewed files, open connections keep
   * theirs. A listener whose files cannot be loaded keeps its certificates; the errors say so.
   */
  reloadCertificates(): string[] {
    const errors: string[] = [];
    for (const { config: lc, l } of this.listeners.values()) {
      if (!lc.tls || !(l instanceof HttpListener)) continue;
      try {
        l.setCertificates(new CertificateSet(lc.tls), lc.tls.minVersion);
      } catch (err) {
        errors.push(`listener ${lc.name}: ${(err as Error).message}; it keeps its current certificate`);
      }
    }
    return errors;
  }

  /**
   * Compiles and serves `config`. New listeners are bound first; if one cannot bind, the
   * previous version keeps serving and this rejects. Removed listeners drain in the background.
   */
  async apply(config: Config, info: VersionInfo, drainMs = 30_000): Promise<void> {
    const snap = new Snapshot(config, info, this.registry, false, this.shared(config));
    const next = new Map<string, { config: Listener; l: AnyListener }>();
    const fresh: AnyListener[] = [];
    // Certificates are read before anything changes: a file that cannot be loaded refuses the whole version.
    const certs = new Map<string, CertificateSet>();
    for (const lc of config.listeners) {
      if (!lc.tls) continue;
      try {
        certs.set(lc.name, new CertificateSet(lc.tls));
      } catch (err) {
        snap.dispose();
        throw new ListenError(`listener ${lc.name}`, lc.address, `its TLS certificate cannot be loaded: ${(err as Error).message}`, { cause: err });
      }
    }
    try {
      for (const lc of config.listeners) {
        const id = `${lc.protocol}${lc.tls ? '+tls' : ''}|${addressKey(lc.address)}`;
        const kept = this.listeners.get(id);
        if (kept) {
          next.set(id, { config: lc, l: kept.l });
          continue;
        }
        const l = lc.protocol === 'tcp' ? new TcpListener(lc, snap) : new HttpListener(lc, snap, certs.get(lc.name));
        const { host, port } = parseAddress(lc.address);
        fresh.push(l);
        await l.listen(host, port);
        next.set(id, { config: lc, l });
      }
    } catch (err) {
      for (const l of fresh) l.server.close();
      snap.dispose();
      throw err;
    }
    for (const { config: lc, l } of next.values()) (l as HttpListener).update(lc, snap, certs.get(lc.name));
    for (const [id, old] of this.listeners) if (!next.has(id)) void old.l.drain(drainMs);
    this.listeners.clear();
    for (const [id, v] of next) this.listeners.set(id, v);
    const previous = this.snap;
    const canary = this.canarySnap;
    this.snap = snap;
    // A new active version ends any canary (a promotion applies the candidate itself).
    this.canarySnap = undefined;
    for (const { l } of this.listeners.values()) l.canary = undefined;
    previous?.dispose();
    canary?.dispose();
    this.registry.retainOnly(snap.endpointKeys());
    for (const id of this.limiters.keys()) if (!snap.limiterIds.has(id)) this.limiters.delete(id);
  }

  /**
   * Serves `config` to `fraction` of requests (HTTP) and connections (TCP) beside the active
   * version. The candidate must listen where the active version does: a canary cannot bind new
   * sockets for a slice of traffic, so a listener change throws CanaryError (apply it without one).
   */
  startCanary(config: Config, info: VersionInfo, fraction: number): void {
    const active = this.snap;
    if (!active) throw new CanaryError('nothing is served yet');
    if (!sameListeners(config, active.config)) throw new CanaryError('its listeners differ from the active version\'s (a canary serves a slice of the same sockets)');
    this.stopCanary();
    const snap = new Snapshot(config, info, this.registry, true, this.shared(config));
    this.canarySnap = snap;
    const slice = { snap, fraction: Math.min(1, Math.max(0, fraction)) };
    for (const { l } of this.listeners.values()) l.canary = slice;
  }

  /** Ends the canary: every request is served by the active version again. */
  stopCanary(): void {
    const snap = this.canarySnap;
    if (!snap) return;
    for (const { l } of this.listeners.values()) l.canary = undefined;
    this.canarySnap = undefined;
    snap.dispose();
    if (this.snap) this.registry.retainOnly(this.snap.endpointKeys());
  }

  /** Every listener and its bound port. */
  bound(): BoundListener[] {
    return [...this.listeners.values()].map(({ config, l }) => ({ name: config.name, protocol: config.protocol, tls: config.tls !== undefined, address: config.address, port: l instanceof HttpListener ? l.port : portOf(l) }));
  }

  /** Applies an active health verdict pushed by the cluster primary (or the local checker). */
  setHealth(key: string, up: boolean): void {
    this.registry.setActive(key, up);
  }

  /** Backend state for metrics and the admin API (the active version's, or the canary's). */
  backends(which: 'active' | 'canary' = 'active'): BackendSnapshot[] {
    const snap = which === 'canary' ? this.canarySnap : this.snap;
    if (!snap) return [];
    const out: BackendSnapshot[] = [];
    for (const pool of snap.pools.values()) {
      let total = 0;
      for (let i = 0; i < pool.endpoints.length; i++) total += pool.weight(i);
      for (let i = 0; i < pool.endpoints.length; i++) {
        out.push({
          pool: pool.name,
          backend: pool.names[i],
          up: pool.endpoints[i].usable,
          expectedShare: total > 0 ? pool.weight(i) / total : 0,
          capacity: pool.config.backends[i].capacity ?? pool.config.capacity,
        });
      }
    }
    return out;
  }

  /** Stops accepting everywhere and waits for requests in flight, at most `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    await Promise.all([...this.listeners.values()].map(({ l }) => l.drain(deadlineMs)));
  }

  /** Drains (briefly by default) and releases everything. */
  async close(deadlineMs = 1000): Promise<void> {
    await this.drain(deadlineMs);
    this.listeners.clear();
    this.snap?.dispose();
    this.canarySnap?.dispose();
    await this.registry.close(true);
  }
}

/** True when both configs listen on the same protocols and addresses (what a canary needs). */
export function sameListeners(a: Config, b: Config): boolean {
  const ids = (c: Config) => c.listeners.map((l) => `${l.protocol}|${addressKey(l.address)}`).sort().join(',');
  return ids(a) === ids(b);
}

function portOf(l: TcpListener): number {
  const a = l.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

function publishEndpoint(ep: EndpointState): void {
  if (!endpointChannel.hasSubscribers) return;
  endpointChannel.publish({ key: ep.key, usable: ep.usable, reason: ep.ejectedUntil !== 0 ? 'ejected' : !ep.activeUp ? 'health-check' : 'ejection-expired' });
}
