/** The names an X.509 certificate covers, and whether a name matches one (RFC 6125 §6.4). */
import { X509Certificate } from 'node:crypto';

/** Lower-case DNS names of a certificate: its subjectAltName DNS entries, else its CN. */
export function certificateNames(cert: X509Certificate | Buffer | string): string[] {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  const dns = (x.subjectAltName ?? '').split(/,\s*/).filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Whether certificate name `name` covers `host`: equal, or `*.example.com` for one more label (§6.4.3). */
export function nameCovers(name: string, host: string): boolean {
  const n = name.toLowerCase();
  const h = host.toLowerCase();
  if (n === h) return true;
  if (!n.startsWith('*.') || h.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === n.slice(2);
}
