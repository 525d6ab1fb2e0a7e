/**
 * One evenkeel pool as one HAProxy `backend`: the balance algorithm, the servers with their
 * weights, `backup`, `maxconn` and active checks, timeouts and retries. Whatever HAProxy has
 * no equivalent for is written as a comment and returned as a note.
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../../../config/index.js';
import { parseAddress } from '../../../core/index.js';
import type { Notes } from './notes.js';
import { arg, haAddress, haDuration, haName } from './text.js';
import { scaleWeights } from './weights.js';

/** How a backend is rendered. */
export interface BackendOptions {
  /** The HAProxy proxy name (the pool name, or `canary:POOL` for a candidate's). */
  readonly name: string;
  readonly mode: 'http' | 'tcp';
  /** Whether the listeners sending requests to this pool terminate TLS: all, none or some. */
  readonly tls?: 'all' | 'none' | 'some';
  /** The pool's evenkeel name (the cookie values are derived from it). */
  readonly pool?: string;
}

/**
 * `stickiness: { cookie, ttl }` as `cookie NAME insert indirect nocache` (configuration.txt 4.2
 * `cookie`) with the attributes evenkeel sets (HttpOnly, SameSite=Lax, Max-Age, Secure on TLS).
 * Each server's value is an opaque hash of pool and server name, so it does not reveal them;
 * but it is the same for everyone, so a client can pick a server by sending its value, which
 * evenkeel's signed values prevent only against guessing, not replay. Said in a note.
 */
function stickinessLines(pool: Pool, options: BackendOptions, section: string, notes: Notes): string[] {
  const s = pool.stickiness!;
  if (options.mode === 'tcp') return [notes.add(section, `stickiness by cookie needs HTTP; the tcp copy of this pool is not sticky`)];
  let line = `  cookie ${s.cookie} insert indirect nocache httponly`;
  if (options.tls === 'all') line += ' secure';
  line += ' attr SameSite=Lax';
  if (s.ttl !== undefined) line += ` attr Max-Age=${Math.max(1, Math.round(s.ttl / 1000))}`;
  const lines = [line, notes.add(section, `stickiness: HAProxy's cookie values are fixed per server (a hash of its name here), not signed: a client that learns another server's value can choose that server`)];
  if (options.tls === 'some') lines.push(notes.add(section, 'stickiness: the pool serves TLS and plain listeners; HAProxy marks a backend\'s cookie Secure for all or none, so it is not Secure here (evenkeel marks it on the TLS listeners only)'));
  return lines;
}

/** The cookie value of a server: opaque, stable across exports. */
export function cookieValue(pool: string, server: string): string {
  return createHash('sha256').update(`${pool}\0${server}`).digest('base64url').slice(0, 12);
}

/** The `balance` lines for a pool's algorithm (configuration.txt 4.2 `balance`). */
function balance(pool: Pool, section: string, notes: Notes): string[] {
  switch (pool.algorithm) {
    case 'round-robin':
      return ['  balance roundrobin'];
    case 'least-request':
      return ['  balance leastconn', notes.add(section, 'least-request is HAProxy leastconn: fewest open connections, not fewest requests in flight; shares are weight-proportional only under even load')];
    case 'random':
      // random(1): one draw, weight-proportional. Plain `random` means random(2), the
      // power-of-two choice, which evenkeel's random is not.
      return ['  balance random(1)'];
    case 'consistent-hash': {
      const key = pool.hashOn ?? 'client-ip';
      const lines = [`  balance ${hashBalance(key)}`, '  hash-type consistent'];
      lines.push(notes.add(section, `consistent-hash on ${key}: HAProxy's consistent ring is not evenkeel's Maglev table; shares are alike, the server a given key lands on differs`));
      return lines;
    }
  }
}

function hashBalance(hashOn: string): string {
  if (hashOn === 'client-ip') return 'source';
  if (hashOn === 'path') return 'uri whole';
  const [kind, name] = [hashOn.slice(0, hashOn.indexOf(':')), hashOn.slice(hashOn.indexOf(':') + 1)];
  return kind === 'header' ? `hdr(${name})` : `hash req.cook(${name})`;
}

/** RFC 9110 §9.2.2, the methods the built-in engine retries. */
const IDEMPOTENT_METHODS = 'GET HEAD PUT DELETE OPTIONS TRACE';
const RETRY_ON: Record<string, string> = { 'connect-failure': 'conn-failure', reset: 'empty-response', '502': '502', '503': '503', '504': '504' };

