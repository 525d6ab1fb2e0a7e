/**
 * Rate limits per route: a token bucket per key (the client's address, or a header's value),
 * refilled at `rps` up to `burst`. A request that finds its bucket empty is answered 429 with
 * Retry-After (RFC 6585 §4) and never reaches a pool.
 *
 * Buckets are per process: with `workers: N` each worker keeps its own, so a client whose
 * connections land on several workers may get up to N × rps (documented in docs/serve.md).
 * Refill is computed lazily from the request's own start time, so no timer runs per bucket and
 * the clock is read once per request as before. Limiters are keyed by route and settings and
 * outlive reloads, so a reload does not hand every client a fresh burst.
 */
import type { RateLimit } from '../config/index.js';

/** Keys tracked per route before idle (full) buckets are swept. */
const MAX_KEYS = 100_000;

/** One key's bucket: tokens left at time `at` (performance.now() milliseconds). */
interface Bucket {
  tokens: number;
  at: number;
}

/** What the limiter reads from a request. */
export interface LimitedRequest {
  readonly clientIp: string;
  readonly req: { readonly rawHeaders: readonly string[] };
}

/** The token buckets of one route. */
export class RateLimiter {
  readonly rps: number;
  readonly burst: number;
  private readonly perMs: number;
  /** Lower-case header name for `header:NAME`; undefined for client-ip. */
  private readonly header: string | undefined;
  private readonly buckets = new Map<string, Bucket>();

  constructor(config: RateLimit) {
    this.rps = config.rps;
    this.burst = config.burst ?? Math.max(1, Math.ceil(config.rps));
    this.perMs = config.rps / 1000;
    this.header = config.key.startsWith('header:') ? config.key.slice(7).toLowerCase() : undefined;
  }

  /** Takes a token for `r` at `now` (ms): 0 when admitted, else whole seconds until one is due (for Retry-After). */
  take(r: LimitedRequest, now: number): number {
    const key = this.keyOf(r);
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_KEYS) this.sweep(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      const t = b.tokens + (now - b.at) * this.perMs;
      b.tokens = t > this.burst ? this.burst : t;
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rps));
  }

  /** Keys tracked now (for tests and the sweep). */
  get size(): number {
    return this.buckets.size;
  }

  private keyOf(r: LimitedRequest): string {
    const name = this.header;
    if (name !== undefined) {
      const raw = r.req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1];
    }
    return r.clientIp;
  }

  /**
   * Forgets buckets that have refilled (their keys would start full anyway). If every key is
   * still busy, forgets them all: refusing new keys instead would let a flood of distinct keys
   * lock every other client out.
   */
  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
    if (this.buckets.size >= MAX_KEYS) this.buckets.clear();
  }
}

/** The identity of a limiter across config versions: same route, same settings, same buckets. */
export function limiterId(listener: string, route: string, config: RateLimit): string {
  return `${listener}\0${route}\0${config.rps}\0${config.burst ?? ''}\0${config.key}`;
}
