/**
 * A route's `rateLimit: { rps, burst, key }` in HAProxy: a stick-table per limited route
 * counting `http_req_rate` per key (the client address, or a header's value), tracked with
 * `track-sc0` for requests of that route, and `http-request deny status 429` with a
 * Retry-After header above the limit (configuration.txt 4.2 `http-request deny … hdr`,
 * 7.3.3 `sc_http_req_rate`).
 *
 * Approximate: evenkeel's limit is a token bucket (burst at once, then rps); HAProxy's rate is
 * a count over a sliding period. The period is burst/rps and the limit burst, so both allow a
 * burst at once and rps sustained, but HAProxy also counts the requests it refused: a client
 * that keeps sending over the limit stays refused until its rate falls, where a bucket lets
 * one request through per token. Each route's table is declared in a backend of its own
 * (`ek:rl:ROUTE`) with no servers, HAProxy's usual holder for a table.
 */
import type { RateLimit, Route } from '../../../config/index.js';
import type { Notes } from './notes.js';
import { haDuration, haName } from './text.js';

/** The proxy holding a route's table. */
export function rateTableName(listener: string, route: string): string {
  return `ek:rl:${haName(listener)}:${haName(route)}`;
}

/** The sliding period and the count over it that stand for a token bucket. */
export function ratePeriod(rl: RateLimit): { periodMs: number; limit: number; retryAfter: number } {
  const burst = rl.burst ?? Math.max(1, Math.ceil(rl.rps));
  return { periodMs: Math.max(1, Math.round((burst / rl.rps) * 1000)), limit: burst, retryAfter: Math.max(1, Math.ceil(1 / rl.rps)) };
}

/** The `http-request` rules of one limited route (its requests are those with txn.ek_route = its name). */
export function rateLimitRules(listener: string, r: Route, section: string, notes: Notes): string[] {
  const rl = r.rateLimit!;
  const { periodMs, limit, retryAfter } = ratePeriod(rl);
  const name = haName(r.name);
  const mine = `{ var(txn.ek_route) -m str ${name} }`;
  const key = rl.key === 'client-ip' ? 'src' : `req.hdr(${rl.key.slice('header:'.length)})`;
  const lines = [
    `  http-request track-sc0 ${key} table ${rateTableName(listener, r.name)} if ${mine}`,
    `  http-request deny status 429 content-type text/plain string "rate limited\\n" hdr Retry-After ${retryAfter} if ${mine} { sc_http_req_rate(0) gt ${limit} }`,
    notes.add(section, `route ${r.name}: rateLimit ${rl.rps} req/s (burst ${limit}) is ${limit} requests per sliding ${haDuration(periodMs)} in HAProxy, not a token bucket: refused requests count too, so a client that keeps sending stays refused until it slows down; Retry-After is a fixed ${retryAfter}s; the table is shared by HAProxy's threads (evenkeel's buckets are per worker)`),
  ];
  if (rl.key !== 'client-ip') lines.push(notes.add(section, `route ${r.name}: a request without ${rl.key.slice('header:'.length)} is not limited by HAProxy (evenkeel counts all of them in one bucket); header values are told apart by their first 128 bytes`));
  return lines;
}

/** The table-holding backend of one limited route. */
export function rateTable(listener: string, r: Route): string[] {
  const rl = r.rateLimit!;
  const { periodMs } = ratePeriod(rl);
  const type = rl.key === 'client-ip' ? 'ipv6' : 'string len 128';
  return [
    `backend ${rateTableName(listener, r.name)}`,
    `  # the request rate of listener ${listener}'s route ${r.name}, per ${rl.key} (no servers: it only holds the table)`,
    `  stick-table type ${type} size 100k expire ${haDuration(Math.max(10_000, 2 * periodMs))} store http_req_rate(${haDuration(periodMs)})`,
  ];
}