/** The whole `backend` section. */
export function renderBackend(pool: Pool, options: BackendOptions, notes: Notes): string[] {
  const section = `backend ${options.name}`;
  const http = options.mode === 'http';
  const lines = [section, `  mode ${options.mode}`, ...balance(pool, section, notes)];
  const check = pool.healthCheck;
  if (check) {
    if (http) {
      lines.push(`  option httpchk GET ${arg(check.path)}`, `  http-check expect status ${check.expectStatus.replace(/\s+/g, '')}`);
    } else {
      lines.push(notes.add(section, `healthCheck on a tcp pool is a TCP connect check in HAProxy (evenkeel sends GET ${check.path})`));
    }
    lines.push(`  timeout check ${haDuration(check.timeout)}`);
  }
  const t = pool.timeouts;
  lines.push(`  timeout connect ${haDuration(t.connect)}`, `  timeout server ${haDuration(t.request)}`, `  timeout queue ${haDuration(t.connect)}`);
  // The closest HAProxy has to an idle timeout for upstream connections: each period, half of
  // the idle ones are closed.
  lines.push(`  default-server pool-purge-delay ${haDuration(t.idle)}`);
  const r = pool.retries;
  lines.push(`  retries ${r.attempts}`);
  if (r.attempts > 0) {
    if (http) {
      lines.push(`  retry-on ${r.on.map((o) => RETRY_ON[o]).join(' ') || 'none'}`);
      // As the built-in engine does (proxy/forward.ts): a request that is not idempotent (a
      // POST, a PATCH) is retried only when its connection failed, never after a backend
      // may have acted on it (a 503, a reset, a timeout).
      if (r.on.some((o) => o !== 'connect-failure')) lines.push(`  http-request disable-l7-retry unless { method ${IDEMPOTENT_METHODS} }`);
    }
    lines.push('  option redispatch 1');
    lines.push(notes.add(section, `retries.budgetPercent ${r.budgetPercent}% has no HAProxy equivalent (HAProxy retries every failure it is told to)`));
  }
  const od = pool.outlierDetection;
  if (od && !check) lines.push(notes.add(section, 'outlierDetection needs an active check in HAProxy (observe … on-error mark-down brings a server back only through its check); not exported'));
  else if (od) lines.push(notes.add(section, `outlierDetection: a server marked down after ${od.consecutiveFailures} errors returns when its check passes, not after baseEjectionTime; maxEjectionPercent ${od.maxEjectionPercent}% is not enforced`));
  if (pool.stickiness) lines.push(...stickinessLines(pool, options, section, notes));
  if (pool.capacity !== undefined) lines.push(`  # evenkeel: capacity=${pool.capacity}`);
  const backups = pool.backends.filter((b) => b.backup).length;
  if (backups > 1) lines.push('  option allbackups');
  const scaled = scaleWeights(pool.backends.map((b) => b.weight), pool.algorithm === 'random' || pool.algorithm === 'consistent-hash');
  if (!scaled.exact) lines.push(notes.add(section, `weights scaled to HAProxy's integers 0-256: shares move by up to ${(scaled.maxShareError * 100).toFixed(2)} percentage points`));
  else if (pool.backends.some((b, i) => b.weight !== scaled.weights[i])) lines.push("  # weights scaled into HAProxy's integers 0-256 (shares unchanged)");
  pool.backends.forEach((b, i) => {
    const { host, port } = parseAddress(b.address);
    let line = `  server ${haName(b.name ?? b.address)} ${haAddress(host, port)} weight ${scaled.weights[i]}`;
    if (b.backup) line += ' backup';
    if (pool.stickiness && http) line += ` cookie ${cookieValue(options.pool ?? options.name, b.name ?? b.address)}`;
    if (b.maxConnections !== undefined) line += ` maxconn ${b.maxConnections}`;
    if (check) line += ` check inter ${haDuration(check.interval)} rise ${check.healthyThreshold} fall ${check.unhealthyThreshold}`;
    if (check && od && http) line += ` observe layer7 error-limit ${od.consecutiveFailures} on-error mark-down`;
    if (pool.slowStart !== undefined) line += ` slowstart ${haDuration(pool.slowStart)}`;
    if (b.capacity !== undefined) line += ` # evenkeel: capacity=${b.capacity}`;
    lines.push(line);
  });
  if (pool.backends.some((b) => b.maxConnections !== undefined)) lines.push(notes.add(section, 'above maxconn HAProxy queues a request (timeout queue) where evenkeel passes it to the next server or sheds it with a 503'));
  return lines;
}
