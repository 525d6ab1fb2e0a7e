/**
 * Sticky sessions by cookie insertion (`pools.<name>.stickiness`), as HAProxy's `cookie NAME
 * insert`: the response that first serves a client sets a cookie naming its backend, and later
 * requests carrying it go back there while it is usable.
 *
 * The cookie value is an HMAC-SHA256 of (pool, backend name) under a key kept in the store
 * folder, truncated to 128 bits: opaque (it does not reveal backend names or addresses), and a
 * client cannot forge one that picks a backend. Every valid value of a pool is computed once
 * per config, so a request verifies its cookie with one Map lookup, never an HMAC. The key is
 * a file, so every worker and every restart signs alike and sessions survive both.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stickiness } from '../config/index.js';

/** Bytes of the signing key. */
const KEY_BYTES = 32;

/**
 * The signing key in `<dir>/sticky.key`, created (mode 0600) by whichever process needs it
 * first. Written to a temporary file and linked into place, so a worker starting at the same
 * moment reads either no file or the whole key, never half of one.
 */
export function loadStickyKey(dir: string): Buffer {
  const file = join(dir, 'sticky.key');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, randomBytes(KEY_BYTES).toString('hex'), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64,}$/.test(hex)) throw new Error(`${file} does not hold a ${KEY_BYTES}-byte hex key; remove it and a new one is made (every sticky session then starts over)`);
  return Buffer.from(hex, 'hex');
}

/** The cookie value that names `backend` of `pool` (what a client cannot compute). */
export function stickyValue(key: Buffer, pool: string, backend: string): string {
  return createHmac('sha256', key).update(`${pool}\0${backend}`).digest('base64url').slice(0, 22);
}

/** A pool's stickiness, compiled: the valid cookie values and the Set-Cookie line of each backend. */
export class StickyCookies {
  readonly cookie: string;
  /** Set-Cookie value per backend index, for a plain-HTTP listener. */
  readonly setCookie: readonly string[];
  /**
   * The same with `Secure`, for a TLS listener: a browser then never sends the cookie over
   * plain HTTP, where anyone on the path could read it and replay the session to its backend
   * (RFC 6265 §4.1.2.5). Not on plain listeners: a browser drops a Secure cookie set over http.
   */
  readonly setCookieSecure: readonly string[];
  private readonly byValue: Map<string, number>;

  constructor(pool: string, names: readonly string[], config: Stickiness, key: Buffer) {
    this.cookie = config.cookie;
    // HttpOnly: page scripts have no use for it; SameSite=Lax: sent on top-level navigation
    // from other sites (a link in), not on their subrequests.
    const attrs = `; Path=/; HttpOnly; SameSite=Lax${config.ttl !== undefined ? `; Max-Age=${Math.max(1, Math.round(config.ttl / 1000))}` : ''}`;
    const values = names.map((b) => stickyValue(key, pool, b));
    this.byValue = new Map(values.map((v, i) => [v, i]));
    this.setCookie = values.map((v) => `${config.cookie}=${v}${attrs}`);
    this.setCookieSecure = this.setCookie.map((c) => `${c}; Secure`);
  }

  /** The backend index a cookie value names, or -1 (absent, forged, or from another pool or key). */
  lookup(value: string | undefined): number {
    if (value === undefined) return -1;
    return this.byValue.get(value) ?? -1;
  }
}
