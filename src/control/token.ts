/**
 * The admin API's bearer token: read from admin.tokenFile, or generated once into
 * `<store.path>/admin.token` (mode 0600) when the admin API is on loopback. An admin API
 * reachable from the network without a token file is refused: a guessable default token
 * would hand the load balancer's config to anyone on the network.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost, parseAddress } from '../core/index.js';
import type { Config } from '../config/index.js';
import { AdminExposedError, FileReadError } from '../errors.js';

/** The token and where it lives. */
export interface AdminToken {
  readonly token: string;
  readonly file: string;
  /** True when this start wrote a new token file. */
  readonly generated: boolean;
}

/** Loads or creates the admin token for `config`. Throws AdminExposedError or FileReadError. */
export function loadAdminToken(config: Config): AdminToken {
  const { host } = parseAddress(config.admin.address);
  const configured = config.admin.tokenFile;
  if (configured) {
    let token: string;
    try {
      token = readFileSync(configured, 'utf8').trim();
    } catch (err) {
      throw new FileReadError(configured, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (admin.tokenFile)' : (err as Error).message, { cause: err });
    }
    if (token.length < 16) throw new FileReadError(configured, 'the admin token must be at least 16 characters');
    return { token, file: configured, generated: false };
  }
  if (!isLoopbackHost(host)) throw new AdminExposedError(config.admin.address);
  const file = join(config.store.path, 'admin.token');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, file, generated: false };
  }
  mkdirSync(config.store.path, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, file, generated: true };
}

/** Constant-time check of an `Authorization: Bearer …` header. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header || !header.startsWith('Bearer ')) return false;
  return tokenMatches(header.slice(7), token);
}

/** Constant-time check of a token given as text (the dashboard's login form). */
export function tokenMatches(given: string, token: string): boolean {
  const a = Buffer.from(given.trim());
  const want = Buffer.from(token);
  return a.length === want.length && timingSafeEqual(a, want);
}
