/**
 * The live traffic sample: a bounded, sampled record of request heads that `apply` validates a
 * candidate with (the traffic model replays it through the candidate's routes and hash keys).
 *
 * - Sampled: the proxy publishes a request on `sampleChannel` with probability `sampling.rate`,
 *   which the recorder sets each second so that about `perSecond` requests a second are kept,
 *   whatever the load (the hot path pays an increment and a Math.random() per request, and
 *   nothing at all while no recorder listens).
 * - Bounded: a ring of the last `capacity` requests; older ones are overwritten.
 * - No bodies, and no secrets: a header whose name says it carries a credential, and every
 *   cookie value, is replaced by a keyed digest. The same value always gives the same digest,
 *   so a hot session or API key is still one hot hash key, but the value cannot be read back.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { RequestInfo } from '../balancer/index.js';
import { Ring } from '../core/index.js';
import { sampleChannel } from '../telemetry/channels.js';

/** One sampled request, in the traffic-sample format of `analysis/sample.ts`. */
export interface SampledRequest extends RequestInfo {
  listener: string;
  headers: Record<string, string>;
}

/**
 * Shared with the proxy: while a recorder listens, forward() counts every request in `seen` and
 * publishes one with probability `rate`; the recorder sets `rate` from `seen` each second.
 */
export const sampling = { rate: 1, seen: 0 };

/** Headers whose values are credentials: digested, never kept. */
const SECRET = /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|passw|session|api-?key|auth|signature|credential/i;
/** Hop-by-hop and per-connection headers tell nothing about routing. */
const DROP = new Set(['connection', 'keep-alive', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);
const MAX_HEADERS = 32;
const MAX_VALUE = 256;

/** What the proxy publishes: its exchange, read synchronously in the subscriber. */
interface Published extends RequestInfo {
  readonly ctx: { readonly name: string };
}

/** Records a bounded sample of this process's requests. */
export class TrafficRecorder {
  private readonly ring: Ring<SampledRequest>;
  private readonly key = randomBytes(32);
  private readonly timer: NodeJS.Timeout;
  private readonly onSample = (m: unknown) => this.record(m as Published);

  constructor(readonly capacity = 10_000, private readonly perSecond = 200) {
    this.ring = new Ring<SampledRequest>(capacity);
    this.timer = setInterval(() => this.adapt(), 1000);
    this.timer.unref();
    sampleChannel.subscribe(this.onSample);
  }

  /** The sample, oldest first. */
  requests(): SampledRequest[] {
    return this.ring.toArray();
  }

  close(): void {
    clearInterval(this.timer);
    sampleChannel.unsubscribe(this.onSample);
    sampling.rate = 1;
    sampling.seen = 0;
  }

  private adapt(): void {
    sampling.rate = sampling.seen <= this.perSecond ? 1 : this.perSecond / sampling.seen;
    sampling.seen = 0;
  }

  private record(r: Published): void {
    const headers: Record<string, string> = {};
    let n = 0;
    for (const [name, value] of Object.entries(r.headers)) {
      if (value === undefined || DROP.has(name)) continue;
      if (n++ >= MAX_HEADERS) break;
      const v = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
      headers[name] = name === 'cookie' ? this.cookies(v) : SECRET.test(name) ? this.digest(v) : v.slice(0, MAX_VALUE);
    }
    this.ring.push({ listener: r.ctx.name, method: r.method, host: r.host, path: r.path.slice(0, 2048), headers, clientIp: r.clientIp });
  }

  /** `a=1; b=2` → `a=<digest>; b=<digest>`: names kept (cookie:NAME hash keys need them), values not. */
  private cookies(header: string): string {
    return header.split(';').map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair.trim() : `${pair.slice(0, eq).trim()}=${this.digest(pair.slice(eq + 1).trim())}`;
    }).join('; ');
  }

  private digest(value: string): string {
    return `h:${createHmac('sha256', this.key).update(value).digest('base64url').slice(0, 16)}`;
  }
}
