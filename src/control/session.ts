/**
 * Dashboard sessions. A browser's EventSource cannot send an Authorization header, so the page
 * trades the admin token once (POST /api/v1/session) for a random session id in an HttpOnly,
 * SameSite=Strict cookie. Sessions live in memory only: a restart logs every browser out, and
 * nothing secret is ever written to disk. The id is 32 random bytes, compared as a map key
 * (no timing leak worth having: the attacker would need to guess 256 bits).
 */
import { randomBytes } from 'node:crypto';

/** The cookie's name. */
export const SESSION_COOKIE = 'evenkeel_session';

/** The header a cookie-authorized write must carry: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-evenkeel-csrf';

/** How long a session lasts after login [12 h]: one on-call shift, then the token again. */
const DEFAULT_TTL_MS = 12 * 3600_000;

/** Most sessions kept at once; the oldest goes first (a login loop cannot grow memory). */
const DEFAULT_MAX = 1000;

/** In-memory sessions with an absolute expiry. */
export class Sessions {
  private readonly byId = new Map<string, number>();

  constructor(private readonly ttlMs = DEFAULT_TTL_MS, private readonly max = DEFAULT_MAX, private readonly now: () => number = Date.now) {}

  /** A new session: its id and when it expires. */
  create(): { id: string; expires: number; maxAgeSeconds: number } {
    this.sweep();
    while (this.byId.size >= this.max) this.byId.delete(this.byId.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const expires = this.now() + this.ttlMs;
    this.byId.set(id, expires);
    return { id, expires, maxAgeSeconds: Math.floor(this.ttlMs / 1000) };
  }

  /** True when `id` names a live session (an expired one is dropped). */
  valid(id: string | undefined): boolean {
    if (!id) return false;
    const expires = this.byId.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.byId.delete(id);
      return false;
    }
    return true;
  }

  /** Ends a session (logout). */
  revoke(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  /** Sessions alive now. */
  get size(): number {
    this.sweep();
    return this.byId.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expires] of this.byId) if (expires <= now) this.byId.delete(id);
  }
}

/** The `Set-Cookie` value for a session (`id` empty and `maxAge` 0 clears it). */
export function sessionCookie(id: string, maxAgeSeconds: number): string {
  // No `Secure`: the admin API speaks plain HTTP on loopback by default, where browsers would drop a Secure cookie.
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;
}
