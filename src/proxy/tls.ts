/**
 * TLS for a listener: one SecureContext per certificate, chosen by SNI from the DNS names the
 * certificate covers (exact first, then `*.example.com` one label deep, as RFC 6125 §6.4.3
 * matches), the first certificate when the client sends no name or an unknown one. Files are
 * read when a config is applied, so a config change or SIGHUP picks up renewed certificates;
 * connections already open keep theirs.
 */
import { readFileSync } from 'node:fs';
import tls, { type SecureContext } from 'node:tls';
import type { Listener } from '../config/index.js';
import { certificateNames } from '../core/index.js';

/** ALPN: HTTP/2 first, HTTP/1.1 for every client that does not speak it. */
export const ALPN = ['h2', 'http/1.1'];

/** The certificates of a listener, ready for SNI. */
export class CertificateSet {
  private readonly exact = new Map<string, SecureContext>();
  private readonly wildcard = new Map<string, SecureContext>();
  readonly fallback: SecureContext;
  /** The default certificate and key, for the server's own options. */
  readonly defaultPair: { cert: Buffer; key: Buffer };

  constructor(config: NonNullable<Listener['tls']>) {
    let first: { ctx: SecureContext; cert: Buffer; key: Buffer } | undefined;
    for (const c of config.certificates) {
      const cert = readFileSync(c.cert);
      const key = readFileSync(c.key);
      const ctx = tls.createSecureContext({ cert, key, minVersion: config.minVersion });
      first ??= { ctx, cert, key };
      for (const name of certificateNames(cert)) {
        if (name.startsWith('*.')) {
          if (!this.wildcard.has(name.slice(2))) this.wildcard.set(name.slice(2), ctx);
        } else if (!this.exact.has(name)) this.exact.set(name, ctx);
      }
    }
    this.fallback = first!.ctx;
    this.defaultPair = { cert: first!.cert, key: first!.key };
  }

  /** The context for an SNI name. */
  pick(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    return (dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined) ?? this.fallback;
  }
}

